/**
 * Tamper suite, the real lab: the exam of labs/multicast-basics (challenge 6) with the secret
 * scan. Author mode starts the session at the exam (track setup, then challenges 1-5 replayed:
 * setup, solve, cleanup), with lf-scan sandboxed in all eight hosts from before track setup.
 * SECRET_MESSAGE goes out only through the exam's `inject:` (from the hidden ship) and comes
 * back only through `grade:`; no learner process may find it before the injection delivers it,
 * and then only in the listener's output and the answers file. Results: docs/security-tests.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { asLearner, asPlatform, check, closeSuite, ok, openSuite, ROOT, sessionVars, startSession, until, type Suite } from './support';
import { expectCoverage, needles, scanEveryNewEnvironment, stopScanners, summary, type Hit } from './scan';

const LISTENER =
  'nohup socat -d -d -u UDP4-RECV:1234,reuseaddr,ip-add-membership=225.0.0.50:0.0.0.0 OPEN:/root/exam.out,creat,append </dev/null >/dev/null 2>/root/exam.err &';
const NO_LISTENER =
  'No listener for 225.0.0.50:1234 in the workstation yet (no 320000E1 in /proc/net/igmp). Start one in Terminal (not aboard a ship), leave it running, then Check: the message is sent during the Check.';

let suite: Suite;
let scanning: Map<string, number>;
let labs: string;
beforeAll(async () => {
  labs = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-tamper-labs-'));
  fs.cpSync(path.join(ROOT, 'labs/multicast-basics'), path.join(labs, 'multicast-basics'), { recursive: true });
  suite = await openSuite([labs]);
  scanning = scanEveryNewEnvironment(suite, (vars) => needles(vars.SECRET_MESSAGE), 3000); // ships have a quarter of a CPU
});
afterAll(async () => {
  await closeSuite(suite);
  fs.rmSync(labs, { recursive: true, force: true });
});

it('the exam: no learner process finds SECRET_MESSAGE before the hidden ship sends it', async () => {
  const live = await startSession(suite, 'multicast-basics', 'exam', 240_000);
  const activeAt = Date.now();
  const vars = await sessionVars(suite, live.id);
  const hookDone = scanning.get(live.id)!;

  expect(await check(live)).toEqual({ passed: false, message: NO_LISTENER });
  await ok(asLearner(live, 'workstation', LISTENER), 'starting the listener');
  await until('the workstation joined 225.0.0.50', async () =>
    (await asPlatform(live, 'workstation', 'grep -q 320000E1 /proc/net/igmp && echo y')).stdout.includes('y'),
  );
  const sentAt = Date.now();
  const first = await check(live);
  expect(first.passed).toBe(false);
  expect(first.message).toMatch(/^A message was just sent on 225\.0\.0\.50:1234\. .*answers\.yaml/);

  // What a learner reads: the message, and (socat -d -d) the sender's address, which fleet.yaml names.
  const message = await until('the message in exam.out', async () =>
    (await asPlatform(live, 'workstation', 'head -n1 /root/exam.out 2>/dev/null')).stdout.trim(),
  );
  expect(message).toBe(vars.SECRET_MESSAGE);
  const from = await until(
    'the sender in exam.err',
    async () => /from AF=2 ([\d.]+):/.exec((await asPlatform(live, 'workstation', 'cat /root/exam.err')).stdout)?.[1],
  );
  const sender = live.env.hosts.find((h) => h.address === from)?.name;
  expect(sender).toBe(vars.HIDDEN_SENDER);
  await ok(asLearner(live, 'workstation', `printf 'message: "%s"\\nsender: "%s"\\n' "$(head -n1 /root/exam.out)" ${sender} > /root/answers.yaml`), 'answering');
  expect(await check(live)).toEqual({ passed: true, message: 'answers.yaml: all 2 answers are correct' });
  const doneAt = Date.now();

  const reports = await stopScanners(live);
  const hits = reports.flatMap((r) => r.hits);
  console.info(
    `secret scan, multicast-basics exam (active after ${Math.round((activeAt - hookDone) / 1000)} s of setup and replay):\n${summary(reports)}\n${hits.map(show).join('\n')}`,
  );
  for (const r of reports) expectCoverage(r, hookDone, doneAt, 10_000);
  const allowed = (h: Hit) => h.host === 'workstation' && h.where === 'file' && ['/root/exam.out', '/root/answers.yaml'].includes(h.path);
  expect(hits.filter((h) => !allowed(h)).map(show), 'found where a learner can read it').toEqual([]);
  expect(hits.filter((h) => h.t < sentAt).map(show), 'found before the injection').toEqual([]);
  expect(hits.map((h) => h.path)).toContain('/root/exam.out');
}, 420_000);

const show = (h: Hit) => `${h.host} ${h.where} ${h.path} at ${new Date(h.t).toISOString()}`;
