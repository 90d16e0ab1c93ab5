/**
 * Waiting until a fresh cluster is usable, through the Kubernetes API
 * (@kubernetes/client-node): every node Ready, every DaemonSet rolled out and
 * ready on all its nodes, every Deployment available. Lists with backoff until
 * a deadline, never a fixed sleep; on the deadline the error names what is
 * still not ready, in the API's own words where it has some.
 */
import type { KubeConfig, V1DaemonSet, V1Deployment, V1Node, V1Pod } from '@kubernetes/client-node';
import { withTimeout } from '../../base/timeout';
import { EnvironmentError } from '../driver';
import { apiErrorMessage, kubeClient } from './kube-client';

const clip = (s: string, n = 160) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const nameOf = (o: { metadata?: { namespace?: string; name?: string } }) =>
  o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : (o.metadata?.name ?? '?');

/** What keeps the nodes from being ready; empty when all `expected` nodes are Ready. */
export function nodeProblems(nodes: V1Node[], expected?: number): string[] {
  const out: string[] = [];
  if (expected !== undefined && nodes.length < expected) out.push(`${nodes.length} of ${expected} nodes registered`);
  for (const n of nodes) {
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'True') continue;
    const why = [ready?.reason, ready?.message].filter(Boolean).join(': ');
    out.push(`node ${nameOf(n)} ${ready ? 'NotReady' : 'has no Ready condition yet'}${why ? ` (${clip(why)})` : ''}`);
  }
  return out;
}

/** Generation not yet seen by the controller: its status numbers are stale. */
const stale = (o: { metadata?: { generation?: number }; status?: { observedGeneration?: number } }) =>
  o.status?.observedGeneration === undefined || o.status.observedGeneration < (o.metadata?.generation ?? 0);

/**
 * `problem` of each object whose controller has seen its latest generation; the others are
 * reported as not processed yet (their status numbers are stale).
 */
function rolloutProblems<T extends Parameters<typeof stale>[0] & Parameters<typeof nameOf>[0]>(
  kind: string,
  objects: T[],
  problem: (o: T) => string | undefined,
): string[] {
  return objects.flatMap((o) => {
    if (stale(o)) return [`${kind} ${nameOf(o)} not yet processed by its controller`];
    const p = problem(o);
    return p ? [p] : [];
  });
}

export function daemonSetProblems(sets: V1DaemonSet[]): string[] {
  return rolloutProblems('DaemonSet', sets, (ds) => {
    const desired = ds.status?.desiredNumberScheduled ?? 0;
    const ready = ds.status?.numberReady ?? 0;
    const updated = ds.status?.updatedNumberScheduled ?? 0;
    if (ready < desired) return `DaemonSet ${nameOf(ds)}: ${ready}/${desired} pods ready`;
    if (updated < desired) return `DaemonSet ${nameOf(ds)}: ${updated}/${desired} pods updated`;
    return undefined;
  });
}

export function deploymentProblems(deployments: V1Deployment[]): string[] {
  return rolloutProblems('Deployment', deployments, (d) => {
    const want = d.spec?.replicas ?? 1;
    const available = d.status?.availableReplicas ?? 0;
    const updated = d.status?.updatedReplicas ?? 0;
    if (available < want) {
      const cond = d.status?.conditions?.find((c) => c.type === 'Available' && c.status !== 'True');
      return `Deployment ${nameOf(d)}: ${available}/${want} available${cond?.message ? ` (${clip(cond.message)})` : ''}`;
    }
    if (updated < want) return `Deployment ${nameOf(d)}: ${updated}/${want} updated`;
    return undefined;
  });
}

/**
 * Why pods are not ready, in the kubelet's and scheduler's words: a waiting
 * container's reason (ImagePullBackOff, CrashLoopBackOff, ...), or why a pod is
 * not scheduled. Finished pods (Succeeded) are fine.
 */
