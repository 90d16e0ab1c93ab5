/**
 * Claim files, `<dataDir>/kube/<owner>.json`, written before a cluster is created: kind clusters
 * carry no labels, so a claim is how list() knows which `lf-*` clusters this server made (and
 * for which owner). The cluster's kubeconfig for this server sits beside it, `<owner>.yaml`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { log as rootLog } from '../../base/log';

const log = rootLog.child({ module: 'kind' });

const claimSchema = z.object({ owner: z.string(), lab: z.string(), cluster: z.string(), instance: z.string().optional(), createdAt: z.string() });
export type Claim = z.infer<typeof claimSchema>;

/** `<kubeDir>/<owner>.yaml` (kubeconfig for this server) and `<owner>.json` (the claim). */
export function ownerFiles(kubeDir: string, owner: string) {
  return { kubeconfig: path.join(kubeDir, `${owner}.yaml`), claim: path.join(kubeDir, `${owner}.json`) };
}

export async function writeClaim(file: string, claim: Claim): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await fs.writeFile(file, JSON.stringify(claim, null, 2), { mode: 0o600 });
}

/** The claims in `kubeDir` made by `instance` (or by no instance in particular); unreadable ones are skipped. */
export async function readClaims(kubeDir: string, instance?: string): Promise<Claim[]> {
  const names = await fs.readdir(kubeDir).catch(() => [] as string[]);
  const claims: Claim[] = [];
  for (const n of names.filter((x) => x.endsWith('.json'))) {
    try {
      claims.push(claimSchema.parse(JSON.parse(await fs.readFile(path.join(kubeDir, n), 'utf8'))));
    } catch (err) {
      log.warn({ file: n, err: (err as Error).message }, 'ignoring unreadable kind claim file');
    }
  }
  return claims.filter((c) => !instance || !c.instance || c.instance === instance);
}
