/**
 * WeTTY 3.x as a competitor: installed on demand into a cache folder outside
 * the project's node_modules (npm install --prefix), started with
 * `--command "docker exec -it … bash -l"`. Running as root with the default
 * ssh host (localhost), WeTTY skips ssh/login and spawns the command itself
 * (`env -S <command>`, see its build/server/command.js and spawn.js), so it
 * drives the very same `docker exec` path. Any failure becomes a reason to
 * skip it, never a made-up number.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { progress, sleep } from '../lib/stats';
import type { IoFactory } from './connectors';
import type { ShellCommand } from './container';
import { freePort } from '../../test/support/server';

const run = promisify(execFile);

export interface Wetty {
  version: string;
  port: number;
  base: string;
  io: IoFactory;
  proc: ChildProcess;
  stop(): void;
}

function installedVersion(dir: string, pkg: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(dir, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * npm as it ships with the node running us: PATH may not have it (`spawn npm ENOENT` on a machine
 * where node was started by its full path), but npm sits next to node, or in its lib folder.
 * Its scripts want `node` on PATH too.
 */
function npmCommand(): { file: string; pre: string[]; env: NodeJS.ProcessEnv } {
  const bin = path.dirname(process.execPath);
  const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` };
  if (existsSync(path.join(bin, 'npm'))) return { file: path.join(bin, 'npm'), pre: [], env };
  const cli = path.join(bin, '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  if (existsSync(cli)) return { file: process.execPath, pre: [cli], env };
  return { file: 'npm', pre: [], env };
}

async function npm(dir: string, args: string[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const { file, pre, env } = npmCommand();
  await run(file, [...pre, ...args, '--prefix', dir, '--no-audit', '--no-fund'], { cwd: dir, env, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
}

/** node-pty's native module must load: npm 11 runs no install scripts unless approved, so check, and rebuild once if needed. */
async function ensureNodePty(dir: string): Promise<void> {
  const probe = `require(${JSON.stringify(path.join(dir, 'node_modules', 'node-pty'))}).spawn('true', [], {}).onExit(() => process.exit(0))`;
  const ok = () =>
    run(process.execPath, ['-e', probe], { timeout: 20_000 }).then(
      () => true,
      () => false,
    );
  if (await ok()) return;
  progress("WeTTY's node-pty does not load; rebuilding it (npm rebuild node-pty --foreground-scripts)");
  await npm(dir, ['rebuild', 'node-pty', '--foreground-scripts']);
  if (!(await ok())) throw new Error("WeTTY's node-pty native module does not load even after `npm rebuild node-pty`");
}

export async function installWetty(dir: string): Promise<{ version: string }> {
  if (!installedVersion(dir, 'wetty')?.startsWith('3.')) {
    progress(`installing wetty@3 into ${dir} (npm install --prefix; once, cached)`);
    await npm(dir, ['install', 'wetty@3']);
  }
  // socket.io-client comes with WeTTY (its page bundles it); install it if a future version stops shipping it.
  if (!installedVersion(dir, 'socket.io-client')) await npm(dir, ['install', 'socket.io-client@4']);
  await ensureNodePty(dir);
  return { version: installedVersion(dir, 'wetty')! };
}

async function waitHttp(url: string, proc: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`WeTTY exited with code ${proc.exitCode}: ${output().slice(-500)}`);
    const ok = await fetch(url).then(
      (r) => r.status < 500,
      () => false,
    );
    if (ok) return;
    await sleep(200);
  }
  throw new Error(`WeTTY did not answer on ${url} within ${timeoutMs} ms: ${output().slice(-500)}`);
}

export async function startWetty(dir: string, shell: ShellCommand): Promise<Wetty> {
  const { version } = await installWetty(dir);
  const port = await freePort();
  const base = '/wetty';
  const main = path.join(dir, 'node_modules', 'wetty', 'build', 'main.js');
  if (!existsSync(main)) throw new Error(`WeTTY ${version} has no build/main.js`);
  // WeTTY runs `env -S "<command>"`, which splits on spaces again: the arguments must hold none.
  if ([shell.file, ...shell.args].some((a) => /\s/.test(a))) throw new Error('shell command arguments contain spaces; WeTTY would split them');
  const command = [shell.file, ...shell.args].join(' ');
  const proc = spawn(
    process.execPath,
    [main, '--host', '127.0.0.1', '--port', String(port), '--base', `${base}/`, '--command', command, '--log-level', 'warn'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...(shell.env ?? process.env), NODE_ENV: 'production' },
    },
  );
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
  proc.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
  const stop = () => {
    if (proc.exitCode === null) proc.kill('SIGTERM');
  };
  try {
    await waitHttp(`http://127.0.0.1:${port}${base}/`, proc, () => out, 30_000);
  } catch (err) {
    stop();
    throw err;
  }
  const req = createRequire(path.join(dir, 'node_modules', 'noop.js'));
  const mod = req('socket.io-client') as { io: IoFactory };
  return { version, port, base, io: mod.io, proc, stop };
}
