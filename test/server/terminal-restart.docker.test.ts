/**
 * Issue #10 item 5, "nothing lost": the real server process is SIGKILLed under a
 * learner's open terminal and started again on the same data dir. The learner's
 * browser client (the real TerminalClient, over real sockets) reconnects by
 * itself with a new token and gets its screen back (saved under the data dir by
 * lib/terminals/node/screens.ts), a note saying what happened, and a new shell that
 * works; the progress stored before the kill is intact. Real SQLite, real Docker.
 * Needs a production build (`next build`), which `npm test` makes first.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TerminalClient, type SocketLike } from '../../lib/terminals/common/client';
import { CollectSink } from '../terminals/helpers';
import { waitFor } from '../support/wait';
import { oneHostTrack, shellChallenge } from '../support/sessions';
import { freePort, startServerProcess, type ServerProcess } from '../support/server';

const root = path.resolve(__dirname, '../..');
let dataDir: string;
let labsDir: string;
let port: number;
let base: string;
let server: ServerProcess | undefined;
/** Every server's log (info and up), for a failure's message: a restart that does not come back says why. */
let logs = '';
let sessionId: string | undefined;

const LAB = 'terminal-restart';
const files: Record<string, string> = {
  'track.yml': oneHostTrack(LAB, 'Terminal restart'),
  '01-only/assignment.md': shellChallenge('only', 'Touch a file', 'Create /root/done.'),
  '01-only/check-workstation': '#!/bin/bash\ntest -f /root/done || { echo "FAIL: /root/done is missing"; exit 1; }\n',
};

async function startServer(): Promise<ServerProcess> {
  if (server) logs += server.logs();
  const started = Date.now();
  const s = await startServerProcess(port, { LABFORGE_DATA_DIR: dataDir, LABFORGE_LABS_DIR: labsDir, LABFORGE_LOG_LEVEL: 'info' }, 'any');
  timings.push(`server up in ${Date.now() - started} ms`);
  return s;
}

/** Stops the server with `signal` and waits for it to exit. */
async function stopServer(signal: NodeJS.Signals): Promise<void> {
  const started = Date.now();
  const exited = new Promise((r) => server!.once('exit', r));
  server!.kill(signal);
  await exited;
  timings.push(`${signal}: exited in ${Date.now() - started} ms`);
}

const timings: string[] = [];
let statuses: string[] = [];

/** waitFor, with what the client went through and the servers' logs in the error: this test runs under CI load. */
function until<T>(what: string, fn: () => T | undefined | false | null, timeoutMs: number, everyMs: number): Promise<T> {
  return waitFor(what, fn, timeoutMs, everyMs).catch((e: Error) => {
    const log = (logs + (server?.logs() ?? '')).split('\n').slice(-60).join('\n');
    throw new Error(`${e.message}\n-- timings: ${timings.join('; ')}\n-- client: ${statuses.slice(-15).join(' | ')}\n-- server log (tail):\n${log}`);
  });
}

