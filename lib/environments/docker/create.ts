/**
 * Creating a Docker environment (DockerDriver.create): images, the toolbox and the host boundary
 * first, then one private bridge network and one container per host, all created and started at
 * once, then one archive per host (the lab's files, and the SSH keys and settings when the lab
 * has `ssh`), then sshd in the SSH hosts. A failure anywhere removes whatever was made so far.
 */
import type Dockerode from 'dockerode';
import { sizeBytes, type DockerHost } from '../../labs/schema';
import { sshHostNames } from '../../labs/ssh';
import { log as rootLog } from '../../base/log';
import { EnvironmentError, LABELS, checkOwner, progressSteps, type Environment, type EnvironmentSpec, type HostHandle, type ProgressFn } from '../driver';
import type { ImageBuilder } from '../images/build';
import { makeSshKeys } from '../ssh/material';
import { bridgeName, DEFAULT_CAPABILITIES } from './boundary';
import { engineReason, engineStatus } from './errors';
import { hostFileEntries, putRootEntries } from './files';
import { ownerLabels, removeResources } from './resources';
import { sshEntries, sshMeta, startSshd } from './ssh';
import type { TarEntry } from './tar';
import { toolboxMount } from './toolbox';

const log = rootLog.child({ module: 'docker' });

export const networkName = (owner: string) => `lf-${owner}`;
export const containerName = (owner: string, host: string) => `lf-${owner}-${host}`;

/** What creation needs from the driver: its engine and images, and the checks it caches. */
export interface CreateDeps {
  readonly docker: Dockerode;
  readonly images: Pick<ImageBuilder, 'ensure'>;
  readonly instance?: string;
  ensureToolbox(progress: ProgressFn): Promise<string>;
  ensureBoundary(): Promise<{ diskLimit: boolean }>;
}

