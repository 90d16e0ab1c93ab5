/**
 * The lab format's environment: which driver runs a lab and its hosts (Docker: image, resources,
 * capabilities, files, network; Kind: the cluster, its addons). Part of the lab format, re-exported
 * by schema.ts so the format keeps one import path.
 */
import { z } from 'zod';
import { parseImageRef } from './image-ref';
import { hostHasSsh, platformSshPath } from './ssh';
/** Host and variable names end up in container names, env vars and file names: keep them tame. */
export const hostName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}$/, 'must be lowercase letters, digits and dashes, starting with a letter (max 31)');

/** Sizes like `256Mi`, `1Gi` or a number of MiB. */
export const memory = z.union([
  z.number().int().positive(),
  z.string().regex(/^\d+(Mi|Gi)$/, 'must look like 256Mi or 1Gi'),
]);

/** A `memory`/`disk` value (`256Mi`, `1Gi`, or a number of MiB) in bytes. */
export function sizeBytes(m: string | number): number {
  if (typeof m === 'number') return m * 1024 * 1024;
  const n = parseInt(m, 10);
  return m.endsWith('Gi') ? n * 1024 ** 3 : n * 1024 ** 2;
}

export const resourcesSchema = z
  .object({
    memory: memory.default('512Mi'),
    cpus: z.number().positive().max(16).default(1),
    pids: z.number().int().positive().default(512),
    /** Writable space of the host (its container layer), where the engine can limit it (docs/security.md). */
    disk: memory.default('2Gi'),
  })
  .strict();

/**
 * Linux capabilities a host gets on top of the default set (environments/docker/boundary.ts):
 * enough for sshd, ping and tcpdump; NET_ADMIN, SYS_PTRACE and the like only when a lab asks.
 */
export const capabilitySchema = z
  .string()
  .regex(/^(CAP_)?[A-Z_]+$/, 'must be a capability name such as NET_ADMIN')
  .transform((c) => c.replace(/^CAP_/, ''))
  .refine((c) => !['SYS_ADMIN', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_BOOT', 'MAC_ADMIN', 'MAC_OVERRIDE', 'SYS_TIME', 'DAC_READ_SEARCH', 'BPF', 'PERFMON', 'SYSLOG'].includes(c), {
    message: 'this capability lets a learner reach past their own host: Labforge does not grant it',
  });

export const dockerHostSchema = z
  .object({
    name: hostName,
    image: z.string().min(1),
    shell: z.string().default('/bin/bash'),
    workdir: z.string().default('/root'),
    env: z.record(z.string(), z.string()).default({}),
    resources: resourcesSchema.default({ memory: '512Mi', cpus: 1, pids: 512, disk: '2Gi' }),
    capabilities: z.array(capabilitySchema).default([]),
    /** Files from the lab folder placed in the host at provisioning: `{from: assets/x, to: /root/x}`. */
    files: z
      .array(z.object({ from: z.string(), to: z.string().startsWith('/'), mode: z.string().regex(/^[0-7]{3,4}$/).optional() }).strict())
      .default([]),
    /** Host-to-host SSH for this host (keys, known hosts, sshd; lib/environments/ssh/): overrides `environment.ssh`. */
    ssh: z.boolean().optional(),
  })
  .strict();

/** The session network: internal (no way out of the lab) unless the lab needs the internet. */
export const networkSchema = z.object({ egress: z.boolean().default(false) }).strict();

const dockerEnvironment = z
  .object({
    driver: z.literal('docker'),
    network: networkSchema.optional(),
    /** Host-to-host SSH in every host (a host's own `ssh:` overrides it): docs/lab-format.md. */
    ssh: z.boolean().optional(),
    hosts: z.array(dockerHostSchema).min(1),
  })
  .strict()
  .superRefine((env, ctx) => {
    // The platform writes these when SSH is on: a lab's copy would be overwritten, or overwrite ours.
    env.hosts.forEach((h, i) => {
      if (!hostHasSsh(env, h)) return;
      h.files.forEach((f, j) => {
        const owned = platformSshPath(f);
        if (owned)
          ctx.addIssue({
            code: 'custom',
            path: ['hosts', i, 'files', j, 'to'],
            message: `${owned} is written by the platform in hosts with ssh: leave it out of files:, or set ssh: false on host ${h.name}`,
          });
      });
    });
  });

