/**
 * Host-to-host SSH material without an engine: the OpenSSH key encoder (ssh-keygen, the
 * reference, must read what it writes), and the known_hosts, configs and file modes every SSH
 * host gets. The live proof (ssh between containers) is ssh.docker.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign, verify, createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { which } from '../../lib/base/which';
import { SSH_FILES } from '../../lib/labs/ssh';
import { CLIENT_CONFIG, SERVER_CONFIG, knownHosts, makeSshKeys, sshFilesFor } from '../../lib/environments/ssh/material';
import { encodeEd25519, fingerprint, generateEd25519 } from '../../lib/environments/ssh/openssh';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-ssh-keys-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** ssh-keygen is part of this machine's setup (openssh-client): missing it fails, not skips. */
function keygen(args: string[]): string {
  if (!which('ssh-keygen')) throw new Error('ssh-keygen not found: apt-get install openssh-client');
  return execFileSync('ssh-keygen', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function writeKey(name: string, text: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text, { mode: 0o600 });
  return file;
}

describe('Ed25519 keys in OpenSSH formats', () => {
  it('writes a private key that ssh-keygen reads back to the same public key and fingerprint', () => {
    const pair = generateEd25519('learner@labforge');
    expect(pair.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43} learner@labforge$/);
    expect(pair.privateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n([A-Za-z0-9+/=]{1,70}\n)+-----END OPENSSH PRIVATE KEY-----\n$/);
    const file = writeKey('id_ed25519', pair.privateKey);
    // -y: derive the public key from the private file (fails on any format error).
    expect(keygen(['-y', '-f', file]).trim()).toBe(pair.publicKey);
    // -l: the fingerprint of the private file, as ssh prints it on connection.
    expect(keygen(['-l', '-f', file])).toContain(fingerprint(pair.publicKey));
  });

  it('is the key node:crypto made: a signature by the PEM key verifies with the OpenSSH public key', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const jwk = privateKey.export({ format: 'jwk' });
    const pair = encodeEd25519(Buffer.from(jwk.d!, 'base64url'), Buffer.from(jwk.x!, 'base64url'), 'c', 0x01020304);
    const point = Buffer.from(pair.publicKey.split(' ')[1], 'base64').subarray(-32);
    expect(point.equals(Buffer.from(jwk.x!, 'base64url'))).toBe(true);
    const sig = sign(null, Buffer.from('hello'), createPrivateKey({ key: jwk, format: 'jwk' }));
    expect(verify(null, Buffer.from('hello'), { key: { kty: 'OKP', crv: 'Ed25519', x: point.toString('base64url') }, format: 'jwk' }, sig)).toBe(true);
  });

  it('pads the private section to 8 bytes with 1, 2, 3… and writes the check integer twice', () => {
    const seed = Buffer.alloc(32, 7);
    const pub = Buffer.alloc(32, 9);
    for (const comment of ['', 'a', 'abcdefg', 'root@deathstar']) {
      const { privateKey } = encodeEd25519(seed, pub, comment, 0xdeadbeef);
      const raw = Buffer.from(privateKey.split('\n').slice(1, -2).join(''), 'base64');
      expect(raw.subarray(0, 15).toString('latin1')).toBe('openssh-key-v1\0');
      // magic, "none", "none", "", 1, the public blob (4 + 51), then the private section.
      let at = 15 + 8 + 8 + 4 + 4 + 4 + 51;
      const len = raw.readUInt32BE(at);
      at += 4;
      const section = raw.subarray(at, at + len);
      expect(at + len).toBe(raw.length);
      expect(len % 8).toBe(0);
      expect(section.readUInt32BE(0)).toBe(0xdeadbeef);
      expect(section.readUInt32BE(4)).toBe(0xdeadbeef);
      const body = 8 + (4 + 11) + (4 + 32) + (4 + 64) + (4 + comment.length);
      const pad = section.subarray(body);
      expect([...pad]).toEqual([...pad].map((_, i) => i + 1));
      expect(pad.length).toBeLessThan(8);
    }
  });

  it('refuses what it cannot encode', () => {
    expect(() => encodeEd25519(Buffer.alloc(31), Buffer.alloc(32), 'x')).toThrow(/32-byte seed/);
    expect(() => encodeEd25519(Buffer.alloc(32), Buffer.alloc(32), 'two\nlines')).toThrow(/cannot span lines/);
  });
});

