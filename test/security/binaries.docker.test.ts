/**
 * Tamper suite, programs: a learner who is root replaces the programs a check might run (fakes
 * earlier on PATH, /bin/sh and /bin/bash, every dynamic program through /etc/ld.so.preload) or
 * goes for the toolbox itself. Check scripts run with the toolbox's static bash and a fixed PATH
 * (lib/checks/runner.ts), so every verdict must stay what the work alone makes it.
 * Results: docs/security-tests.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, PRELOAD_C } from './programs';
import { asLearner, asPlatform, attackMatrix, closeSuite, ok, openSuite, startSession, type Attack, type Live, type Suite } from './support';

/** A fake that "passes": prints what a pass looked like in the old wrapper protocol, exits 0. */
const FAKE = ['#!/bin/sh', 'echo "@@labforge:check:0:0"', 'echo PASS', 'exit 0', ''].join('\n');
const FAKED = ['sh', 'bash', 'grep', 'cat', 'ssh-keygen', 'awk', 'wc', 'sleep', 'fail-message'];

/** The learner's login shell runs grep: the fake answers. */
async function loginShellIsFooled(live: Live, host: string) {
  const r = await asLearner(live, host, `bash -lc 'grep -q nothing /etc/hostname; echo "rc=$?"'`);
  expect(r.stdout, `${host}: a learner login shell runs the fakes`).toContain('PASS');
}

/** Every fake in each folder; the two not on PATH by default are put first on it by /etc/profile.d. */
const DIRS = ['/usr/local/sbin', '/usr/local/bin', '/root/bin', '/run/labforge/bin'];
const fakes: Attack = {
  name: `fakes in ${DIRS.join(', ')}`,
  apply: async (live, host) => {
    const files = DIRS.flatMap((d) => FAKED.map((t) => `${d}/${t}`)).join(' ');
    await ok(
      asLearner(
        live,
        host,
        `mkdir -p ${DIRS.join(' ')} && for f in ${files}; do cat > "$f" <<'EOF'\n${FAKE}EOF\nchmod 755 "$f"; done && echo 'export PATH=/run/labforge/bin:/root/bin:$PATH' > /etc/profile.d/00-tamper.sh`,
      ),
      'planting fakes',
    );
  },
  proof: loginShellIsFooled,
  undo: `for d in ${DIRS.slice(0, 2).join(' ')}; do for t in ${FAKED.join(' ')}; do rm -f "$d/$t"; done; done; rm -rf /root/bin /run/labforge /etc/profile.d/00-tamper.sh`,
};

const shellsReplaced: Attack = {
  name: '/bin/sh, /bin/bash replaced',
  apply: async (live, host) => {
    // /bin is /usr/bin; sh is a symlink to dash. A running bash cannot be overwritten, but renamed.
    const fake = FAKE.replace('#!/bin/sh', '#!/usr/bin/dash');
    await ok(
      asLearner(
        live,
        host,
        `mv /usr/bin/bash /root/.bash.orig && rm /usr/bin/sh && for f in /usr/bin/bash /usr/bin/sh; do cat > $f <<'EOF'\n${fake}EOF\nchmod 755 $f; done`,
      ),
      'replacing the shells',
    );
  },
  proof: async (live, host) => {
    for (const shell of ['/bin/sh', '/bin/bash']) {
      const r = await live.s.driver.exec(live.env, host, [shell, '-c', 'exit 3']);
      expect({ exit: r.exitCode, pass: r.stdout.includes('PASS') }, `${host}: ${shell} is the fake`).toEqual({ exit: 0, pass: true });
    }
  },
  undo: '[ -e /root/.bash.orig ] && mv -f /root/.bash.orig /usr/bin/bash; rm -f /usr/bin/sh; ln -s dash /usr/bin/sh',
};

let preload: Buffer;
const ldPreload: Attack = {
  name: '/etc/ld.so.preload _exit(0)',
  apply: async (live, host) => {
    await live.s.driver.writeFile(live.env, host, '/root/.evil.so', preload, 0o755); // the learner uploads it
    await ok(asLearner(live, host, 'echo /root/.evil.so > /etc/ld.so.preload'), 'writing /etc/ld.so.preload');
  },
  proof: async (live, host) => {
    const r = await live.s.driver.exec(live.env, host, ['/usr/bin/false']);
    expect({ exit: r.exitCode, pass: r.stdout.includes('PASS') }, `${host}: every dynamic program exits 0`).toEqual({ exit: 0, pass: true });
  },
  undo: 'rm -f /etc/ld.so.preload /root/.evil.so',
};

/** Tries to change the toolbox; the proof is that every try failed. */
const toolbox: Attack = {
  name: 'changing /.labforge',
  apply: async (live, host) => {
    const tries = [
      `printf '${FAKE.replace(/\n/g, '\\n')}' > /.labforge/bin/grep`,
      'rm -f /.labforge/bin/bash',
      'mv /.labforge /.labforge-gone',
      'mount -t tmpfs none /.labforge',
      'mount -o remount,rw /.labforge',
      'umount -l /.labforge',
    ];
    const script = tries.map((t, i) => `if ${t} 2>/dev/null; then echo "attempt ${i + 1} worked"; fi`).join('\n');
    await ok(asLearner(live, host, `${script} > /root/.toolbox-tries 2>&1; true`), 'trying the toolbox');
  },
  proof: async (live, host) => {
    expect((await asPlatform(live, host, 'cat /root/.toolbox-tries')).stdout, `${host}: no change to the toolbox worked`).toBe('');
  },
  undo: 'rm -f /root/.toolbox-tries',
};

let suite: Suite;
let live: Live;
beforeAll(async () => {
  preload = await compile('ld-preload', PRELOAD_C, ['-shared', '-fPIC', '-O2']);
  suite = await openSuite();
  live = await startSession(suite, 'tamper-lab');
});
afterAll(() => closeSuite(suite));

describe('fake programs and replaced shells', () => {
  // Half done too: the workstation's check passes and the server's fails, so both run under attack.
  attackMatrix(() => live, [fakes, shellsReplaced, ldPreload, toolbox], ['none', 'half', 'done']);
});

it('leaves no learner-visible trace of the checks in the hosts', async () => {
  for (const host of ['workstation', 'server']) {
    expect((await asPlatform(live, host, 'ls -A /run/labforge 2>&1; true')).stdout, host).toMatch(/No such file/);
  }
});
