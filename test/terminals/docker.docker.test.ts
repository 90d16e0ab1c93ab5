/**
 * The terminal path into a real container: gateway + ws + TerminalClient +
 * DockerDriver (an Engine API exec with a TTY running `lf-sandbox bash -l` in a
 * labforge/base host). No skipping: without an engine this suite fails
 * and says what to do.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DockerDriver } from '../../lib/environments/docker/driver';
import type { Environment } from '../../lib/environments/driver';
import { dockerHostSchema } from '../../lib/labs/schema';
import { BATCH } from '../../lib/terminals/node/batcher';
import { FLOW } from '../../lib/terminals/common/protocol';
import { CollectSink, connectClient, ParkingSink, startServer, type TestServer } from './helpers';
import { sleep, waitFor } from '../support/wait';
import { requireEngine } from '../support/docker';
import { UNKNOWN_EXIT } from '../../lib/environments/docker/exec-stream';

const IMAGE = 'labforge/base';
const docker = new Dockerode();
const driver = new DockerDriver({ docker });
const owner = `test-term-${randomBytes(3).toString('hex')}`;
let env: Environment;

beforeAll(async () => {
  await requireEngine(docker);
  env = await driver.create(
    { owner, lab: 'terminal-test', labRoot: '/tmp', environment: { driver: 'docker', hosts: [dockerHostSchema.parse({ name: 'box', image: IMAGE })] } },
    () => {},
  );
}, 180_000);

afterAll(async () => {
  await driver.destroyOwner(owner).catch(() => {});
});

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});
async function server(opts: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer({ driver, env, host: 'box', ...opts });
  servers.push(s);
  return s;
}
const textOf = (c: { sink: unknown }) => (c.sink as CollectSink).text();

/**
 * The engine's socket through a proxy this test can cut: to the terminal, exactly an engine
 * that went away (its connections dropped, then nothing listening), without touching dockerd.
 */
async function engineProxy() {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'lf-engine-')), 'docker.sock');
  const conns = new Set<net.Socket>();
  let server: net.Server | undefined;
  const listen = async () => {
    server = net.createServer((down) => {
      const up = net.connect('/var/run/docker.sock');
      for (const s of [down, up]) {
        conns.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          conns.delete(s);
          down.destroy();
          up.destroy();
        });
      }
      down.pipe(up).pipe(down);
    });
    await new Promise<void>((r) => server!.listen(file, r));
  };
  await listen();
  return {
    docker: new Dockerode({ socketPath: file }),
    cut: async () => {
      for (const c of conns) c.destroy();
      await new Promise((r) => server!.close(r));
    },
    restore: listen,
  };
}

/** CPU time (clock ticks, user + system) every `yes` in the host has used so far. */
async function yesCpuTicks(): Promise<number> {
  const r = await driver.exec(env, 'box', ['sh', '-c', 'for p in $(pgrep -x yes); do cut -d" " -f14,15 "/proc/$p/stat"; done']);
  const ticks = r.stdout.trim().split(/\s+/).filter(Boolean).map(Number);
  expect(ticks.length).toBeGreaterThan(0); // `yes` runs
  return ticks.reduce((n, t) => n + t, 0);
}

async function psInHost(): Promise<string> {
  const r = await driver.exec(env, 'box', ['ps', '-eo', 'pid,args']);
  return r.stdout;
}

