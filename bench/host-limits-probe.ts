/**
 * Measures the host-limit reading (docs/reliability.md, "Host limits"): per-host counter reads
 * (platform cgroupfs vs one toolbox exec), the disk listing with 8 hosts, with a 1 GiB host and
 * with 100,000 small files, and how fast one host can write (the watchdog's overshoot).
 * Run: npx tsx bench/host-limits-probe.ts
 */
import { DockerDriver } from '../lib/environments/docker/driver';
import { readCounters } from '../lib/environments/docker/cgroup-counters';
import { readHostLimits } from '../lib/environments/docker/disk';
import { dockerHostSchema } from '../lib/labs/schema';
import { LABELS, SANDBOX } from '../lib/environments/driver';

const driver = new DockerDriver({ instance: `hl-bench-${process.pid}` });
const owner = `hlbench${process.pid}`;
const ms = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)].toFixed(1)} ms, min ${s[0].toFixed(1)}, max ${s[s.length - 1].toFixed(1)} (n=${s.length})`;
};
async function time<T>(n: number, fn: () => Promise<T>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(ms(t));
  }
  return out;
}

async function main() {
  const hosts = Array.from({ length: 8 }, (_, i) =>
    dockerHostSchema.parse({ name: `h${i}`, image: 'labforge/base', resources: { memory: '256Mi', cpus: 0.25, pids: 128, disk: '2Gi' } }),
  );
  const env = await driver.create({ owner, lab: 'bench', labRoot: '/tmp', environment: { driver: 'docker', hosts } }, () => {});
  try {
    const ref = env.hosts[0].ref;
    console.log(
      'counters via cgroupfs:',
      stats(await time(30, () => readCounters(driver.docker, ref))),
      JSON.stringify(await readCounters(driver.docker, ref)),
    );
    console.log('counters via exec:    ', stats(await time(30, () => readCounters(driver.docker, ref, null))));
    const filters = { label: [`${LABELS.managed}=1`, `${LABELS.session}=${owner}`] };
    console.log('list size=true, 8 hosts:', stats(await time(20, () => driver.docker.listContainers({ all: true, size: true, filters }))));
    console.log('list size=false, 8 hosts:', stats(await time(20, () => driver.docker.listContainers({ all: true, filters }))));
    console.log('whole reading, 8 hosts (cgroupfs):', stats(await time(20, () => readHostLimits(driver.docker, env))));
    console.log('whole reading, 8 hosts (exec):', stats(await time(10, () => readHostLimits(driver.docker, env, { platformCgroupRoot: null }))));

    // Full-speed writer: bytes per second into the layer, as a learner would (through lf-sandbox).
    const dd = await driver.exec(env, 'h0', [SANDBOX, 'bash', '-c', 'dd if=/dev/zero of=/root/big bs=1M count=1024 2>&1 | tail -1'], { timeoutMs: 120_000 });
    console.log('dd 1 GiB:', dd.stdout.trim(), `(${dd.durationMs} ms in all)`);
    console.log('list size=true, 8 hosts, one with 1 GiB:', stats(await time(20, () => driver.docker.listContainers({ all: true, size: true, filters }))));
    const r = await readHostLimits(driver.docker, env);
    console.log('h0 reading:', JSON.stringify(r[0]));

    const files = await driver.exec(
      env,
      'h1',
      [SANDBOX, 'bash', '-c', 'mkdir -p /root/many && cd /root/many && for d in $(seq 100); do mkdir $d; (cd $d && touch $(seq 1000)); done; echo ok'],
      { timeoutMs: 600_000 },
    );
    console.log('100,000 files:', files.stdout.trim(), `${files.durationMs} ms`);
    console.log(
      'list size=true, 8 hosts, 1 GiB + 100,000 files:',
      stats(await time(10, () => driver.docker.listContainers({ all: true, size: true, filters }))),
    );

    // How far past a limit a writer gets in one pass interval (10 s): dd in the background, reading each second.
    await driver.exec(env, 'h2', [SANDBOX, 'bash', '-c', 'nohup dd if=/dev/zero of=/root/fast bs=1M count=20000 >/dev/null 2>&1 &'], {});
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) {
      await new Promise((res) => setTimeout(res, 1000));
      const x = await readHostLimits(driver.docker, env);
      seen.push(`${((x[2].disk?.written ?? 0) / 1024 ** 2).toFixed(0)}`);
    }
    console.log('h2 written MiB each second:', seen.join(' '));
  } finally {
    await driver.destroy(env);
  }
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
