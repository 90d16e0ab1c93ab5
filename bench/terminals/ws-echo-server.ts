/**
 * Child process: a WebSocket server that sends every message straight back, with no terminal
 * behind it. Through the bare connector and headless xterm it measures what one WebSocket round
 * trip between two processes, plus xterm's parse, adds to any web terminal's echo (the `wsEchoMs`
 * floor), whatever its server does.
 *
 * Output: one JSON line on stdout, { port }.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

const server = http.createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws) => ws.on('message', (d: Buffer) => ws.send(d, { binary: true })));
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
