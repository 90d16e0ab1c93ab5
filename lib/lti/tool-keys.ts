/**
 * The tool's own RSA key: it signs deep-linking answers and the client assertions that get AGS
 * access tokens; platforms verify with the public half, published at /lti/jwks. Made on first use
 * and stored in the database (the private JWK never leaves the server, nothing prints it). When two
 * processes make one at once both are kept and published; the oldest signs.
 */
import crypto from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK, type CryptoKey } from 'jose';
import type { Db } from '../db/client';

export const ALG = 'RS256';

export interface SigningKey {
  kid: string;
  key: CryptoKey;
}

/** Imported keys by kid: importing is slow, the rows never change. */
const imported = new Map<string, Promise<CryptoKey>>();

async function ensureKey(db: Db) {
  const existing = await db.ltiKey.findFirst({ orderBy: [{ createdAt: 'asc' }, { kid: 'asc' }] });
  if (existing) return existing;
  const { privateKey, publicKey } = await generateKeyPair(ALG, { modulusLength: 2048, extractable: true });
  const kid = crypto.randomBytes(12).toString('base64url');
  const pub = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
  await db.ltiKey.create({ data: { kid, privateJwk: JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: ALG }), publicJwk: JSON.stringify(pub) } });
  return (await db.ltiKey.findFirst({ orderBy: [{ createdAt: 'asc' }, { kid: 'asc' }] }))!;
}

export async function signingKey(db: Db): Promise<SigningKey> {
  const row = await ensureKey(db);
  let key = imported.get(row.kid);
  if (!key) imported.set(row.kid, (key = importJWK(JSON.parse(row.privateJwk) as JWK, ALG) as Promise<CryptoKey>));
  return { kid: row.kid, key: await key };
}

/** The public keys, as a JWKS document. */
export async function publicJwks(db: Db): Promise<{ keys: JWK[] }> {
  await ensureKey(db);
  const rows = await db.ltiKey.findMany({ orderBy: { createdAt: 'asc' } });
  return { keys: rows.map((r) => JSON.parse(r.publicJwk) as JWK) };
}
