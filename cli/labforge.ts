/**
 * The `labforge` CLI: serve the platform, lint and test labs, build images.
 * Each command is a few lines calling into lib/; `labforge help` lists them.
 */
import { parseArgs } from 'node:util';
import { log } from '../lib/base/log';

const HELP = `labforge <command> [options]

  serve [--dev]            start the platform (PORT, LABFORGE_DATA_DIR, LABFORGE_LABS_DIR)
  lint <lab-dir>...        check labs; prints file:line: messages, exits 1 on any error
  images build [name...]   build the built-in host images (default: all) with no registry
  test <lab-dir> [--json] [--junit FILE]
                           for each challenge: setup, check must fail, solve, check must pass
  help                     this text
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const { values } = parseArgs({ args: rest, options: { dev: { type: 'boolean', default: false } } });
      const { startServer } = await import('../server');
      // A database that cannot be written must not take the server down from background work.
      (await import('../lib/db/health')).keepServingThroughStorageFaults(log);
      const server = await startServer({ dev: values.dev });
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
      return new Promise<number>(() => {}); // runs until a signal
    }
    case 'lint': {
      const { runLintCli } = await import('../lib/labs/lint');
      if (!rest.length) return usage('lint needs at least one lab folder, e.g. labforge lint labs/*');
      return runLintCli(rest);
    }
    case 'images': {
      if (rest[0] !== 'build') return usage('usage: labforge images build [name...]');
      const { buildImagesCli } = await import('../lib/environments/images/build');
      return buildImagesCli(rest.slice(1));
    }
    case 'test': {
      const { runLabTestCli } = await import('../lib/authoring/labtest');
      return runLabTestCli(rest);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return 0;
    default:
      return usage(`unknown command "${command}"`);
  }
}

function usage(message: string): number {
  process.stderr.write(`labforge: ${message}\n\n${HELP}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`labforge: ${e.message}\n`);
    process.exit(1);
  },
);
