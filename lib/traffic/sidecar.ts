/**
 * The capture sidecar: one container per session, `lf-<owner>-traffic`, on the
 * session's network, running tcpdump and nothing else. It sits beside the
 * learner's hosts, not in them: no learner process can see or stop it, and
 * nothing in it listens. The Linux bridge floods multicast to every port, so
 * it sees every group's traffic and every IGMP report. It carries the
 * environment's labels (plus role=traffic), so `destroyOwner` and the
 * reconciler remove it with the session.
 */
import { PassThrough, type Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { LABELS, type Environment } from '../environments/driver';

export const TRAFFIC_ROLE = 'traffic';

/**
 * `-p`: no promiscuous mode (multicast frames reach the port anyway), so no
 * NET_ADMIN. `-l`: line-buffered. `-tt`: epoch timestamps. `-v`: groups inside
 * IGMPv3 reports. tcpdump drops to its own user after opening the socket,
 * which needs SETUID/SETGID; NET_RAW opens the socket.
 */
export const TCPDUMP_ARGV = ['tcpdump', '-p', '-l', '-n', '-tt', '-v', '-i', 'eth0', 'ip multicast or igmp'];
export const SIDECAR_CAPS = ['NET_RAW', 'SETUID', 'SETGID'];

export const networkOf = (env: Environment) => env.meta.network || `lf-${env.owner}`;

/**
 * `lf-<owner>-traffic`; if the lab itself has a host called `traffic` (its
 * container has that name), `lf-<owner>--traffic`, which no host name can produce.
 */
export function sidecarName(env: Environment): string {
  return env.hosts.some((h) => h.name === 'traffic') ? `lf-${env.owner}--traffic` : `lf-${env.owner}-traffic`;
}

export function sidecarLabels(env: Environment, instance?: string): Record<string, string> {
  return {
    [LABELS.managed]: '1',
    [LABELS.session]: env.owner,
    [LABELS.lab]: env.lab,
    ...(instance ? { [LABELS.instance]: instance } : {}),
    [LABELS.role]: TRAFFIC_ROLE,
  };
}

const statusOf = (err: unknown) => (err as { statusCode?: number }).statusCode;
const reason = (err: unknown) => (err as { json?: { message?: string } }).json?.message ?? (err as Error).message ?? String(err);

export class SidecarError extends Error {}

/**
 * Makes sure the session's sidecar exists and runs; returns its container id.
 * An existing one is reused (after a server restart it is still there); one
 * with our name but not our labels is refused rather than touched.
 */
export async function ensureSidecar(docker: Dockerode, env: Environment, image: string, instance?: string): Promise<string> {
  const name = sidecarName(env);
  const labels = sidecarLabels(env, instance);
  let info: Dockerode.ContainerInspectInfo | undefined;
  try {
    info = await docker.getContainer(name).inspect();
  } catch (err) {
    if (statusOf(err) !== 404) throw new SidecarError(`inspecting the capture container ${name} failed: ${reason(err)}`);
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
      Labels: labels,
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
    if (statusOf(err) === 409) return ensureSidecar(docker, env, image, instance); // created concurrently
    if (statusOf(err) === 404 && /network/i.test(reason(err))) {
      throw new SidecarError(`the session network ${net} is gone: the environment was removed`);
    }
    throw new SidecarError(`creating the capture container failed: ${reason(err)}`);
  }
  try {
    await container.start();
  } catch (err) {
    await container.remove({ force: true }).catch(() => undefined);
    throw new SidecarError(`starting the capture container failed: ${reason(err)}`);
  }
  return container.id;
}

function ignoreAlreadyStarted(err: unknown) {
  if (statusOf(err) !== 304) throw new SidecarError(`restarting the capture container failed: ${reason(err)}`);
}

export async function removeSidecar(docker: Dockerode, env: Environment): Promise<void> {
  await docker
    .getContainer(sidecarName(env))
    .remove({ force: true, v: true })
    .catch((err) => {
      if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
    });
}

/**
 * Removes the sidecar as soon as one of the session's hosts is destroyed.
 * Why: `DockerDriver.destroy(env)` removes the hosts it knows, then the
 * network, and only then looks for other labelled containers; while the
 * sidecar still holds an endpoint the network cannot go ("has active
 * endpoints"). Reacting to the first host's removal frees the network within
 * the driver's retry window. `destroyOwner` needs no help (it lists by label).
 */
export async function removeWithHosts(docker: Dockerode, env: Environment, onRemoved: () => void): Promise<{ stop(): void }> {
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
    void removeSidecar(docker, env)
      .catch(() => undefined)
      .finally(onRemoved);
  });
  stream.on('error', () => undefined);
  return { stop: () => stream.destroy() };
}

export interface Follower {
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
export async function followSidecar(
  docker: Dockerode,
  id: string,
  sinceSec: number,
  onStdout: (line: string) => void,
  onStderr: (line: string) => void,
): Promise<Follower> {
  const raw = (await docker.getContainer(id).logs({ follow: true, stdout: true, stderr: true, since: sinceSec })) as unknown as Readable;
  const out = new PassThrough();
  const err = new PassThrough();
  docker.modem.demuxStream(raw, out, err);
  lines(out, onStdout);
  lines(err, onStderr);
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
export async function hostAddresses(docker: Dockerode, env: Environment): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const h of env.hosts) if (h.address) names.set(h.address, h.name);
  const byRef = new Map(env.hosts.map((h) => [h.ref, h.name]));
  const info = (await docker.getNetwork(env.meta.networkId || networkOf(env)).inspect()) as {
    Containers?: Record<string, { Name?: string; IPv4Address?: string }>;
  };
  for (const [id, c] of Object.entries(info.Containers ?? {})) {
    const ip = c.IPv4Address?.split('/')[0];
    const host = byRef.get(id) ?? env.hosts.find((h) => c.Name === `lf-${env.owner}-${h.name}`)?.name;
    if (ip && host) names.set(ip, host);
  }
  return names;
}
