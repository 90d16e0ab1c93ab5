/**
 * `labforge dev` as an author uses it: the real command (bin/labforge.mjs) on a lab made by
 * `labforge new`'s scaffold in a temp folder, one session on real containers, and edits saved
 * while it is open. Each save reaches the open session through the author event stream within
 * 2 s: the next Check runs the edited script, the session view carries the new assignment, and
 * a save with a lint error is printed as file:line and shown in the view while the last good
 * version (its check script included) keeps serving, until the fix. Needs a production build
 * (`next build`), as test/server/restart.docker.test.ts does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { scaffoldLab } from '../../lib/authoring/scaffold';
import type { SessionView } from '../../lib/sessions/view';
import { requireEngine } from '../support/docker';
import { freePort } from '../support/server';
import { waitFor } from '../support/wait';

const root = path.resolve(__dirname, '../..');
const docker = new Dockerode();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-dev-docker-'));
const lab = path.join(tmp, 'demo');
const file = (rel: string) => path.join(lab, rel);
let child: ChildProcess | undefined;
let stdout = '';
let stderr = '';
let base = '';
let sessionId: string | undefined;

beforeAll(async () => {
  await requireEngine(docker);
  if (!fs.existsSync(path.join(root, '.next', 'BUILD_ID'))) throw new Error('no production build: run `npx next build` first');
  for (const f of scaffoldLab('demo')) {
    fs.mkdirSync(path.dirname(file(f.path)), { recursive: true });
    fs.writeFileSync(file(f.path), f.text, { mode: f.executable ? 0o755 : 0o644 });
  }
  const port = await freePort();
  base = `http://localhost:${port}`;
  child = spawn(process.execPath, ['bin/labforge.mjs', 'dev', lab, '--port', String(port)], {
    cwd: root,
    env: { ...process.env, LABFORGE_DATA_DIR: path.join(tmp, 'data'), LABFORGE_LOG_LEVEL: 'warn', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-20_000)));
  await waitFor('labforge dev to print its URL', () => child!.exitCode === null && stdout.includes(`Author mode: ${base}/labs/demo`), 90_000, 200).catch(
    (e) => {
      throw new Error(`${(e as Error).message}\nstdout: ${stdout}\nstderr: ${stderr}`);
    },
  );
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
  }
  // Whatever the session left if the test stopped half-way (only ours: labelled with its id).
  if (sessionId)
    for (const c of await docker.listContainers({ all: true, filters: { label: [`labforge.session=${sessionId}`] } }))
      await docker.getContainer(c.Id).remove({ force: true });
  fs.rmSync(tmp, { recursive: true, force: true });
}, 60_000);

let cookie = '';
async function api<T>(method: string, route: string, body?: object): Promise<T> {
  const res = await fetch(`${base}/api/v1/${route}`, {
    method,
    headers: { cookie, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  cookie ||= res.headers.get('set-cookie')?.split(';')[0] ?? '';
  const data = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${data.error}`);
  return data;
}
const view = () => api<SessionView>('GET', `sessions/${sessionId}`);
const check = () => api<{ passed: boolean; message: string }>('POST', `sessions/${sessionId}/check`, {});

/** The author event stream, as the page reads it: `next()` resolves at the next event. */
async function authorStream(url: string) {
  const reader = (await fetch(base + url)).body!.getReader();
  let text = '';
  return {
    async next(timeoutMs = 5000): Promise<string> {
      const deadline = setTimeout(() => void reader.cancel(), timeoutMs);
      try {
        for (;;) {
          const blocks = text.split('\n\n');
          if (blocks.length > 1) {
            text = blocks.slice(1).join('\n\n');
            const data = blocks[0].split('\n').find((l) => l.startsWith('data: '));
            if (data) return data.slice(6);
            continue;
          }
          const { value, done } = await reader.read();
          if (done) throw new Error(`no author event within ${timeoutMs} ms`);
          text += new TextDecoder().decode(value);
        }
      } finally {
        clearTimeout(deadline);
      }
    },
    close: () => void reader.cancel(),
  };
}

