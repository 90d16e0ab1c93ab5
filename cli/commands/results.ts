/** `labforge results LAB [--learner ID] [--since TIME] [--limit N] [--csv | --json]`: what learners achieved (lib/results/). */
import { parseArgs } from 'node:util';
import { LearnerRefSchema } from '../../lib/auth/on-behalf';
import type { Db } from '../../lib/db/client';
import { resultsCsv } from '../../lib/results/csv';
import { readResults, type Results } from '../../lib/results/report';
import { openDatabase } from './database';

export const USAGE = 'usage: labforge results LAB [--learner ID] [--since 2026-11-30T09:00:00Z] [--limit N] [--csv | --json]';

const OPTIONS = {
  learner: { type: 'string' },
  since: { type: 'string' },
  limit: { type: 'string', default: '1000' },
  csv: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} as const;

/** Exit codes: 0 printed, 2 a usage mistake. `open`: the database (tests pass theirs). */
export async function run(args: string[], open: () => Promise<Db> = openDatabase): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    return usage((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usage('results needs the slug of one lab');
  if (values.csv && values.json) return usage('--csv and --json: choose one');
  if (values.learner !== undefined && !LearnerRefSchema.safeParse(values.learner).success) return usage('--learner: 1 to 128 letters, digits and . _ : @ -');
  const since = values.since === undefined ? undefined : new Date(values.since);
  if (since && Number.isNaN(since.getTime())) return usage(`--since: "${String(values.since).slice(0, 40)}" is not a time (e.g. 2026-11-30T09:00:00Z)`);
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) return usage('--limit: a whole number from 1 to 100000');

  const db = await open();
  try {
    const results = await readResults(db, { labs: [positionals[0]], learner: values.learner, since, limit });
    if (values.csv) process.stdout.write(resultsCsv(results));
    else if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    else process.stdout.write(table(results));
    if (results.truncated) process.stderr.write(`labforge results: more than ${limit} sessions; ask again with --since ${results.results.at(-1)?.createdAt}\n`);
    return 0;
  } finally {
    await db.$disconnect();
  }
}

/** One line per session: who, status, score, and each challenge as slug:status(attempts). */
function table({ results }: Results): string {
  if (!results.length) return 'No sessions.\n';
  const lines = results.map((r) => {
    const challenges = r.challenges.map((c) => `${c.slug}:${c.status}(${c.attempts})`).join(' ');
    return [r.createdAt.slice(0, 16).replace('T', ' '), r.session, r.learner ?? '-', r.status, `${r.score.passed}/${r.score.total}`, challenges].join('  ');
  });
  return `${['started (UTC)   ', 'session', 'learner', 'status', 'score', 'challenges'].join('  ')}\n${lines.join('\n')}\n`;
}

function usage(message: string): number {
  process.stderr.write(`labforge results: ${message}\n${USAGE}\n`);
  return 2;
}
