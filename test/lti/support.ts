/**
 * A simulated LMS for the LTI tests: an HTTP server on 127.0.0.1 with its own RSA keys (jose)
 * serving its JWKS, an OAuth 2 token endpoint that verifies the tool's client assertion against
 * the tool's published keys, and a line item's scores endpoint that checks the bearer token and
 * keeps what it got. It also signs id_tokens as an LMS's auth server would. Not a test file.
 */
import http from 'node:http';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { Db } from '../../lib/db/client';
import { CLAIM } from '../../lib/lti/claims';
import { Platforms, type Platform } from '../../lib/lti/platforms';
import { publicJwks } from '../../lib/lti/tool-keys';

export const CLIENT_ID = 'labforge-client';
export const DEPLOYMENT = 'dep-1';
export const LAUNCH_URL = 'https://labs.example.org/lti/launch';

interface Key {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function newKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

export interface Score {
  body: Record<string, unknown>;
  contentType: string | undefined;
  authorized: boolean;
}

export interface Lms {
  issuer: string;
  platform: Platform;
  scores: Score[];
  tokenRequests: { assertionValid: boolean; scope: string }[];
  jwksFetches: number;
  /** What the scores endpoint answers next (then 200). */
  answers: number[];
  lineItem: string;
  /** A new signing key with a new kid, published from now on (the old one too, unless `drop`). */
  rotate(drop?: boolean): Promise<void>;
  /** An id_token as the LMS's auth server signs it; `over` replaces claims (undefined removes one). */
  idToken(nonce: string, over?: Record<string, unknown>, opts?: { key?: 'current' | 'stranger'; exp?: number; iat?: number }): Promise<string>;
  close(): Promise<void>;
}

export async function startLms(db: Db, name = 'moodle'): Promise<Lms> {
  let key = await newKey('lms-1');
  let published = [key];
  const stranger = await newKey('lms-1'); // same kid, another key: a forged signature
  const issued = new Set<string>();
  const lms = { scores: [] as Score[], tokenRequests: [] as Lms['tokenRequests'], jwksFetches: 0, answers: [] as number[] };
  const toolKeys = async () => createLocalJWKSet(await publicJwks(db));

  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => void handle(req, body, res));
  });
  async function handle(req: http.IncomingMessage, body: string, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/jwks') {
      lms.jwksFetches++;
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published.map((k) => k.jwk) }));
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      const form = new URLSearchParams(body);
      const assertionValid = await jwtVerify(form.get('client_assertion') ?? '', await toolKeys(), {
        issuer: CLIENT_ID,
        subject: CLIENT_ID,
        audience: `${base}/token`,
      })
        .then(() => form.get('grant_type') === 'client_credentials')
        .catch(() => false);
      lms.tokenRequests.push({ assertionValid, scope: form.get('scope') ?? '' });
      if (!assertionValid) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
      const token = `at-${issued.size + 1}`;
      issued.add(token);
      return void res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }));
    }
    if (url.pathname === '/lineitems/7/lineitem/scores' && url.searchParams.get('type_id') === '1') {
      const status = lms.answers.shift() ?? 200;
      const auth = req.headers.authorization ?? '';
      lms.scores.push({
        body: JSON.parse(body) as Record<string, unknown>,
        contentType: req.headers['content-type'],
        authorized: issued.has(auth.replace(/^Bearer /, '')),
      });
      return void res.writeHead(status).end(status < 300 ? '' : 'down for maintenance');
    }
    res.writeHead(404).end();
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const platform = await new Platforms(db).add({
    name,
    issuer: base,
    clientId: CLIENT_ID,
    authLoginUrl: `${base}/auth`,
    authTokenUrl: `${base}/token`,
    jwksUrl: `${base}/jwks`,
    deploymentIds: [DEPLOYMENT],
  });

  return Object.assign(lms, {
    issuer: base,
    platform,
    lineItem: `${base}/lineitems/7/lineitem?type_id=1`,
    async rotate(drop = false) {
      key = await newKey(`lms-${published.length + 1}`);
      published = drop ? [key] : [...published, key];
    },
    async idToken(nonce: string, over: Record<string, unknown> = {}, opts: { key?: 'current' | 'stranger'; exp?: number; iat?: number } = {}) {
      const now = Math.floor(Date.now() / 1000);
      const claims: Record<string, unknown> = {
        iss: base,
        aud: CLIENT_ID,
        sub: 'user-42',
        nonce,
        iat: opts.iat ?? now,
        exp: opts.exp ?? now + 300,
        [CLAIM.messageType]: 'LtiResourceLinkRequest',
        [CLAIM.version]: '1.3.0',
        [CLAIM.deploymentId]: DEPLOYMENT,
        [CLAIM.targetLinkUri]: LAUNCH_URL,
        [CLAIM.resourceLink]: { id: 'link-1' },
        [CLAIM.custom]: { lab: 'alpha' },
        [CLAIM.ags]: { scope: ['https://purl.imsglobal.org/spec/lti-ags/scope/score'], lineitem: `${base}/lineitems/7/lineitem?type_id=1` },
        ...over,
      };
      for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
      const signer = opts.key === 'stranger' ? stranger : key;
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: signer.kid, typ: 'JWT' }).sign(signer.privateKey);
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  });
}

/** What a browser does between the LMS and the tool, with route handlers called as Next calls them. */
export interface Login {
  state: string;
  nonce: string;
  /** The state cookie as the browser would send it back (`name=value`). */
  cookie: string;
  setCookie: string;
  location: URL;
}

type Route = (req: Request) => Promise<Response>;

export async function login(route: Route, lms: Pick<Lms, 'issuer'>, target = LAUNCH_URL, method: 'GET' | 'POST' = 'GET'): Promise<Login> {
  const params = new URLSearchParams({ iss: lms.issuer, login_hint: 'user-42', target_link_uri: target, client_id: CLIENT_ID, lti_message_hint: 'hint-1' });
  const res =
    method === 'GET'
      ? await route(new Request(`http://localhost/lti/login?${params}`))
      : await route(
          new Request('http://localhost/lti/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: params }),
        );
  if (res.status !== 302) throw new Error(`login answered ${res.status}: ${await res.text()}`);
  const location = new URL(res.headers.get('location')!);
  const setCookie = res.headers.get('set-cookie')!;
  return { state: location.searchParams.get('state')!, nonce: location.searchParams.get('nonce')!, cookie: setCookie.split(';')[0], setCookie, location };
}

/** The auth server's form_post to the tool: id_token and state, with the browser's cookies. */
export function formPost(route: Route, url: string, form: Record<string, string>, cookie?: string, accept = 'application/json'): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept };
  if (cookie) headers.cookie = cookie;
  return route(new Request(`http://localhost${url}`, { method: 'POST', headers, body: new URLSearchParams(form) }));
}

export const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;
