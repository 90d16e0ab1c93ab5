/**
 * Files read from learner hosts (issue #10, item 2), against a real Docker engine, SQLite and the
 * route handlers: an editor tab (GET/PUT …/files/:tab) and a Check that grades /root/answers.yaml.
 * A learner is root in the host and can put anything at those paths: a sparse file of gigabytes,
 * a symlink to /dev/zero, a FIFO, a directory, a YAML bomb. Each must get a 400 (or a grade
 * message) that says what is wrong, fast, without the file's content reaching the server's memory.
 */
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerDriver } from '../../lib/environments/docker/driver';
import { oneHostTrack, sessionHarness, type SessionHarness } from '../support/sessions';
import { readContainerFile } from '../../lib/environments/docker/files';
import { isFileRefused, type Environment } from '../../lib/environments/driver';
import { log } from '../../lib/base/log';
import { setRuntime, type Runtime } from '../../lib/runtime';
import { SessionService } from '../../lib/sessions/service';
import * as filesRoute from '../../app/api/v1/sessions/[id]/files/[tab]/route';

const ANSWERS = '/root/answers.yaml';
const LAB: Record<string, string> = {
  'track.yml': oneHostTrack('boundary-files', 'Files read from hosts'),
  '01-exam/assignment.md': `---
slug: exam
title: The exam
tabs:
  - { title: Shell, type: terminal, hostname: workstation }
  - { title: Answers, type: editor, hostname: workstation, path: ${ANSWERS} }
grade:
  host: workstation
  file: ${ANSWERS}
  fields:
    - name: sender
      expected: { literal: leia }
---
Write who sent it into ${ANSWERS}.
`,
  '01-exam/check-workstation': '#!/bin/bash\nexit 0\n',
};

const learner = 'b'.repeat(32);
let h: SessionHarness;
let driver: DockerDriver;
let svc: SessionService;
let id: string;
let env: Environment;

/** Calls a route handler the way Next does, as the session's owner. */
function call<P>(handler: (req: Request, ctx: { params: Promise<P> }) => Promise<Response>, params: P, init: RequestInit = {}) {
  const req = new Request(`http://localhost/api/v1/sessions/${id}/files/answers`, {
    ...init,
    headers: { cookie: `labforge_learner=${learner}`, ...init.headers },
  });
  return handler(req, { params: Promise.resolve(params) });
}
const getEditor = () => call(filesRoute.GET, { id, tab: 'answers' });
const putEditor = (content: string, version: string) =>
  call(filesRoute.PUT, { id, tab: 'answers' }, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content, version }) });

/** What the learner does in a terminal (root in the host). */
async function learnerDoes(cmd: string): Promise<void> {
  const r = await driver.exec(env, 'workstation', ['sh', '-c', cmd], { user: 'root', timeoutMs: 30_000 });
  expect(r.exitCode, `${cmd}: ${r.stderr}`).toBe(0);
}
const replaceAnswers = (cmd: string) => learnerDoes(`rm -rf ${ANSWERS} && ${cmd}`);

interface Measured<T> {
  value: T;
  ms: number;
  rssGrowthMB: number;
}
/** Time and this process's RSS growth around one call (the driver and the route run in this process). */
async function measure<T>(fn: () => Promise<T>): Promise<Measured<T>> {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const value = await fn();
  const ms = Math.round(performance.now() - t0);
  const rssGrowthMB = Math.round(((process.memoryUsage().rss - rss0) / 2 ** 20) * 10) / 10;
  return { value, ms, rssGrowthMB };
}
const numbers: Record<string, string> = {};
const note = (what: string, m: Measured<unknown>) => (numbers[what] = `${m.ms} ms, RSS +${m.rssGrowthMB} MB`);

async function editorGet(): Promise<Measured<{ status: number; body: { error?: string; content?: string; version?: string } }>> {
  return measure(async () => {
    const res = await getEditor();
    return { status: res.status, body: (await res.json()) as { error?: string; content?: string; version?: string } };
  });
}

