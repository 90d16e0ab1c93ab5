/**
 * The runtime's shutdown ends the service proxy's open WebSocket tunnels: no connection to a
 * learner host outlives the server. A plain TCP echo server stands in for the learner's service.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { log } from '../../lib/base/log';
import { createServiceProxy } from '../../lib/http/service-proxy';
import { waitFor } from '../support/wait';

const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((c) => c()));

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => server.close());
  return (server.address() as AddressInfo).port;
}

it('close() ends every open tunnel, and the browser side with it', async () => {
  let upstreamEnded = 0;
  const service = net.createServer((s) => {
    s.on('data', (d) => s.write(d)); // an echo, once the proxied request line has arrived
    s.on('close', () => upstreamEnded++);
  });
  const servicePort = await listen(service);
  const proxy = createServiceProxy({
    allowedOrigins: ['http://localhost'],
    log,
    isKey: () => true,
    resolve: async () => ({ address: '127.0.0.1', port: servicePort }),
  });
  const front = http.createServer((_req, res) => res.writeHead(404).end());
  front.on('upgrade', (req, socket, head) => proxy.handleUpgrade(req, socket, head) || socket.destroy());
  const frontPort = await listen(front);

  const browser = net.connect(frontPort, '127.0.0.1');
  let echoed = '';
  let browserClosed = false;
  browser.on('data', (d) => (echoed += d.toString()));
  browser.on('close', () => (browserClosed = true));
  browser.on('error', () => {});
  browser.write(`GET /svc/s1/web/${'k'.repeat(22)}/ HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`);
  await waitFor('the tunnel to carry bytes', () => echoed.includes('GET / HTTP/1.1'), 5_000, 10);

  proxy.close();
  await waitFor('both sides closed', () => browserClosed && upstreamEnded === 1, 5_000, 10);
  expect(browserClosed).toBe(true);
  expect(upstreamEnded).toBe(1);
});
