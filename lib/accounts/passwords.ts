/**
 * Password hashing with scrypt (Node's crypto: maintained, memory-hard, no native add-on to
 * build). Stored as `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64url), so the cost can be raised
 * later and old hashes still verify with the cost they were made with.
 */
import crypto from 'node:crypto';
import { z } from 'zod';

interface Cost {
  log2N: number;
  r: number;
  p: number;
}

/** 2^15 × 8 × 128 B = 32 MiB and ~0.1 s per hash on these machines: OWASP's scrypt minimum is 2^17 at r=8 with p=1 for 128 MiB; we stay within a small server's memory under a burst of logins. */
const COST: Cost = { log2N: 15, r: 8, p: 1 };
const KEY_BYTES = 32;

export const PasswordSchema = z
  .string()
  .min(10, 'a password needs at least 10 characters')
  .max(200, 'a password is at most 200 characters')
  .refine((p) => new Set(p).size >= 4, 'a password needs at least 4 different characters');

function derive(password: string, salt: Buffer, cost: Cost): Promise<Buffer> {
  const N = 2 ** cost.log2N;
  return new Promise((resolve, reject) =>
    crypto.scrypt(password.normalize('NFKC'), salt, KEY_BYTES, { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string, cost: Cost = COST): Promise<string> {
  const salt = crypto.randomBytes(16);
  const key = await derive(password, salt, cost);
  return ['scrypt', cost.log2N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

const STORED = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{32,128})$/;

/** Whether `password` matches `stored`; false (never an exception) for a stored value of another shape. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = STORED.exec(stored);
  if (!m) return false;
  const cost = { log2N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (cost.log2N < 10 || cost.log2N > 20 || cost.r < 1 || cost.r > 32 || cost.p < 1 || cost.p > 16) return false;
  const want = Buffer.from(m[5], 'base64url');
  const got = await derive(password, Buffer.from(m[4], 'base64url'), cost);
  return got.length === want.length && crypto.timingSafeEqual(got, want);
}

/** A hash of a random password: verified against when the email is unknown, so both cases take as long. */
let decoy: Promise<string> | undefined;
export const decoyHash = () => (decoy ??= hashPassword(crypto.randomBytes(24).toString('base64url')));
