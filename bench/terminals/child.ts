/**
 * Starts a bench server (labforge-server.ts, bare-server.ts) in its own Node
 * process under tsx, so its memory is its own and it competes for the CPU like
 * a real server would. The child prints `{"port":N}` once listening and exits
 * when its stdin closes, so it never outlives the bench. Its logs go to our stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ChildServer {
  port: number;
  pid: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));

export function startChild(file: string, config: unknown, timeoutMs = 30_000): Promise<ChildServer> {
  // BENCH_CHILD_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the servers.
  const extra = (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...extra, '--import', 'tsx', path.join(here, file)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, BENCH_CONFIG: JSON.stringify(config), LABFORGE_LOG_LEVEL: process.env.BENCH_SERVER_LOG_LEVEL ?? 'warn' },
  });
  let errors = '';
  proc.stderr!.on('data', (d: Buffer) => {
    errors = (errors + d.toString()).slice(-4000);
    process.stderr.write(`[${file}] ${d}`);
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      proc.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      proc.stdin!.end();
    });
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${file} did not start within ${timeoutMs} ms: ${errors.slice(-500)}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n').slice(0, -1)) {
        if (!line.startsWith('{"port"')) {
          process.stderr.write(`[${file}] ${line}\n`); // its logs share stdout
          continue;
        }
        clearTimeout(timer);
        proc.stdout!.off('data', onData);
        proc.stdout!.on('data', (d: Buffer) => process.stderr.write(`[${file}] ${d}`));
        resolve({ port: (JSON.parse(line) as { port: number }).port, pid: proc.pid!, proc, stop });
        return;
      }
      buf = buf.slice(buf.lastIndexOf('\n') + 1);
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with code ${code} before listening: ${errors.slice(-500)}`));
    });
  });
}