describe('terminals into a Docker host', () => {
  it('runs the shell inside the container, at the client size', async () => {
    const srv = await server();
    const c = connectClient(srv, { dims: { cols: 111, rows: 33 } });
    await waitFor('ready', () => c.client.state === 'ready', 20_000);
    c.client.sendInput('stty size; echo IN_$(hostname)_$((6*7)); grep -c bookworm /etc/os-release\r');
    await waitFor('marker', () => /IN_\S+_42/.test(textOf(c)), 20_000);
    expect(textOf(c)).toContain('33 111');
    expect(textOf(c)).not.toContain(`IN_${(await import('node:os')).hostname()}_42`);
    c.client.dispose();
  });

  it("follows the owner's window size through the Engine API, a burst of resizes ending at the last one", async () => {
    const srv = await server();
    const c = connectClient(srv, { dims: { cols: 80, rows: 24 } });
    await waitFor('ready', () => c.client.state === 'ready', 20_000);
    await waitFor('prompt', () => textOf(c).includes('# '), 20_000);
    for (let i = 0; i < 20; i++) c.client.resize(100 + i, 30 + i);
    // The resize is an engine call: ask the shell until it has landed (a loaded engine takes a while).
    await waitFor(
      'the last size',
      async () => {
        c.client.sendInput('echo SZ_$(stty size | tr " " x)\r');
        await sleep(250);
        return /SZ_49x119/.test(textOf(c));
      },
      20_000,
    );
    c.client.dispose();
  });

  it('reports the exit code of a shell that exits, and of one ended from outside', async () => {
    const srv = await server();
    const a = connectClient(srv, { claims: { tab: 'exits' } });
    await waitFor('ready', () => a.client.state === 'ready', 20_000);
    a.client.sendInput('exit 3\r');
    await waitFor('closed', () => a.client.state === 'closed', 20_000);
    expect(a.statuses.at(-1)).toMatchObject({ exitCode: 3, message: 'The shell exited with code 3.' });

    const b = connectClient(srv, { claims: { tab: 'killed' } });
    await waitFor('ready', () => b.client.state === 'ready', 20_000);
    b.client.sendInput('echo $LABFORGE_TERMINAL > /tmp/killed-id\r');
    let id = '';
    await waitFor(
      'marker',
      async () => (id = (await driver.readFile(env, 'box', '/tmp/killed-id').catch(() => Buffer.from(''))).toString().trim()),
      20_000,
      100,
    );
    await driver.closeTerminal(env, 'box', id);
    await waitFor('closed', () => b.client.state === 'closed', 20_000);
    expect(b.statuses.at(-1)).toMatchObject({ state: 'closed', exitCode: 137 });
  });

  it('replays byte-exactly after a socket dropped mid-flood', async () => {
    const srv = await server();
    const c = connectClient(srv, { backoff: { initialMs: 300, maxMs: 300, giveUpAfterMs: 10_000 } });
    await waitFor('ready', () => c.client.state === 'ready', 20_000);
    c.client.sendInput('seq 1 200000; echo END_$((5+5))\r');
    await waitFor('flood under way', () => (c.sink as CollectSink).chunks.reduce((n, b) => n + b.length, 0) > 50_000, 20_000, 1);
    c.current()!.terminate();
    expect(textOf(c)).not.toContain('END_10');
    await waitFor('all output', () => (c.sink as CollectSink).has('END_10'), 30_000);
    expect(c.sockets.length).toBe(2);
    const text = textOf(c);
    const expected = Array.from({ length: 200000 }, (_, i) => `${i + 1}\r\n`).join('');
    const start = text.search(/(?<=\D)1\r\n2\r\n3\r\n/);
    expect(start).toBeGreaterThan(0);
    expect(text.slice(start, start + expected.length) === expected).toBe(true);
    expect((c.sink as CollectSink).notices).toEqual([]);
    c.client.dispose();
  });

  it('bounds a flood for a client that does not ack, and Ctrl-C gets the shell back fast', async () => {
    const srv = await server();
    // A screen that renders instantly: this measures the server and docker path (browser.test.ts measures xterm).
    const sink = new ParkingSink(false);
    const c = connectClient(srv, { sink });
    const received = () => sink.chunks.reduce((n, b) => n + b.length, 0);
    await waitFor('ready', () => c.client.state === 'ready', 20_000);
    sink.release();
    await waitFor('prompt', () => sink.has('# '), 20_000);
    sink.acking = false;
    c.client.sendInput('yes\r');
    await waitFor('paused', () => srv.ptys[0]?.paused, 10_000);
    await sleep(500);
    const a = srv.ptys[0].bytes;
    await sleep(1_000);
    const b = srv.ptys[0].bytes;
    expect(srv.ptys[0].paused).toBe(true);
    expect(b - a).toBeLessThan(64 * 1024);
    expect(received()).toBeLessThanOrEqual(FLOW.pauseAboveBytes + 2 * BATCH.maxBytes); // the flow-control window
    // The backpressure reaches the program: `yes` in the host is blocked on its write, using no CPU.
    const ticks0 = await yesCpuTicks();
    await sleep(1_000);
    expect((await yesCpuTicks()) - ticks0).toBeLessThan(10); // a running `yes` uses ~100 ticks a second

    sink.release();
    await sleep(1_000); // flowing again at full speed
    expect(srv.ptys[0].bytes).toBeGreaterThan(b + 200_000);
    const before = received();
    const t0 = performance.now();
    c.client.sendInput('\x03');
    c.client.sendInput('echo CC_$((6*7))\r');
    await waitFor('shell answers', () => sink.has('CC_42'), 10_000, 1);
    const ms = performance.now() - t0;
    const drained = received() - before;
    // ~2 MB sits in docker's own exec pipeline (shim, daemon, socket): written before the Ctrl-C, it is
    // discarded as a tty discards it (interrupt.ts). What still arrives was already on its way to
    // the client: the window and the batches in flight.
    console.log(`[measure] docker: Ctrl-C during yes -> shell answers in ${ms.toFixed(0)} ms (${drained} bytes drained)`);
    expect(drained).toBeLessThanOrEqual(FLOW.pauseAboveBytes + 3 * BATCH.maxBytes);
    expect(textOf(c).slice(-4000)).toContain('^C');
    expect(ms).toBeLessThan(3_000); // typically 100-300 ms; generous for a loaded 2-core machine
    c.client.dispose();
  });

  it('ends every process the terminal started inside the host after the grace period', async () => {
    const srv = await server({ graceMs: 500 });
    const c = connectClient(srv);
    await waitFor('ready', () => c.client.state === 'ready', 20_000);
    c.client.sendInput('sleep 4321 & sleep 4322 | cat & echo STARTED_$((1+1))\r');
    await waitFor('started', () => textOf(c).includes('STARTED_2'), 20_000);
    expect(await psInHost()).toMatch(/sleep 4321/);
    expect(await psInHost()).toMatch(/sleep 4322/);
    c.client.dispose();
    // The grace period, then ending the processes in the host takes a docker exec.
    let ps = '';
    for (const start = Date.now(); Date.now() - start < 20_000; await sleep(100)) {
      ps = await psInHost();
      if (!/sleep 432[12]|bash -l/.test(ps)) break;
    }
    expect(ps).not.toMatch(/sleep 432[12]/);
    expect(ps).not.toMatch(/bash -l/);
  });

  it('measures echo latency and throughput through docker exec', async () => {
    const srv = await server();
    const c = connectClient(srv);
    await waitFor('ready', () => c.client.state === 'ready', 20_000);
    await waitFor('prompt', () => textOf(c).includes('# '), 20_000);
    const sink = c.sink as CollectSink;
    const samples: number[] = [];
    for (let i = 0; i < 40; i++) {
      const n = sink.chunks.length;
      const t0 = performance.now();
      c.client.sendInput('a');
      await waitFor('echo', () => sink.chunks.length > n, 2_000, 0);
      samples.push(performance.now() - t0);
      await sleep(5);
    }
    c.client.sendInput('\x15');
    samples.sort((x, y) => x - y);
    const total = 30_000_000;
    const start = sink.bytes().length;
    const t0 = performance.now();
    c.client.sendInput(`head -c ${total} /dev/zero | tr "\\0" y; echo; echo TP_$((2+3))\r`);
    await waitFor('throughput done', () => sink.has('TP_5'), 60_000, 2);
    const secs = (performance.now() - t0) / 1000;
    const mbs = (sink.bytes().length - start) / secs / 1e6;
    console.log(`[measure] docker: echo p50 ${samples[20].toFixed(2)} ms, p95 ${samples[38].toFixed(2)} ms; throughput ${mbs.toFixed(1)} MB/s`);
    // Loose floors (the machine is shared): they catch a broken echo path or an O(n²), not noise.
    expect(samples[20]).toBeLessThan(100);
    expect(mbs).toBeGreaterThan(1);
    c.client.dispose();
  });

  it('the engine going away mid-terminal: the exit is reported; a stopped host then gets the tryAgain path until it runs again', async () => {
    const proxy = await engineProxy();
    const viaProxy = new DockerDriver({ docker: proxy.docker });
    // Like the session layer's gate (sessions/host-watch.ts requireHostsUp): a stopped host is a "try again".
    const resolve = async (claims: { sessionId: string; tab: string }) => {
      const states = await viaProxy.hosts(env).catch(() => undefined);
      if (states?.find((x) => x.host === 'box')?.state === 'stopped') throw Object.assign(new Error('box is stopped: restart it first'), { temporary: true });
      return { driver: viaProxy, env, host: 'box', key: `${claims.sessionId}:${claims.tab}` };
    };
    const srv = await server({ driver: viaProxy, resolve, isTemporary: (e) => (e as { temporary?: boolean }).temporary === true });
    const c = connectClient(srv, { backoff: { initialMs: 200, maxMs: 500, giveUpAfterMs: 60_000 } });
    await waitFor('ready', () => c.client.state === 'ready', 20_000);
    await waitFor('prompt', () => textOf(c).includes('# '), 20_000);

    await proxy.cut();
    await waitFor('exit reported', () => c.client.state === 'closed', 20_000);
    expect(c.statuses.at(-1)).toMatchObject({ exitCode: UNKNOWN_EXIT, message: `The shell exited with code ${UNKNOWN_EXIT}.` });

    // The engine comes back with the host stopped (what a restart does to containers).
    await docker.getContainer(env.hosts[0].ref).stop({ t: 0 });
    await proxy.restore();
    // The driver's own words for a host that does not run, and for one that is gone (docker/errors.ts).
    const opts = { cols: 80, rows: 24, terminalId: 'refused' };
    await expect(driver.openTerminal(env, 'box', opts)).rejects.toThrow(/^host box is not running$/);
    const gone = { ...env, hosts: [{ ...env.hosts[0], ref: `gone-${randomBytes(6).toString('hex')}` }] };
    await expect(driver.openTerminal(gone, 'box', opts)).rejects.toThrow(/^host box is gone \(its container was removed\)$/);
    c.client.reconnectNow(); // the page does this when the host's state changes
    await waitFor('retrying', () => c.statuses.some((x) => x.state === 'reconnecting' && x.message === 'box is stopped: restart it first'), 20_000);
    expect(c.client.state).not.toBe('closed');

    await driver.restartHost(env, 'box');
    await waitFor('ready again', () => c.client.state === 'ready', 30_000);
    c.client.sendInput('echo BACK_$((20+1))\r');
    await waitFor('a new shell answers', () => textOf(c).includes('BACK_21'), 20_000);
    c.client.dispose();
  }, 120_000);
});
