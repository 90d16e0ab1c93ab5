/**
 * What a session may reach, against a real SQLite database and real containers:
 * tabs of later challenges stay closed (404) until the learner gets there, a GET
 * of the traffic never starts a capture, and a quiz's attempts are counted in
 * the database (so a restart does not hand out fresh ones).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABELS } from '../../lib/environments/driver';
import { oneHostTrack, sessionHarness, type SessionHarness } from '../support/sessions';
import { log } from '../../lib/base/log';
import { setRuntime, type Runtime } from '../../lib/runtime';
import { SessionService } from '../../lib/sessions/service';
import { TRAFFIC_ROLE } from '../../lib/environments/docker/capture';
import { trafficCaptures } from '../../lib/traffic/capture';
import * as trafficRoute from '../../app/api/v1/sessions/[id]/traffic/route';
import * as filesRoute from '../../app/api/v1/sessions/[id]/files/[tab]/route';
import * as checkRoute from '../../app/api/v1/sessions/[id]/check/route';

/** Challenge 1 is a quiz (2 attempts) with one terminal; challenge 2 declares one tab of every kind. */
const LAB: Record<string, string> = {
  'track.yml': oneHostTrack('gates', 'Gates'),
  '01-quiz/assignment.md': `---
slug: quiz
type: quiz
title: First, a question
attempts: 2
answers: [A, B, C]
solution: [1]
tabs:
  - { title: Shell, type: terminal, hostname: workstation }
---
Which one?
`,
  '02-later/assignment.md': `---
slug: later
title: The exam
tabs:
  - { title: Later shell, type: terminal, hostname: workstation }
  - { title: Answers, type: editor, hostname: workstation, path: /root/answers.yaml }
  - { title: Web, type: service, hostname: workstation, port: 8080 }
  - { title: Traffic, type: traffic }
---
Answer.
`,
  '02-later/check-workstation': '#!/bin/bash\nexit 0\n',
};

const WRONG = 'Not quite: that is not the right answer. Read the question again and try once more.';
const learner = 'g'.repeat(32);
let h: SessionHarness;

const service = () => h.service();

async function activeSession(svc: SessionService): Promise<string> {
  const { id } = await svc.start('gates', learner);
  await h.active(svc, id, learner);
  return id;
}

/** Calls a route handler the way Next does, as the session's owner. */
function call<P>(handler: (req: Request, ctx: { params: Promise<P> }) => Promise<Response>, url: string, params: P, init: RequestInit = {}) {
  const req = new Request(`http://localhost${url}`, { ...init, headers: { cookie: `labforge_learner=${learner}`, ...init.headers } });
  return handler(req, { params: Promise.resolve(params) });
}

const sidecars = (owner: string) =>
  h.driver.docker.listContainers({ all: true, filters: { label: [`${LABELS.session}=${owner}`, `${LABELS.role}=${TRAFFIC_ROLE}`] } });

beforeAll(async () => {
  h = await sessionHarness('gates', { files: Object.fromEntries(Object.entries(LAB).map(([rel, text]) => [`gates/${rel}`, text])) });
  expect(h.catalog.get('gates'), 'the test lab loads (attempts: is part of the format)').toBeDefined();
});

afterAll(async () => {
  trafficCaptures().close();
  setRuntime(undefined);
  await h?.close();
});