export function podProblems(pods: V1Pod[]): string[] {
  const out: string[] = [];
  for (const p of pods) {
    if (p.status?.phase === 'Succeeded') continue;
    if (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    const containers = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
    const waiting = containers.find((c) => c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing')?.state?.waiting;
    const unscheduled = p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    const why = waiting
      ? `${waiting.reason}${waiting.message ? ` (${clip(waiting.message)})` : ''}`
      : unscheduled
        ? `not scheduled${unscheduled.message ? ` (${clip(unscheduled.message)})` : ''}`
        : `${p.status?.phase ?? 'unknown phase'}, not ready`;
    out.push(`pod ${nameOf(p)}: ${why}`);
  }
  return out;
}

export interface WaitOptions {
  /** Absolute time (ms since epoch) to give up at. */
  deadline: number;
  signal?: AbortSignal;
  /** Called after each look that found something not ready (for progress details). */
  onWaiting?: (problems: string[]) => void;
  /** First and longest pause between looks. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Calls `look` until it finds nothing wrong, with backoff (×1.5), until the deadline.
 * `explain` adds detail to the deadline error (which pods fail, and why).
 */
export async function pollUntilReady(what: string, look: () => Promise<string[]>, opts: WaitOptions, explain?: () => Promise<string[]>): Promise<void> {
  const started = Date.now();
  let delay = opts.minDelayMs ?? 500;
  for (;;) {
    if (opts.signal?.aborted) throw new EnvironmentError('environment creation was cancelled');
    let problems: string[];
    try {
      // A hung connection must not outlive the deadline: each look gets at most 15 s.
      problems = await withTimeout(look(), Math.max(1000, Math.min(15_000, opts.deadline - Date.now())), 'the API server');
    } catch (err) {
      // The API server restarts while a cluster comes up: keep trying until the deadline.
      problems = [`API server did not answer: ${apiErrorMessage(err)}`];
    }
    if (!problems.length) return;
    opts.onWaiting?.(problems);
    const left = opts.deadline - Date.now();
    if (left <= 0) {
      const secs = Math.round((Date.now() - started) / 1000);
      const shown = problems.slice(0, 6).join('; ') + (problems.length > 6 ? `; and ${problems.length - 6} more` : '');
      const why = explain ? await withTimeout(explain(), 10_000, 'explaining').catch(() => [] as string[]) : [];
      const more = why.length ? `. ${why.slice(0, 5).join('; ')}${why.length > 5 ? `; and ${why.length - 5} more pods` : ''}` : '';
      throw new EnvironmentError(
        `${what} not ready after ${secs} s: ${shown}${more}`,
        'look at the pods with `kubectl get pods -A` and `kubectl describe` in the cluster; images that are not loaded into the nodes are a common cause',
      );
    }
    await pause(Math.min(delay, left), opts.signal);
    delay = Math.min(delay * 1.5, opts.maxDelayMs ?? 5000);
  }
}

/** Waits for `expected` nodes, all Ready (with no CNI they stay NotReady: the CNI addon must come first). */
export async function waitForNodes(kc: KubeConfig, expected: number, opts: WaitOptions & { what?: string }): Promise<void> {
  const { CoreV1Api } = await kubeClient();
  const core = kc.makeApiClient(CoreV1Api);
  await pollUntilReady(opts.what ?? 'nodes', async () => nodeProblems((await core.listNode()).items, expected), opts);
}

/** Waits until every DaemonSet and Deployment in every namespace is rolled out and ready. */
export async function waitForWorkloads(kc: KubeConfig, opts: WaitOptions & { what?: string }): Promise<void> {
  const { AppsV1Api, CoreV1Api } = await kubeClient();
  const apps = kc.makeApiClient(AppsV1Api);
  await pollUntilReady(
    opts.what ?? 'workloads',
    async () => {
      const [sets, deployments] = await Promise.all([apps.listDaemonSetForAllNamespaces(), apps.listDeploymentForAllNamespaces()]);
      return [...daemonSetProblems(sets.items), ...deploymentProblems(deployments.items)];
    },
    opts,
    async () => podProblems((await kc.makeApiClient(CoreV1Api).listPodForAllNamespaces()).items),
  );
}