/** Like Promise.all, but waits for every task, so nothing is still being created while we clean up. */
async function allSettledOrThrow<T>(tasks: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

export async function createEnvironment(
  deps: CreateDeps,
  driver: string,
  spec: EnvironmentSpec,
  progress: ProgressFn,
  signal?: AbortSignal,
): Promise<Environment> {
  if (spec.environment.driver !== 'docker') {
    throw new EnvironmentError(`the docker driver cannot create a "${spec.environment.driver}" environment`);
  }
  checkOwner(spec.owner);
  const { docker } = deps;
  const hosts = spec.environment.hosts;
  const net = networkName(spec.owner);
  const created: { containers: string[]; network?: string } = { containers: [] };
  const labels = (host?: string) => ({ ...ownerLabels(spec.owner, spec.lab, deps.instance), ...(host ? { [LABELS.host]: host } : {}) });
  const step = progressSteps(progress, signal);

  const started = Date.now();
  const ssh = sshHostNames(spec.environment);
  try {
    // Read from the lab folder while the engine works; a problem is reported at the copy step.
    const labFiles = Promise.allSettled(hosts.map((h) => hostFileEntries(h, spec.labRoot)));
    const images = await step('Preparing images', () => ensureImages(deps, hosts, progress));
    const toolbox = await deps.ensureToolbox(progress);
    const { diskLimit } = await deps.ensureBoundary();
    const network = await step('Creating network', async () => {
      try {
        return await docker.createNetwork({
          Name: net,
          Driver: 'bridge',
          CheckDuplicate: true,
          Labels: labels(),
          // The bridge's name puts it under the host firewall rules (docker/boundary.ts): no way
          // to the platform machine, and none out of the lab unless it asks for egress.
          Options: { 'com.docker.network.bridge.name': bridgeName(spec.owner, spec.environment.driver === 'docker' && !!spec.environment.network?.egress) },
        });
      } catch (err) {
        throw new EnvironmentError(
          engineStatus(err) === 409
            ? `network ${net} already exists: owner "${spec.owner}" already has an environment`
            : `creating network ${net} failed: ${engineReason(err)}`,
        );
      }
    });
    created.network = network.id;

    const containers = await step(`Creating ${hosts.length} host${hosts.length === 1 ? '' : 's'}`, () =>
      allSettledOrThrow(
        hosts.map(async (h) => {
          const c = await createContainer(
            docker,
            spec.owner,
            h,
            images.get(h.image)!,
            net,
            labels(h.name),
            toolbox,
            diskLimit ? String(sizeBytes(h.resources.disk)) : null,
          ).catch((err) => {
            throw new EnvironmentError(`creating host ${h.name} failed: ${engineReason(err)}`);
          });
          created.containers.push(c.id);
          return c;
        }),
      ),
    );

    const handles = await step(`Starting ${hosts.length} host${hosts.length === 1 ? '' : 's'}`, () =>
      allSettledOrThrow(
        containers.map(async (c, i): Promise<HostHandle> => {
          await c.start().catch((err) => {
            throw new EnvironmentError(`starting host ${hosts[i].name} failed: ${engineReason(err)}`);
          });
          const info = await c.inspect();
          return { name: hosts[i].name, ref: c.id, address: info.NetworkSettings.Networks[net]?.IPAddress || undefined, spec: hosts[i] };
        }),
      ),
    );

    if (ssh.length || hosts.some((h) => h.files.length)) {
      // Keys are made only now that every address is known (known_hosts names both), and never
      // leave this function but into the hosts: not logged, not in the returned record.
      const keys = ssh.length ? makeSshKeys(ssh) : undefined;
      const sshHosts = handles.filter((h) => ssh.includes(h.name)).map((h) => ({ name: h.name, address: h.address }));
      await step('Copying files', () =>
        allSettledOrThrow(
          containers.map(async (c, i) => {
            const failed = (why: string) => new EnvironmentError(`copying files into host ${hosts[i].name} failed: ${why}`);
            const read = (await labFiles)[i];
            if (read.status === 'rejected') throw failed((read.reason as Error).message);
            // SSH folders first: a lab file inside /root/.ssh must not leave it 0755.
            const entries: TarEntry[] = [...(keys && ssh.includes(hosts[i].name) ? sshEntries(hosts[i].name, sshHosts, keys) : []), ...read.value];
            await putRootEntries(c, entries).catch((err) => {
              throw failed(engineReason(err));
            });
          }),
        ),
      );
    }
    if (ssh.length) {
      await step('Starting SSH servers', () =>
        allSettledOrThrow(hosts.flatMap((h, i) => (ssh.includes(h.name) ? [startSshd(docker, containers[i], h.name)] : []))),
      );
    }
    if (signal?.aborted) throw new EnvironmentError('environment creation was cancelled');
    log.info({ owner: spec.owner, lab: spec.lab, hosts: hosts.length, ms: Date.now() - started }, 'environment created');
    return { driver, owner: spec.owner, lab: spec.lab, hosts: handles, meta: { network: net, networkId: network.id, ...sshMeta(ssh) } };
  } catch (err) {
    log.warn({ owner: spec.owner, err: (err as Error).message }, 'environment creation failed, cleaning up');
    await removeResources(docker, created.containers, created.network ? [created.network] : []).catch((e) =>
      log.error({ owner: spec.owner, err: String(e) }, 'cleanup after failed create also failed'),
    );
    if (err instanceof EnvironmentError) throw err;
    throw new EnvironmentError(`creating the environment failed: ${engineReason(err)}`);
  }
}

/** Each distinct image once; a missing image names the hosts that need it. */
async function ensureImages(deps: CreateDeps, hosts: DockerHost[], progress: ProgressFn): Promise<Map<string, string>> {
  const refs = new Map<string, string>();
  for (const image of new Set(hosts.map((h) => h.image))) {
    try {
      refs.set(image, await deps.images.ensure(image, progress));
    } catch (err) {
      const users = hosts
        .filter((h) => h.image === image)
        .map((h) => h.name)
        .join(', ');
      const e = err as EnvironmentError;
      throw new EnvironmentError(`host ${users}: ${e.message}`, e.hint);
    }
  }
  return refs;
}

/** `diskSize`: the engine's StorageOpt size for this host, when the engine can limit disks. */
function createContainer(
  docker: Dockerode,
  owner: string,
  h: DockerHost,
  image: string,
  net: string,
  labels: Record<string, string>,
  toolbox: string,
  diskSize: string | null,
) {
  const env = { LANG: 'C.UTF-8', TERM: 'xterm-256color', ...h.env };
  const memory = sizeBytes(h.resources.memory);
  return docker.createContainer({
    name: containerName(owner, h.name),
    Hostname: h.name,
    Image: image,
    Cmd: ['sleep', 'infinity'],
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    WorkingDir: h.workdir,
    Labels: labels,
    HostConfig: {
      NetworkMode: net,
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round(h.resources.cpus * 1e9),
      PidsLimit: h.resources.pids,
      // docker-init reaps orphans: lab scripts leave plenty behind.
      Init: true,
      Mounts: [toolboxMount(toolbox)],
      CapDrop: ['ALL'],
      CapAdd: [...new Set([...DEFAULT_CAPABILITIES, ...h.capabilities])],
      SecurityOpt: ['no-new-privileges'],
      ...(diskSize ? { StorageOpt: { size: diskSize } } : {}),
      RestartPolicy: { Name: 'no' },
    },
    NetworkingConfig: { EndpointsConfig: { [net]: { Aliases: [h.name] } } },
  });
}
