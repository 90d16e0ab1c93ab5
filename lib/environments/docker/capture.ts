/**
 * DockerDriver.capture: a sidecar per session, `lf-<owner>-traffic`, on the session's network,
 * running tcpdump and nothing else. It sits beside the learner's hosts, not in them: no learner
 * process can see or stop it, and nothing in it listens. The Linux bridge floods multicast to
 * every port, so it sees every group's traffic and every IGMP report. It carries the
 * environment's labels (plus role=traffic), so `destroyOwner` and the reconciler remove it with
 * the session. Its output is read back through the container log, which survives a server restart.
 */
import { PassThrough, type Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { log as rootLog } from '../../base/log';
import { EnvironmentError, LABELS, TOOLBOX_BIN, hostOf, type CaptureSink, type Environment, type PacketCapture } from '../driver';
import { containerName, networkName } from './create';
import { engineReason, engineStatus, ignoreGone } from './errors';
import { runExec } from './exec';
import { ownerLabels } from './resources';

const log = rootLog.child({ module: 'traffic' });

export const TRAFFIC_ROLE = 'traffic';

/**
 * The output format is the seam's (CaptureSink.onLine). `-p`: no promiscuous mode (multicast
 * frames reach the port anyway), so no NET_ADMIN. `-l`: line-buffered. `-tt`: epoch timestamps.
 * `-v`: groups inside IGMPv3 reports. tcpdump drops to its own user after opening the socket,
 * which needs SETUID/SETGID; NET_RAW opens the socket.
 */
export const TCPDUMP_ARGV = ['tcpdump', '-p', '-l', '-n', '-tt', '-v', '-i', 'eth0', 'ip multicast or igmp'];
export const SIDECAR_CAPS = ['NET_RAW', 'SETUID', 'SETGID'];

const networkOf = (env: Environment) => env.meta.network || networkName(env.owner);

/**
 * `lf-<owner>-traffic`; if the lab itself has a host called `traffic` (its
 * container has that name), `lf-<owner>--traffic`, which no host name can produce.
 */
export function sidecarName(env: Environment): string {
  return env.hosts.some((h) => h.name === 'traffic') ? `lf-${env.owner}--traffic` : containerName(env.owner, 'traffic');
}

export class SidecarError extends Error {}

/** Starts (or picks up) the session's capture and follows it into `sink`. */
export async function startCapture(
  docker: Dockerode,
  env: Environment,
  image: string,
  instance: string | undefined,
  sink: CaptureSink,
): Promise<PacketCapture> {
  const id = await ensureSidecar(docker, env, image, instance);
  const watcher = await removeWithHosts(docker, env).catch((err: Error) => {
    log.warn({ owner: env.owner, err: err.message }, 'cannot watch the environment: the capture container is removed only by destroyOwner or the reconciler');
    return null;
  });
  let follower: Follower;
  try {
    follower = await followSidecar(docker, id, 0, sink);
  } catch (err) {
    watcher?.stop();
    throw err;
  }
  return {
    ended: follower.ended,
    addresses: () => hostAddresses(docker, env),
    memberships: async (host) => {
      // The toolbox's cat by its path: never a program the learner could have planted.
      const r = await runExec(docker, docker.getContainer(hostOf(env, host).ref), [`${TOOLBOX_BIN}/cat`, '/proc/net/igmp'], { timeoutMs: 5_000 });
      if (r.exitCode !== 0) throw new EnvironmentError(`reading /proc/net/igmp in host ${host} failed: ${r.stderr.trim()}`);
      return r.stdout;
    },
    stop: async () => {
      watcher?.stop();
      follower.stop();
      await follower.ended;
    },
  };
}

/**
 * Makes sure the session's sidecar exists and runs; returns its container id.
 * An existing one is reused (after a server restart it is still there); one
 * with our name but not our labels is refused rather than touched.
 */
async function ensureSidecar(docker: Dockerode, env: Environment, image: string, instance?: string): Promise<string> {
  const name = sidecarName(env);
  let info: Dockerode.ContainerInspectInfo | undefined;
  try {
    info = await docker.getContainer(name).inspect();
  } catch (err) {
    if (engineStatus(err) !== 404) throw new SidecarError(`inspecting the capture container ${name} failed: ${engineReason(err)}`);
  }
  if (info) {
    const l = info.Config.Labels ?? {};
    if (l[LABELS.role] !== TRAFFIC_ROLE || l[LABELS.session] !== env.owner) {
      throw new SidecarError(`a container named ${name} exists but is not this session's capture: remove it or restart the lab`);
    }
    if (!info.State.Running) await docker.getContainer(info.Id).start().catch(ignoreAlreadyStarted);
    return info.Id;
  }
  const net = networkOf(env);
  let container: Dockerode.Container;
  try {
    container = await docker.createContainer({
      name,
      Image: image,
      Cmd: TCPDUMP_ARGV,
      Hostname: 'traffic-capture',
      Labels: { ...ownerLabels(env.owner, env.lab, instance), [LABELS.role]: TRAFFIC_ROLE },
      HostConfig: {
        NetworkMode: net,
        CapDrop: ['ALL'],
        CapAdd: SIDECAR_CAPS,
        SecurityOpt: ['no-new-privileges'],
        ReadonlyRootfs: true,
        Memory: 64 * 1024 * 1024,
        MemorySwap: 64 * 1024 * 1024,
        NanoCpus: 250_000_000,
        PidsLimit: 16,
        Init: true,
        RestartPolicy: { Name: 'no' },
        // The server reads the capture back from the container log (also after a restart): keep it bounded.
        LogConfig: { Type: 'json-file', Config: { 'max-size': '2m', 'max-file': '2' } },
      },
      NetworkingConfig: { EndpointsConfig: { [net]: {} } },
    });
  } catch (err) {
    if (engineStatus(err) === 409) return ensureSidecar(docker, env, image, instance); // created concurrently
    if (engineStatus(err) === 404 && /network/i.test(engineReason(err))) {
      throw new SidecarError(`the session network ${net} is gone: the environment was removed`);
    }
    throw new SidecarError(`creating the capture container failed: ${engineReason(err)}`);
  }
  try {
    await container.start();
  } catch (err) {
    await container.remove({ force: true }).catch(() => undefined);
    throw new SidecarError(`starting the capture container failed: ${engineReason(err)}`);
  }
  return container.id;
}

function ignoreAlreadyStarted(err: unknown) {
  if (engineStatus(err) !== 304) throw new SidecarError(`restarting the capture container failed: ${engineReason(err)}`);
}

/**
 * Removes the sidecar as soon as one of the session's hosts is destroyed, while the capture is
 * read. Why: a host removal that does not go through `destroyOwner` (which lists by label) would
 * leave the network busy ("has active endpoints") while the sidecar still holds an endpoint.
 */
async function removeWithHosts(docker: Dockerode, env: Environment): Promise<{ stop(): void }> {
  const stream = (await docker.getEvents({
    filters: { type: ['container'], event: ['destroy'], label: [`${LABELS.session}=${env.owner}`] },
  })) as unknown as Readable;
  let fired = false;
  lines(stream, (line) => {
    if (fired || !line.trim()) return;
    let ev: { Actor?: { Attributes?: Record<string, string> } };
    try {
      ev = JSON.parse(line);
    } catch {
      return;
    }
    if (!ev.Actor?.Attributes?.[LABELS.host]) return; // the sidecar's own removal, or not a host
    fired = true;
    stream.destroy();
    void docker
      .getContainer(sidecarName(env))
      .remove({ force: true, v: true })
      .catch(ignoreGone)
      .catch(() => undefined);
  });
  stream.on('error', () => undefined);
  return { stop: () => stream.destroy() };
}

interface Follower {
  stop(): void;
  /** Resolves when the log stream ends (the sidecar stopped or was removed, or stop() was called). */
  ended: Promise<void>;
}

/** Splits a byte stream into lines, keeping the unfinished tail for the next chunk. */
function lines(stream: Readable, onLine: (line: string) => void): void {
  let carry = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (carry + chunk).split('\n');
    carry = parts.pop() ?? '';
    for (const p of parts) onLine(p.replace(/\r$/, ''));
  });
  stream.on('end', () => carry && onLine(carry));
}