beforeAll(async () => {
  h = await sessionHarness('boundary-files', { files: Object.fromEntries(Object.entries(LAB).map(([rel, text]) => [`boundary-files/${rel}`, text])) });
  driver = h.driver;
  expect(h.catalog.get('boundary-files'), 'the test lab loads').toBeDefined();
  svc = h.service();
  setRuntime({ sessions: svc, log, db: h.db, catalog: h.catalog, drivers: { docker: driver } } as unknown as Runtime);
  ({ id } = await svc.start('boundary-files', learner));
  await h.active(svc, id, learner);
  env = JSON.parse((await h.db.session.findUniqueOrThrow({ where: { id } })).environment!) as Environment;
  // Warm up the paths measured below (module loading, the first engine connection, JIT).
  await learnerDoes(`printf 'sender: luke\\n' > ${ANSWERS}`);
  for (let i = 0; i < 3; i++) expect((await getEditor()).status).toBe(200);
}, 180_000);

afterAll(async () => {
  console.log(
    `boundary-files measurements:\n${Object.entries(numbers)
      .map(([k, v]) => `  ${k}: ${v}`)
      .join('\n')}`,
  );
  setRuntime(undefined);
  await h?.close();
});

describe('editor tab: what the learner put at the path is refused before it is read', () => {
  /** A sparse file of `size` (truncate's units) at the path: refused fast, in bounded memory. */
  async function refusesSparse(size: string, shown: string) {
    await replaceAnswers(`truncate -s ${size} ${ANSWERS}`);
    const m = await editorGet();
    note(`editor GET, ${shown} sparse file`, m);
    expect(m.value).toEqual({
      status: 400,
      body: { code: 'invalid', error: `${ANSWERS} is ${shown}: editor files may be at most 1 MiB; edit it in a terminal` },
    });
    expect(m.ms).toBeLessThan(1000);
    expect(m.rssGrowthMB).toBeLessThan(10);
  }

  it('a 60 MiB sparse file: 400 in well under a second, no growth of the server memory', () => refusesSparse('60M', '60 MiB'));

  it('a 4 GiB sparse file: the same, as fast', async () => {
    await refusesSparse('4G', '4 GiB');
    // A save cannot go around it: PUT reads the current version first.
    const put = await putEditor('sender: leia\n', 'missing');
    expect(put.status).toBe(400);
  });

  it('a symlink to /dev/zero: 400 naming the device', async () => {
    await replaceAnswers(`ln -s /dev/zero ${ANSWERS}`);
    const m = await editorGet();
    note('editor GET, symlink to /dev/zero', m);
    expect(m.value).toEqual({ status: 400, body: { code: 'invalid', error: `${ANSWERS} is a symlink to /dev/zero, a character device, not a file` } });
    expect(m.ms).toBeLessThan(1000);
  });

  it('a chain of symlinks to a sparse file is followed inside the host and refused by size', async () => {
    await replaceAnswers(`truncate -s 60M /root/big && ln -s /root/big /root/link1 && ln -s link1 ${ANSWERS}`);
    const m = await editorGet();
    expect(m.value.status).toBe(400);
    expect(m.value.body.error).toBe(`${ANSWERS} is 60 MiB: editor files may be at most 1 MiB; edit it in a terminal`);
    await learnerDoes('rm -f /root/big /root/link1');
  });

  it('a FIFO: 400, and the call returns (nothing waits for a writer)', async () => {
    await replaceAnswers(`mkfifo ${ANSWERS}`);
    const m = await editorGet();
    note('editor GET, FIFO', m);
    expect(m.value).toEqual({ status: 400, body: { code: 'invalid', error: `${ANSWERS} is a named pipe, not a file` } });
    expect(m.ms).toBeLessThan(1000);
  });

  it('a directory, a socket and a symlink loop: 400 each, saying what it is', async () => {
    await replaceAnswers(`mkdir ${ANSWERS}`);
    expect((await editorGet()).value).toEqual({ status: 400, body: { code: 'invalid', error: `${ANSWERS} is a directory, not a file` } });
    await replaceAnswers(`perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Local => shift, Listen => 1) or die $!' ${ANSWERS} && test -S ${ANSWERS}`);
    expect((await editorGet()).value).toEqual({ status: 400, body: { code: 'invalid', error: `${ANSWERS} is a socket, not a file` } });
    await replaceAnswers(`ln -s /root/loop-b /root/loop-a && ln -s /root/loop-a /root/loop-b && ln -s /root/loop-a ${ANSWERS}`);
    const loop = await editorGet();
    expect(loop.value.status).toBe(400);
    expect(loop.value.body.error).toMatch(/^\/root\/answers\.yaml is a (path the engine cannot resolve|chain of more than 8 symlinks)/);
    await learnerDoes('rm -f /root/loop-a /root/loop-b');
  });

  it('the normal editor still works: a missing file, GET, PUT, GET again, through a symlink too', async () => {
    await learnerDoes(`rm -rf ${ANSWERS}`);
    const missing = (await editorGet()).value;
    expect(missing).toEqual({ status: 200, body: { path: ANSWERS, content: '', version: 'missing' } });
    const saved = await putEditor('sender: han\n', 'missing');
    expect(saved.status).toBe(200);
    const again = (await editorGet()).value;
    expect(again).toMatchObject({ status: 200, body: { content: 'sender: han\n' } });
    await learnerDoes(`mv ${ANSWERS} /root/real.yaml && ln -s real.yaml ${ANSWERS}`);
    expect((await editorGet()).value).toMatchObject({ status: 200, body: { content: 'sender: han\n', version: again.body.version } });
    // Exactly 1 MiB is allowed, one byte more is not.
    await replaceAnswers(`head -c 1048576 /dev/zero | tr '\\0' a > ${ANSWERS}`);
    expect((await editorGet()).value.status).toBe(200);
    await replaceAnswers(`head -c 1048577 /dev/zero | tr '\\0' a > ${ANSWERS}`);
    expect((await editorGet()).value.body.error).toBe(`${ANSWERS} is 1.1 MiB: editor files may be at most 1 MiB; edit it in a terminal`);
    await learnerDoes(`rm -f ${ANSWERS} /root/real.yaml`);
  });
});

