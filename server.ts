/**
 * The one Labforge server process: Next.js pages and API routes, terminal WebSockets and service
 * tabs, on one port. Everything behind them is composed by lib/runtime/start.ts; this file only
 * listens and routes each request and upgrade to its handler.
 */
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import next from 'next';
import { loadConfig, type Config } from './lib/base/config';
import { log } from './lib/base/log';
import { secureNextRequest } from './lib/http/headers';
import { PEER_HEADER } from './lib/http/limits';
import { SERVICE_PREFIX } from './lib/http/service-proxy';
import { startRuntime, type StartedRuntime } from './lib/runtime/start';
import { WS_PATH } from './lib/terminals/common/protocol';

const root = path.dirname(fileURLToPath(import.meta.url));

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export interface ServerOptions {
  /** Next in development mode (hot reload of pages), for working on Labforge itself. */
  dev?: boolean;
  config?: Config;
  /** Composes the services (default startRuntime; `labforge dev`: lib/runtime/dev.ts). */
  runtime?: (config: Config, root: string) => Promise<StartedRuntime>;
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const config = opts.config ?? loadConfig();
  const rt = await (opts.runtime ?? startRuntime)(config, root);

  const app = next({ dev: !!opts.dev, dir: root, hostname: 'localhost', port: config.port });
  await app.prepare();
  const handle = app.getRequestHandler();
  const nextUpgrade = app.getUpgradeHandler();

  const server = http.createServer((req, res) => {
    // Probes and metrics first: cheap, and answered even when Next is busy or a page would fail.
    if (rt.probes.handleRequest(req, res) || rt.services.handleRequest(req, res) || rt.handleRequest?.(req, res)) return;
    // The client's socket address, for per-address rate limits (lib/http/limits.ts); a client cannot set it.
    req.headers[PEER_HEADER] = req.socket.remoteAddress ?? '';
    if (!secureNextRequest(req, res, { dev: !!opts.dev })) return; // CSP with a nonce, nosniff, framing, referrer; 414
    void handle(req, res);
  });
  server.on('upgrade', (req, socket, head) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname === WS_PATH) return rt.gateway.handleUpgrade(req, socket, head);
    if (pathname.startsWith(SERVICE_PREFIX)) return void rt.services.handleUpgrade(req, socket, head);
    if (opts.dev) return void nextUpgrade(req, socket, head); // HMR
    socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const url = `http://localhost:${config.port}`;
  log.info({ module: 'server', url, labs: rt.catalog.list().length, dataDir: config.dataDir }, 'Labforge is ready');

  return {
    url,
    async close() {
      // Terminals first (their screens are saved and the clients told to reconnect), then HTTP:
      // no new connections, idle keep-alive ones end now, requests in flight get a moment.
      await rt.close(async () => {
        const closed = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        const grace = setTimeout(() => server.closeAllConnections(), 5_000);
        await closed;
        clearTimeout(grace);
        await app.close?.();
      });
    },
  };
}
