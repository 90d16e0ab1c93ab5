/**
 * Tamper suite, processes: a learner process that writes forged results into every other
 * process's stdin/stdout/stderr, and one that tries to ptrace running checks and read their
 * environment. Learner processes start through lf-sandbox (no CAP_SETPCAP); checks keep it, so the
 * kernel (cap_ptrace_access_check) refuses all of it. The fixture's "slow" check sleeps 1.5 s
 * to give the attackers time to find it. Last, programs the platform itself starts in a host with
 * its full capabilities must never be the learner's (a fake mkdir or sh first on the Engine's
 * default PATH): such a program could leave a process behind that the rule does not stop.
 * Results: docs/security-tests.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../lib/sessions/commands';
import { writeTarget } from '../../lib/sessions/files';
import { gradeFromHost } from '../../lib/checks/grade';
import { gradeSchema } from '../../lib/labs/schema';
import { compile, PROBE_C } from './programs';
import {
  asLearner,
  asPlatform,
  CAP_SETPCAP,
  capBnd,
  check,
  closeSuite,
  hasCap,
  LEARNER,
  ok,
  openSuite,
  startSession,
  until,
  type Live,
  type Suite,
} from './support';

const VERDICTS: Record<'none' | 'done', CheckResult> = {
  none: { passed: false, message: '/root/flag2 must hold the word slow' },
  done: { passed: true, message: 'Well done: "Take your time" is complete.' },
};
const HOST = 'workstation';
/** lf-probe's modes (programs.ts); against a failing check it tries to force a pass, against a passing one a failure. */
type Mode = 'control' | 'attack' | 'forge';
const MODE = { none: 'forge', done: 'attack' } as const;
/** What every attempt of a learner process must log: refused. */
const REFUSED = {
  forge: { attach: 'EPERM', environ: 'EACCES', marker: '0', exit0: '-' },
  attack: { seize: 'EPERM', attach: 'EPERM', environ: 'EACCES', marker: '0', fd1: 'EACCES' },
};
/** The learner's forger: a forged result into fds 0-2 of every other process, and on its own output. */
const FORGER = fs.readFileSync(path.join(__dirname, 'assets/forger.sh'));

let suite: Suite;
let live: Live;
beforeAll(async () => {
  const probe = await compile('lf-probe', PROBE_C, ['-static', '-O2']);
  suite = await openSuite();
  live = await startSession(suite, 'tamper-lab', 'slow');
  await live.s.driver.writeFile(live.env, HOST, '/var/tmp/lf-probe', probe, 0o755);
  await live.s.driver.writeFile(live.env, HOST, '/var/tmp/forger.sh', FORGER, 0o755);
});
afterAll(() => closeSuite(suite));

async function setState(state: 'none' | 'done') {
  await ok(state === 'done' ? asLearner(live, HOST, 'echo slow > /root/flag2') : asPlatform(live, HOST, 'rm -f /root/flag2'), 'state');
  expect(await check(live), `the verdict (${state}) without any attack`).toEqual(VERDICTS[state]);
}

/** Lets a background program end (it watches for STOP), then returns its log. */
async function stopAndRead(stop: string, logFile: string): Promise<string> {
  await ok(asPlatform(live, HOST, `touch ${stop}`), 'stopping');
  return until(`EXIT in ${logFile}`, async () => {
    const text = (await asPlatform(live, HOST, `cat ${logFile}`)).stdout;
    return text.includes('EXIT') && text;
  });
}

/** The capability sets of a running process, read by the platform. */
async function bndOf(pid: string): Promise<bigint> {
  return capBnd((await ok(asPlatform(live, HOST, `cat /proc/${pid}/status`), 'status')).stdout);
}

/** Runs lf-probe (as the learner, or as the platform), presses Check meanwhile, returns its targets. */
async function probeDuringCheck(mode: Mode) {
  const files = '/var/tmp/probe.log /var/tmp/probe.stop';
  await ok(asPlatform(live, HOST, `rm -f ${files}`), 'reset');
  const start = `/var/tmp/lf-probe ${mode} ${files} </dev/null >/dev/null 2>&1 &`;
  await ok(mode === 'control' ? asPlatform(live, HOST, start) : asLearner(live, HOST, start), 'starting lf-probe');
  const pid = await until('lf-probe READY', async () => /READY pid=(\d+)/.exec((await asPlatform(live, HOST, 'cat /var/tmp/probe.log')).stdout)?.[1]);
  const sandboxed = !hasCap(await bndOf(pid), CAP_SETPCAP);
  const verdict = await check(live);
  const log = await stopAndRead('/var/tmp/probe.stop', '/var/tmp/probe.log');
  const targets = [...log.matchAll(/^TARGET (.*)$/gm)].map((m) => Object.fromEntries(m[1].split(' ').map((kv) => kv.split('='))));
  return { verdict, targets, sandboxed, log };
}

