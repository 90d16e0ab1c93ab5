/** Image naming and mirror discovery: pure functions, plus the shared-build promise. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { BUILTIN_IMAGES, ImageBuilder, resolveImage } from '../../lib/environments/images/build';
import { mirrorFromAptConfig } from '../../lib/environments/images/mirror';
import { sizeBytes as memoryBytes } from '../../lib/labs/schema';

describe('resolveImage', () => {
  it('maps builtin names to a deterministic recipe tag and passes other names through', () => {
    const ref = resolveImage('labforge/base');
    expect(ref).toMatch(/^labforge\/base:[0-9a-f]{8}$/);
    expect(resolveImage('labforge/base')).toBe(ref);
    expect(resolveImage('labforge/base:dev')).toBe('labforge/base:dev');
    expect(resolveImage('alpine:3')).toBe('alpine:3');
  });

  it('changes the tag when the recipe changes', () => {
    const before = resolveImage('labforge/base');
    const recipe = BUILTIN_IMAGES['labforge/base'];
    recipe.packages.push('vim-tiny');
    try {
      expect(resolveImage('labforge/base')).not.toBe(before);
    } finally {
      recipe.packages.pop();
    }
    expect(resolveImage('labforge/base')).toBe(before);
  });
});

describe('mirrorFromAptConfig', () => {
  // Placeholder URLs: the real mirror always comes from the machine's own configuration.
  const deb822 = `Types: deb
URIs: http://security.example.invalid/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://main.example.invalid/debian
Suites: bookworm bookworm-updates
Components: main contrib
`;
  it('takes the bookworm main entry of a deb822 file, skipping security suites', () => {
    expect(mirrorFromAptConfig(deb822, null)).toBe('http://main.example.invalid/debian');
  });
  it('reads one-line sources.list entries with options', () => {
    const list = `# comment
deb http://security.example.invalid/debian-security bookworm-security main
deb [arch=amd64 signed-by=/k.gpg] http://lines.example.invalid/debian bookworm main non-free
`;
    expect(mirrorFromAptConfig(null, list)).toBe('http://lines.example.invalid/debian');
  });
  it('returns null when nothing fits', () => {
    expect(mirrorFromAptConfig('Types: deb\nURIs: http://x.invalid/\nSuites: bookworm\nComponents: contrib\n', '')).toBeNull();
    expect(mirrorFromAptConfig(null, null)).toBeNull();
  });
});

describe('ImageBuilder', () => {
  it('shares one build between concurrent callers', () => {
    const builder = new ImageBuilder({ docker: new Dockerode() }); // default data dir: shares the build lock with other suites;
    const a = builder.build('labforge/base');
    const b = builder.build('labforge/base');
    expect(a).toBe(b);
    return a.then((ref) => expect(ref).toBe(resolveImage('labforge/base')));
  }, 900_000);

  it('waits for a build another process holds the lock for, and takes over stale locks', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lf-images-'));
    const lock = path.join(dataDir, 'tmp', `build-${resolveImage('labforge/base').replace(/[^a-z0-9]+/gi, '_')}.lock`);
    mkdirSync(path.dirname(lock), { recursive: true });
    const holder = spawn('sleep', ['30']);
    try {
      writeFileSync(lock, String(holder.pid));
      const builder = new ImageBuilder({ docker: new Dockerode(), dataDir });
      const details: string[] = [];
      let done = false;
      const job = builder.build('labforge/base', (p) => p.detail && details.push(p.detail)).then(() => (done = true));
      await new Promise((r) => setTimeout(r, 1500));
      expect(done).toBe(false);
      expect(details).toEqual([`waiting for the build in process ${holder.pid}`]);
      rmSync(lock);
      await job;
      writeFileSync(lock, '999999'); // no such process
      await new ImageBuilder({ docker: new Dockerode(), dataDir }).build('labforge/base');
      expect(existsSync(lock)).toBe(false);
    } finally {
      holder.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to build names that are not builtin', () => {
    const builder = new ImageBuilder({ docker: new Dockerode() });
    expect(() => builder.build('alpine')).toThrow(/not a builtin image/);
  });
});

describe('memoryBytes', () => {
  it('reads Mi, Gi and plain MiB numbers', () => {
    expect(memoryBytes('256Mi')).toBe(268435456);
    expect(memoryBytes('1Gi')).toBe(1073741824);
    expect(memoryBytes(64)).toBe(67108864);
  });
});
