/**
 * A tiny stand-in for a Kubernetes API server: plain HTTP on 127.0.0.1, answers
 * from fixtures (test/fixtures/kube), records every request. The real
 * @kubernetes/client-node talks to it through a real kubeconfig file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export const FIXTURES = path.resolve(__dirname, '../fixtures/kube');
export const fixture = (name: string): unknown => JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8'));

export interface Reply {
  status?: number;
  body: unknown;
}
export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType?: string;
  body: string;
}
type Handler = (req: Recorded) => Reply;

export class FakeKubeApi {
  readonly requests: Recorded[] = [];
  private readonly routes = new Map<string, Handler>();
  private server?: http.Server;
  url = '';

  /** Answers `METHOD /path` with the replies in turn; the last one repeats. */
  on(method: string, p: string, ...replies: (Reply | string)[]): this {
    let i = 0;
    const list = replies.map((r) => (typeof r === 'string' ? { body: fixture(r) } : r));
    this.routes.set(`${method} ${p}`, () => list[Math.min(i++, list.length - 1)]);
    return this;
  }

  handle(method: string, p: string, h: Handler): this {
    this.routes.set(`${method} ${p}`, h);
    return this;
  }

  /** Requests to one route, in order. */
  calls(method: string, p: string): Recorded[] {
    return this.requests.filter((r) => r.method === method && r.path === p);
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://x');
        const rec: Recorded = {
          method: req.method ?? 'GET',
          path: u.pathname,
          query: u.searchParams,
          contentType: req.headers['content-type'],
          body: Buffer.concat(chunks).toString('utf8'),
        };
        this.requests.push(rec);
        const h = this.routes.get(`${rec.method} ${rec.path}`);
        const reply = h ? h(rec) : { status: 404, body: fixture('status-404') };
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** A kubeconfig like kind writes one (context kind-<name>), but plain HTTP with a token. */
  kubeconfigYaml(cluster = 'lf-test'): string {
    return kubeconfigFor(this.url, cluster);
  }

  writeKubeconfig(file: string, cluster = 'lf-test'): string {
    writeFileSync(file, this.kubeconfigYaml(cluster), { mode: 0o600 });
    return file;
  }
}

export function kubeconfigFor(server: string, cluster: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- cluster:
    server: ${server}
    # client-node refuses plain http unless told so.
    insecure-skip-tls-verify: true
  name: kind-${cluster}
contexts:
- context:
    cluster: kind-${cluster}
    user: kind-${cluster}
  name: kind-${cluster}
current-context: kind-${cluster}
preferences: {}
users:
- name: kind-${cluster}
  user:
    token: fake-token
`;
}
