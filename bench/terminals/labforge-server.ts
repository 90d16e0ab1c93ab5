/**
 * Child process: our terminal server as production runs it (a real HTTP server
 * on 127.0.0.1, the real gateway with Origin check and single-use tokens, the
 * real DockerDriver), in its own process so the bench can sample its RSS.
 *
 * Input: env BENCH_CONFIG = { env: Environment, host, batch?, flow?, local?, cli? } (JSON);
 * `local`: terminals are local bash ptys instead of Engine API execs (server cost without Docker);
 * `cli`: terminals as before issue #14, a `docker exec -it` process each (cli-driver.ts).
 * Output: one JSON line on stdout, { port }, once listening.
 * Routes: POST /token (same-origin, like the page's token fetch) -> { token };
 * GET /memory -> process.memoryUsage().
 * Ends when its stdin closes (the bench exited or crashed).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenStore } from '../../lib/auth/tokens';
import { DockerDriver } from '../../lib/environments/docker/driver';
import type { Environment } from '../../lib/environments/driver';
import { log } from '../../lib/base/log';
import { createTerminalGateway } from '../../lib/terminals/node/gateway';
import type { BatchTuning } from '../../lib/terminals/node/batcher';
import type { FlowTuning } from '../../lib/terminals/node/flow';
import { WS_PATH } from '../../lib/terminals/common/protocol';
import { LocalPtyDriver } from '../../test/support/local-pty-driver';
import { CliDockerDriver } from './cli-driver';

interface Config {
  env: Environment;
  host: string;
  batch?: Partial<BatchTuning>;
  flow?: Partial<FlowTuning>;
  local?: boolean;
  cli?: boolean;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_CONFIG ?? 'null') as Config | null;
  if (!config?.env) throw new Error('BENCH_CONFIG (JSON with env and host) is required');
  const driver = config.local ? new LocalPtyDriver() : config.cli ? new CliDockerDriver() : new DockerDriver();
  const tokens = new TokenStore();
  let origin = '';

  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/token') {
      if (req.headers.origin !== origin) return void res.writeHead(403).end('cross-origin token request refused\n');
      const claims = { sessionId: 'bench', tab: `t${Date.now()}${Math.random()}`.slice(0, 40), learnerId: 'bench', role: 'owner' as const };
      void tokens.issue(claims).then((token) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token })));
      return;
    }
    if (req.method === 'GET' && req.url === '/memory') {
      // Where the RSS goes (V8 heap vs Buffers vs the rest), for the bench's RSS report.
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(process.memoryUsage()));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;

  const gateway = createTerminalGateway({
    allowedOrigins: [origin],
    tokens,
    graceMs: 5_000,
    log,
    batch: config.batch,
    flow: config.flow,
    resolve: async (claims) => ({ driver, env: config.env, host: config.host, key: `${claims.sessionId}:${claims.tab}` }),
  });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname === WS_PATH) gateway.handleUpgrade(req, socket, head);
    else socket.destroy();
  });

  const shutdown = async () => {
    await gateway.close().catch(() => {});
    server.closeAllConnections();
    server.close();
    process.exit(0);
  };
  process.stdin.on('end', () => void shutdown());
  process.stdin.on('error', () => void shutdown());
  process.stdin.resume();
  process.on('SIGTERM', () => void shutdown());
  process.stdout.write(`${JSON.stringify({ port })}\n`);
}

main().catch((err) => {
  process.stderr.write(`labforge bench server failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
