/**
 * Lifecycle scripts against a real Docker engine: two hosts from DockerDriver, scripts written
 * to a temporary lab folder on the platform, run through runScript / runPhase.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerDriver } from '../../lib/environments/docker/driver';
import type { Environment } from '../../lib/environments/driver';
import { dockerHostSchema } from '../../lib/labs/schema';
import { gradeFromHost } from '../../lib/checks/grade';
import { gradeSchema } from '../../lib/labs/schema';
import { failLine, passed, runPhase, runScript, verdictFrom, type ScriptRun } from '../../lib/checks/scripts';

const driver = new DockerDriver();
let env: Environment;
let labDir: string;

/** Writes a script into the temporary lab folder and returns its absolute path. */
function script(name: string, body: string, dir = 'scripts'): string {
  const file = path.join(labDir, dir, name);
  writeFileSync(file, body, { mode: 0o755 });
  return file;
}

async function sh(host: string, cmd: string, user = 'root') {
  return driver.exec(env, host, ['sh', '-c', cmd], { user });
}

beforeAll(async () => {
  labDir = mkdtempSync(path.join(tmpdir(), 'labforge-checks-'));
  for (const d of ['scripts', 'a', 'b', 'c']) mkdirSync(path.join(labDir, d));
  env = await driver.create(
    {
      owner: `checks-test-${randomBytes(4).toString('hex')}`,
      lab: 'checks-test',
      labRoot: labDir,
      environment: {
        driver: 'docker',
        hosts: ['workstation', 'server'].map((name) => dockerHostSchema.parse({ name, image: 'labforge/base' })),
      },
    },
    () => {},
  );
});

afterAll(async () => {
  if (env) await driver.destroy(env);
  if (labDir) rmSync(labDir, { recursive: true, force: true });
});

const run = (file: string, extra: Partial<{ host: string; timeoutMs: number; vars: Record<string, string> }> = {}) =>
  runScript(driver, env, { host: 'workstation', file, kind: 'check', timeoutMs: 60_000, ...extra });

