/**
 * The endpoints orchestrators and scrapers call, answered by server.ts before Next (no page
 * rendering, no CSP nonce, no session cookie), on every replica:
 *
 * - GET /healthz: liveness. The process answers; nothing else is asked (a database outage must
 *   not get every replica restarted).
 * - GET /readyz: readiness (lib/observability/readiness.ts): 200 or 503 with each dependency and
 *   why it fails. Operators also get each failure's detail (paths, errno).
 * - GET /metrics: Prometheus text (lib/observability/metrics.ts), to operators only: from this
 *   machine, or with `Authorization: Bearer` and LABFORGE_METRICS_TOKEN (or the operator token).
 *   Unset tokens mean loopback only: a scraper elsewhere needs the token, so a replica reachable
 *   through an Ingress does not publish its numbers by default.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../base/log';
import { publicReport, type Readiness } from '../observability/readiness';
import { isOperatorMessage } from './operator';

export const PROBE_PATHS = { live: '/healthz', ready: '/readyz', metrics: '/metrics' } as const;

export interface ProbeOptions {
  readiness: Pick<Readiness, 'report'>;
  metrics: { scrape(): Promise<{ contentType: string; body: string }> };
  /** Credentials that open /metrics (and /readyz's detail) from another machine; unset ones open nothing. */
  metricsToken?: string;
  operatorToken?: string;
  log: Logger;
}

export interface ProbeEndpoints {
  /** True when the request was one of these paths (answered, or being answered). */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
}

export function createProbeEndpoints(opts: ProbeOptions): ProbeEndpoints {
  const log = opts.log.child({ module: 'probes' });
  const tokens = [opts.metricsToken, opts.operatorToken];

  const send = (res: ServerResponse, status: number, type: string, body: string, head: boolean, extra: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...extra });
    res.end(head ? undefined : body);
  };
  const json = (res: ServerResponse, status: number, value: unknown, head: boolean, extra?: Record<string, string>) =>
    send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), head, extra);

  async function answer(req: IncomingMessage, res: ServerResponse, path: string, head: boolean): Promise<void> {
    if (path === PROBE_PATHS.live) return json(res, 200, { ok: true }, head);
    if (path === PROBE_PATHS.ready) {
      const report = await opts.readiness.report();
      return json(res, report.ready ? 200 : 503, isOperatorMessage(req, tokens) ? report : publicReport(report), head);
    }
    if (!isOperatorMessage(req, tokens)) {
      const why = opts.metricsToken
        ? 'send Authorization: Bearer with LABFORGE_METRICS_TOKEN'
        : 'metrics are served to this machine only; set LABFORGE_METRICS_TOKEN to scrape them from elsewhere';
      return json(res, 401, { error: `unauthorized: ${why}`, code: 'unauthorized' }, head, { 'www-authenticate': 'Bearer realm="metrics"' });
    }
    const { contentType, body } = await opts.metrics.scrape();
    send(res, 200, contentType, body, head);
  }

  return {
    handleRequest(req, res) {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== PROBE_PATHS.live && path !== PROBE_PATHS.ready && path !== PROBE_PATHS.metrics) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        json(res, 405, { error: `${req.method} is not allowed here: use GET` }, false, { allow: 'GET, HEAD' });
        return true;
      }
      answer(req, res, path, req.method === 'HEAD').catch((e: Error) => {
        log.error({ path, err: e.message }, 'probe failed');
        if (!res.headersSent) json(res, 500, { error: 'internal error' }, false);
        else res.destroy();
      });
      return true;
    },
  };
}