describe('ptrace and /proc of a running check', () => {
  it('a real terminal (an Engine API exec with a TTY) runs without CAP_SETPCAP; the platform keeps it', async () => {
    const term = await live.s.driver.openTerminal(live.env, HOST, { cols: 160, rows: 40, terminalId: 'tamper-cap' });
    let out = '';
    term.onData((d) => void (out += d.toString()));
    try {
      term.write('grep CapBnd /proc/self/status\r');
      const terminal = BigInt(`0x${await until('CapBnd in the terminal', async () => /CapBnd:\s*([0-9a-f]{16})/.exec(out)?.[1], 30_000)}`);
      const platform = capBnd((await asPlatform(live, HOST, 'cat /proc/self/status')).stdout);
      const learner = capBnd((await asLearner(live, HOST, 'cat /proc/self/status')).stdout);
      expect(hasCap(platform, CAP_SETPCAP)).toBe(true);
      expect(hasCap(terminal, CAP_SETPCAP)).toBe(false);
      expect(terminal).toBe(platform & ~(1n << CAP_SETPCAP)); // nothing else differs
      expect(learner).toBe(terminal);
    } finally {
      await live.s.driver.closeTerminal(live.env, HOST, 'tamper-cap');
      await term.close();
    }
  });

  it("the probe works: the platform (full capabilities) can read a check's environ and seize it", async () => {
    await setState('none');
    const { targets, sandboxed, log } = await probeDuringCheck('control');
    expect(sandboxed).toBe(false);
    const running = targets.filter((t) => t.alive === '1');
    expect(running.length, log).toBeGreaterThanOrEqual(1);
    for (const t of running) expect(t, log).toMatchObject({ environ: 'ok', marker: '1', seize: 'ok', fd1: 'ok' });
  });

  it.each(['none', 'done'] as const)('with the work %s: ptrace, environ and fd of the check are refused, the verdict stays', async (state) => {
    await setState(state);
    const { verdict, targets, sandboxed, log } = await probeDuringCheck(MODE[state]);
    expect(sandboxed, 'lf-probe runs as a learner process').toBe(true);
    expect(verdict).toEqual(VERDICTS[state]);
    // A check that ended during the attempts refuses for that reason alone: it must show no
    // success either, but only the ones still running afterwards prove the boundary.
    const running = targets.filter((t) => t.alive === '1');
    expect(running.length, `found a running check to attack:\n${log}`).toBeGreaterThanOrEqual(1);
    for (const t of running) expect(t, log).toMatchObject(REFUSED[MODE[state]]);
    for (const t of targets)
      expect(
        Object.entries(t).filter(([k, v]) => v === 'ok' && k !== 'pid'),
        log,
      ).toEqual([]);
    for (const t of targets) expect(t.marker, log).toBe('0');
  });
});

describe('forged output', () => {
  it.each(['none', 'done'] as const)('with the work %s: forged lines in every fd reach no check, the verdict stays', async (state) => {
    await setState(state);
    const files = '/var/tmp/forger.log /var/tmp/forger.stop /var/tmp/victim.out';
    await ok(asPlatform(live, HOST, `rm -f ${files}`), 'reset');
    // A learner process of its own as a victim: proof that the forger's writes land where they may.
    await ok(asLearner(live, HOST, 'nohup sleep 300 >/var/tmp/victim.out 2>&1 </dev/null & echo $! > /var/tmp/victim.pid'), 'victim');
    await ok(asLearner(live, HOST, 'nohup bash /var/tmp/forger.sh </dev/null >/var/tmp/forger.out 2>&1 &'), 'forger');
    await until("a forged line in the victim's output", async () => (await asPlatform(live, HOST, 'cat /var/tmp/victim.out')).stdout.includes('FAIL: forged'));
    let log = '';
    try {
      expect(await check(live)).toEqual(VERDICTS[state]);
    } finally {
      log = await stopAndRead('/var/tmp/forger.stop', '/var/tmp/forger.log');
      await asPlatform(live, HOST, 'kill "$(cat /var/tmp/victim.pid)"; rm -f /var/tmp/victim.pid');
    }
    const lines = [...log.matchAll(/^pid=(\d+) fd=(\d) check=(\d) bnd=(\S+) result=(\w+)$/gm)].map(([, pid, fd, chk, bnd, result]) => ({
      pid,
      fd,
      chk,
      bnd,
      result,
    }));
    const privileged = lines.filter((l) => l.bnd !== '?' && hasCap(BigInt(`0x${l.bnd}`), CAP_SETPCAP));
    expect(lines.filter((l) => l.chk === '1').length, `the forger found the running check:\n${log}`).toBeGreaterThanOrEqual(3);
    expect(
      privileged.filter((l) => l.result === 'ok'),
      'a write into a process with CAP_SETPCAP worked',
    ).toEqual([]);
    expect(
      lines.filter((l) => l.chk === '1' && l.result === 'ok'),
      'a write into a check worked',
    ).toEqual([]);
    expect(
      lines.some((l) => l.result === 'ok'),
      'the forger can write into learner processes',
    ).toBe(true);
  });
});