describe('runScript', () => {
  it('passes on exit 0 and runs as root in the host workdir, with sh when there is no shebang', async () => {
    const r = await run(script('check-workstation', 'echo "uid=$(id -u) cwd=$(pwd) host=$(hostname)"\n'));
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
    expect(r.timedOut).toBe(false);
    expect(r.stdout.trim()).toBe('uid=0 cwd=/root host=workstation');
    expect(r.stderr).toBe('');
    expect(r.script).toBe('check-workstation');
    expect(verdictFrom(r)).toBe('check-workstation passed');
  });

  it('shows the first FAIL line, prefix stripped and trimmed, and keeps the full output for instructors', async () => {
    const r = await run(
      script(
        'check-workstation',
        '#!/bin/bash\necho "looking around"\necho "FAIL:   The file /root/answers.yaml is missing   "\necho "FAIL: second"\necho debug >&2\nexit 1\n',
      ),
    );
    expect(r.exitCode).toBe(1);
    expect(verdictFrom(r)).toBe('The file /root/answers.yaml is missing');
    expect(r.stdout).toContain('looking around');
    expect(r.stderr.trim()).toBe('debug');
  });

  it('finds a FAIL line on stderr too', async () => {
    const r = await run(script('check-workstation', '#!/bin/bash\necho noise\necho "FAIL: from stderr" >&2\nexit 3\n'));
    expect(verdictFrom(r)).toBe('from stderr');
  });

  it('offers fail-message on PATH: prints FAIL, and a script that carries on cannot pass', async () => {
    const r = await run(script('check-workstation', '#!/bin/bash\nfail-message "Nope: tcpdump is not running"\necho "cleaning up"\nexit 0\n'));
    expect(r.stdout).toContain('FAIL: Nope: tcpdump is not running');
    expect(r.stdout).toContain('cleaning up');
    // The script itself exited 0; the FAIL line on stdout is what fails it.
    expect(r.exitCode).toBe(0);
    expect(passed(r)).toBe(false);
    expect(verdictFrom(r)).toBe('Nope: tcpdump is not running');

    const r2 = await run(script('check-workstation', '#!/bin/sh\nfail-message "two words"\nexit 7\n'));
    expect(r2.exitCode).toBe(7);
    expect(verdictFrom(r2)).toBe('two words');
  });

  it('gives a generic message naming the script when it fails without a FAIL line', async () => {
    const r = await run(script('check-workstation', '#!/bin/bash\necho "some private detail"\nexit 2\n'));
    expect(r.exitCode).toBe(2);
    expect(verdictFrom(r)).toBe('check-workstation failed (exit 2)');
  });

  it('hands session variables to the script as env, with LABFORGE_HOST and LABFORGE_KIND', async () => {
    const vars = { SECRET_WORD: `it's a "tricky" $value; rm -rf /`, GROUP: '225.0.0.50' };
    const r = await run(
      script(
        'check-workstation',
        [
          '#!/bin/bash',
          `[ "$SECRET_WORD" = ${shQuote(vars.SECRET_WORD)} ] || { echo "FAIL: SECRET_WORD is [$SECRET_WORD]"; exit 1; }`,
          '[ "$GROUP" = 225.0.0.50 ] || { echo "FAIL: GROUP is [$GROUP]"; exit 1; }',
          '[ "$LABFORGE_HOST" = workstation ] && [ "$LABFORGE_KIND" = check ] || { echo "FAIL: host/kind $LABFORGE_HOST/$LABFORGE_KIND"; exit 1; }',
          'echo ok',
        ].join('\n'),
      ),
      { vars },
    );
    expect(verdictFrom(r)).toBe('check-workstation passed');
    expect(r.stdout.trim()).toBe('ok');
  });

  it('never writes the script into the host, and no learner process can read a running check', async () => {
    const pending = run(script('check-workstation', '#!/bin/bash\necho started\nsleep 3\necho done\n'), { vars: { TOKEN: 'abc123' } });
    let pid = '';
    for (let i = 0; i < 50 && !pid; i++) {
      pid = (
        await sh(
          'workstation', // The quotes keep this search's own command line from matching.
          "for p in /proc/[0-9]*; do grep -qs 'echo d''one' $p/cmdline && echo ${p#/proc/}; done | head -n1",
        )
      ).stdout.trim();
      if (!pid) await new Promise((r) => setTimeout(r, 100));
    }
    expect(pid).toMatch(/^\d+$/);
    // The platform (full capabilities) can read it; a learner shell (through lf-sandbox) cannot.
    expect((await driver.exec(env, 'workstation', ['/.labforge/bin/sh', '-c', `tr '\\0' '\\n' < /proc/${pid}/environ`])).stdout).toContain('TOKEN=abc123');
    const learner = await driver.exec(env, 'workstation', ['/.labforge/bin/lf-sandbox', 'sh', '-c', `cat /proc/${pid}/environ; ls /proc/${pid}/fd`]);
    expect(learner.stdout).not.toContain('abc123');
    expect(learner.stderr).toMatch(/Permission denied/);
    expect((await sh('workstation', 'ls -A /run/labforge 2>&1 || true')).stdout).toMatch(/No such file/);
    expect((await pending).exitCode).toBe(0);
  });

  it('kills the script and everything it started on timeout, and says so', async () => {
    const r = await run(
      script(
        'check-workstation',
        // A child in the script's group, one that left it (setsid), and a TERM-ignoring main script.
        '#!/bin/bash\ntrap "" TERM\necho "FAIL: should not be shown"\nsleep 301 &\nsetsid sleep 302 &\nsleep 303\n',
      ),
      { timeoutMs: 2000 },
    );
    expect(r.timedOut).toBe(true);
    expect(r.durationMs).toBeGreaterThanOrEqual(2000);
    expect(r.durationMs).toBeLessThan(10_000);
    expect(verdictFrom(r)).toBe('check-workstation timed out after 2 s');
    const ps = await sh('workstation', 'ps -eo args');
    expect(ps.stdout).not.toMatch(/sleep 30[123]/);
  });

  it('ends a timed-out script promptly', async () => {
    const r = await run(script('check-workstation', '#!/bin/bash\nsleep 304\n'), { timeoutMs: 1000 });
    expect(r.timedOut).toBe(true);
    expect(r.durationMs).toBeLessThan(2800);
    expect((await sh('workstation', 'ps -eo args')).stdout).not.toMatch(/sleep 304/);
  });

  it('returns when the script ends even if it left a daemon holding its output', async () => {
    const started = Date.now();
    const r = await run(script('setup-workstation', '#!/bin/bash\nsleep 120 &\necho done\n'), { timeoutMs: 60_000 });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe('done');
    expect(Date.now() - started).toBeLessThan(5000);
    // The daemon survives a normal exit: setup scripts start services on purpose.
    expect((await sh('workstation', 'ps -eo args')).stdout).toMatch(/sleep 120/);
    await sh('workstation', 'pkill -f "sleep 120" || true');
  });

  it('caps runaway output', async () => {
    const r = await run(script('check-workstation', '#!/bin/bash\nyes | head -c 3000000\n'));
    expect(r.exitCode).toBe(0);
    expect(r.stdout.length).toBeGreaterThanOrEqual(1024 * 1024);
    expect(r.stdout.length).toBeLessThan(1024 * 1024 + 200);
    expect(r.stdout).toMatch(/output truncated, \d+ more bytes not kept/);
  });

  it('reports a platform-side problem as an error, with a learner message that leaks nothing', async () => {
    const missing = await run(path.join(labDir, 'scripts', 'check-nothere'));
    expect(missing.error).toMatch(/cannot read .*check-nothere on the platform/);
    expect(verdictFrom(missing)).toBe('check-nothere could not run in workstation; try again, and tell your instructor if it keeps happening');

    const ghost = await run(script('check-ghost', 'exit 0\n'), { host: 'ghost' });
    expect(ghost.error).toMatch(/no host "ghost"/);
  });
});

