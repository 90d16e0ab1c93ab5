/**
 * Benchmark entry point: `npm run bench -- <name> [--option value ...]`.
 * Each bench is a module exporting `run(options)`; its result is printed as
 * JSON on stdout (progress goes to stderr), so results can be piped to a file
 * or compared between commits. Add a bench by adding it to BENCHES.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type BenchOptions = Record<string, string | boolean>;
export interface Bench {
  description: string;
  /** Option name -> help text (shown by `npm run bench -- <name> --help`). */
  options: Record<string, string>;
  run(options: BenchOptions): Promise<unknown>;
}

const BENCHES: Record<string, () => Promise<Bench>> = {
  terminals: async () => (await import('./terminals')).bench,
  pool: async () => (await import('./pool')).bench,
  checks: async () => (await import('./checks')).bench,
  load: async () => (await import('./load')).bench,
  fleet: async () => (await import('./fleet')).bench,
  replicas: async () => (await import('./replicas')).bench,
};

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** `--a 1 --b --c=x` -> { a: '1', b: true, c: 'x' }. */
export function parseOptions(argv: string[]): BenchOptions {
  const out: BenchOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}" (options look like --name value)`);
    const eq = arg.indexOf('=');
    if (eq > 0) out[arg.slice(2, eq)] = arg.slice(eq + 1);
    else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) out[arg.slice(2)] = argv[++i];
    else out[arg.slice(2)] = true;
  }
  return out;
}

function usage(): string {
  return `usage: npm run bench -- <name> [options]\nbenches: ${Object.keys(BENCHES).join(', ')}\n` + `help: npm run bench -- <name> --help`;
}

async function main(): Promise<number> {
  // stdout is the JSON result: the bench process's own pino logs (lib/log writes to stdout) must stay off it.
  // Servers the benches start log to stderr at BENCH_SERVER_LOG_LEVEL (default warn).
  process.env.LABFORGE_LOG_LEVEL = 'silent';
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === '--help' || name === '-h') {
    process.stderr.write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  const load = BENCHES[name];
  if (!load) {
    process.stderr.write(`unknown bench "${name}"\n${usage()}\n`);
    return 2;
  }
  const bench = await load();
  const options = parseOptions(rest);
  if (options.help) {
    const lines = Object.entries(bench.options).map(([k, v]) => `  --${k.padEnd(18)} ${v}`);
    process.stderr.write(`${name}: ${bench.description}\n${lines.join('\n')}\n`);
    return 0;
  }
  const unknown = Object.keys(options).filter((k) => !(k in bench.options) && k !== 'out');
  if (unknown.length) {
    process.stderr.write(`unknown option(s) for ${name}: ${unknown.map((k) => `--${k}`).join(', ')} (see --help)\n`);
    return 2;
  }
  const result = await bench.run(options);
  const json = JSON.stringify(result, null, 2);
  process.stdout.write(`${json}\n`);
  // Also kept under bench/results/ (gitignored) so runs can be compared later.
  const out =
    typeof options.out === 'string' ? options.out : path.join(root, 'bench', 'results', `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${json}\n`);
  process.stderr.write(`[bench] result written to ${path.relative(process.cwd(), out)}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
