/** A real `labforge serve` process for tests that kill and restart the server. */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// import.meta, not __dirname: the benches run this file as ESM (tsx).
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * Starts the server (production mode, logs at warn) on `port` with `env` added, and resolves once
 * `/api/v1/health` answers: `ok` (the default) waits for a 2xx, `any` for any answer (a server whose
 * database is faulty answers 503 and is still up). Its stderr is kept for error messages: `logs()`.
 */
export type ServerProcess = ChildProcess & { logs(): string };

export function startServerProcess(port: number, env: Record<string, string>, ready: 'ok' | 'any' = 'ok'): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['bin/labforge.mjs', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), LABFORGE_LOG_LEVEL: 'warn', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-20_000)));
  const server = Object.assign(child, { logs: () => stderr });
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 90_000;
    const poll = async () => {
      if (child.exitCode !== null) return reject(new Error(`server exited ${child.exitCode}: ${stderr}`));
      const up = await fetch(`http://localhost:${port}/api/v1/health`).then(
        (r) => ready === 'any' || r.ok,
        () => false,
      );
      if (up) return resolve(server);
      if (Date.now() > deadline) return reject(new Error(`server not ready after 90 s: ${stderr}`));
      setTimeout(poll, 300);
    };
    void poll();
  });
}