describe('runPhase', () => {
  const order = ['server', 'workstation'];

  it('runs hosts in the track order and passes when all pass', async () => {
    const scripts = {
      check: {
        workstation: script('check-workstation', '#!/bin/sh\nhostname\n', 'a'),
        server: script('check-server', '#!/bin/sh\nhostname\n', 'a'),
      },
    };
    const res = await runPhase(driver, env, scripts, 'check', order, 30_000);
    expect(res.ok).toBe(true);
    expect(res.failure).toBeUndefined();
    expect(res.runs.map((r) => [r.host, r.stdout.trim()])).toEqual([
      ['server', 'server'],
      ['workstation', 'workstation'],
    ]);
  });

  it('stops at the first failure and names it', async () => {
    const scripts = {
      check: {
        workstation: script('check-workstation', '#!/bin/sh\ntouch /tmp/ran\n', 'b'),
        server: script('check-server', '#!/bin/sh\necho "FAIL: the listener on server is not running"\nexit 1\n', 'b'),
      },
    };
    await sh('workstation', 'rm -f /tmp/ran');
    const res = await runPhase(driver, env, scripts, 'check', order, 30_000);
    expect(res.ok).toBe(false);
    expect(res.runs).toHaveLength(1);
    expect(res.failure).toEqual({ host: 'server', script: 'check-server', message: 'the listener on server is not running' });
    expect((await sh('workstation', 'test -e /tmp/ran')).exitCode).not.toBe(0);
  });

  it('has nothing to do without scripts of that kind, and fails loudly for a host not in the track', async () => {
    expect(await runPhase(driver, env, {}, 'solve', order, 30_000)).toEqual({ ok: true, runs: [] });
    const res = await runPhase(driver, env, { setup: { typo: script('setup-typo', 'exit 0\n', 'c') } }, 'setup', order, 30_000);
    expect(res.ok).toBe(false);
    expect(res.failure?.host).toBe('typo');
    expect(res.runs[0].error).toMatch(/no host "typo"/);
  });
});

describe('gradeFromHost (answer file read from the host)', () => {
  const grade = gradeSchema.parse({
    host: 'workstation',
    file: '/root/answers.yaml',
    fields: [{ name: 'sender', expected: { variable: 'SENDER' }, describe: 'the host that sent to 225.0.0.50' }],
  });

  it('says plainly when the file is not there', async () => {
    await sh('workstation', 'rm -rf /root/answers.yaml');
    const r = await gradeFromHost(driver, env, grade, { SENDER: 'leia' });
    expect(r).toEqual({
      passed: false,
      message: '/root/answers.yaml not found in workstation',
      problems: [{ field: '', message: '/root/answers.yaml not found in workstation' }],
    });
  });

  it('grades what the learner wrote', async () => {
    await driver.writeFile(env, 'workstation', '/root/answers.yaml', 'sender: luke\n');
    expect((await gradeFromHost(driver, env, grade, { SENDER: 'leia' })).message).toBe(
      'answers.yaml line 1: "sender" is "luke", expected the host that sent to 225.0.0.50',
    );
    await driver.writeFile(env, 'workstation', '/root/answers.yaml', 'sender: leia\n');
    expect(await gradeFromHost(driver, env, grade, { SENDER: 'leia' })).toMatchObject({ passed: true });
  });

  it('explains a directory and a file too big to be answers', async () => {
    await sh('workstation', 'rm -f /root/answers.yaml && mkdir /root/answers.yaml');
    expect((await gradeFromHost(driver, env, grade, {})).message).toBe('/root/answers.yaml in workstation is a directory; it must be a file');
    await sh('workstation', 'rmdir /root/answers.yaml && head -c 100000 /dev/zero | tr "\\0" a > /root/answers.yaml');
    expect((await gradeFromHost(driver, env, grade, {})).message).toBe(
      '/root/answers.yaml in workstation is too big (98 KiB); it should hold only field: value lines',
    );
  });
});

describe('verdictFrom / failLine', () => {
  const base: ScriptRun = {
    host: 'workstation',
    kind: 'check',
    script: 'check-workstation',
    exitCode: 1,
    stdout: '',
    stderr: '',
    timedOut: false,
    timeoutMs: 60_000,
    durationMs: 5,
  };
  it('strips colours and CR, skips empty FAIL lines, prefers stdout', () => {
    expect(failLine('x\r\nFAIL:\n\x1b[31mFAIL: red alert\x1b[0m\r\n')).toBe('red alert');
    expect(verdictFrom({ ...base, stdout: 'FAIL: out', stderr: 'FAIL: err' })).toBe('out');
    expect(verdictFrom({ ...base, stdout: 'not a FAIL: line' })).toBe('check-workstation failed (exit 1)');
    expect(verdictFrom({ ...base, timedOut: true, exitCode: 143, stdout: 'FAIL: x' })).toBe('check-workstation timed out after 60 s');
  });
  it('cuts a very long message', () => {
    const m = failLine(`FAIL: ${'a'.repeat(2000)}`)!;
    expect(m.length).toBe(500);
    expect(m.endsWith('…')).toBe(true);
  });
});

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
