/**
 * The terminal layer over the TerminalProcess seam, with a fake process: the shell's start is
 * asynchronous (an Engine API exec takes a round trip or two), so HELLOs, resizes and an end
 * that arrive while it starts must each land once, and flow control must reach the process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Environment, EnvironmentDriver, TerminalOptions, TerminalProcess, TerminalExit } from '../../lib/environments/driver';
import { CollectSink, connectClient, ParkingSink, startServer, type TestServer } from './helpers';
import { sleep, waitFor } from '../support/wait';

class FakeProcess implements TerminalProcess {
  readonly id = 'fake';
  readonly calls: string[] = [];
  private data: Array<(d: Buffer) => void> = [];
  private exit: Array<(e: TerminalExit) => void> = [];
  emit(text: string | Buffer): void {
    for (const l of this.data) l(Buffer.from(text));
  }
  end(code: number): void {
    for (const l of this.exit) l({ exitCode: code });
  }
  onData(l: (d: Buffer) => void): void {
    this.data.push(l);
  }
  onExit(l: (e: TerminalExit) => void): void {
    this.exit.push(l);
  }
  write(d: Buffer | string): void {
    this.calls.push(`write ${d.toString()}`);
    if (d.toString() === 'hi') this.emit('hi');
  }
  resize(cols: number, rows: number): void {
    this.calls.push(`resize ${cols}x${rows}`);
  }
  pause(): void {
    this.calls.push('pause');
  }
  resume(): void {
    this.calls.push('resume');
  }
  async close(): Promise<void> {
    this.calls.push('close');
  }
}

class SlowDriver {
  readonly name = 'slow';
  readonly opened: Array<{ opts: TerminalOptions; proc: FakeProcess }> = [];
  readonly closed: string[] = [];
  constructor(private readonly delayMs: number) {}
  async openTerminal(_env: Environment, _host: string, opts: TerminalOptions): Promise<TerminalProcess> {
    const proc = new FakeProcess();
    this.opened.push({ opts, proc });
    await sleep(this.delayMs);
    setTimeout(() => proc.emit('$ '), 5);
    return proc;
  }
  async closeTerminal(_env: Environment, _host: string, id: string): Promise<void> {
    this.closed.push(id);
  }
}

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});
async function server(driver: SlowDriver, opts: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer({ driver: driver as unknown as EnvironmentDriver, ...opts });
  servers.push(s);
  return s;
}

describe('a terminal over an asynchronously started process', () => {
  it('starts one process for windows that say HELLO while it starts, at the first one’s size, then follows the owner’s size', async () => {
    const driver = new SlowDriver(200);
    const srv = await server(driver);
    const a = connectClient(srv, { dims: { cols: 90, rows: 30 } });
    await waitFor('opening', () => driver.opened.length === 1);
    const b = connectClient(srv, { dims: { cols: 120, rows: 50 } });
    await waitFor('both ready', () => a.client.state === 'ready' && b.client.state === 'ready', 5_000);
    expect(driver.opened).toHaveLength(1);
    expect(driver.opened[0].opts).toMatchObject({ cols: 90, rows: 30 });
    // The newest window owns the keyboard, so its size wins once the process runs.
    await waitFor('resized', () => driver.opened[0].proc.calls.includes('resize 120x50'));
    await waitFor('prompt in both', () => (a.sink as CollectSink).text().includes('$ ') && (b.sink as CollectSink).text().includes('$ '));
    b.client.sendInput('hi');
    await waitFor('echo', () => (a.sink as CollectSink).text().includes('$ hi'));
    expect(driver.opened[0].proc.calls).toContain('write hi');
    a.client.dispose();
    b.client.dispose();
  });

  it('pauses the process for an owner that does not ack, resumes it when the owner catches up', async () => {
    const driver = new SlowDriver(10);
    const srv = await server(driver);
    const sink = new ParkingSink(false);
    const c = connectClient(srv, { sink });
    await waitFor('ready', () => c.client.state === 'ready');
    const proc = driver.opened[0].proc;
    for (let i = 0; i < 40 && !proc.calls.includes('pause'); i++) {
      proc.emit(Buffer.alloc(64 * 1024, 'y'));
      await sleep(5);
    }
    expect(proc.calls).toContain('pause');
    expect(proc.calls).not.toContain('resume');
    sink.release();
    await waitFor('resumed', () => proc.calls.includes('resume'));
    c.client.dispose();
  });

  it('a session ended while the shell starts: the started process is ended in the host and closed', async () => {
    const driver = new SlowDriver(300);
    const srv = await server(driver);
    const c = connectClient(srv);
    await waitFor('opening', () => driver.opened.length === 1);
    await srv.gateway.closeSession('s-1', 'The lab session has ended.');
    await waitFor('closed', () => c.client.state === 'closed');
    expect(c.statuses.at(-1)?.message).toBe('The lab session has ended.');
    await waitFor('process closed', () => driver.opened[0].proc.calls.includes('close'), 2_000);
    expect(driver.closed).toEqual([driver.opened[0].opts.terminalId]);
  });

  it('reports the exit the process reports', async () => {
    const driver = new SlowDriver(10);
    const srv = await server(driver);
    const c = connectClient(srv);
    await waitFor('ready', () => c.client.state === 'ready');
    driver.opened[0].proc.end(7);
    await waitFor('closed', () => c.client.state === 'closed');
    expect(c.statuses.at(-1)).toMatchObject({ state: 'closed', exitCode: 7, message: 'The shell exited with code 7.' });
  });
});