describe('tabs of later challenges', () => {
  let svc: SessionService;
  let id: string;

  beforeAll(async () => {
    svc = service();
    setRuntime({ sessions: svc, log, db: h.db, catalog: h.catalog, drivers: { docker: h.driver } } as unknown as Runtime);
    id = await activeSession(svc);
  });

  it('answer 404 while the learner is on challenge 1: editor file, terminal, service and traffic', async () => {
    await expect(svc.terminalTarget(id, learner, 'shell')).resolves.toMatchObject({ host: 'workstation' });
    await expect(svc.terminalTarget(id, learner, 'later-shell')).rejects.toMatchObject({ code: 'not_found' });
    await expect(svc.editorTarget(id, learner, 'answers')).rejects.toMatchObject({ code: 'not_found' });
    await expect(svc.serviceTarget(id, learner, 'web')).rejects.toMatchObject({ code: 'not_found' });
    await expect(svc.trafficTarget(id, learner)).rejects.toMatchObject({ code: 'not_found' });
    expect((await call(filesRoute.GET, `/api/v1/sessions/${id}/files/answers`, { id, tab: 'answers' })).status).toBe(404);
    expect((await call(trafficRoute.GET, `/api/v1/sessions/${id}/traffic`, { id })).status).toBe(404);
    expect((await call(trafficRoute.POST, `/api/v1/sessions/${id}/traffic`, { id }, { method: 'POST' })).status).toBe(404);
    expect(await sidecars(id)).toEqual([]);
  });

  it('answer once the learner has reached the challenge; earlier tabs stay', async () => {
    expect((await svc.check(id, learner, { answers: [1] })).passed).toBe(true);
    expect((await svc.next(id, learner)).challenge).toBe('later');
    await expect(svc.terminalTarget(id, learner, 'later-shell')).resolves.toMatchObject({ host: 'workstation' });
    await expect(svc.terminalTarget(id, learner, 'shell')).resolves.toMatchObject({ host: 'workstation' });
    await expect(svc.serviceTarget(id, learner, 'web')).resolves.toMatchObject({ port: 8080 });
    await expect(svc.trafficTarget(id, learner)).resolves.toBeDefined();
    const file = await call(filesRoute.GET, `/api/v1/sessions/${id}/files/answers`, { id, tab: 'answers' });
    expect(file.status).toBe(200);
    expect(await file.json()).toMatchObject({ path: '/root/answers.yaml', version: 'missing' });
  });

  it('GET …/traffic only reads: no capture container until a POST starts one', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await call(trafficRoute.GET, `/api/v1/sessions/${id}/traffic`, { id });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ groups: [], capturing: false });
    }
    expect(await sidecars(id)).toEqual([]);

    const started = await call(trafficRoute.POST, `/api/v1/sessions/${id}/traffic`, { id }, { method: 'POST' });
    expect(started.status).toBe(200);
    await expect.poll(async () => (await sidecars(id)).length, { timeout: 60_000 }).toBe(1);
    await expect
      .poll(async () => ((await (await call(trafficRoute.GET, `/api/v1/sessions/${id}/traffic`, { id })).json()) as { capturing: boolean }).capturing, {
        timeout: 60_000,
      })
      .toBe(true);
    expect(await sidecars(id)).toHaveLength(1);
  });
});

describe('quiz attempts', () => {
  it('are counted in the database: a new SessionService does not reset them, the last one answers 409', async () => {
    const id = await activeSession(service());
    expect((await service().get(id, learner)).current?.quiz).toMatchObject({ attempts: 2, attemptsLeft: 2 });

    expect(await service().check(id, learner, { answers: [0] })).toEqual({ passed: false, message: `${WRONG} 1 attempt left.` });
    // Not an answer: refused, and no attempt used.
    await expect(service().check(id, learner, { answers: [7] })).rejects.toMatchObject({ code: 'invalid' });
    expect((await service().get(id, learner)).current?.quiz?.attemptsLeft).toBe(1);

    const last = await service().check(id, learner, { answers: [2] });
    expect(last).toEqual({ passed: false, message: 'Not quite: that is not the right answer, and that was your last attempt.' });

    // A restarted server (a fresh service on the same database) still knows.
    const fresh = service();
    await expect(fresh.check(id, learner, { answers: [1] })).rejects.toMatchObject({ code: 'conflict', message: 'no attempts left for this quiz (2 allowed)' });
    setRuntime({ sessions: fresh, log } as unknown as Runtime);
    const res = await call(checkRoute.POST, `/api/v1/sessions/${id}/check`, { id }, { method: 'POST', body: JSON.stringify({ answers: [1] }) });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: 'no attempts left for this quiz (2 allowed)' });
    expect((await fresh.get(id, learner)).current?.quiz?.attemptsLeft).toBe(0);

    // Every try is on record with what was picked and the verdict; refusals are not tries.
    const runs = await h.db.checkRun.findMany({ where: { sessionId: id }, orderBy: { createdAt: 'asc' } });
    expect(runs.map((r) => ({ kind: r.kind, passed: r.passed, selected: JSON.parse(r.output)[0].selected }))).toEqual([
      { kind: 'quiz', passed: false, selected: [0] },
      { kind: 'quiz', passed: false, selected: [2] },
    ]);

    // The quiz is over: Next moves on (no skipping needed), and the quiz stays failed.
    const after = await fresh.next(id, learner);
    expect(after.challenges[0].status).toBe('failed');
    expect(after.index).toBe(1);
    await fresh.stop(id, learner);
  }, 180_000);
});
