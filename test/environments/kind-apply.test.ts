/**
 * Server-side apply of a lab's manifests: parsing, order, and the exact PATCH
 * requests the real client-node sends to a fake API server.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../lib/environments/driver';
import { applyManifests, applyOrder, parseManifests, readManifests } from '../../lib/environments/kind/kube-apply';
import { loadKubeConfig } from '../../lib/environments/kind/kube-client';
import { FakeKubeApi, fixture } from './kind-fake-api';

const FLEET = `# the lab's objects
apiVersion: v1
kind: ConfigMap
metadata:
  name: fleet
  namespace: yavin
data:
  groups: "225.0.0.10 225.0.0.11"
---
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: web, image: nginx:1.27 }] }
---
apiVersion: v1
kind: Namespace
metadata:
  name: yavin
`;

describe('parsing manifests', () => {
  it('reads every document, skips empty ones, unpacks Lists, and numbers documents as written', () => {
    const list = `apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: ServiceAccount, metadata: {name: a}}\n  - {apiVersion: v1, kind: ServiceAccount, metadata: {name: b}}\n`;
    const objs = [...parseManifests(FLEET, 'manifests/fleet.yaml'), ...parseManifests(list, 'sa.yaml')];
    expect(objs.map((o) => `${o.file}#${o.doc} ${o.object.kind}/${o.object.metadata?.name}`)).toEqual([
      'manifests/fleet.yaml#1 ConfigMap/fleet',
      'manifests/fleet.yaml#3 Deployment/web',
      'manifests/fleet.yaml#4 Namespace/yavin',
      'sa.yaml#1 ServiceAccount/a',
      'sa.yaml#1 ServiceAccount/b',
    ]);
  });

  it('names the file and document of a broken one', () => {
    expect(() => parseManifests('kind: ConfigMap\n---\nmetadata: {name: x}\n', 'm.yaml')).toThrow(
      'm.yaml: document 1 is not a Kubernetes object (it needs apiVersion, kind and metadata.name)',
    );
    expect(() => parseManifests('apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkey: [unclosed\n', 'm.yaml')).toThrow(
      /^m\.yaml: document 2 is not valid YAML: /,
    );
  });

  it('puts Namespaces, then CRDs, first, and keeps the lab order otherwise', () => {
    const objs = parseManifests(
      FLEET + '---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: fleets.labforge.example}\n',
      'f.yaml',
    );
    expect(applyOrder(objs).map((o) => o.object.kind)).toEqual(['Namespace', 'CustomResourceDefinition', 'ConfigMap', 'Deployment']);
  });

  it('reads files from the lab folder only', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'lf-manifests-'));
    try {
      mkdirSync(path.join(root, 'manifests'));
      writeFileSync(path.join(root, 'manifests/fleet.yaml'), FLEET);
      expect(await readManifests(root, ['manifests/fleet.yaml'])).toHaveLength(3);
      await expect(readManifests(root, ['manifests/missing.yaml'])).rejects.toThrow(
        'cannot read manifest manifests/missing.yaml: no such file in the lab folder',
      );
      await expect(readManifests(root, ['../outside.yaml'])).rejects.toThrow('manifest ../outside.yaml is outside the lab folder');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('applying (real client-node, fake API server)', () => {
  let api: FakeKubeApi;
  let kc: KubeConfig;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lf-apply-'));
  const echo = (req: { body: string }) => ({ body: JSON.parse(req.body) });

  beforeAll(async () => {
    api = await new FakeKubeApi().start();
    kc = await loadKubeConfig(api.writeKubeconfig(path.join(dir, 'kubeconfig.yaml')));
    api.on('GET', '/api/v1', 'discovery-v1').on('GET', '/apis/apps/v1', 'discovery-apps-v1');
    api.handle('PATCH', '/api/v1/namespaces/yavin', echo);
    api.handle('PATCH', '/api/v1/namespaces/yavin/configmaps/fleet', echo);
    api.handle('PATCH', '/apis/apps/v1/namespaces/default/deployments/web', echo);
  });
  afterEach(() => api.requests.splice(0));
  afterAll(async () => {
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends one server-side apply PATCH per object, field manager labforge, namespace first', async () => {
    const applied: string[] = [];
    const n = await applyManifests(kc, parseManifests(FLEET, 'fleet.yaml'), {
      deadline: Date.now() + 10_000,
      onApplied: (m) => applied.push(m.object.kind ?? '?'),
    });
    expect(n).toBe(3);
    expect(applied).toEqual(['Namespace', 'ConfigMap', 'Deployment']);
    const patches = api.requests.filter((r) => r.method === 'PATCH');
    expect(patches.map((p) => p.path)).toEqual([
      '/api/v1/namespaces/yavin',
      '/api/v1/namespaces/yavin/configmaps/fleet',
      // Namespaced objects without a namespace land in "default", as with kubectl.
      '/apis/apps/v1/namespaces/default/deployments/web',
    ]);
    for (const p of patches) {
      expect(p.contentType).toBe('application/apply-patch+yaml');
      expect(p.query.get('fieldManager')).toBe('labforge');
      expect(p.query.get('force')).toBe('true');
    }
    expect(JSON.parse(patches[1].body)).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'fleet', namespace: 'yavin' },
      data: { groups: '225.0.0.10 225.0.0.11' },
    });
    expect(JSON.parse(patches[2].body).spec.template.spec.containers[0].image).toBe('nginx:1.27');
  });

  it('retries an object whose kind the API does not serve yet (CRD being established)', async () => {
    api.on(
      'GET',
      '/apis/labforge.example/v1',
      { status: 404, body: fixture('status-404') },
      { status: 404, body: fixture('status-404') },
      'discovery-labforge-example-v1',
    );
    api.handle('PATCH', '/apis/labforge.example/v1/namespaces/default/fleets/rebels', echo);
    const cr = parseManifests('apiVersion: labforge.example/v1\nkind: Fleet\nmetadata: {name: rebels}\nspec: {ships: 7}\n', 'cr.yaml');
    expect(await applyManifests(kc, cr, { deadline: Date.now() + 10_000 })).toBe(1);
    expect(api.calls('GET', '/apis/labforge.example/v1')).toHaveLength(3);
    expect(api.calls('PATCH', '/apis/labforge.example/v1/namespaces/default/fleets/rebels')).toHaveLength(1);
  });

  it('fails at once on an invalid object, naming file, document, object and the API message', async () => {
    api.on('PATCH', '/apis/apps/v1/namespaces/default/deployments/web', { status: 422, body: fixture('status-422-invalid') });
    const err = await applyManifests(kc, parseManifests(FLEET, 'manifests/fleet.yaml').slice(1, 2), { deadline: Date.now() + 10_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect(err.message).toBe(
      'applying manifests/fleet.yaml (document 3, Deployment web) failed: HTTP 422: Deployment.apps "web" is invalid: spec.template.spec.containers[0].image: Required value',
    );
    expect(api.calls('PATCH', '/apis/apps/v1/namespaces/default/deployments/web')).toHaveLength(1);
  });

  it('gives up on an unknown kind at the deadline', async () => {
    const cr = parseManifests('apiVersion: nowhere.example/v1\nkind: Ghost\nmetadata: {name: g}\n', 'ghost.yaml');
    const err = await applyManifests(kc, cr, { deadline: Date.now() + 1200 }).catch((e) => e);
    expect(err.message).toMatch(/^applying ghost\.yaml \(document 1, Ghost g\) failed: HTTP 404: the server could not find the requested resource/);
  });
});
