/**
 * Tamper suite, shell start-up and run-time paths: BASH_ENV / ENV exported and aliases defined in
 * every file a shell or PAM reads at start-up, and /run/labforge taken over before the platform
 * uses it. Check scripts start as `bash --norc --noprofile` with BASH_ENV and ENV emptied
 * (lib/checks/runner.ts) and use no file in the host: every verdict must stay what the work makes it.
 * Results: docs/security-tests.md.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { asLearner, asPlatform, attackMatrix, closeSuite, ok, openSuite, startSession, type Attack, type Live, type Suite } from './support';

/** Sourced by any bash or sh that honours BASH_ENV / ENV: "passes" and ends the shell at once. */
const EVIL_ENV = ['echo "@@labforge:check:0:0"; echo PASS', "alias grep=true cat='echo ready' awk=true wc='echo 1' test=true", 'exit 0', ''].join('\n');
const TAMPER_LINES = [
  'export BASH_ENV=/root/.evil-env ENV=/root/.evil-env # tamper',
  "alias grep=true cat='echo ready' awk=true wc='echo 1' # tamper",
  'shopt -s expand_aliases 2>/dev/null # tamper',
];

/** Each start-up file, and a shell that reads it. */
const FILES: [string, string][] = [
  ['/etc/profile', 'bash -lc'],
  ['/etc/bash.bashrc', 'bash -ic'],
  ['/root/.bashrc', 'bash -ic'],
];

async function writeEvilEnv(live: Live, host: string) {
  await live.s.driver.writeFile(live.env, host, '/root/.evil-env', EVIL_ENV, 0o644);
}

/** A shell started the way `how` says, which then starts a bash that should exit 7. */
async function childBashFooled(live: Live, host: string, how: string) {
  const r = await asLearner(live, host, `${how} 'bash -c "exit 7"; echo "rc=$?"' 2>/dev/null`);
  expect(r.stdout, `${host}: ${how} picks up BASH_ENV`).toContain('PASS');
  expect(r.stdout, `${host}: ${how} picks up BASH_ENV`).not.toContain('rc=7');
}

function exportedFrom(file: string, how: string): Attack {
  return {
    name: `BASH_ENV, ENV, aliases in ${file}`,
    apply: async (live, host) => {
      await writeEvilEnv(live, host);
      const lines = TAMPER_LINES.map((l) => `'${l.replace(/'/g, `'\\''`)}'`).join(' ');
      await ok(asLearner(live, host, `printf '%s\\n' ${lines} >> ${file}`), `editing ${file}`);
    },
    proof: (live, host) => childBashFooled(live, host, how),
    undo: `sed -i '/# tamper$/d' ${file}; rm -f /root/.evil-env`,
  };
}

/** /etc/environment is read by PAM (su, ssh logins): plain NAME=value lines. */
const pamEnvironment: Attack = {
  name: 'BASH_ENV, ENV in /etc/environment',
  apply: async (live, host) => {
    await writeEvilEnv(live, host);
    await ok(asLearner(live, host, "printf 'BASH_ENV=/root/.evil-env\\nENV=/root/.evil-env\\n' >> /etc/environment"), 'editing /etc/environment');
  },
  proof: (live, host) => childBashFooled(live, host, 'su root -c'),
  undo: "sed -i -e '/^BASH_ENV=/d' -e '/^ENV=/d' /etc/environment; rm -f /root/.evil-env",
};

/** /run/labforge taken before the platform could use it (it uses no such folder any more). */
function runLabforge(kind: 'file' | 'symlink'): Attack {
  const make =
    kind === 'file'
      ? "printf '@@labforge:check:0:0\\nPASS\\n' > /run/labforge"
      : // /tmp filled with what a wrapper might read: results, scripts, pid files.
        "ln -s /tmp /run/labforge && for f in result status exit check-workstation check-server out err; do printf 'PASS\\nexit 0\\n' > /tmp/$f; done";
  return {
    name: `/run/labforge as a ${kind === 'file' ? 'regular file' : 'symlink to /tmp'}`,
    apply: async (live, host) => void (await ok(asLearner(live, host, `rm -rf /run/labforge && ${make}`), 'taking /run/labforge')),
    proof: async (live, host) => {
      const test = kind === 'file' ? '-f /run/labforge' : '-L /run/labforge';
      expect((await asPlatform(live, host, `test ${test} && echo yes`)).stdout.trim(), host).toBe('yes');
    },
    undo: 'rm -rf /run/labforge; for f in result status exit check-workstation check-server out err; do rm -f /tmp/$f; done',
  };
}

let suite: Suite;
let live: Live;
beforeAll(async () => {
  suite = await openSuite();
  live = await startSession(suite, 'tamper-lab');
});
afterAll(() => closeSuite(suite));

describe('start-up files and run-time paths', () => {
  attackMatrix(() => live, [...FILES.map(([f, how]) => exportedFrom(f, how)), pamEnvironment, runLabforge('file'), runLabforge('symlink')]);
});
