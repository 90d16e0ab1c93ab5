/**
 * Imported first by browser modules that build zod schemas (Terminal.tsx, for the terminal
 * protocol): zod probes `new Function` when a schema is built, to compile parsers, and the page's
 * CSP forbids eval (no 'unsafe-eval', lib/http/headers.ts). Without the probe there is no CSP report;
 * parsing works the same, without the compiled fast path.
 */
import { config } from 'zod';

config({ jitless: true });
