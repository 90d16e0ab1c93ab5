/**
 * Datagrams "from" a pod (Kind labs: `inject: [{from: pod/NAME}]`): the platform execs
 * socat in the pod through the Kubernetes API with its own kubeconfig, the payload on
 * stdin, so no secret passes through the learner's workstation, its process list or its
 * kubeconfig's audit trail. What a cluster-admin learner can still see (the exec while it
 * runs) is in docs/security.md.
 */
import { PassThrough, Readable } from 'node:stream';
import { EnvironmentError, type Datagrams } from '../driver';
import { apiErrorMessage, kubeClient, loadKubeConfig } from './kube-client';

export interface PodRef {
  namespace: string;
  name: string;
}

/** `pod/NAME` or `pod/NAMESPACE/NAME`; undefined for a plain host name. */
export function parsePodSource(source: string): PodRef | undefined {
  const m = /^pod\/(?:([a-z0-9][a-z0-9-]{0,62})\/)?([a-z0-9][a-z0-9.-]{0,252})$/.exec(source);
  return m ? { namespace: m[1] ?? 'default', name: m[2] } : undefined;
}

const SEND_TIMEOUT_MS = 15_000;

export async function sendFromPod(kubeconfig: string, pod: PodRef, d: Datagrams): Promise<void> {
  const k8s = await kubeClient();
  const kc = await loadKubeConfig(kubeconfig);
  const where = `pod ${pod.namespace}/${pod.name}`;
  let container: string;
  try {
    const p = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedPod({ namespace: pod.namespace, name: pod.name });
    container = p.spec?.containers[0]?.name ?? '';
  } catch (err) {
    throw new EnvironmentError(`cannot send from ${where}: ${apiErrorMessage(err)}`);
  }
  const exec = new k8s.Exec(kc);
  for (let i = 0; i < d.count; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, d.intervalMs));
    await new Promise<void>((resolve, reject) => {
      const stderr = new PassThrough();
      let errText = '';
      stderr.on('data', (c: Buffer) => (errText = (errText + c.toString('utf8')).slice(-500)));
      const timer = setTimeout(() => reject(new EnvironmentError(`sending from ${where} timed out`)), SEND_TIMEOUT_MS);
      exec
        .exec(
          pod.namespace,
          pod.name,
          container,
          ['socat', '-u', 'STDIN', `UDP4-DATAGRAM:${d.address}:${d.port},ip-multicast-ttl=8`],
          null,
          stderr,
          Readable.from([d.payload]),
          false,
          (status) => {
            clearTimeout(timer);
            if (status.status === 'Success') resolve();
            else reject(new EnvironmentError(`sending from ${where} failed: ${status.message ?? ''} ${errText.trim()}`.trim()));
          },
        )
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(new EnvironmentError(`sending from ${where} failed: ${apiErrorMessage(err)}`));
        });
    });
  }
}
