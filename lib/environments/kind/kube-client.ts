/**
 * Loading @kubernetes/client-node lazily: importing it takes 2-4 s here, which
 * a server that never starts a Kind lab should not pay at start-up.
 */
import type * as k8s from '@kubernetes/client-node';

export type K8s = typeof k8s;

let loaded: Promise<K8s> | undefined;
export function kubeClient(): Promise<K8s> {
  loaded ??= import('@kubernetes/client-node');
  return loaded;
}

/** A KubeConfig from a kubeconfig file (kind writes one per cluster). */
export async function loadKubeConfig(file: string): Promise<k8s.KubeConfig> {
  const { KubeConfig } = await kubeClient();
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/**
 * The API server's own words for a failed call (its Status `message`), instead
 * of client-node's dump of code, body and headers; the cause for network errors.
 */
export function apiErrorMessage(err: unknown): string {
  const e = err as { code?: unknown; body?: unknown; message?: string; cause?: { code?: string; message?: string } };
  if (typeof e.code === 'number' && e.body !== undefined) {
    let body = e.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        /* plain text */
      }
    }
    const msg = (body as { message?: string } | null)?.message ?? (typeof body === 'string' ? body.trim() : '');
    return `HTTP ${e.code}${msg ? `: ${msg}` : ''}`;
  }
  const cause = e.cause?.code ?? e.cause?.message;
  const first = (e.message ?? String(err)).split('\n')[0];
  return cause && !first.includes(cause) ? `${first} (${cause})` : first;
}