/**
 * Follows the sidecar's output through the Engine's logs API: from `sinceSec`
 * (0 = everything still in the log), then live. Reading the log instead of
 * attaching lets a restarted server rebuild the picture from what was captured.
 */
async function followSidecar(docker: Dockerode, id: string, sinceSec: number, sink: CaptureSink): Promise<Follower> {
  const raw = (await docker.getContainer(id).logs({ follow: true, stdout: true, stderr: true, since: sinceSec })) as unknown as Readable;
  const out = new PassThrough();
  const err = new PassThrough();
  docker.modem.demuxStream(raw, out, err);
  lines(out, (l) => sink.onLine(l));
  lines(err, (l) => sink.onDiagnostic(l));
  const ended = new Promise<void>((resolve) => {
    const done = () => {
      out.end();
      err.end();
      resolve();
    };
    raw.once('end', done);
    raw.once('close', done);
    raw.once('error', done);
  });
  return { stop: () => raw.destroy(), ended };
}

/**
 * Address → host name for the session's network, from the Engine (not from
 * DNS, which a learner's host could be made to lie about). Containers that are
 * not lab hosts (the sidecar) are left out.
 */
async function hostAddresses(docker: Dockerode, env: Environment): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const h of env.hosts) if (h.address) names.set(h.address, h.name);
  const byRef = new Map(env.hosts.map((h) => [h.ref, h.name]));
  const info = (await docker.getNetwork(env.meta.networkId || networkOf(env)).inspect()) as {
    Containers?: Record<string, { Name?: string; IPv4Address?: string }>;
  };
  for (const [id, c] of Object.entries(info.Containers ?? {})) {
    const ip = c.IPv4Address?.split('/')[0];
    const host = byRef.get(id) ?? env.hosts.find((h) => c.Name === containerName(env.owner, h.name))?.name;
    if (ip && host) names.set(ip, host);
  }
  return names;
}
