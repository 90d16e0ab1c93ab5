/**
 * `GET /api/author/events` under `labforge dev`: a server-sent event each time the watched lab's
 * files were looked at again (reloaded, or found broken), so an open session page re-reads its
 * session at once instead of polling faster. An event carries only a counter; what changed is in
 * the session view (its `author` field), which the page reads with its cookie as always. Only the
 * dev runtime answers this path (server.ts asks it before Next): `labforge serve` has no stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const AUTHOR_EVENTS_PATH = '/api/author/events';

export interface AuthorEvents {
  /** Answers AUTHOR_EVENTS_PATH (true), or leaves the request to others (false). */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  /** Ends every stream (the server is stopping: an open one would hold its close). */
  close(): void;
}

/** `subscribe`: registers a listener for changes and returns its unsubscribe. */
export function authorEvents(subscribe: (listener: () => void) => () => void, { heartbeatMs = 25_000 } = {}): AuthorEvents {
  const open = new Set<ServerResponse>();
  let seq = 0;
  const send = (res: ServerResponse) => res.write(`id: ${seq}\ndata: ${seq}\n\n`);
  const unsubscribe = subscribe(() => {
    seq++;
    for (const res of open) send(res);
  });
  // A comment now and then keeps proxies and browsers from timing an idle stream out.
  const heartbeat = setInterval(() => {
    for (const res of open) res.write(': idle\n\n');
  }, heartbeatMs);
  heartbeat.unref();

  return {
    handleRequest(req, res) {
      if (new URL(req.url ?? '/', 'http://localhost').pathname !== AUTHOR_EVENTS_PATH) return false;
      if (req.method !== 'GET') {
        res.writeHead(405, { allow: 'GET', 'content-type': 'application/json' }).end(JSON.stringify({ error: 'use GET' }));
        return true;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      // The current counter at once: a page that reconnects re-reads what it may have missed.
      res.write('retry: 1000\n');
      send(res);
      open.add(res);
      res.on('close', () => open.delete(res));
      return true;
    },
    close() {
      unsubscribe();
      clearInterval(heartbeat);
      for (const res of open) res.end();
      open.clear();
    },
  };
}
