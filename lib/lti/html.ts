/**
 * The few pages LTI answers itself (errors, the deep-linking picker, the return form): plain HTML
 * with no script at all and a policy of their own: styles by nonce, forms to this server and to
 * `formTo` (the LMS a deep-linking answer goes back to), framing by `frameBy` (LMSs show the picker
 * in a frame).
 */
import crypto from 'node:crypto';

export interface PageOptions {
  status?: number;
  formTo?: string[];
  frameBy?: string[];
  headers?: Record<string, string>;
}

export function htmlPage(title: string, body: string, opts: PageOptions = {}): Response {
  const nonce = crypto.randomBytes(16).toString('base64');
  const csp = [
    `default-src 'none'`,
    `style-src 'nonce-${nonce}'`,
    `form-action 'self'${(opts.formTo ?? []).map((o) => ` ${o}`).join('')}`,
    `frame-ancestors 'self'${(opts.frameBy ?? []).map((o) => ` ${o}`).join('')}`,
    `base-uri 'none'`,
  ].join('; ');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Labforge</title><style nonce="${nonce}">body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}
ul{list-style:none;padding:0}li{margin:0 0 1rem}button{font:inherit;padding:.4rem 1rem}</style></head>
<body><main><h1>${title}</h1>${body}</main></body></html>`;
  return new Response(html, {
    status: opts.status ?? 200,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': csp, ...opts.headers },
  });
}