describe('the driver: stat first, then a stream with the limit enforced', () => {
  it('a file that grew between the stat and the read is cut off by the stream, not buffered', async () => {
    await learnerDoes(`printf 'x' > /root/small && truncate -s 60M /root/grown`);
    const real = driver.docker.getContainer(env.hosts[0].ref);
    // The stat sees the small file; the archive then carries the 60 MiB one (the race, made certain).
    const raced = Object.create(real) as Dockerode.Container;
    raced.infoArchive = ((opts: { path: string }) => real.infoArchive({ ...opts, path: '/root/small' })) as Dockerode.Container['infoArchive'];
    raced.getArchive = ((opts: { path: string }) => real.getArchive({ ...opts, path: '/root/grown' })) as Dockerode.Container['getArchive'];
    const m = await measure(() => readContainerFile(raced, '/root/small', { maxBytes: 1024 * 1024 }).catch((e: unknown) => e));
    note('driver read, file grew to 60 MiB between stat and read', m);
    expect(isFileRefused(m.value)).toBe(true);
    expect(m.value).toMatchObject({ reason: 'too_big', details: { size: 60 * 2 ** 20, limit: 2 ** 20 } });
    // A GET archive costs this engine 0.3-0.6 s even for a 2-byte file; reading the 60 MiB took 4 s and +200 MB.
    expect(m.ms).toBeLessThan(4000);
    expect(m.rssGrowthMB).toBeLessThan(10);
    await learnerDoes('rm -f /root/small /root/grown');
  });

  it('the default limit (16 MiB) applies when the caller names none', async () => {
    await learnerDoes('truncate -s 17M /root/default-limit');
    await expect(driver.readFile(env, 'workstation', '/root/default-limit')).rejects.toThrow('/root/default-limit is 17 MiB, more than the 16 MiB allowed');
    await learnerDoes('rm -f /root/default-limit');
  });
});

