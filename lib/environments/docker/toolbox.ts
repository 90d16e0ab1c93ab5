/**
 * The toolbox: a read-only Docker volume mounted at `/.labforge` in every learner host,
 * holding the programs that lifecycle scripts run with and that the learner cannot alter.
 *
 *   bin/bash, bin/sh      Debian's bash-static (a static binary: /etc/ld.so.preload, a
 *                         replaced libc or a fake /bin/bash cannot touch it)
 *   bin/busybox + applets busybox-static: grep, awk, sed, cat, tr, sort, head, ps, ...
 *   bin/lf-sandbox        drops CAP_SETPCAP, then runs a program: how every learner-side
 *                         process starts (see toolbox-sandbox.ts for why that protects checks)
 *   bin/fail-message      Instruqt's helper: prints `FAIL: <message>`, exits 1
 *
 * Why a volume: a read-only mount cannot be written, unmounted or covered without
 * CAP_SYS_ADMIN, and a mount point right under `/` cannot be renamed away (EBUSY), so the
 * path `/.labforge/bin/bash` always means this bash. It works with any host image.
 *
 * Built once per machine from the `labforge/base` image (which carries the two static
 * packages) plus lf-sandbox, compiled here with the machine's C compiler; the volume name
 * carries a hash of all inputs, so a change builds a new one.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import { log as rootLog } from '../../base/log';
import { EnvironmentError, TOOLBOX_BIN, TOOLBOX_DIR, type ProgressFn } from '../driver';
import { putEntries } from './files';
import { SANDBOX_C as SANDBOX_SOURCE } from './toolbox-sandbox';

const log = rootLog.child({ module: 'toolbox' });

/** Label on the volume: the hash of what built it. */
const TOOLBOX_LABEL = 'labforge.toolbox';

const FAIL_MESSAGE = `#!${TOOLBOX_BIN}/bash
# Installed by Labforge: shows its arguments to the learner and fails the script.
# A FAIL: line on stdout fails a script whatever its exit code, so a script that goes on
# after calling this can still clean up, but can no longer pass.
printf 'FAIL: %s\\n' "$*"
exit 1
`;

/**
 * Runs inside a throwaway container of the base image, with the volume at /tb. Several servers
 * (or test workers) may build the same volume at once, and hosts may already use it: the tools
 * are put together in a folder of their own, then renamed to /tb/bin in one step; whoever
 * comes second finds /tb/bin there and throws its copy away. Nothing is ever deleted from bin.
 */
const POPULATE = `
set -eu
[ -x /tb/bin/lf-sandbox ] && exit 0
stage=/tb/.stage-$(cat /proc/sys/kernel/random/uuid)
mkdir -p "$stage/bin"
cp /bin/bash-static "$stage/bin/bash"
cp /bin/busybox "$stage/bin/busybox"
for a in $("$stage/bin/busybox" --list); do
  [ -e "$stage/bin/$a" ] || ln -s busybox "$stage/bin/$a"
done
ln -sf bash "$stage/bin/sh"
install -m 0755 /tmp/toolbox-in/lf-sandbox "$stage/bin/lf-sandbox"
install -m 0755 /tmp/toolbox-in/fail-message "$stage/bin/fail-message"
chmod -R a-w "$stage/bin"
mv -T "$stage/bin" /tb/bin 2>/dev/null || true
rm -rf "$stage"
[ -x /tb/bin/lf-sandbox ]
`;

export function toolboxVolumeName(baseImageRef: string): string {
  const hash = createHash('sha256')
    .update(JSON.stringify({ v: 1, baseImageRef, SANDBOX_SOURCE, FAIL_MESSAGE, POPULATE }))
    .digest('hex');
  return `labforge-toolbox-${hash.slice(0, 12)}`;
}

/** The Docker mount that puts the toolbox into a host, read-only. */
export function toolboxMount(volume: string): Dockerode.MountSettings {
  return { Type: 'volume', Source: volume, Target: TOOLBOX_DIR, ReadOnly: true };
}

const run = promisify(execFile);

