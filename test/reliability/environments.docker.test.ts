/**
 * A long-running server notices what breaks under it (server.ts runs this every
 * LABFORGE_RECONCILE_SECONDS): a session whose host vanished fails with the reason, and
 * leftovers no session owns are removed, never an environment whose session is live.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcile } from '../../lib/environments/reconciler';
import { ownerLabels, removeResources } from '../../lib/environments/docker/resources';
import { log } from '../../lib/base/log';
import { sessionHarness, type SessionHarness } from '../support/sessions';

const learner = 'e'.repeat(32);
let h: SessionHarness;

beforeAll(async () => {
  h = await sessionHarness('reliability', { copy: path.resolve(__dirname, '../fixtures/walk-lab') });
});
afterAll(async () => h?.close());

describe('housekeeping', () => {
  it('fails a session whose host was removed, saying so, and leaves healthy ones alone', async () => {
    const svc = h.service();
    const broken = (await svc.start('walk-lab', learner)).id;
    const healthy = (await svc.start('walk-lab', 'f'.repeat(32))).id;
    await h.active(svc, broken, learner);
    await h.active(svc, healthy, 'f'.repeat(32));

    const row = await h.db.session.findUniqueOrThrow({ where: { id: broken } });
    const env = JSON.parse(row.environment!) as { hosts: { ref: string }[] };
    await h.driver.docker.getContainer(env.hosts[0].ref).remove({ force: true });

    await svc.watchHosts();
    const view = await svc.get(broken, learner);
    expect(view.status).toBe('failed');
    expect(view.error).toMatch(/the environment broke \(host workstation is gone \(its container was removed\)\): start the lab again/);
    expect((await svc.get(healthy, 'f'.repeat(32))).status).toBe('active');

    // Failing removed the rest of the broken environment; a leftover nobody owns (a crash's)
    // is removed by the reconciler, the live session's environment stays.
    expect((await h.driver.list()).map((e) => e.owner)).toEqual([healthy]);
    const lab = h.catalog.get('walk-lab')!;
    await h.driver.create({ owner: 'leftover-1', lab: 'walk-lab', labRoot: lab.root, environment: lab.track.environment }, () => {});
    const { removed } = await reconcile([h.driver], () => svc.liveOwners(), log);
    expect(removed).toEqual(['leftover-1']);
    expect((await h.driver.list()).map((e) => e.owner)).toEqual([healthy]);
    await svc.stop(healthy, 'f'.repeat(32));
  }, 300_000);

  it('removes a network that a container joined after the listing (a sidecar, a cancelled creation), and that container', async () => {
    const docker = h.driver.docker;
    const labels = ownerLabels('late-1', 'walk-lab', 'reliability-late');
    const network = await docker.createNetwork({ Name: 'lf-late-1-test', Driver: 'bridge', Labels: labels });
    const image = await h.driver.images.ensure('labforge/base', () => undefined);
    const late = await docker.createContainer({
      Image: image,
      Cmd: ['sleep', 'infinity'],
      Labels: labels,
      HostConfig: { NetworkMode: 'lf-late-1-test', Init: true },
    });
    await late.start();
    // The listing said: no containers, one network. The old removal gave up after 2 s ("has active endpoints").
    await removeResources(docker, [], [network.id]);
    await expect(docker.getNetwork(network.id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(late.inspect()).rejects.toMatchObject({ statusCode: 404 });
  }, 60_000);
});