describe('what each SSH host gets', () => {
  const hosts = [{ name: 'workstation', address: '172.20.0.2' }, { name: 'luke', address: '172.20.0.3' }, { name: 'leia' }];
  const keys = makeSshKeys(hosts.map((h) => h.name));

  it('known_hosts names every SSH host by name and address, with its own key, and ssh-keygen finds each', () => {
    const text = knownHosts(hosts, keys);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`workstation,172.20.0.2 ${keys.hosts.get('workstation')!.publicKey.split(' ').slice(0, 2).join(' ')}`);
    expect(lines[2]).toMatch(/^leia ssh-ed25519 \S+$/);
    const file = writeKey('known_hosts', text);
    for (const [name, look] of [
      ['luke', 'luke'],
      ['luke', '172.20.0.3'],
      ['workstation', 'workstation'],
    ]) {
      const found = keygen(['-F', look, '-f', file]);
      expect(found).toContain(keys.hosts.get(name)!.publicKey.split(' ')[1]);
    }
    // Different hosts, different keys.
    expect(new Set([...keys.hosts.values()].map((k) => k.publicKey.split(' ')[1])).size).toBe(3);
  });

  it('a host gets the session key, its own host key, the known hosts and both configs, private parts 0600 in a 0700 folder', () => {
    const files = sshFilesFor('luke', hosts, keys);
    const byPath = new Map(files.map((f) => [f.path, f]));
    expect(files[0]).toEqual({ path: '/root/.ssh', mode: 0o700 });
    expect(byPath.get(SSH_FILES.clientKey)).toEqual({ path: SSH_FILES.clientKey, mode: 0o600, content: keys.client.privateKey });
    expect(byPath.get(SSH_FILES.authorizedKeys)).toEqual({ path: SSH_FILES.authorizedKeys, mode: 0o600, content: `${keys.client.publicKey}\n` });
    expect(byPath.get(SSH_FILES.hostKey)).toEqual({ path: SSH_FILES.hostKey, mode: 0o600, content: keys.hosts.get('luke')!.privateKey });
    expect(byPath.get(SSH_FILES.hostPub)?.content).toBe(`${keys.hosts.get('luke')!.publicKey}\n`);
    expect(byPath.get(SSH_FILES.knownHosts)).toEqual({ path: SSH_FILES.knownHosts, mode: 0o644, content: knownHosts(hosts, keys) });
    expect(byPath.get(SSH_FILES.clientConfig)?.content).toBe(CLIENT_CONFIG);
    expect(byPath.get(SSH_FILES.serverConfig)?.content).toBe(SERVER_CONFIG);
    // Nothing secret is readable by others.
    for (const f of files) if (f.content?.includes('PRIVATE KEY')) expect(f.mode & 0o077).toBe(0);
    // The same learner key everywhere; each host its own host key.
    const other = sshFilesFor('leia', hosts, keys);
    expect(other.find((f) => f.path === SSH_FILES.clientKey)?.content).toBe(keys.client.privateKey);
    expect(other.find((f) => f.path === SSH_FILES.hostKey)?.content).not.toBe(keys.hosts.get('luke')!.privateKey);
    expect(() => sshFilesFor('vader', hosts, keys)).toThrow(/no host key made for vader/);
  });

  it('the client config checks host keys strictly against the known hosts, as root; sshd takes keys only', () => {
    expect(CLIENT_CONFIG).toMatch(/^Host \*$/m);
    expect(CLIENT_CONFIG).toMatch(/^\s+User root$/m);
    expect(CLIENT_CONFIG).toMatch(/^\s+StrictHostKeyChecking yes$/m);
    expect(CLIENT_CONFIG).toMatch(new RegExp(`^\\s+GlobalKnownHostsFile ${SSH_FILES.knownHosts}$`, 'm'));
    expect(SERVER_CONFIG).toMatch(new RegExp(`^HostKey ${SSH_FILES.hostKey}$`, 'm'));
    expect(SERVER_CONFIG).toMatch(/^PasswordAuthentication no$/m);
    expect(SERVER_CONFIG).toMatch(/^PermitRootLogin prohibit-password$/m);
    expect(SERVER_CONFIG).toMatch(/^UsePAM no$/m);
  });

  it('ssh reads the client config as written (ssh -G)', () => {
    if (!which('ssh')) throw new Error('ssh not found: apt-get install openssh-client');
    const file = writeKey('config', CLIENT_CONFIG);
    const out = execFileSync('ssh', ['-G', '-F', file, 'luke'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toMatch(/^user root$/m);
    expect(out).toMatch(/^stricthostkeychecking (yes|true)$/m);
    expect(out).toMatch(new RegExp(`^globalknownhostsfile ${SSH_FILES.knownHosts}$`, 'm'));
  });
});
