/**
 * Child process: the floor to compare against. A bare `ws` + node-pty server
 * with no features: one binary WebSocket frame per pty read, input written
 * straight to the pty, no batching, no flow control, no replay, no auth. It
 * runs the same `docker exec` command as the others.
 *
 * Input: env BENCH_CONFIG = { file, args, env? } (the shell command: `docker exec …` or a local bash).
 * Output: one JSON line on stdout, { port }. Query `?cols=&rows=` sizes the pty.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pty from 'node-pty';
import { WebSocketServer } from 'ws';

const config = JSON.parse(process.env.BENCH_CONFIG ?? 'null') as { file: string; args: string[]; env?: Record<string, string> } | null;
if (!config?.file) throw new Error('BENCH_CONFIG (JSON with file and args) is required');

const server = http.createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws, req) => {
  const q = new URL(req.url ?? '/', 'http://x').searchParams;
  const term = pty.spawn(config.file, config.args, {
    name: 'xterm-256color',
    cols: Number(q.get('cols')) || 80,
    rows: Number(q.get('rows')) || 24,
    cwd: process.cwd(),
    env: config.env ?? (process.env as Record<string, string>),
    encoding: null,
  });
  term.onData((d: string | Buffer) => ws.send(d, { binary: true }));
  term.onExit(() => ws.close());
  ws.on('message', (d: Buffer) => term.write(d));
  ws.on('close', () => term.kill());
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
