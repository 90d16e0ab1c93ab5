/**
 * Tamper suite, secrets: SECRET_TOKEN (random, 24 characters, scoped to no script) is used only
 * by the platform: the `inject:` payload sent from the server at Check and the `grade:`. While the
 * session runs every phase (track setup, author-mode replay of the earlier challenges, challenge
 * setup, checks, the `when: check` injection, the grade) lf-scan runs sandboxed in EVERY host,
 * reading every /proc/PID/environ and cmdline and grepping the filesystem for it. It must find
 * nothing until the injection has delivered the token, and then only in the listener's output
 * file (and in the answers file the learner then writes). Results: docs/security-tests.md.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { asLearner, asPlatform, check, closeSuite, ok, openSuite, sessionVars, startSession, udpBound, until, type Suite } from './support';
import { expectCoverage, needles, scanEveryNewEnvironment, stopScanners, summary } from './scan';

let suite: Suite;
let scanning: Map<string, number>;
beforeAll(async () => {
  suite = await openSuite();
  scanning = scanEveryNewEnvironment(suite, (vars) => needles(vars.SECRET_TOKEN));
});
afterAll(() => closeSuite(suite));

it('no learner process finds the token before the injection delivers it', async () => {
  const started = Date.now();
  const live = await startSession(suite, 'tamper-lab', 'intercept');
  const token = (await sessionVars(suite, live.id)).SECRET_TOKEN;
  expect(token).toMatch(/^[a-z0-9]{24}$/);
  const hookDone = scanning.get(live.id)!;
  expect(hookDone, 'the scanners started before track setup').toBeGreaterThan(started);

  // No listener: the check script fails, nothing is sent.
  expect(await check(live)).toEqual({ passed: false, message: 'start a listener on 225.1.2.3:4321 in the workstation first' });

  // The learner's listener; Check sends the token from the server, the grade finds no answers yet.
  await ok(
    asLearner(
      live,
      'workstation',
      'nohup socat -u UDP4-RECV:4321,ip-add-membership=225.1.2.3:eth0 OPEN:/root/heard.txt,creat,append </dev/null >/dev/null 2>&1 &',
    ),
    'starting the listener',
  );
  await until('the listener', () => udpBound(live, 'workstation', 4321));
  const sentAt = Date.now();
  expect(await check(live)).toEqual({ passed: false, message: 'A token was sent on 225.1.2.3:4321. /root/answers.yaml not found in workstation' });
  const heard = await until('the token in /root/heard.txt', async () =>
    (await asPlatform(live, 'workstation', 'cat /root/heard.txt 2>/dev/null')).stdout.trim(),
  );
  expect(heard).toBe(token);

  // The learner answers with what arrived (never on a command line), and Check passes.
  await ok(asLearner(live, 'workstation', 'printf "token: %s\\n" "$(head -n1 /root/heard.txt)" > /root/answers.yaml'), 'answering');
  expect(await check(live)).toEqual({ passed: true, message: 'answers.yaml: the answer is correct' });
  const doneAt = Date.now();

  const reports = await stopScanners(live);
  console.info(`secret scan, tamper-lab:\n${summary(reports)}`);
  for (const r of reports) expectCoverage(r, hookDone, doneAt, 5_000);
  const hits = reports.flatMap((r) => r.hits);
  const allowed = (h: (typeof hits)[number]) => h.host === 'workstation' && h.where === 'file' && ['/root/heard.txt', '/root/answers.yaml'].includes(h.path);
  expect(
    hits.filter((h) => !allowed(h)),
    'found where a learner can read it',
  ).toEqual([]);
  expect(
    hits.filter((h) => h.t < sentAt),
    'found before the injection',
  ).toEqual([]);
  // The scan does see a token where one is: the listener's file (proof the probe works).
  expect(hits.map((h) => h.path)).toContain('/root/heard.txt');
}, 240_000);
