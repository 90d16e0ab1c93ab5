/**
 * labs/cilium-multicast without a cluster (no Kind, no Kubernetes, no Cilium can run here):
 * - the lab lints clean and its Kind environment is the one the lab text describes;
 * - every script and shell asset passes shellcheck (missing shellcheck fails the test);
 * - every manifest validates offline (k8s-validate.ts): built-in kinds against the Kubernetes
 *   models, IsovalentMulticastGroup resources against the lab's own CRD schema;
 * - the group reconciler and the workstation helpers behave right against a simulated cluster:
 *   test/fixtures/cilium-multicast/kubectl and cilium-dbg answer the exact calls they make, in the
 *   output format of cilium-dbg's source. The real thing is for the live Kind test.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { addonValues } from '../../lib/environments/kind/addons';
import { needsMulticast, needsSocketLB } from '../../lib/environments/kind/cluster-needs';
import type { CommandRunner } from '../../lib/environments/kind/command';
import { kindConfigYaml } from '../../lib/environments/kind/config';
import { loadClusterImages, loadName } from '../../lib/environments/kind/images';
import { formatProblem, lintLab } from '../../lib/labs/lint';
import { loadLab } from '../../lib/labs/loader';
import { checkSchema, indexCrds, schemaHasPath, validateBuiltin, validateCustom } from './k8s-validate';

const LAB = path.resolve('labs/cilium-multicast');
const FAKES = path.resolve('test/fixtures/cilium-multicast');
const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

// Parsed YAML: the tests poke into it freely (any: a Kubernetes manifest's shape, checked by the asserts).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

function tmpDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(d);
  return d;
}

function yamlDocs(file: string): Obj[] {
  return parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    return d.toJS() as Obj;
  });
}

/** Every file of the lab, relative paths. */
function labFiles(): string[] {
  return (fs.readdirSync(LAB, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(LAB, f)).isFile()).sort();
}

/** The reconciler as the cluster runs it: the script inside its ConfigMap. */
function reconcilerScript(): string {
  const cm = yamlDocs(path.join(LAB, 'manifests/multicast-group-reconciler.yaml')).find((d) => d.kind === 'ConfigMap' && d.data?.['reconcile.sh']);
  if (!cm) throw new Error('no ConfigMap with reconcile.sh in multicast-group-reconciler.yaml');
  const file = path.join(tmpDir('reconciler-'), 'reconcile.sh');
  fs.writeFileSync(file, cm.data['reconcile.sh'], { mode: 0o755 });
  return file;
}

/** YAML documents written inline by scripts (`kubectl apply -f - <<'YAML'`). */
function heredocManifests(): Array<{ file: string; doc: Obj }> {
  const out: Array<{ file: string; doc: Obj }> = [];
  for (const f of labFiles()) {
    const text = fs.readFileSync(path.join(LAB, f), 'utf8');
    for (const m of text.matchAll(/<<'YAML'\n([\s\S]*?)\nYAML\n/g))
      if (/^apiVersion:/m.test(m[1])) for (const d of parseAllDocuments(m[1])) out.push({ file: f, doc: d.toJS() as Obj });
  }
  return out;
}