/** The learner's mkdir, first on the Engine's default PATH: notes its capabilities, leaves lf-probe running with them. */
const fakeMkdir = (mode: Mode) =>
  [
    '#!/bin/sh',
    'grep CapBnd /proc/self/status > /var/tmp/mkdir.caps',
    `nohup /var/tmp/lf-probe ${mode} /var/tmp/probe.log /var/tmp/probe.stop </dev/null >/dev/null 2>&1 &`,
    'exec /usr/bin/mkdir "$@"',
  ].join('\n');

describe('programs the platform starts in a host', () => {
  it.each(['none', 'done'] as const)(
    "with the work %s: an editor save into a missing folder runs no learner program with the platform's capabilities",
    async (state) => {
      await setState(state);
      await ok(asPlatform(live, HOST, 'rm -rf /root/notes /var/tmp/mkdir.caps /var/tmp/probe.log /var/tmp/probe.stop'), 'reset');
      await ok(asLearner(live, HOST, `cat > /usr/local/bin/mkdir <<'EOF'\n${fakeMkdir(MODE[state])}\nEOF\nchmod 755 /usr/local/bin/mkdir`), 'planting mkdir');
      try {
        // The Notes tab's file is in /root/notes, which does not exist yet: the first save creates it.
        const tab = (await suite.svc.get(live.id, LEARNER)).current?.tabs.find((t) => t.type === 'editor')?.id;
        await writeTarget(await suite.svc.editorTarget(live.id, LEARNER, tab!), 'a note\n', 'missing');
        const ran = (await asPlatform(live, HOST, 'cat /var/tmp/mkdir.caps 2>/dev/null')).stdout;
        const verdict = await check(live);
        const log = (await asPlatform(live, HOST, 'cat /var/tmp/probe.log 2>/dev/null')).stdout;
        expect.soft(ran !== '' && hasCap(capBnd(ran), CAP_SETPCAP), `the learner's mkdir ran with CAP_SETPCAP:\n${log}`).toBe(false);
        expect(verdict, log).toEqual(VERDICTS[state]);
      } finally {
        await asPlatform(live, HOST, 'touch /var/tmp/probe.stop; rm -rf /usr/local/bin/mkdir /root/notes');
      }
    },
  );

  it("the grade of a Check, when the answers file is missing, runs no learner program with the platform's capabilities", async () => {
    const fakeSh = ['#!/usr/bin/dash', 'grep CapBnd /proc/self/status > /var/tmp/sh.caps', 'exec /usr/bin/dash "$@"'].join('\n');
    await ok(asPlatform(live, HOST, 'rm -f /var/tmp/sh.caps /root/answers.yaml'), 'reset');
    await ok(asLearner(live, HOST, `cat > /usr/local/bin/sh <<'EOF'\n${fakeSh}\nEOF\nchmod 755 /usr/local/bin/sh`), 'planting sh');
    try {
      // What Lifecycle.check does after the check scripts pass (lib/checks/grade.ts).
      const grade = gradeSchema.parse({ host: HOST, file: '/root/answers.yaml', fields: [{ name: 'token', expected: { literal: 'x' } }] });
      expect((await gradeFromHost(live.s.driver, live.env, grade, {})).message).toBe('/root/answers.yaml not found in workstation');
      const ran = (await asPlatform(live, HOST, 'cat /var/tmp/sh.caps 2>/dev/null')).stdout;
      expect(ran !== '' && hasCap(capBnd(ran), CAP_SETPCAP), "the learner's sh ran with CAP_SETPCAP").toBe(false);
    } finally {
      await asPlatform(live, HOST, 'rm -f /usr/local/bin/sh /var/tmp/sh.caps');
    }
  });
});
