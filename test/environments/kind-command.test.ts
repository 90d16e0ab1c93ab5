/** The command runner kind and helm go through, with real processes. */
import { describe, expect, it } from 'vitest';
import { cleanLine, mustRun, spawnRunner, tail } from '../../lib/environments/kind/command';
import { EnvironmentError } from '../../lib/environments/driver';

describe('spawnRunner', () => {
  it('returns code, stdout and stderr, and streams complete lines as they come', async () => {
    const lines: string[] = [];
    const r = await spawnRunner('sh', ['-c', 'echo one; echo two >&2; printf "three"; exit 3'], { onLine: (l, s) => lines.push(`${s}:${l}`) });
    expect(r).toEqual({ code: 3, stdout: 'one\nthree', stderr: 'two\n' });
    expect(lines.sort()).toEqual(['stderr:two', 'stdout:one', 'stdout:three']);
  });

  it('feeds stdin (kind reads its config from `--config -`)', async () => {
    const r = await spawnRunner('cat', [], { stdin: 'kind: Cluster\n' });
    expect(r.stdout).toBe('kind: Cluster\n');
  });

  it('says 127 when the binary is missing', async () => {
    const r = await spawnRunner('surely-not-a-binary-xyz', []);
    expect(r.code).toBe(127);
    expect(r.stderr).toBe('surely-not-a-binary-xyz: command not found');
  });

  it('ends the process group on abort', async () => {
    const ac = new AbortController();
    const t = Date.now();
    setTimeout(() => ac.abort(), 200);
    const r = await spawnRunner('sh', ['-c', 'sleep 30 & sleep 30; echo never'], { signal: ac.signal });
    expect(Date.now() - t).toBeLessThan(5000);
    expect(r.code).toBe(-1);
    expect(r.stdout).toBe('');
  });

  it('passes extra environment variables', async () => {
    const r = await spawnRunner('sh', ['-c', 'echo $KIND_EXPERIMENTAL_PROVIDER'], { env: { KIND_EXPERIMENTAL_PROVIDER: 'docker' } });
    expect(r.stdout).toBe('docker\n');
  });
});

describe('output helpers', () => {
  it("strips colours and spinner redraws from kind's progress lines", () => {
    expect(cleanLine('\x1b[32m ✓ Preparing nodes 📦\x1b[0m')).toBe(' ✓ Preparing nodes 📦');
    expect(cleanLine(' • Ensuring node image ...\r ✓ Ensuring node image 🖼\r')).toBe(' ✓ Ensuring node image 🖼');
  });

  it('mustRun turns a failure into a message naming the step, the tool and its last words', async () => {
    const err = await mustRun(spawnRunner, 'creating kind cluster lf-x', 'sh', [
      '-c',
      'echo progress; echo "ERROR: failed to create cluster: node(s) already exist for a cluster with the name \\"lf-x\\"" >&2; exit 1',
    ]).catch((e) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect(err.message).toBe(
      'creating kind cluster lf-x failed (sh exited with 1): ERROR: failed to create cluster: node(s) already exist for a cluster with the name "lf-x"',
    );
    const missing = await mustRun(spawnRunner, 'loading an image', 'surely-not-kind', []).catch((e) => e);
    expect(missing.message).toBe('loading an image failed: surely-not-kind not found on PATH');
    expect(tail({ code: 1, stdout: 'a\nb\n', stderr: '' })).toBe('a\nb');
  });
});
