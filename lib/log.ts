/** The structured logger. Modules take a child: `log.child({ module: 'docker' })`. */
import pino from 'pino';

export const log = pino({
  level: process.env.LABFORGE_LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
  redact: ['token', '*.token', 'req.headers.cookie'],
  base: undefined,
});

export type Logger = typeof log;