describe('labs/cilium-multicast: format', () => {
  it('lints without errors or warnings', async () => {
    expect((await lintLab(LAB)).map(formatProblem)).toEqual([]);
  });

  it('declares the Kind cluster the text describes', async () => {
    const { lab } = await loadLab(LAB);
    const env = lab!.track.environment;
    if (env.driver !== 'kind') throw new Error(`driver is ${env.driver}, expected kind`);
    const c = env.cluster;
    expect(c.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker', 'worker']);
    expect(c.disableDefaultCNI).toBe(true);
    expect(c.kubeProxyMode).toBe('none');
    expect(c.images[0]).toBe('labforge/k8s-workstation');
    expect(c.nodeImage).toMatch(/^kindest\/node:v1\.32\.\d+@sha256:[a-f0-9]{64}$/);
    expect(env.hosts.map((h) => [h.name, h.image])).toEqual([['workstation', 'labforge/k8s-workstation']]);

    expect(c.addons).toHaveLength(1);
    const cilium = c.addons[0];
    expect([cilium.name, cilium.chart, cilium.namespace]).toEqual(['cilium', 'cilium', 'kube-system']);
    expect(cilium.version).toBe('1.17.6'); // REFERENCE §2: reported working; later versions regressed
    expect(cilium.values).toEqual({
      ipam: { mode: 'kubernetes' },
      routingMode: 'tunnel',
      tunnelProtocol: 'vxlan',
      kubeProxyReplacement: true,
      k8sServiceHost: '${CLUSTER_NAME}-control-plane',
      k8sServicePort: 6443,
      image: { pullPolicy: 'IfNotPresent' },
      operator: { replicas: 1 },
      hubble: { relay: { enabled: true }, ui: { enabled: true } },
      extraConfig: { 'multicast-enabled': 'true' },
    });
    for (const m of c.manifests) expect(fs.existsSync(path.join(LAB, m)), m).toBe(true);
  });

  it('pins Kubernetes and every image the Cilium chart runs, and loads them into the nodes by the tags the chart uses', async () => {
    const { lab } = await loadLab(LAB);
    const env = lab!.track.environment;
    if (env.driver !== 'kind') throw new Error(`driver is ${env.driver}, expected kind`);
    const c = env.cluster;
    const cilium = c.addons[0];
    // The same node image, by digest, on every node of the generated kind config.
    const config = parse(kindConfigYaml('lf-abc', c));
    expect(config.nodes.map((n: Obj) => n.image)).toEqual([c.nodeImage, c.nodeImage, c.nodeImage]);

    // Cilium's images for the chart version installed (Hubble Relay and UI are on), each tag@digest.
    const v = cilium.version;
    const pinned = c.images.filter((i) => i.startsWith('quay.io/cilium/'));
    for (const i of pinned) expect(i).toMatch(/^[^@]+:[^@:/]+@sha256:[a-f0-9]{64}$/);
    expect(pinned.map((i) => i.split('@')[0])).toEqual([
      `quay.io/cilium/cilium:v${v}`,
      `quay.io/cilium/operator-generic:v${v}`,
      expect.stringMatching(/^quay\.io\/cilium\/cilium-envoy:v1\.33\.\d+-\d+-[0-9a-f]{40}$/),
      `quay.io/cilium/hubble-relay:v${v}`,
      'quay.io/cilium/hubble-ui:v0.13.2',
      'quay.io/cilium/hubble-ui-backend:v0.13.2',
    ]);

    // The chart is told to name them by tag (kind load keeps no registry digest) and never to pull them.
    const values = addonValues(cilium, { cluster: 'lf-abc', spec: c }) as Obj;
    const noPull = { useDigest: false, pullPolicy: 'IfNotPresent' };
    for (const image of [values.image, values.operator.image, values.envoy.image, values.hubble.relay.image, values.hubble.ui.frontend.image, values.hubble.ui.backend.image])
      expect(image).toMatchObject(noPull);

    // ...and those tags are what is loaded into the nodes, like the workstation image.
    const calls: string[] = [];
    const run: CommandRunner = async (cmd, args) => (calls.push([cmd, ...args].join(' ')), { code: 0, stdout: '', stderr: '' });
    await loadClusterImages(run, 'lf-abc', c.images, { progress: () => {} });
    expect(calls).toEqual(c.images.map((i) => `kind load docker-image ${loadName(i)} --name lf-abc`));
    expect(calls).toContain(`kind load docker-image quay.io/cilium/cilium:v${v} --name lf-abc`);
    expect(calls).toContain('kind load docker-image labforge/k8s-workstation --name lf-abc');

    // What the host must offer for it (cluster-needs.ts): Linux 5.13 for multicast, cgroup v2 for kube-proxy replacement.
    expect([needsMulticast(c), needsSocketLB(c)]).toEqual([true, true]);
  });

  it('has the six challenges of its Docker twin, with a solve script for every checked one', async () => {
    const { lab } = await loadLab(LAB);
    const twin = (await loadLab(path.resolve('labs/multicast-basics'))).lab!;
    expect(lab!.challenges.map((c) => c.type)).toEqual(twin.challenges.map((c) => c.type));
    for (const c of lab!.challenges.filter((x) => x.type === 'challenge')) {
      expect(Object.keys(c.scripts.check ?? {}), c.dir).toEqual(['workstation']);
      expect(Object.keys(c.scripts.solve ?? {}), c.dir).toEqual(['workstation']);
    }
    const exam = lab!.challenges.at(-1)!;
    expect(exam.grade?.fields.map((f) => f.expected)).toEqual([{ variable: 'SECRET_MESSAGE' }, { variable: 'HIDDEN_SENDER' }]);
    const senders = lab!.track.variables.find((v) => v.name === 'HIDDEN_SENDER')?.pick;
    const ships = yamlDocs(path.join(LAB, 'assets/ships.yaml')).map((d) => d.metadata.name);
    expect(senders?.slice().sort()).toEqual(ships.slice().sort());
  });
});

describe('labs/cilium-multicast: shellcheck', () => {
  const shellcheck = (args: string[], cwd = LAB) => spawnSync('shellcheck', args, { cwd, encoding: 'utf8' });

  it('is installed (CI installs it; a missing shellcheck must not pass silently)', () => {
    const r = shellcheck(['--version']);
    expect(r.error?.message ?? '', 'shellcheck is not installed: apt-get install shellcheck').toBe('');
    expect(r.status).toBe(0);
  });

  it('flags a real mistake (so a clean result means something)', () => {
    const dir = tmpDir('sc-');
    fs.writeFileSync(path.join(dir, 'bad'), '#!/bin/bash\nrm $1\n');
    const r = shellcheck(['bad'], dir);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('SC2086');
  });

  it('passes every script, shell asset, the reconciler and the fakes', () => {
    const scripts = labFiles().filter((f) => /(^|\/)(setup|check|solve|cleanup)-[a-z0-9-]+$/.test(f) || f.endsWith('.sh'));
    expect(scripts.length).toBeGreaterThanOrEqual(15);
    const all = [...scripts.map((f) => path.join(LAB, f)), reconcilerScript(), path.join(FAKES, 'kubectl'), path.join(FAKES, 'cilium-dbg')];
    const r = shellcheck(['-x', '--format=gcc', ...all]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('labs/cilium-multicast: manifests', () => {
  const crdDocs = yamlDocs(path.join(LAB, 'manifests/isovalentmulticastgroup-crd.yaml'));
  const crds = indexCrds(crdDocs);
  const files = ['manifests/isovalentmulticastgroup-crd.yaml', 'manifests/multicast-group-reconciler.yaml', 'assets/bases.yaml', 'assets/ships.yaml', 'assets/multicast-groups.yaml'];
  const all = [
    ...files.flatMap((f) => yamlDocs(path.join(LAB, f)).map((doc) => ({ file: f, doc }))),
    ...heredocManifests(),
  ];

  it('finds every manifest of the lab, including those inside scripts', () => {
    const kinds = all.map((m) => `${m.file}:${m.doc.kind}`);
    expect(kinds.filter((k) => k.endsWith(':Pod'))).toHaveLength(5);
    expect(kinds.filter((k) => k.endsWith(':Deployment'))).toHaveLength(3);
    expect(kinds.filter((k) => k.endsWith(':IsovalentMulticastGroup'))).toHaveLength(4); // three groups + the exam's
    expect(kinds).toContain('06-exam/solve-workstation:IsovalentMulticastGroup');
    // Every .yaml of the lab is either validated here or the learner's answers file.
    const yamls = labFiles().filter((f) => f.endsWith('.yaml'));
    expect(yamls.filter((f) => !files.includes(f))).toEqual(['assets/answers.yaml']);
  });

  it('validates every object against the Kubernetes models or its CRD', () => {
    const problems: string[] = [];
    for (const { file, doc } of all) {
      const found = validateBuiltin(doc) ?? validateCustom(doc, crds);
      if (found === undefined) problems.push(`${file}: ${doc.apiVersion} ${doc.kind}: no schema to validate it with`);
      else problems.push(...found.map((p) => `${file}: ${doc.kind}/${doc.metadata?.name}: ${p}`));
    }
    expect(problems).toEqual([]);
  });

  it('ships a structural CRD whose printer columns exist', () => {
    const crd = crdDocs[0];
    expect(crd.metadata.name).toBe('isovalentmulticastgroups.isovalent.com');
    expect([crd.spec.group, crd.spec.scope, crd.spec.names.kind]).toEqual(['isovalent.com', 'Namespaced', 'IsovalentMulticastGroup']);
    const v = crd.spec.versions[0];
    expect(v.name).toBe('v1alpha1');
    expect(checkSchema(v.schema.openAPIV3Schema)).toEqual([]);
    for (const col of v.additionalPrinterColumns.filter((c: Obj) => !c.jsonPath.startsWith('.metadata')))
      expect(schemaHasPath(v.schema.openAPIV3Schema, col.jsonPath), col.jsonPath).toBe(true);
  });

  it('runs only images loaded into the nodes, without pulling', async () => {
    const { lab } = await loadLab(LAB);
    const env = lab!.track.environment;
    const loaded = env.driver === 'kind' ? env.cluster.images : [];
    const containers = all.flatMap(({ doc }) => {
      const spec = doc.kind === 'Pod' ? doc.spec : doc.spec?.template?.spec;
      return spec ? spec.containers.map((c: Obj) => ({ at: `${doc.kind}/${doc.metadata.name}`, ...c })) : [];
    });
    expect(containers.length).toBe(8);
    for (const c of containers) {
      expect(loaded, c.at).toContain(c.image);
      expect(c.imagePullPolicy, c.at).toBe('IfNotPresent');
    }
    // The same goes for the pods the text and the scripts start with kubectl run.
    let runs = 0;
    for (const f of labFiles()) {
      const text = fs.readFileSync(path.join(LAB, f), 'utf8');
      // Commands (at the start of a line or after a pipe) with their continuation lines; not
      // `kubectl run` mentioned in prose or in a FAIL message.
      for (const m of text.matchAll(/(?:^|\| )\s*kubectl run (?:[^\n]*\\\n)*[^\n]*/gm)) {
        const image = /--image=(\S+)/.exec(m[0])?.[1];
        expect(image, `${f}: kubectl run without --image: ${m[0]}`).toBeDefined();
        expect(loaded, `${f}: kubectl run --image=${image}`).toContain(image);
        expect(m[0], `${f}: kubectl run without --image-pull-policy=IfNotPresent`).toContain('--image-pull-policy=IfNotPresent');
        runs++;
      }
    }
    expect(runs).toBeGreaterThanOrEqual(4); // sub and sender (challenge 2), sub and exam-listener (solves)
  });
});

describe('offline validator (k8s-validate.ts)', () => {
  const crds = indexCrds(yamlDocs(path.join(LAB, 'manifests/isovalentmulticastgroup-crd.yaml')));
  const pod = () => yamlDocs(path.join(LAB, 'assets/ships.yaml'))[0];
  const deploy = () => yamlDocs(path.join(LAB, 'assets/bases.yaml'))[0];
  const group = () => yamlDocs(path.join(LAB, 'assets/multicast-groups.yaml'))[0];

  it('rejects unknown fields, wrong types and missing required fields in built-in kinds', () => {
    const p = pod();
    delete p.spec.containers[0].imagePullPolicy;
    p.spec.containers[0].imagePulPolicy = 'IfNotPresent';
    p.spec.terminationGracePeriodSeconds = 'one';
    delete p.spec.topologySpreadConstraints[0].maxSkew;
    expect(validateBuiltin(p)?.sort()).toEqual([
      'Pod.spec.containers[0].imagePulPolicy: unknown field',
      'Pod.spec.terminationGracePeriodSeconds: expected a number, got string "one"',
      'Pod.spec.topologySpreadConstraints[0].maxSkew: required',
    ]);
  });

  it('checks what the API server adds: selectors, names, labels, file modes, group of the kind', () => {
    const d = deploy();
    d.spec.selector.matchLabels.app = 'rebel-bass';
    d.metadata.labels.org = 'not a label value!';
    d.spec.template.spec.containers[0].name = 'Radio';
    d.spec.template.spec.volumes = [{ name: 'x', configMap: { name: 'c', defaultMode: 555 } }];
    expect(validateBuiltin(d)).toEqual([
      'metadata.labels.org: "not a label value!" is not a valid label value',
      'spec.selector.matchLabels.app: the pod template\'s labels do not match the selector',
      'containers[0].name: "Radio" is not a valid container name',
      'volumes[0]: defaultMode 555 is outside 0..511 (0777); YAML 1.1 reads 0555 as octal, YAML 1.2 as decimal',
    ]);
    expect(validateBuiltin({ ...deploy(), apiVersion: 'v1' })).toEqual(['apiVersion: Deployment belongs to the group "apps", not "core"']);
    expect(validateBuiltin({ apiVersion: 'v1', kind: 'Gadget' })).toBeUndefined();
  });

  it('accepts the groups of the lab and rejects what the CRD forbids', () => {
    expect(validateCustom(group(), crds)).toEqual([]);
    const bad = group();
    bad.spec.groupAddrs = ['10.0.0.1', '225.0.0.10', '225.0.0.10', '225.0.0.300'];
    bad.spec.groupAddr = ['225.0.0.1'];
    expect(validateCustom(bad, crds)).toEqual([
      expect.stringContaining('IsovalentMulticastGroup.spec.groupAddrs[2]: duplicate "225.0.0.10" in a set'),
      expect.stringContaining('IsovalentMulticastGroup.spec.groupAddrs[0]: "10.0.0.1" does not match'),
      expect.stringContaining('IsovalentMulticastGroup.spec.groupAddrs[3]: "225.0.0.300" does not match'),
      'IsovalentMulticastGroup.spec.groupAddrs[3]: "225.0.0.300" is not a valid ipv4',
      'IsovalentMulticastGroup.spec.groupAddr: unknown field',
    ]);
    const empty = group();
    empty.spec = {};
    expect(validateCustom(empty, crds)).toEqual(['IsovalentMulticastGroup.spec.groupAddrs: required']);
    expect(validateCustom({ ...group(), apiVersion: 'isovalent.com/v1' }, crds)).toBeUndefined();
  });

  it('reports schema keywords it does not understand instead of skipping them', () => {
    expect(checkSchema({ type: 'object', properties: { a: { type: 'string', oneOf: [] }, b: { properties: {} } } })).toEqual([
      'openAPIV3Schema.properties.a.oneOf: keyword not supported by this validator',
      'openAPIV3Schema.properties.b: no type (structural schemas type every node)',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// The reconciler and the workstation helpers, against the simulated cluster.

interface Node {
  name: string;
  cip: string;
  iip: string;
}
const NODES: Node[] = [
  { name: 'lf-abc-control-plane', cip: '10.244.0.10', iip: '172.18.0.2' },
  { name: 'lf-abc-worker', cip: '10.244.1.20', iip: '172.18.0.3' },
  { name: 'lf-abc-worker2', cip: '10.244.2.30', iip: '172.18.0.4' },
];
const AGENT_OF: Record<string, string> = { 'lf-abc-control-plane': 'cilium-aaaaa', 'lf-abc-worker': 'cilium-bbbbb', 'lf-abc-worker2': 'cilium-ccccc' };
const LAB_GROUPS = ['225.0.0.10', '225.0.0.11', '225.0.0.12', '225.0.0.20', '225.0.0.21', '225.0.0.22', '225.0.0.42'];

class FakeCluster {
  readonly dir = tmpDir('fake-cluster-');
  readonly script = reconcilerScript();

  constructor(nodes: Node[] = NODES, crs: Obj[] = yamlDocs(path.join(LAB, 'assets/multicast-groups.yaml'))) {
    for (const d of ['agents', 'down', 'nomap', 'after-list', 'rollout-fail']) fs.mkdirSync(path.join(this.dir, d));
    fs.writeFileSync(path.join(this.dir, 'owned'), '');
    this.setMulticastEnabled('true');
    this.setKernel('6.1.0-18-amd64');
    this.setNodes(nodes);
    this.setCrs(crs);
    this.setPods([]);
  }

  setNodes(nodes: Node[]): void {
    const items = nodes.map((n) => ({
      metadata: { name: n.name },
      spec: { addresses: [{ type: 'InternalIP', ip: n.iip }, { type: 'CiliumInternalIP', ip: n.cip }] },
    }));
    this.write('nodes.json', { items });
    const agents = nodes.map((n) => ({
      metadata: { name: AGENT_OF[n.name] ?? `cilium-${n.name}` },
      spec: { nodeName: n.name },
      status: { phase: 'Running', containerStatuses: [{ name: 'cilium-agent', ready: true }] },
    }));
    this.write('agents.json', { items: agents });
    for (const a of agents) if (!fs.existsSync(this.agentFile(a.metadata.name))) fs.writeFileSync(this.agentFile(a.metadata.name), '');
  }

  setCrs(crs: Obj[]): void {
    this.write('crs.json', { items: crs });
  }

  setPods(pods: Array<{ name: string; node: string; ip: string; ns?: string }>): void {
    const items = pods.map((p) => ({ metadata: { namespace: p.ns ?? 'default', name: p.name }, spec: { nodeName: p.node }, status: { phase: 'Running', podIP: p.ip } }));
    this.write('pods.json', { items });
  }

  crs(): Obj[] {
    return JSON.parse(fs.readFileSync(path.join(this.dir, 'crs.json'), 'utf8')).items;
  }

  agentFile(pod: string): string {
    return path.join(this.dir, 'agents', pod);
  }

  /** One agent's maps: "G <group>" and "S <group> <address> Local|Remote", sorted. */
  maps(pod: string): string[] {
    return fs.readFileSync(this.agentFile(pod), 'utf8').split('\n').filter(Boolean).sort();
  }

  addMapLine(pod: string, line: string): void {
    fs.appendFileSync(this.agentFile(pod), `${line}\n`);
  }

  owned(): string {
    return fs.readFileSync(path.join(this.dir, 'owned'), 'utf8');
  }

  calls(): string[] {
    const f = path.join(this.dir, 'calls.log');
    return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
  }

  clearCalls(): void {
    fs.rmSync(path.join(this.dir, 'calls.log'), { force: true });
  }

  /** The cilium-config ConfigMap's multicast-enabled (undefined: not set). */
  setMulticastEnabled(value: string | undefined): void {
    this.write('cilium-config.json', { data: value === undefined ? {} : { 'multicast-enabled': value } });
  }

  /** The kernel every node reports (kind nodes share the host's). */
  setKernel(release: string): void {
    fs.writeFileSync(path.join(this.dir, 'kernel'), release);
  }

  /** The agent has no multicast map: cilium-dbg answers "multicast not enabled". */
  noMap(pod: string): void {
    fs.writeFileSync(path.join(this.dir, 'nomap', pod), '');
  }

  /** Map lines another writer adds right after the agent's next `subscriber list` (between a read and a write). */
  afterList(pod: string, lines: string[]): void {
    fs.writeFileSync(path.join(this.dir, 'after-list', pod), lines.map((l) => `${l}\n`).join(''));
  }

  /** The fake cilium-dbg in one agent, called directly. */
  dbg(pod: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(path.join(FAKES, 'cilium-dbg'), ['bpf', 'multicast', ...args], { env: { ...this.env(), FAKE_AGENT: pod }, encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  down(pod: string, isDown: boolean): void {
    const f = path.join(this.dir, 'down', pod);
    if (isDown) fs.writeFileSync(f, '');
    else fs.rmSync(f, { force: true });
  }

  private env() {
    return { ...process.env, PATH: `${FAKES}:${process.env.PATH}`, FAKE_CLUSTER: this.dir };
  }

  reconcile(script = this.script): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('bash', [script, '--once'], { env: this.env(), encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /**
   * The track's setup-workstation, run for real against this cluster. Its absolute paths (the
   * helpers it sources, the files it writes) are moved into a scratch root; nothing else changes.
   */
  setup(): { status: number | null; stdout: string; stderr: string; root: string } {
    const root = tmpDir('setup-root-');
    const moved: Array<[string, string]> = [
      ['/usr/local/lib/yavin/lib.sh', path.join(LAB, 'assets/yavin-lib.sh')],
      ['/var/lib/yavin', path.join(root, 'var/lib/yavin')],
      ['/root/.bashrc', path.join(root, 'root/.bashrc')],
    ];
    let text = fs.readFileSync(path.join(LAB, 'track_scripts/setup-workstation'), 'utf8');
    // Any other absolute path it touched would escape the scratch root (the kubeconfig is only named in a message).
    const used = new Set(text.replace(/^\s*#.*$/gm, '').match(/(?<![\w.$-])\/(?:root|var|usr|etc)\/[^\s'"]*/g));
    expect([...used].sort()).toEqual([...moved.map(([from]) => from), '/root/.kube/config'].sort());
    for (const [from, to] of moved) text = text.split(from).join(to);
    fs.mkdirSync(path.join(root, 'root'));
    const file = path.join(root, 'setup-workstation');
    fs.writeFileSync(file, text, { mode: 0o755 });
    const r = spawnSync('bash', [file], { env: this.env(), encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, root };
  }

  /** Runs bash with the workstation helpers sourced. */
  lib(code: string): string {
    const src = `source ${JSON.stringify(path.join(LAB, 'assets/yavin-lib.sh'))}\n${code}`;
    const r = spawnSync('bash', ['-c', src], { env: this.env(), encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`bash exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  }

  private write(name: string, value: unknown): void {
    fs.writeFileSync(path.join(this.dir, name), JSON.stringify(value));
  }
}

/** What an agent on `node` should hold for `groups`: each group, with every other node as a remote subscriber. */
function expectedMaps(node: string, groups: string[], nodes: Node[] = NODES, extra: string[] = []): string[] {
  const others = nodes.filter((n) => n.name !== node);
  return [...groups.flatMap((g) => [`G ${g}`, ...others.map((n) => `S ${g} ${n.cip} Remote`)]), ...extra].sort();
}

// Each pass starts dozens of small processes: give a busy machine room.
describe('the group reconciler (simulated cluster)', { timeout: 120_000 }, () => {
  it('programs every declared group into every agent, with the other nodes as remote subscribers', () => {
    const c = new FakeCluster();
    c.addMapLine('cilium-bbbbb', 'S 225.0.0.11 10.244.1.55 Local'); // a pod that joined: never touched
    const r = c.reconcile();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const n of NODES) {
      const extra = n.name === 'lf-abc-worker' ? ['S 225.0.0.11 10.244.1.55 Local'] : [];
      expect(c.maps(AGENT_OF[n.name])).toEqual(expectedMaps(n.name, LAB_GROUPS, NODES, extra));
    }
    // CiliumInternalIPs, never the nodes' InternalIPs (that is Enterprise's way).
    expect(fs.readFileSync(c.agentFile('cilium-aaaaa'), 'utf8')).not.toContain('172.18.');
    expect(c.owned()).toBe(LAB_GROUPS.join(' '));
    expect(c.crs().map((cr) => [cr.metadata.name, cr.status])).toEqual([
      ['empire', { programmed: '3/3', message: '' }],
      ['alliance', { programmed: '3/3', message: '' }],
      ['the-force', { programmed: '3/3', message: '' }],
    ]);
  });

  it('only reads when nothing changed: one exec per agent, no writes', () => {
    const c = new FakeCluster();
    expect(c.reconcile().status).toBe(0);
    c.clearCalls();
    expect(c.reconcile().status).toBe(0);
    const calls = c.calls();
    expect(calls.filter((l) => l.includes(' exec '))).toEqual(
      Object.values(AGENT_OF).map((p) => `-n kube-system exec ${p} -c cilium-agent -- cilium-dbg bpf multicast subscriber list all`),
    );
    expect(calls.filter((l) => l.includes('patch'))).toEqual([]);
  });

  it('removes the groups of a deleted resource, but never a group added by hand', () => {
    const c = new FakeCluster();
    expect(c.reconcile().status).toBe(0);
    c.addMapLine('cilium-aaaaa', 'G 225.0.0.99'); // cilium multicast add, by an operator
    c.setCrs(c.crs().filter((cr) => cr.metadata.name !== 'the-force'));
    expect(c.reconcile().status).toBe(0);
    const left = LAB_GROUPS.filter((g) => g !== '225.0.0.42');
    expect(c.maps('cilium-aaaaa')).toEqual(expectedMaps('lf-abc-control-plane', left, NODES, ['G 225.0.0.99']));
    expect(c.maps('cilium-ccccc')).toEqual(expectedMaps('lf-abc-worker2', left));
    expect(c.owned()).toBe(left.join(' '));
  });

  it('follows the nodes: a new node gets every group, a removed one stops being a subscriber', () => {
    const c = new FakeCluster();
    expect(c.reconcile().status).toBe(0);
    const grown = [...NODES, { name: 'lf-abc-worker3', cip: '10.244.3.40', iip: '172.18.0.5' }];
    c.setNodes(grown);
    expect(c.reconcile().status).toBe(0);
    expect(c.maps('cilium-lf-abc-worker3')).toEqual(expectedMaps('lf-abc-worker3', LAB_GROUPS, grown));
    expect(c.maps('cilium-aaaaa')).toEqual(expectedMaps('lf-abc-control-plane', LAB_GROUPS, grown));

    const shrunk = NODES.filter((n) => n.name !== 'lf-abc-worker2');
    c.setNodes(shrunk);
    expect(c.reconcile().status).toBe(0);
    expect(c.maps('cilium-aaaaa')).toEqual(expectedMaps('lf-abc-control-plane', LAB_GROUPS, shrunk));
  });

  it('reports an agent that does not answer in the status, and catches up later', () => {
    const c = new FakeCluster();
    c.down('cilium-bbbbb', true);
    const r = c.reconcile();
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('cilium-bbbbb (lf-abc-worker): cannot read its multicast maps');
    expect(c.crs()[0].status).toEqual({ programmed: '2/3', message: 'not programmed yet: cilium-bbbbb' });
    expect(c.maps('cilium-bbbbb')).toEqual([]);
    c.down('cilium-bbbbb', false);
    expect(c.reconcile().status).toBe(0);
    expect(c.maps('cilium-bbbbb')).toEqual(expectedMaps('lf-abc-worker', LAB_GROUPS));
    expect(c.crs()[0].status).toEqual({ programmed: '3/3', message: '' });
  });

  it('passes nothing but IPv4 multicast addresses to the agents', () => {
    const marker = path.join(os.tmpdir(), `reconciler-injection-${process.pid}`);
    const c = new FakeCluster(NODES, [
      { metadata: { namespace: 'default', name: 'odd' }, spec: { groupAddrs: ['10.0.0.1', `225.0.0.1; touch ${marker}`, '225.0.0.60'] } },
    ]);
    const r = c.reconcile();
    expect(r.status).toBe(0);
    expect(fs.existsSync(marker)).toBe(false);
    expect(r.stdout).toContain('ignoring "10.0.0.1": not an IPv4 multicast address');
    expect(c.maps('cilium-ccccc')).toEqual(expectedMaps('lf-abc-worker2', ['225.0.0.60']));
  });
});

describe('the fake cilium-dbg refuses what the real maps refuse (UpdateNoExist)', () => {
  it('fails a second add of a group or of a subscriber address, and an add to a missing group', () => {
    const c = new FakeCluster();
    const pod = 'cilium-aaaaa';
    expect(c.dbg(pod, 'group', 'add', '225.0.0.10').status).toBe(0);
    expect(c.dbg(pod, 'group', 'add', '225.0.0.10')).toMatchObject({
      status: 1,
      stderr: 'Error: Error adding multicast group: failed to create new multicast group entry: update: key already exists\n',
    });
    expect(c.dbg(pod, 'subscriber', 'add', '225.0.0.10', '10.244.1.20').status).toBe(0);
    expect(c.dbg(pod, 'subscriber', 'add', '225.0.0.10', '10.244.1.20')).toMatchObject({
      status: 1,
      stderr: 'Error: Failed to add subscriber 10.244.1.20 to multicast group 225.0.0.10: failed to insert multicast subscriber: update: key already exists\n',
    });
    // The key is the address: a pod that joined with it blocks a remote subscriber with it too.
    c.addMapLine(pod, 'S 225.0.0.10 10.244.0.55 Local');
    expect(c.dbg(pod, 'subscriber', 'add', '225.0.0.10', '10.244.0.55').status).toBe(1);
    expect(c.dbg(pod, 'subscriber', 'add', '225.0.0.99', '10.244.1.20').stderr).toContain('multicast group 225.0.0.99 does not exist');
    expect(c.dbg(pod, 'group', 'delete', '225.0.0.99').stderr).toContain('key does not exist');
    expect(c.maps(pod)).toEqual(['G 225.0.0.10', 'S 225.0.0.10 10.244.0.55 Local', 'S 225.0.0.10 10.244.1.20 Remote']);
  });

  it('answers "multicast not enabled" for an agent without the map', () => {
    const c = new FakeCluster();
    c.noMap('cilium-bbbbb');
    expect(c.dbg('cilium-bbbbb', 'group', 'list')).toMatchObject({ status: 1, stderr: 'Error: failed to get multicast bpf map: multicast not enabled\n' });
    expect(c.dbg('cilium-aaaaa', 'group', 'list')).toMatchObject({ status: 0, stdout: 'Group Address\n' });
  });
});

describe('the group reconciler is idempotent against the strict maps (simulated cluster)', { timeout: 120_000 }, () => {
  /** Another writer (an operator's `cilium multicast add`) got some of the same entries in between the reconciler's read and its writes. */
  const race = (c: FakeCluster) => {
    c.afterList('cilium-aaaaa', ['G 225.0.0.10', 'S 225.0.0.10 10.244.1.20 Remote']);
    c.afterList('cilium-ccccc', ['G 225.0.0.42']);
  };

  it('converges when its adds meet entries that appeared after it read the maps, and a second run only reads', () => {
    const c = new FakeCluster();
    race(c);
    const r = c.reconcile();
    expect(r.stdout).not.toContain('some changes failed');
    expect(r.status).toBe(0);
    for (const n of NODES) expect(c.maps(AGENT_OF[n.name])).toEqual(expectedMaps(n.name, LAB_GROUPS));
    expect(c.crs().map((cr) => cr.status.programmed)).toEqual(['3/3', '3/3', '3/3']);

    c.clearCalls();
    expect(c.reconcile().status).toBe(0);
    expect(c.calls().filter((l) => / exec .* -- sh -c /.test(l) || l.includes('patch'))).toEqual([]);
    for (const n of NODES) expect(c.maps(AGENT_OF[n.name])).toEqual(expectedMaps(n.name, LAB_GROUPS));
  });

  it('would fail that pass with a plain "cilium-dbg $op || rc=1" (so the test above means something)', () => {
    const c = new FakeCluster();
    race(c);
    const text = fs.readFileSync(c.script, 'utf8');
    const naive = text.replace(/APPLY='rc=0\n[\s\S]*?exit \$rc'/, `APPLY='rc=0; for op in "$@"; do cilium-dbg bpf multicast $op || rc=1; done; exit $rc'`);
    expect(naive).not.toBe(text);
    const file = path.join(tmpDir('naive-'), 'reconcile.sh');
    fs.writeFileSync(file, naive);
    const r = c.reconcile(file);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('cilium-aaaaa (lf-abc-control-plane): some changes failed');
  });

  it('takes a delete of what is already gone as done', () => {
    const c = new FakeCluster();
    expect(c.reconcile().status).toBe(0);
    // A resource is gone; its group also goes from one agent by other means after the pass read
    // the maps and before it writes, and one remote subscriber from another.
    c.setCrs(c.crs().filter((cr) => cr.metadata.name !== 'the-force'));
    c.setNodes(NODES.slice(0, 2));
    c.afterList('cilium-bbbbb', ['-G 225.0.0.42', '-S 225.0.0.10 10.244.2.30 Remote']);
    const r = c.reconcile();
    expect(r.stdout).not.toContain('some changes failed');
    expect(r.status).toBe(0);
    const left = LAB_GROUPS.filter((g) => g !== '225.0.0.42');
    for (const n of NODES.slice(0, 2)) expect(c.maps(AGENT_OF[n.name])).toEqual(expectedMaps(n.name, left, NODES.slice(0, 2)));
  });
});

describe('track setup: every agent must really have its multicast map (simulated cluster)', { timeout: 120_000 }, () => {
  const groupLists = (c: FakeCluster) => c.calls().filter((l) => l.endsWith('-- cilium-dbg bpf multicast group list'));

  it('passes when every agent has the map, and sets up the shell', () => {
    const c = new FakeCluster();
    const r = c.setup();
    expect(r.stdout).not.toContain('FAIL');
    expect(r.status).toBe(0);
    expect(groupLists(c)).toEqual(Object.values(AGENT_OF).map((p) => `-n kube-system exec ${p} -c cilium-agent -- cilium-dbg bpf multicast group list`));
    expect(fs.readFileSync(path.join(r.root, 'root/.bashrc'), 'utf8')).toContain('# yavin prompt');
    expect(fs.statSync(path.join(r.root, 'var/lib/yavin')).isDirectory()).toBe(true);
  });

  it('fails at once, saying the kernel is too old, when the agents turned multicast off on Linux 5.12', () => {
    const c = new FakeCluster();
    c.setKernel('5.12.19-051219-generic');
    for (const pod of Object.values(AGENT_OF)) c.noMap(pod);
    const r = c.setup();
    expect(r.status).toBe(1);
    const fail = r.stdout.split('\n').find((l) => l.startsWith('FAIL:'));
    expect(fail).toBe(
      'FAIL: Cilium multicast does not work in every agent, so this lab cannot run on this cluster (lab problem: tell your instructor): ' +
        'lf-abc-control-plane (cilium-aaaaa): the node runs Linux 5.12.19-051219-generic, and Cilium turns multicast off below 5.13 ' +
        '(the agent logs "Disabled support for BPF Multicast due to missing kernel support")',
    );
    expect(r.stdout).toContain('lf-abc-worker2 (cilium-ccccc): the node runs Linux 5.12.19-051219-generic');
    expect(groupLists(c)).toHaveLength(3); // a lasting cause: no retries
    expect(fs.existsSync(path.join(r.root, 'root/.bashrc'))).toBe(false);
  });

  it('names the setting when multicast-enabled is off, and the agent when only it lacks the map on 5.13', () => {
    const off = new FakeCluster();
    off.setMulticastEnabled(undefined);
    for (const pod of Object.values(AGENT_OF)) off.noMap(pod);
    expect(off.setup().stdout).toContain('lf-abc-control-plane (cilium-aaaaa): multicast-enabled is "not set" in the cilium-config ConfigMap');

    const one = new FakeCluster();
    one.setKernel('5.13.0-52-generic');
    one.noMap('cilium-bbbbb');
    const r = one.setup();
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      'lf-abc-worker (cilium-bbbbb): multicast-enabled is true but the agent runs without it (kubectl -n kube-system logs cilium-bbbbb -c cilium-agent | grep -i multicast says why)',
    );
    expect(r.stdout).not.toContain('cilium-aaaaa');
  });

  it('still fails plainly when the agents never become ready', () => {
    const c = new FakeCluster();
    fs.writeFileSync(path.join(c.dir, 'rollout-fail', 'daemonset-cilium'), '');
    const r = c.setup();
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('FAIL: The Cilium agents did not become ready within 5 minutes (lab problem).');
    expect(groupLists(c)).toEqual([]);
  });
});

describe('the workstation helpers, yavin-lib.sh (simulated cluster)', { timeout: 120_000 }, () => {
  it('reads subscribers the way the reconciler does', () => {
    const parser = (text: string) => /parse_subscribers\(\) \{\n([\s\S]*?)\n\}/.exec(text)?.[1];
    const lib = parser(fs.readFileSync(path.join(LAB, 'assets/yavin-lib.sh'), 'utf8'));
    expect(lib).toBeTruthy();
    expect(parser(fs.readFileSync(reconcilerScript(), 'utf8'))).toBe(lib);
  });

  it('finds missing groups, local subscribers and pods by address', () => {
    const c = new FakeCluster();
    c.setPods([
      { name: 'sub', node: 'lf-abc-worker', ip: '10.244.1.55' },
      { name: 'luke', node: 'lf-abc-worker2', ip: '10.244.2.7' },
      { name: 'listener', node: 'lf-abc-worker2', ip: '10.244.2.8', ns: 'rebels' },
    ]);
    expect(c.lib('missing_groups "${LAB_GROUPS[@]}"').trim().split('\n')).toEqual(LAB_GROUPS);
    expect(c.reconcile().status).toBe(0);
    c.addMapLine('cilium-bbbbb', 'S 225.0.0.11 10.244.1.55 Local');
    c.addMapLine('cilium-ccccc', 'S 225.0.0.11 10.244.2.8 Local');
    // One bash for all the questions (process starts are the cost here): "name: answer" lines.
    const answers = c.lib(`
      ask() { local name=$1; shift; printf '%s: %s\\n' "$name" "$("$@" | paste -sd, -)"; }
      yes_no() { if "$@"; then echo yes; else echo no; fi; }
      ask missing missing_groups "\${LAB_GROUPS[@]}" 225.0.0.50
      ask sub-11 yes_no is_local_subscriber sub 225.0.0.11
      ask luke-11 yes_no is_local_subscriber luke 225.0.0.11
      ask sub-12 yes_no is_local_subscriber sub 225.0.0.12
      ask ghost-11 yes_no is_local_subscriber ghost 225.0.0.11
      ask locals local_subscribers_of 225.0.0.11
      ask by-ip pod_by_ip 10.244.2.8
      ask agents cilium_agents
      kernels() { local k; for k in 5.12.19-generic 5.13.0 6.1.0-18-amd64 4.19.0 weird; do yes_no kernel_at_least "$k" 5 13; done; }
      ask kernels kernels
    `);
    expect(answers.trim().split('\n')).toEqual([
      'missing: 225.0.0.50',
      'sub-11: yes',
      'luke-11: no',
      'sub-12: no',
      'ghost-11: no',
      'locals: 10.244.1.55 lf-abc-worker,10.244.2.8 lf-abc-worker2',
      'by-ip: rebels/listener',
      `agents: ${NODES.map((n) => `${AGENT_OF[n.name]} ${n.name}`).join(',')}`,
      'kernels: no,yes,yes,no,no',
    ]);
  });
});