async function compileSandbox(dir: string): Promise<Buffer> {
  const src = path.join(dir, 'sandbox.c');
  const out = path.join(dir, 'lf-sandbox');
  await fs.writeFile(src, SANDBOX_SOURCE);
  const cc = process.env.CC || 'cc';
  try {
    await run(cc, ['-static', '-Os', '-s', '-o', out, src], { timeout: 60_000 });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    const why = e.code === 'ENOENT' ? `no C compiler (${cc}) on this machine` : (e.stderr || e.message).trim().slice(0, 500);
    throw new EnvironmentError(`building the toolbox's lf-sandbox failed: ${why}`, 'install gcc and libc6-dev (static libc), then retry');
  }
  return fs.readFile(out);
}

/** Makes sure the toolbox volume for this base image exists and is complete; returns its name. */
export class Toolbox {
  private ready = new Map<string, Promise<string>>();
  constructor(private readonly docker: Dockerode) {}

  ensure(baseImageRef: string, progress: ProgressFn = () => {}): Promise<string> {
    let job = this.ready.get(baseImageRef);
    if (!job) {
      job = this.build(baseImageRef, progress);
      // A failure is not cached: the next environment tries again.
      job.catch(() => this.ready.delete(baseImageRef));
      this.ready.set(baseImageRef, job);
    }
    return job;
  }

  private async build(baseImageRef: string, progress: ProgressFn): Promise<string> {
    const name = toolboxVolumeName(baseImageRef);
    if (await this.complete(name, baseImageRef)) return name;
    const step = 'Building the toolbox';
    const started = Date.now();
    progress({ step, status: 'running' });
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'labforge-toolbox-'));
    let container: Dockerode.Container | undefined;
    try {
      const sandbox = await compileSandbox(tmp);
      // Creating a volume that exists returns it: a concurrent builder's, or a crashed build's.
      await this.docker.createVolume({ Name: name, Labels: { [TOOLBOX_LABEL]: name } });
      container = await this.docker.createContainer({
        Image: baseImageRef,
        Cmd: ['/bin/bash', '-c', POPULATE],
        User: '0',
        HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: name, Target: '/tb' }] },
      });
      // Into /tmp, which the image has: the container is not running, so nothing can mkdir.
      await putEntries(this.docker, container, '/tmp', [
        { name: 'toolbox-in', type: 'dir', mode: 0o755 },
        { name: 'toolbox-in/lf-sandbox', type: 'file', mode: 0o755, content: sandbox },
        { name: 'toolbox-in/fail-message', type: 'file', mode: 0o755, content: Buffer.from(FAIL_MESSAGE) },
      ]);
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      if (StatusCode !== 0) {
        const logs = (await container.logs({ stdout: true, stderr: true })).toString('utf8').slice(-800);
        throw new EnvironmentError(
          `filling the toolbox volume failed (exit ${StatusCode}): ${logs.trim()}`,
          `is ${baseImageRef} built with bash-static and busybox-static?`,
        );
      }
      progress({ step, status: 'done', ms: Date.now() - started });
      log.info({ volume: name, ms: Date.now() - started }, 'toolbox built');
      return name;
    } catch (err) {
      progress({ step, status: 'failed', ms: Date.now() - started, detail: (err as Error).message });
      if (err instanceof EnvironmentError) throw err;
      throw new EnvironmentError(`building the toolbox failed: ${(err as Error).message}`);
    } finally {
      await container?.remove({ force: true }).catch(() => {});
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }

  /** A volume from an earlier run counts only if its bin/ is there (it appears whole, by a rename). */
  private async complete(name: string, image: string): Promise<boolean> {
    try {
      await this.docker.getVolume(name).inspect();
    } catch {
      return false;
    }
    const c = await this.docker.createContainer({
      Image: image,
      Cmd: ['/bin/bash-static', '-c', 'test -x /tb/bin/lf-sandbox'],
      HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: name, Target: '/tb', ReadOnly: true }] },
    });
    try {
      await c.start();
      const { StatusCode } = (await c.wait()) as { StatusCode: number };
      return StatusCode === 0;
    } finally {
      await c.remove({ force: true }).catch(() => {});
    }
  }
}
