/**
 * The unit lane proves it needs no engine: its tests see DOCKER_HOST pointing nowhere
 * (vitest.config.ts), so Docker cannot be reached from here even where an engine runs.
 */
import Dockerode from 'dockerode';
import { expect, it } from 'vitest';

it('reaches no Docker engine from the unit lane', async () => {
  expect(process.env.DOCKER_HOST).toMatch(/^unix:\/\/\/nonexistent\//);
  await expect(new Dockerode().ping()).rejects.toThrow(/ENOENT|ECONNREFUSED/);
});
