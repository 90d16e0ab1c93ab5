/**
 * The structured logger. Modules take a child: `log.child({ module: 'docker' })`.
 * Logs go to stderr, always: stdout belongs to what a command prints (`labforge test --json`,
 * `--csv`), so `labforge … --json | jq` reads the document and nothing else.
 */
import pino from 'pino';

export const log = pino(
  {
    level: process.env.LABFORGE_LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
    redact: ['token', '*.token', 'req.headers.cookie'],
    base: undefined,
  },
  pino.destination({ fd: 2, sync: true }),
);

export type Logger = typeof log;