async function api(method: string, url: string, cookie?: string, body?: unknown) {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { res, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

type View = { status: string; error?: string; challenges: { slug: string; status: string }[] };

beforeAll(async () => {
  if (!fs.existsSync(path.join(root, '.next', 'BUILD_ID'))) throw new Error('no production build: run `npx next build` first');
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-term-restart-'));
  labsDir = path.join(dataDir, 'labs');
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(labsDir, LAB, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text, { mode: rel.includes('check-') ? 0o755 : 0o644 });
  }
  port = await freePort();
  base = `http://localhost:${port}`;
});

afterAll(async () => {
  server?.kill('SIGKILL');
  try {
    // A failed run leaves the session's host behind (the test stops the session only when it passes).
    if (sessionId) {
      const docker = new Dockerode();
      const label = [`labforge.session=${sessionId}`];
      for (const c of await docker.listContainers({ all: true, filters: { label } })) await docker.getContainer(c.Id).remove({ force: true });
      for (const n of await docker.listNetworks({ filters: { label } })) await docker.getNetwork(n.Id).remove();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}, 60_000);

it('a terminal reconnects with its screen, and a working shell, after the server is SIGKILLed and restarted', async () => {
  server = await startServer();
  const started = await api('POST', '/api/v1/sessions', undefined, { lab: LAB });
  expect(started.res.status).toBe(201);
  const cookie = started.res.headers.get('set-cookie')!.split(';')[0];
  const id = (sessionId = started.body.id as string);
  let first: View;
  for (const deadline = Date.now() + 180_000; ; await new Promise((r) => setTimeout(r, 500))) {
    first = (await api('GET', `/api/v1/sessions/${id}`, cookie)).body as unknown as View;
    if (first.status !== 'provisioning' || Date.now() > deadline) break;
  }
  expect(first.status, first.error).toBe('active');

  // The browser's client: a new token from the API for every connection, sockets with the page's Origin.
  const sink = new CollectSink();
  let connections = 0;
  const client = new TerminalClient({
    getToken: async () => {
      const r = await api('POST', `/api/v1/sessions/${id}/terminals/shell/token`, cookie);
      if (!r.res.ok) throw new Error(`token: ${r.res.status} ${String(r.body.error)}`);
      return r.body.token as string;
    },
    socketUrl: (token) => `ws://localhost:${port}/ws/terminal?token=${encodeURIComponent(token)}`,
    createSocket: (url) => {
      connections++;
      return new WebSocket(url, { origin: base }) as unknown as SocketLike;
    },
    size: () => ({ cols: 100, rows: 30 }),
    sink,
    onStatus: (s) => (statuses = [...statuses.slice(-50), `${new Date().toISOString().slice(11, 23)} ${s.state}${s.message ? `: ${s.message}` : ''}`]),
    backoff: { initialMs: 200, maxMs: 1000, giveUpAfterMs: 150_000 },
  });
  client.start();
  await waitFor('the terminal to be ready', () => client.state === 'ready', 60_000, 50);

  // A marker whose printed form differs from what was typed, so seeing it proves the shell ran it.
  const tag = crypto.randomBytes(6).toString('hex');
  const marker = `BEFORE-42-${tag}`;
  client.sendInput(`touch /root/done; echo BEFORE-$((6*7))-${tag}\r`);
  await waitFor('the marker on screen', () => sink.has(marker), 30_000, 20);

  // The screen is saved under the data dir within a second or so.
  const screenFile = path.join(dataDir, 'terminals', id, 'shell.screen');
  // (Not asserted here: the code before this feature saved nothing, and must fail on the screen below.)
  const t0 = Date.now();
  const saved = await waitFor('the screen to be saved', () => fs.existsSync(screenFile) && fs.readFileSync(screenFile).includes(marker), 10_000, 50).catch(
    () => false,
  );
  const savedAfterMs = Date.now() - t0;

  // Progress to keep: the Check passes and completes the challenge.
  const check = await api('POST', `/api/v1/sessions/${id}/check`, cookie);
  expect(check.body).toMatchObject({ passed: true });

  await stopServer('SIGKILL');
  await until('the client to notice', () => client.state !== 'ready', 30_000, 50);
  const resetsBefore = sink.resets;
  const killedAt = Date.now();

  server = await startServer();
  // The same client reconnects on its own (new token, new socket) and is told to start its screen over.
  await until('the terminal to be ready again', () => client.state === 'ready' && sink.resets > resetsBefore, 120_000, 50);
  const back = Date.now() - killedAt;
  const replayed = sink.text();
  expect(replayed, 'the screen before the kill is shown again').toContain(marker);
  expect(saved).toBe(true);
  expect(replayed).toContain('[labforge: the platform restarted; your previous shell ended');
  expect(replayed.indexOf(marker)).toBeLessThan(replayed.indexOf('[labforge: the platform restarted'));

  // The new shell works.
  const after = `AFTER-42-${tag}`;
  client.sendInput(`echo AFTER-$((2*21))-${tag}; test -f /root/done && echo STILL-$((1+1))-${tag}\r`);
  await until('the new shell to answer', () => sink.has(after) && sink.has(`STILL-2-${tag}`), 30_000, 20);

  // The killed server's shell, still running in the host after the kill, is ended by the restore:
  // one terminal's processes are left (LABFORGE_TERMINAL is the marker every terminal process carries).
  const markers = async () => {
    const [c] = await new Dockerode().listContainers({ filters: { label: [`labforge.session=${id}`] } });
    const cmd = "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep '^LABFORGE_TERMINAL=' | sort -u";
    return execFileSync('docker', ['exec', c.Id, 'sh', '-c', cmd]).toString().trim().split('\n').filter(Boolean);
  };
  for (const deadline = Date.now() + 20_000; (await markers()).length !== 1 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 250));
  expect(await markers(), 'the previous shell was ended').toHaveLength(1);

  // Progress is intact.
  const view = (await api('GET', `/api/v1/sessions/${id}`, cookie)).body as unknown as View;
  expect(view.status).toBe('active');
  expect(view.challenges[0]).toMatchObject({ slug: 'only', status: 'completed' });
  console.log(
    `screen saved ${savedAfterMs} ms after the marker; terminal back ${back} ms after the kill; ${connections} connections; replay ${Buffer.byteLength(replayed)} bytes`,
  );

  // A clean restart (SIGTERM) saves the screen on the way out, and it comes back the same way.
  const restarts = () => sink.text().split('[labforge: the platform restarted').length - 1;
  const typed = `TYPED-${tag}`;
  client.sendInput(`echo ${typed}-$((3*3))\r`);
  await waitFor('the last line on screen', () => sink.has(`${typed}-9`), 30_000, 20);
  const resetsBeforeTerm = sink.resets;
  await stopServer('SIGTERM');
  expect(fs.readFileSync(screenFile).includes(`${typed}-9`), 'saved on a clean shutdown').toBe(true);
  server = await startServer();
  await until('the terminal to be ready after a clean restart', () => client.state === 'ready' && sink.resets > resetsBeforeTerm, 120_000, 50);
  expect(sink.text()).toContain(marker);
  expect(sink.text()).toContain(`${typed}-9`);
  expect(restarts()).toBe(2);
  console.log(`restarts: ${timings.join('; ')}`);

  // The screen goes with the session.
  client.dispose();
  const stopped = await api('DELETE', `/api/v1/sessions/${id}`, cookie);
  expect(stopped.res.status).toBeLessThan(300);
  await waitFor('the saved screens to be removed', () => !fs.existsSync(path.dirname(screenFile)), 20_000, 100);
}, 420_000);
