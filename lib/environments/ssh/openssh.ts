/**
 * Ed25519 key pairs in OpenSSH's own formats, from node:crypto: the `ssh-ed25519 AAAA… comment`
 * public line and the `openssh-key-v1` private key file (PROTOCOL.key in OpenSSH's source),
 * unencrypted. Node exports neither, and the format is small enough to write here rather than
 * pull in a library for it; test/environments/ssh-keys.test.ts has `ssh-keygen -y` read what
 * this writes.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';

const KEY_TYPE = 'ssh-ed25519';
const MAGIC = 'openssh-key-v1\0';
/** The cipher block size of `none`: the private section is padded to a multiple of it. */
const BLOCK = 8;

export interface SshKeyPair {
  /** `ssh-ed25519 AAAA… comment`, one line without a newline: authorized_keys, known_hosts, *.pub. */
  publicKey: string;
  /** The private key file, `-----BEGIN OPENSSH PRIVATE KEY-----` … with a final newline. */
  privateKey: string;
}

/** SSH wire `string`: a uint32 length, then the bytes. */
function sshString(data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** The public key blob: string "ssh-ed25519", string the 32-byte point. */
function publicBlob(pub: Buffer): Buffer {
  return Buffer.concat([sshString(KEY_TYPE), sshString(pub)]);
}

/**
 * Encodes an Ed25519 key (32-byte seed, 32-byte public point) as OpenSSH stores it. `checkint`
 * (random by default) is the value OpenSSH writes twice to tell a wrong passphrase from a right
 * one; fixed only for tests that compare bytes.
 */
export function encodeEd25519(seed: Buffer, pub: Buffer, comment: string, checkint = randomBytes(4).readUInt32BE()): SshKeyPair {
  if (seed.length !== 32 || pub.length !== 32)
    throw new Error(`an Ed25519 key has a 32-byte seed and a 32-byte public key (got ${seed.length} and ${pub.length})`);
  if (/[\r\n]/.test(comment)) throw new Error('an SSH key comment cannot span lines');
  const blob = publicBlob(pub);
  const unpadded = Buffer.concat([
    uint32(checkint),
    uint32(checkint),
    sshString(KEY_TYPE),
    sshString(pub),
    // OpenSSH's Ed25519 "private key" is the seed followed by the public point.
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const padLength = (BLOCK - (unpadded.length % BLOCK)) % BLOCK;
  const padding = Buffer.from(Array.from({ length: padLength }, (_, i) => i + 1));
  const file = Buffer.concat([
    Buffer.from(MAGIC, 'latin1'),
    sshString('none'), // cipher
    sshString('none'), // kdf
    sshString(''), // kdf options
    uint32(1), // one key
    sshString(blob),
    sshString(Buffer.concat([unpadded, padding])),
  ]);
  const b64 = file.toString('base64');
  const lines = b64.match(/.{1,70}/g) ?? [];
  return {
    publicKey: `${KEY_TYPE} ${blob.toString('base64')}${comment ? ` ${comment}` : ''}`,
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`,
  };
}

/** A fresh Ed25519 key pair in OpenSSH formats. */
export function generateEd25519(comment: string): SshKeyPair {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  if (!jwk.d || !jwk.x) throw new Error('node:crypto did not export the Ed25519 key as JWK');
  return encodeEd25519(Buffer.from(jwk.d, 'base64url'), Buffer.from(jwk.x, 'base64url'), comment);
}

/** The `SHA256:…` fingerprint ssh-keygen -l and ssh print, of a public key line. */
export function fingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.split(' ')[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}
