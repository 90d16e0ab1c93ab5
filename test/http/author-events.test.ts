/**
 * The author event stream of `labforge dev` (lib/http/author-events.ts) on a plain HTTP server:
 * the current counter on connect, one event per change, other paths left alone, and close()
 * ending open streams so the server can stop.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { authorEvents, AUTHOR_EVENTS_PATH, type AuthorEvents } from '../../lib/http/author-events';

let server: http.Server | undefined;
let events: AuthorEvents | undefined;
afterEach(async () => {
  events?.close();
  await new Promise((r) => server?.close(r));
});

async function start() {
  let notify: () => void = () => {};
  let subscribed = 0;
  events = authorEvents((listener) => {
    notify = listener;
    subscribed++;
    return () => void subscribed--;
  });
  server = http.createServer((req, res) => {
    if (!events!.handleRequest(req, res)) res.writeHead(404).end('next');
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, change: () => notify(), subscribed: () => subscribed };
}

/** Reads server-sent events from a response until `count` data lines arrived. */
async function readEvents(reader: ReadableStreamDefaultReader<Uint8Array>, count: number): Promise<string[]> {
  const data: string[] = [];
  let text = '';
  while (data.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
    const blocks = text.split('\n\n');
    text = blocks.pop()!;
    for (const b of blocks) for (const line of b.split('\n')) if (line.startsWith('data: ')) data.push(line.slice(6));
  }
  return data;
}

it('sends the counter on connect and one event per change, as text/event-stream', async () => {
  const s = await start();
  const res = await fetch(s.base + AUTHOR_EVENTS_PATH);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  expect(res.headers.get('cache-control')).toBe('no-store');
  const reader = res.body!.getReader();
  expect(await readEvents(reader, 1)).toEqual(['0']);
  s.change();
  s.change();
  expect(await readEvents(reader, 2)).toEqual(['1', '2']);

  // A page that reconnects gets the current counter at once.
  const again = (await fetch(s.base + AUTHOR_EVENTS_PATH)).body!.getReader();
  expect(await readEvents(again, 1)).toEqual(['2']);

  events!.close();
  expect(s.subscribed()).toBe(0);
  expect(await reader.read()).toMatchObject({ done: true });
});

it('leaves other paths to the server and answers other methods 405', async () => {
  const s = await start();
  expect(await (await fetch(`${s.base}/api/v1/sessions`)).text()).toBe('next');
  const post = await fetch(s.base + AUTHOR_EVENTS_PATH, { method: 'POST' });
  expect(post.status).toBe(405);
  expect(await post.json()).toEqual({ error: 'use GET' });
});
