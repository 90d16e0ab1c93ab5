/** `labforge serve [--dev]`: the platform on one port until SIGINT or SIGTERM. */
import { parseArgs } from 'node:util';
import { log } from '../../lib/base/log';
import type { RunningServer, ServerOptions } from '../../server';

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { dev: { type: 'boolean', default: false } } });
  await serveUntilSignal({ dev: values.dev });
  return new Promise<number>(() => {}); // runs until a signal
}

/** Starts the server and stops it cleanly on SIGINT or SIGTERM (`labforge serve`, `labforge dev`). */
export async function serveUntilSignal(opts: ServerOptions): Promise<RunningServer> {
  const { startServer } = await import('../../server');
  // A database that cannot be written must not take the server down from background work.
  (await import('../../lib/db/health')).keepServingThroughStorageFaults(log);
  const server = await startServer(opts);
  // Terminals' screens are saved and hosts' shells ended on the way out; a shutdown that hangs
  // (an engine that does not answer) still ends, so a supervisor's restart is never stuck.
  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error({ signal }, 'shutdown took longer than 30 s; exiting anyway');
      process.exit(1);
    }, 30_000).unref();
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  return server;
}
