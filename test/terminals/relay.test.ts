/**
 * Terminals across replicas (lib/terminals/node/relay.ts): two gateways with one token table stand
 * for two replicas, and a directory says which one runs the tab's terminal. A socket that reaches
 * the other replica is carried to the holder: one shell for every window, wherever it connected;
 * when the holder's connection drops the client reconnects, and a holder that cannot be reached is
 * "try again", never a hang. Real ptys (the local-pty driver), real sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TokenStore } from '../../lib/auth/tokens';
import type { TerminalDirectory } from '../../lib/replicas/terminal-directory';
import { CLOSE } from '../../lib/terminals/common/protocol';
import { CollectSink, connectClient, startServer, type TestServer } from './helpers';
import { waitFor } from '../support/wait';

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** A directory that says `holder()` runs every terminal (undefined: this replica does). */
const directory = (holder: () => string | undefined): TerminalDirectory & { held: number } => ({
  held: 0,
  async elsewhere() {
    return holder();
  },
  hold() {
    this.held++;
  },
  release() {},
});

async function replicas() {
  const tokens = new TokenStore();
  const a = await startServer({ tokens, directory: directory(() => undefined), streamTag: 'a' });
  const b = await startServer({ tokens, directory: directory(() => a.origin), streamTag: 'b' });
  servers.push(a, b);
  return { a, b };
}

const shellPid = async (srv: TestServer, marker: string) => {
  const c = connectClient(srv);
  await waitFor('ready', () => c.client.state === 'ready');
  c.client.sendInput(`echo ${marker}=$$\r`);
  const sink = c.sink as CollectSink;
  const pid = await waitFor(`${marker} pid`, () => new RegExp(`${marker}=(\\d+)`).exec(sink.text())?.[1]);
  return { c, pid };
};

describe('a terminal socket on another replica', () => {
  it('reaches the shell of the replica running it: one shell for windows on either replica', async () => {
    const { a, b } = await replicas();
    const viaA = await shellPid(a, 'VIA_A');
    const viaB = await shellPid(b, 'VIA_B');
    expect(viaB.pid).toBe(viaA.pid);
    expect(a.ptys).toHaveLength(1);
    expect(b.ptys).toHaveLength(0);
    // Typing through b shows in the window on a: the same screen.
    viaB.c.client.sendInput('echo TYPED_ON_B_$((5*5))\r');
    await waitFor('b’s input on a’s screen', () => (viaA.c.sink as CollectSink).has('TYPED_ON_B_25'));
    viaA.c.client.dispose();
    viaB.c.client.dispose();
  });

  it('reconnects through the relay when the holder drops the connection, to the same shell', async () => {
    const { a, b } = await replicas();
    const first = await shellPid(b, 'FIRST');
    const sockets = first.c.sockets.length;
    a.dropConnections(); // the holder's side of the relay goes
    await waitFor('a new socket', () => first.c.sockets.length > sockets && first.c.client.state === 'ready', 10_000);
    first.c.client.sendInput('echo AGAIN=$$\r');
    await waitFor('the same shell', () => (first.c.sink as CollectSink).text().includes(`AGAIN=${first.pid}`));
    expect(a.ptys).toHaveLength(1);
    first.c.client.dispose();
  });

  it('a holder that cannot be reached closes the socket with "try again"', async () => {
    const tokens = new TokenStore();
    const b = await startServer({ tokens, directory: directory(() => 'http://127.0.0.1:9') });
    servers.push(b);
    const ws = new WebSocket(`${b.url}?token=${await b.token()}`, { origin: b.origin });
    const code = await new Promise<number>((resolve) => ws.once('close', resolve));
    expect(code).toBe(CLOSE.tryAgain);
    expect(b.ptys).toHaveLength(0);
  });

  it('only a token the gateway issued for a relay keeps a socket where it lands; a client header does not', async () => {
    const { a, b } = await replicas();
    // A program sending the header the relay once used: still carried to the holder.
    const c = connectClient(b, { createSocket: (url) => new WebSocket(url, { origin: b.origin, headers: { 'x-labforge-relay': 'b' } }) as never });
    await waitFor('ready', () => c.client.state === 'ready');
    expect(a.ptys).toHaveLength(1);
    expect(b.ptys).toHaveLength(0);
    c.client.dispose();
    // The relay's own token (claims + relayed) is served by the replica it reaches.
    const relayed = connectClient(b, { claims: { tab: 'other', client: 'program', relayed: true }, createSocket: (url) => new WebSocket(url) as never });
    await waitFor('ready on b', () => relayed.client.state === 'ready');
    expect(b.ptys).toHaveLength(1);
    relayed.client.dispose();
  });
});