/** Kind names its node containers `<cluster>-control-plane`, `-worker2`, ...: hosts must not clash with them. */
export const KIND_RESERVED_HOST = /^(control-plane\d*|worker\d*|external-load-balancer)$/;
/** Helm release names (DNS-1123 label, at most 53 characters). */
const releaseName = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$/, 'must be a Helm release name: lowercase letters, digits and dashes (max 53)');
const k8sNamespace = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a Kubernetes namespace name (lowercase, digits, dashes)');

/** An image reference (`name[:tag][@sha256:...]`), refused with the reason when malformed. */
const imageRef = z.string().superRefine((ref, ctx) => {
  const parsed = parseImageRef(ref);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
});

/**
 * A cluster image: pods name it by tag (kind load keeps tags, not registry digests), so a digest
 * comes with its tag, `name:tag@sha256:...`, and pins what that tag must be on the local engine.
 */
const clusterImage = imageRef.superRefine((ref, ctx) => {
  const parsed = parseImageRef(ref);
  if (typeof parsed !== 'string' && parsed.digest && !parsed.tag)
    ctx.addIssue({ code: 'custom', message: 'a pinned cluster image needs its tag too (name:tag@sha256:...): the pods refer to it by tag' });
});

export const kindAddonSchema = z
  .object({
    name: releaseName,
    /** A chart name in `repo`, an `oci://` reference, or a path relative to the lab folder (`./charts/x.tgz`). */
    chart: z.string().min(1),
    repo: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
    version: z.string().min(1),
    namespace: k8sNamespace.default('kube-system'),
    values: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export const kindClusterSchema = z
  .object({
    nodes: z
      .array(
        z
          .object({
            role: z.enum(['control-plane', 'worker']),
            /** Kubernetes labels kind puts on the node. */
            labels: z.record(z.string(), z.string()).default({}),
          })
          .strict(),
      )
      .min(1)
      .refine((nodes) => nodes.some((n) => n.role === 'control-plane'), 'needs at least one control-plane node'),
    /** kindest/node image for every node, best pinned `kindest/node:vX.Y.Z@sha256:...`; kind's default for its version when unset. */
    nodeImage: imageRef.optional(),
    disableDefaultCNI: z.boolean().default(true),
    kubeProxyMode: z.enum(['iptables', 'ipvs', 'nftables', 'none']).default('none'),
    /** Local Docker images loaded into every node (`kind load docker-image`), so nothing is pulled; `name:tag@sha256:...` pins one. */
    images: z.array(clusterImage).default([]),
    /** Helm charts installed in this order. */
    addons: z.array(kindAddonSchema).default([]),
    /** YAML files (relative to the lab folder) applied with server-side apply after the addons are ready. */
    manifests: z.array(z.string().min(1)).default([]),
  })
  .strict();

const kindEnvironment = z
  .object({
    driver: z.literal('kind'),
    cluster: kindClusterSchema,
    /** Refused below: accepted here only to say why. */
    ssh: z.boolean().optional(),
    /** Workstation containers (kubectl & co.), beside the cluster on the Docker network. */
    hosts: z.array(dockerHostSchema).min(1),
  })
  .strict()
  .superRefine((env, ctx) => {
    const noSsh = 'host-to-host ssh is for docker environments: a kind lab reaches its pods with kubectl exec';
    if (env.ssh !== undefined) ctx.addIssue({ code: 'custom', path: ['ssh'], message: noSsh });
    env.hosts.forEach((h, i) => {
      if (h.ssh !== undefined) ctx.addIssue({ code: 'custom', path: ['hosts', i, 'ssh'], message: noSsh });
    });
    env.hosts.forEach((h, i) => {
      if (KIND_RESERVED_HOST.test(h.name))
        ctx.addIssue({ code: 'custom', path: ['hosts', i, 'name'], message: `"${h.name}" is the name of a kind node container: pick another host name` });
    });
  });

export const environmentSchema = z.discriminatedUnion('driver', [dockerEnvironment, kindEnvironment]);

export type DockerHost = z.infer<typeof dockerHostSchema>;
export type LabEnvironment = z.infer<typeof environmentSchema>;
export type KindCluster = z.infer<typeof kindClusterSchema>;
export type KindAddon = z.infer<typeof kindAddonSchema>;
