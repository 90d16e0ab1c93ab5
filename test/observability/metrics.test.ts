/**
 * The Prometheus exposition: recorded events and levels read from their sources appear under
 * their names with the expected labels; labels stay bounded (a lab the catalog does not have is
 * `_other`); a failing source is counted and leaves the rest of the scrape intact; one read per
 * source per scrape; the session counts are cached. Then the real path: a SessionService over a
 * migrated SQLite database (in-memory driver) reports provisioning and Checks, and the database
 * counts its sessions by state.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { log } from '../../lib/base/log';
import { createDb, type Db } from '../../lib/db/client';
import { LabCatalog } from '../../lib/labs/catalog';
import { Metrics, type MetricSources } from '../../lib/observability/metrics';
import { metricSample } from '../support/metrics';
import { cached, countSessions } from '../../lib/observability/session-counts';
import { SessionService } from '../../lib/sessions/service';
import { MemoryDriver } from '../support/memory-driver';
import { migratedDatabase } from '../support/database';

const sources = (over: Partial<MetricSources> = {}): MetricSources => ({
  sessions: async () => ({
    byState: { provisioning: 1, active: 2, completed: 5, expired: 0, failed: 1, stopped: 0 },
    live: [
      { lab: 'linux-basics', state: 'active', count: 2 },
      { lab: 'linux-basics', state: 'provisioning', count: 1 },
    ],
  }),
  capacity: () => ({ used: 3, limit: 10, unit: 'environments', environments: 3 }),
  queues: () => ({ room: 4, turn: 2, checks: 1 }),
  pools: async () => [{ lab: 'linux-basics', size: 2, ready: 1, creating: 1 }],
  terminals: () => ({ terminals: 5, sockets: 7 }),
  ...over,
});
const isLab = (slug: string) => slug === 'linux-basics';

describe('metrics exposition', () => {
  it("shows each Docker engine: whether it answers, and an answering one's size and lab containers", async () => {
    const engines = async () => [
      { name: 'a', up: true, load: { cpus: 8, memoryBytes: 32 * 2 ** 30, labContainers: 17 } },
      { name: 'b', up: false },
    ];
    const { body } = await new Metrics(sources({ engines }), { isLab, defaultMetrics: false }).scrape();
    expect(metricSample(body, 'labforge_docker_engine_up{engine="a"}')).toBe(1);
    expect(metricSample(body, 'labforge_docker_engine_up{engine="b"}')).toBe(0);
    expect(metricSample(body, 'labforge_docker_engine_cpus{engine="a"}')).toBe(8);
    expect(metricSample(body, 'labforge_docker_engine_memory_bytes{engine="a"}')).toBe(32 * 2 ** 30);
    expect(metricSample(body, 'labforge_docker_engine_lab_containers{engine="a"}')).toBe(17);
    expect(metricSample(body, 'labforge_docker_engine_cpus{engine="b"}')).toBeUndefined();
  });

  it('shows the job queue per queue and state, the live replicas, and the outboxes by state', async () => {
    const jobs = async () => [{ queue: 'provision', queued: 3, active: 2 }];
    const replicas = async () => 2;
    const deliveries = async () => [
      { outbox: 'webhooks', waiting: 4, retrying: 1, givenUp: 2 },
      { outbox: 'lti-scores', waiting: 0, retrying: 0, givenUp: 0 },
    ];
    const { body } = await new Metrics(sources({ jobs, replicas, deliveries }), { isLab, defaultMetrics: false }).scrape();
    expect(metricSample(body, 'labforge_jobs{queue="provision",state="queued"}')).toBe(3);
    expect(metricSample(body, 'labforge_jobs{queue="provision",state="active"}')).toBe(2);
    expect(metricSample(body, 'labforge_replicas')).toBe(2);
    expect(metricSample(body, 'labforge_deliveries{outbox="webhooks",state="waiting"}')).toBe(4);
    expect(metricSample(body, 'labforge_deliveries{outbox="webhooks",state="retrying"}')).toBe(1);
    expect(metricSample(body, 'labforge_deliveries{outbox="webhooks",state="given_up"}')).toBe(2);
    expect(metricSample(body, 'labforge_deliveries{outbox="lti-scores",state="waiting"}')).toBe(0);
  });

  it('shows recorded events and the levels of every source, with bounded labels', async () => {
    const m = new Metrics(sources(), { isLab });
    m.provisioned({ lab: 'linux-basics', outcome: 'active', warm: false, ms: 12_500 });
    m.provisioned({ lab: 'linux-basics', outcome: 'active', warm: true, ms: 800 });
    m.provisioned({ lab: 'removed-lab', outcome: 'failed', warm: false, ms: 3000 });
    m.checked({ lab: 'linux-basics', challenge: 'first-step', result: 'passed', ms: 400 });
    m.checked({ lab: 'linux-basics', challenge: 'first-step', result: 'failed', ms: 300 });
    m.checked({ lab: 'linux-basics', challenge: 'first-step', result: 'failed', ms: 350 });
    m.checked({ lab: 'removed-lab', challenge: 'user-chosen-text', result: 'error', ms: 10 });
    const { contentType, body } = await m.scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);

    expect(metricSample(body, 'labforge_provisioning_duration_seconds_count{lab="linux-basics",outcome="active",source="cold"}')).toBe(1);
    expect(metricSample(body, 'labforge_provisioning_duration_seconds_bucket{le="20",lab="linux-basics",outcome="active",source="cold"}')).toBe(1);
    expect(metricSample(body, 'labforge_provisioning_duration_seconds_bucket{le="10",lab="linux-basics",outcome="active",source="cold"}')).toBe(0);
    expect(metricSample(body, 'labforge_provisioning_duration_seconds_sum{lab="linux-basics",outcome="active",source="warm"}')).toBe(0.8);
    expect(metricSample(body, 'labforge_provisioning_duration_seconds_count{lab="_other",outcome="failed",source="cold"}')).toBe(1);

    expect(metricSample(body, 'labforge_checks_total{lab="linux-basics",challenge="first-step",result="passed"}')).toBe(1);
    expect(metricSample(body, 'labforge_checks_total{lab="linux-basics",challenge="first-step",result="failed"}')).toBe(2);
    // Neither the lab nor the challenge of a lab the catalog does not have becomes a label value.
    expect(metricSample(body, 'labforge_checks_total{lab="_other",challenge="_other",result="error"}')).toBe(1);
    expect(body).not.toContain('removed-lab');
    expect(body).not.toContain('user-chosen-text');
    expect(metricSample(body, 'labforge_check_duration_seconds_count{lab="linux-basics",result="failed"}')).toBe(2);

    expect(metricSample(body, 'labforge_sessions{state="active"}')).toBe(2);
    expect(metricSample(body, 'labforge_sessions{state="expired"}')).toBe(0);
    expect(metricSample(body, 'labforge_live_sessions{lab="linux-basics",state="provisioning"}')).toBe(1);
    expect(metricSample(body, 'labforge_capacity_used{unit="environments"}')).toBe(3);
    expect(metricSample(body, 'labforge_capacity_limit{unit="environments"}')).toBe(10);
    expect(metricSample(body, 'labforge_environments')).toBe(3);
    expect(metricSample(body, 'labforge_provisioning_queue_depth{waiting_for="room"}')).toBe(4);
    expect(metricSample(body, 'labforge_provisioning_queue_depth{waiting_for="turn"}')).toBe(2);
    expect(metricSample(body, 'labforge_check_queue_depth')).toBe(1);
    expect(metricSample(body, 'labforge_pool_environments{lab="linux-basics",state="ready"}')).toBe(1);
    expect(metricSample(body, 'labforge_pool_environments{lab="linux-basics",state="creating"}')).toBe(1);
    expect(metricSample(body, 'labforge_pool_target_size{lab="linux-basics"}')).toBe(2);
    expect(metricSample(body, 'labforge_terminals_open')).toBe(5);
    expect(metricSample(body, 'labforge_terminal_sockets_open')).toBe(7);
    // prom-client's process metrics.
    expect(body).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(body).toMatch(/^nodejs_heap_size_used_bytes \d/m);
  });

  it('reads each source once per scrape, and a failing source is counted without failing the scrape', async () => {
    let reads = 0;
    const errors: string[] = [];
    const m = new Metrics(
      sources({
        sessions: async () => {
          reads++;
          throw new Error('database is locked');
        },
      }),
      { isLab, defaultMetrics: false, onSourceError: (source, err) => errors.push(`${source}: ${err.message}`) },
    );
    const { body } = await m.scrape();
    expect(reads).toBe(1);
    expect(errors).toEqual(['sessions: database is locked']);
    expect(metricSample(body, 'labforge_metrics_source_errors_total{source="sessions"}')).toBe(1);
    expect(body).not.toMatch(/^labforge_sessions\{/m);
    expect(body).not.toMatch(/^labforge_live_sessions\{/m);
    expect(metricSample(body, 'labforge_terminals_open')).toBe(5);
    expect(body).not.toContain('process_cpu_user_seconds_total');
    await m.scrape();
    expect(reads).toBe(2);
  });

  it('caches the session counts: one database read per interval, shared by concurrent scrapes, failures not kept', async () => {
    let reads = 0;
    let fail = false;
    let t = 0;
    const read = cached(
      async () => {
        reads++;
        if (fail) throw new Error('no');
        return reads;
      },
      5000,
      () => t,
    );
    expect(await Promise.all([read(), read(), read()])).toEqual([1, 1, 1]);
    t = 4999;
    expect(await read()).toBe(1);
    t = 5000;
    fail = true;
    await expect(read()).rejects.toThrow('no');
    fail = false;
    expect(await read()).toBe(3);
  });
});

describe('metrics from a real session service and database', () => {
  let dir: string;
  let db: Db;
  let catalog: LabCatalog;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labforge-metrics-'));
    const lab = path.join(dir, 'labs', 'metered');
    fs.mkdirSync(path.join(lab, '01-first'), { recursive: true });
    fs.writeFileSync(
      path.join(lab, 'track.yml'),
      'slug: metered\ntitle: Metered\nenvironment:\n  driver: docker\n  hosts:\n    - name: workstation\n      image: labforge/base\n',
    );
    fs.writeFileSync(path.join(lab, '01-first', 'assignment.md'), '---\nslug: first\ntitle: First\n---\nDo it.\n');
    fs.writeFileSync(path.join(lab, '01-first', 'check-workstation'), '#!/bin/bash\nexit 0\n', { mode: 0o755 });
    db = createDb(await migratedDatabase(dir));
    catalog = new LabCatalog(path.join(dir, 'labs'));
    await catalog.load();
  });
  afterAll(async () => {
    await db?.$disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('records provisioning and Check verdicts where they happen, and counts sessions by state', async () => {
    const driver = new MemoryDriver();
    const metrics = new Metrics(
      {
        ...sources(),
        sessions: () => countSessions(db),
      },
      { isLab: (slug) => !!catalog.get(slug), defaultMetrics: false },
    );
    const svc = new SessionService({ db, catalog, drivers: { docker: driver }, log, observer: metrics });
    const learner = 'learner-metrics';
    const { id } = await svc.start('metered', learner);
    for (const deadline = Date.now() + 10_000; (await svc.get(id, learner)).status !== 'active'; await new Promise((r) => setTimeout(r, 20)))
      if (Date.now() > deadline) throw new Error('session did not become active');
    expect((await svc.check(id, learner)).passed).toBe(true);
    driver.failWith = 'not yet';
    expect((await svc.check(id, learner)).passed).toBe(false);

    const { body } = await metrics.scrape();
    expect(metricSample(body, 'labforge_provisioning_duration_seconds_count{lab="metered",outcome="active",source="cold"}')).toBe(1);
    expect(metricSample(body, 'labforge_checks_total{lab="metered",challenge="first",result="passed"}')).toBe(1);
    expect(metricSample(body, 'labforge_checks_total{lab="metered",challenge="first",result="failed"}')).toBe(1);
    expect(metricSample(body, 'labforge_sessions{state="active"}')).toBe(1);
    expect(metricSample(body, 'labforge_sessions{state="stopped"}')).toBe(0);
    expect(metricSample(body, 'labforge_live_sessions{lab="metered",state="active"}')).toBe(1);
    expect(body).not.toContain(id);

    await svc.stop(id, learner);
    const after = await countSessions(db);
    expect(after.byState).toMatchObject({ active: 0, stopped: 1 });
    expect(after.live).toEqual([]);
  });
});