describe('grading answers.yaml', () => {
  const check = () => measure(() => svc.check(id, learner));

  it('refuses a sparse 4 GiB file, a FIFO, a device and a directory with a message, before reading them', async () => {
    await replaceAnswers(`truncate -s 4G ${ANSWERS}`);
    const big = await check();
    note('Check (grade), 4 GiB sparse answers.yaml', big);
    expect(big.value).toEqual({ passed: false, message: `${ANSWERS} in workstation is too big (4 GiB); it should hold only field: value lines` });
    expect(big.rssGrowthMB).toBeLessThan(10);
    await replaceAnswers(`mkfifo ${ANSWERS}`);
    const fifo = await check();
    expect(fifo.value).toEqual({ passed: false, message: `${ANSWERS} in workstation is a named pipe; it must be a file` });
    expect(fifo.ms).toBeLessThan(10_000);
    await replaceAnswers(`ln -s /dev/zero ${ANSWERS}`);
    expect((await check()).value).toEqual({
      passed: false,
      message: `${ANSWERS} in workstation is a symlink to /dev/zero, a character device; it must be a file`,
    });
    await replaceAnswers(`mkdir ${ANSWERS}`);
    expect((await check()).value).toEqual({ passed: false, message: `${ANSWERS} in workstation is a directory; it must be a file` });
  });

  it('a YAML bomb (billion laughs): a message naming the aliases, in bounded time', async () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const [prev, cur] = [String.fromCharCode(96 + i), String.fromCharCode(97 + i)];
      lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    lines.push('sender: *i');
    await driver.writeFile(env, 'workstation', ANSWERS, `${lines.join('\n')}\n`);
    const m = await check();
    note('Check (grade), billion-laughs answers.yaml', m);
    expect(m.value).toEqual({
      passed: false,
      message: 'answers.yaml line 2: its aliases (*name) expand to too many values (more than 100); write each answer out in full',
    });
    expect(m.ms).toBeLessThan(5000);
  });

  it('nesting too deep, as blocks and as a 60 000-level flow or dash pile: a message, not a crashed server', async () => {
    await driver.writeFile(env, 'workstation', ANSWERS, 'sender:\n a:\n  b:\n   c:\n    d:\n     e: leia\n');
    expect((await check()).value).toEqual({
      passed: false,
      message: 'answers.yaml line 6: nested more than 5 levels deep; it should hold only field: value lines',
    });
    for (const text of [`sender: ${'['.repeat(60_000)}\n`, `${'- '.repeat(30_000)}leia\n`]) {
      await driver.writeFile(env, 'workstation', ANSWERS, text);
      const m = await check();
      expect(m.value).toEqual({ passed: false, message: 'answers.yaml line 1: nested more than 5 levels deep; it should hold only field: value lines' });
      expect(m.ms).toBeLessThan(5000);
    }
  });

  it('too many keys: a message', async () => {
    await driver.writeFile(env, 'workstation', ANSWERS, Array.from({ length: 300 }, (_, i) => `k${i}: v`).join('\n') + '\nsender: leia\n');
    expect((await check()).value).toEqual({
      passed: false,
      message: 'answers.yaml has more than 200 keys; it should hold only field: value lines (this challenge asks for 1)',
    });
  });

  it('a normal answer file still grades, also written through the editor', async () => {
    await learnerDoes(`rm -rf ${ANSWERS}`);
    expect((await putEditor('sender: luke\n', 'missing')).status).toBe(200);
    expect((await check()).value).toEqual({ passed: false, message: 'answers.yaml line 1: "sender" is "luke", expected "leia"' });
    const current = (await editorGet()).value.body.version!;
    expect((await putEditor('sender: leia\n', current)).status).toBe(200);
    expect((await check()).value).toMatchObject({ passed: true });
  });
});