/** Saves a file (`atomic`: as vim does, a copy renamed over it) and waits for the event it causes; answers how long that took. */
async function save(stream: Awaited<ReturnType<typeof authorStream>>, rel: string, text: string, { atomic = false } = {}): Promise<number> {
  const t = Date.now();
  if (atomic) {
    fs.writeFileSync(`${file(rel)}.new`, text);
    fs.renameSync(`${file(rel)}.new`, file(rel));
  } else fs.writeFileSync(file(rel), text);
  await stream.next();
  return Date.now() - t;
}

it('pushes saved scripts and assignments into the open session; a lint error keeps the last good version until fixed', async () => {
  const started = await api<{ id: string }>('POST', 'sessions', { lab: 'demo' });
  sessionId = started.id;
  await waitFor(
    'the session to be active',
    async () => {
      const v = await view();
      if (v.status !== 'active' && v.status !== 'provisioning') throw new Error(`session ${v.status}: ${v.error}`);
      return v.status === 'active';
    },
    180_000,
    500,
  );

  const first = await view();
  expect(first.author).toMatchObject({ dir: lab, version: 1, errors: [], warnings: [], events: '/api/author/events' });
  const stream = await authorStream(first.author!.events);
  await stream.next(); // the counter, sent on connect

  // 1. The scaffold's check fails with its own message.
  expect(await check()).toEqual({ passed: false, message: '/root/project/hello.txt does not exist yet' });

  // 2. The check script is edited: the next Check runs the new one.
  const checkScript = '01-first-file/check-workstation';
  const took = await save(stream, checkScript, '#!/bin/bash\necho "FAIL: edited check says B"\nexit 1\n');
  expect(took).toBeLessThan(2000);
  expect((await view()).author).toMatchObject({ version: 2, errors: [] });
  expect(await check()).toEqual({ passed: false, message: 'edited check says B' });

  // 3. The assignment is edited (saved by renaming, after which later saves in place must still
  //    be seen): the session view carries the new text.
  const assignment = fs.readFileSync(file('01-first-file/assignment.md'), 'utf8');
  const edited = assignment.replace('Then press **Check**.', 'Then press **Check**, edited live.');
  expect(await save(stream, '01-first-file/assignment.md', edited, { atomic: true })).toBeLessThan(2000);
  const v3 = await view();
  expect(v3.author?.version).toBe(3);
  expect(v3.current?.body).toContain('edited live.');

  // 4. A lint error (a misspelt field), then another check edit: reported in the terminal and the
  //    view, while version 3 serves, its check script included.
  expect(await save(stream, '01-first-file/assignment.md', edited.replace('title: Your first file', 'title: Your first file\ntitel: typo'))).toBeLessThan(2000);
  await save(stream, checkScript, '#!/bin/bash\necho "FAIL: check C, not served yet"\nexit 1\n');
  const broken = await view();
  expect(broken.author?.version).toBe(3);
  expect(broken.author?.errors).toEqual([expect.stringMatching(/01-first-file\/assignment\.md:\d+: error: titel: unknown field/)]);
  expect(broken.current?.body).toContain('edited live.');
  expect(await check()).toEqual({ passed: false, message: 'edited check says B' });
  await waitFor('the errors in the terminal', () => /still serving version 3\n.*01-first-file\/assignment\.md:\d+: error: titel: unknown field/.test(stdout));

  // 5. Fixed: the banner's errors go, and the waiting check script is served.
  await save(stream, '01-first-file/assignment.md', edited);
  expect((await view()).author).toMatchObject({ version: 4, errors: [] });
  expect(await check()).toEqual({ passed: false, message: 'check C, not served yet' });
  await waitFor('the fix in the terminal', () => stdout.includes('reloaded: version 4 (errors fixed)'));
  stream.close();

  await api('DELETE', `sessions/${sessionId}`);
  expect((await view()).status).toBe('stopped');
}, 300_000);
