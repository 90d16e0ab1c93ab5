/**
 * The real server process, killed while it provisions environments and started
 * again: the reconciler removes everything labelled that no live session owns,
 * and the cut-off sessions are failed with a reason. Needs a production build
 * (`next build`), which `npm test` makes before this suite runs.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServerProcess } from '../support/server';

const root = path.resolve(__dirname, '../..');
const docker = new Dockerode();
const port = 3200 + (process.pid % 500);
const base = `http://localhost:${port}`;
let dataDir: string;
let server: ChildProcess | undefined;

const startServer = () => startServerProcess(port, { LABFORGE_DATA_DIR: dataDir });

const labelled = async (session: string) =>
  (await docker.listContainers({ all: true, filters: { label: [`labforge.session=${session}`] } })).length +
  (await docker.listNetworks({ filters: { label: [`labforge.session=${session}`] } })).length;

beforeAll(() => {
  if (!fs.existsSync(path.join(root, '.next', 'BUILD_ID'))) throw new Error('no production build: run `npx next build` first');
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-restart-'));
});

afterAll(async () => {
  server?.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

it('a server killed mid-provisioning leaves nothing behind after its restart', async () => {
  server = await startServer();
  const res = await fetch(`${base}/api/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ lab: 'multicast-basics' }),
  });
  expect(res.status).toBe(201);
  const cookie = res.headers.get('set-cookie')!.split(';')[0];
  const { id } = (await res.json()) as { id: string };

  // Wait until the environment is half made (some containers exist, provisioning not done).
  const deadline = Date.now() + 60_000;
  while ((await labelled(id)) === 0) {
    if (Date.now() > deadline) throw new Error('no container appeared within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  server.kill('SIGKILL');
  await new Promise((r) => server!.once('exit', r));
  expect(await labelled(id)).toBeGreaterThan(0);

  server = await startServer();
  expect(await labelled(id)).toBe(0);
  const view = (await (await fetch(`${base}/api/v1/sessions/${id}`, { headers: { cookie } })).json()) as { status: string; error: string };
  expect(view.status).toBe('failed');
  expect(view.error).toMatch(/server restarted/);
}, 240_000);
