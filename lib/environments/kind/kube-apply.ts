/**
 * Applying a lab's `manifests:` with server-side apply (what `kubectl apply
 * --server-side` does), through client-node's KubernetesObjectApi: one PATCH
 * `application/apply-patch+yaml` per object, field manager `labforge`.
 * Namespaces and CRDs go first; objects whose kind the API does not know yet
 * (a CRD still being established) are retried until the deadline.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { EnvironmentError } from '../driver';
import { apiErrorMessage, kubeClient } from './kube-client';

export const FIELD_MANAGER = 'labforge';

export interface ManifestObject {
  /** Path as the lab wrote it (relative to the lab folder). */
  file: string;
  /** 1-based YAML document number in the file. */
  doc: number;
  object: KubernetesObject;
}

const describe = (m: ManifestObject) => {
  const md = m.object.metadata ?? {};
  return `${m.file} (document ${m.doc}, ${m.object.kind} ${md.namespace ? `${md.namespace}/` : ''}${md.name})`;
};

/** Every object in a multi-document YAML text; `kind: List` is unpacked. Throws naming the file and document. */
export function parseManifests(text: string, file: string): ManifestObject[] {
  const out: ManifestObject[] = [];
  parseAllDocuments(text).forEach((d, i) => {
    const doc = i + 1;
    if (d.errors.length) throw new EnvironmentError(`${file}: document ${doc} is not valid YAML: ${d.errors[0].message.split('\n')[0]}`);
    const value = d.toJS() as unknown;
    if (value === null || value === undefined) return;
    const items =
      (value as { kind?: string; items?: unknown[] }).kind?.endsWith('List') && Array.isArray((value as { items?: unknown[] }).items)
        ? (value as { items: unknown[] }).items
        : [value];
    for (const item of items) {
      const o = item as KubernetesObject;
      if (typeof o !== 'object' || !o || typeof o.kind !== 'string' || typeof o.apiVersion !== 'string' || typeof o.metadata?.name !== 'string') {
        throw new EnvironmentError(`${file}: document ${doc} is not a Kubernetes object (it needs apiVersion, kind and metadata.name)`);
      }
      out.push({ file, doc, object: o });
    }
  });
  return out;
}

/** Reads the lab's manifest files (paths stay inside the lab folder), in the order listed. */
export async function readManifests(labRoot: string, files: string[]): Promise<ManifestObject[]> {
  const out: ManifestObject[] = [];
  for (const file of files) {
    const abs = path.resolve(labRoot, file);
    if (!abs.startsWith(labRoot + path.sep)) throw new EnvironmentError(`manifest ${file} is outside the lab folder`);
    let text: string;
    try {
      text = await fs.readFile(abs, 'utf8');
    } catch (err) {
      throw new EnvironmentError(
        `cannot read manifest ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file in the lab folder' : (err as Error).message}`,
      );
    }
    out.push(...parseManifests(text, file));
  }
  return out;
}

/** Namespaces, then CRDs, then everything else, each group in the lab's order. */
export function applyOrder(objects: ManifestObject[]): ManifestObject[] {
  const rank = (m: ManifestObject) => (m.object.kind === 'Namespace' ? 0 : m.object.kind === 'CustomResourceDefinition' ? 1 : 2);
  return objects
    .map((m, i) => ({ m, i }))
    .sort((a, b) => rank(a.m) - rank(b.m) || a.i - b.i)
    .map((x) => x.m);
}

/** Worth another try: unknown kinds (CRD not established yet), missing namespaces, conflicts in flight, server trouble. */
function retryable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'number') return true; // network errors, discovery failures
  return code === 404 || code === 409 || code === 429 || code >= 500;
}

export interface ApplyOptions {
  deadline: number;
  signal?: AbortSignal;
  onApplied?: (m: ManifestObject) => void;
}

/** Applies in order; returns how many objects were applied. */
export async function applyManifests(kc: KubeConfig, objects: ManifestObject[], opts: ApplyOptions): Promise<number> {
  const { KubernetesObjectApi, PatchStrategy } = await kubeClient();
  const client = KubernetesObjectApi.makeApiClient(kc);
  let applied = 0;
  for (const m of applyOrder(objects)) {
    let delay = 500;
    for (;;) {
      if (opts.signal?.aborted) throw new EnvironmentError('environment creation was cancelled');
      try {
        // patch() fills in a default namespace on the object it gets: give it a copy.
        await client.patch(structuredClone(m.object), undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
        break;
      } catch (err) {
        const message = apiErrorMessage(err);
        if (!retryable(err) || Date.now() + delay > opts.deadline) throw new EnvironmentError(`applying ${describe(m)} failed: ${message}`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 1.5, 5000);
      }
    }
    applied++;
    opts.onApplied?.(m);
  }
  return applied;
}
