/**
 * `labforge dev <lab-dir> [--port N]`: one lab served in author mode and reloaded on every save.
 * An open session shows the new assignment within a second or so and its next Check runs the new
 * scripts; a save with errors prints them here and on the page while the last good version stays.
 * Its sessions live in a database of their own (<data dir>/dev): started on `labforge serve`'s,
 * it would fail every live session of the labs it does not serve.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../lib/base/config';
import type { LiveLabStatus } from '../../lib/labs/live-catalog';
import { displayPath } from '../../lib/labs/positions';
import { TRACK_FILE } from '../../lib/labs/sources';
import type { DevRuntime } from '../../lib/runtime/dev';
import { serveUntilSignal } from './serve';

const USAGE = 'usage: labforge dev <lab-dir> [--port N]\n';

export async function run(args: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { port: { type: 'string' } } });
  } catch (e) {
    err.write(`labforge dev: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { positionals, values } = parsed;
  if (positionals.length !== 1) return usage(err, 'labforge dev needs the folder of one lab, e.g. labforge dev labs/my-lab');
  const dir = path.resolve(positionals[0]);
  if (!fs.existsSync(path.join(dir, TRACK_FILE))) return usage(err, `labforge dev: ${displayPath(dir)} has no ${TRACK_FILE}: give the folder of one lab`);
  if (values.port !== undefined && !/^\d+$/.test(values.port)) return usage(err, `labforge dev: --port must be a number (got "${values.port}")`);

  const env: NodeJS.ProcessEnv = { ...process.env, LABFORGE_DATA_DIR: path.join(process.env.LABFORGE_DATA_DIR || 'data', 'dev') };
  if (values.port) env.PORT = values.port;
  delete env.DATABASE_URL; // the dev database lives in the dev data folder, never the served one
  const config = loadConfig(env);

  const { startDevRuntime } = await import('../../lib/runtime/dev');
  let dev: DevRuntime | undefined;
  const server = await serveUntilSignal({ config, runtime: async (c, root) => (dev = await startDevRuntime(c, root, dir)) });
  const live = dev!.live;
  let last = live.status()!;
  out.write(
    `Author mode: ${server.url}/labs/${live.list()[0].track.slug}\n` +
      `Watching ${displayPath(dir)}: saved assignments and scripts reach open sessions at once (Check runs the new scripts);\n` +
      `track setup, hosts and files are not made again: start a new session for those. Sessions: ${displayPath(config.dataDir)}\n` +
      problemLines(last.warnings),
  );
  live.onChange((status) => {
    out.write(describeStatus(status, last));
    last = status;
  });
  return new Promise<number>(() => {}); // runs until a signal (serve.ts stops the server)
}

/** What a look at the files found, as terminal lines: a reload, or errors (`file:line: error: message`) and what is still served. */
export function describeStatus(status: LiveLabStatus, previous: LiveLabStatus, now = new Date()): string {
  const at = now.toTimeString().slice(0, 8);
  if (status.errors.length) {
    const n = status.errors.length;
    return `${at} ${n} error${n === 1 ? '' : 's'}: still serving version ${status.version}\n${problemLines(status.errors)}${problemLines(status.warnings)}`;
  }
  const fixed = previous.errors.length ? ' (errors fixed)' : '';
  return `${at} reloaded: version ${status.version}${fixed}\n${problemLines(status.warnings)}`;
}

const problemLines = (lines: string[]) => lines.map((l) => `${l}\n`).join('');

function usage(err: NodeJS.WritableStream, message: string): number {
  err.write(`${message}\n${USAGE}`);
  return 2;
}
