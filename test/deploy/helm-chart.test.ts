/**
 * deploy/helm/labforge, rendered offline (chart.ts, gotemplate.ts) and every object validated
 * against the Kubernetes models (test/labs/k8s-validate.ts, as the labs' manifests are): with the
 * default values, and with three replicas, an Ingress and an external database. A deliberately
 * broken object, and values Helm would refuse, must fail, so passing means something.
 */
import { describe, expect, it } from 'vitest';
import { validateBuiltin } from '../labs/k8s-validate';
import { loadChart, renderChart, schemaProblems, mergeValues, type Rendered } from './chart';

type Obj = Record<string, unknown>;
const chart = loadChart();

/** Every object's problems, `Kind/name: problem`; an object of a kind the validator does not cover is a problem too. */
function problems(objects: Obj[]): string[] {
  return objects.flatMap((o) => {
    const id = `${String(o.kind)}/${String((o.metadata as Obj | undefined)?.name)}`;
    const found = validateBuiltin(o);
    return found === undefined ? [`${id}: not a kind the validator covers`] : found.map((p) => `${id}: ${p}`);
  });
}

const byKind = (r: Rendered, kind: string) => r.objects.filter((o) => o.kind === kind) as Array<Obj & { spec: Obj; metadata: Obj }>;
// Typed views of the one Deployment the chart makes.
interface Container {
  env: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } } }>;
  envFrom?: Array<{ secretRef: { name: string } }>;
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  startupProbe: { httpGet: { path: string } };
  securityContext: Obj;
  image: string;
}
function deployment(r: Rendered) {
  const [d] = byKind(r, 'Deployment');
  const spec = d.spec as { replicas: number; strategy?: { type: string }; template: { spec: { containers: Container[]; volumes: Obj[] } } };
  const c = spec.template.spec.containers[0];
  const env = Object.fromEntries(c.env.map((e) => [e.name, e.value ?? e.valueFrom]));
  return { spec, c, env, volumes: spec.template.spec.volumes };
}

describe('the Helm chart', () => {
  it('renders with the default values into valid objects: one replica on SQLite, probes on /healthz and /readyz', () => {
    const r = renderChart(chart);
    expect(problems(r.objects)).toEqual([]);
    expect(r.objects.map((o) => o.kind).sort()).toEqual(['Deployment', 'PersistentVolumeClaim', 'Service', 'ServiceAccount']);

    const { spec, c, env, volumes } = deployment(r);
    expect(spec.replicas).toBe(1);
    expect(spec.strategy?.type).toBe('Recreate');
    expect(c.image).toBe(`labforge/platform:${String(chart.chart.appVersion)}`);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.startupProbe.httpGet.path).toBe('/healthz');
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(env).toMatchObject({ PORT: '3000', LABFORGE_DATA_DIR: '/data', DOCKER_HOST: 'unix:///var/run/docker.sock' });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(c.envFrom).toBeUndefined();
    expect(volumes.find((v) => v.name === 'data')).toEqual({ name: 'data', persistentVolumeClaim: { claimName: 'labforge-data' } });
    expect(r.files['NOTES.txt']).toMatch(/kubectl port-forward svc\/labforge/);
  });

  it('renders three replicas behind an Ingress on an external database into valid objects', () => {
    const r = renderChart(
      chart,
      {
        replicaCount: 3,
        publicUrl: 'https://labs.example.org',
        docker: { host: 'tcp://docker-engine.labs.svc:2376', tlsSecret: 'docker-client-tls' },
        database: { existingSecret: 'labforge-db', existingSecretKey: 'url' },
        auth: { metricsToken: 'a-metrics-token-of-32-characters', existingSecret: 'labforge-extra' },
        ingress: { enabled: true, hosts: ['labs.example.org'], tls: [{ secretName: 'labs-tls', hosts: ['labs.example.org'] }] },
        env: { LABFORGE_MAX_ENVIRONMENTS: '40' },
      },
      { name: 'prod', namespace: 'labforge' },
    );
    expect(problems(r.objects)).toEqual([]);
    expect(r.objects.map((o) => o.kind).sort()).toEqual(['Deployment', 'Ingress', 'Secret', 'Service', 'ServiceAccount']);

    const { spec, c, env, volumes } = deployment(r);
    expect(spec.replicas).toBe(3);
    expect(spec.strategy).toBeUndefined(); // rolling updates: the data volume is per replica now
    expect(env.DATABASE_URL).toEqual({ secretKeyRef: { name: 'labforge-db', key: 'url' } });
    expect(env).toMatchObject({
      DOCKER_HOST: 'tcp://docker-engine.labs.svc:2376',
      DOCKER_TLS_VERIFY: '1',
      LABFORGE_PUBLIC_URL: 'https://labs.example.org',
      LABFORGE_TRUST_PROXY: '1',
      LABFORGE_MAX_ENVIRONMENTS: '40',
    });
    // Each pod tells the others where it is (terminal relays), from the downward API; POD_IP comes first.
    expect(env.POD_IP).toEqual({ fieldRef: { fieldPath: 'status.podIP' } });
    expect(env.LABFORGE_REPLICA_URL).toBe('http://$(POD_IP):3000');
    expect(c.env.findIndex((e) => e.name === 'POD_IP')).toBeLessThan(c.env.findIndex((e) => e.name === 'LABFORGE_REPLICA_URL'));
    expect(c.envFrom).toEqual([{ secretRef: { name: 'prod-labforge' } }, { secretRef: { name: 'labforge-extra' } }]);
    expect(volumes.find((v) => v.name === 'data')).toEqual({ name: 'data', emptyDir: {} });
    expect(volumes.find((v) => v.name === 'docker-tls')).toMatchObject({ secret: { secretName: 'docker-client-tls', defaultMode: 0o400 } });

    const [secret] = byKind(r, 'Secret');
    expect(secret.stringData).toEqual({ LABFORGE_METRICS_TOKEN: 'a-metrics-token-of-32-characters' });
    const [ingress] = byKind(r, 'Ingress');
    expect(ingress.metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
    });
    expect(ingress.spec).toMatchObject({
      ingressClassName: 'nginx',
      tls: [{ secretName: 'labs-tls', hosts: ['labs.example.org'] }],
      rules: [
        {
          host: 'labs.example.org',
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'prod-labforge', port: { name: 'http' } } } }] },
        },
      ],
    });
  });

  it('refuses more than one replica on the embedded database, and values outside the schema', () => {
    expect(() => renderChart(chart, { replicaCount: 2 })).toThrow(/replicaCount above 1 needs an external database/);
    expect(schemaProblems(chart, mergeValues(chart.values, { replicas: 3 }))).toEqual([expect.stringMatching(/additionalProperty.*replicas/)]);
    expect(schemaProblems(chart, mergeValues(chart.values, { replicaCount: '3' }))).toEqual([expect.stringMatching(/replicaCount must be integer/)]);
    expect(schemaProblems(chart, mergeValues(chart.values, { auth: { metricsToken: 'short' } })).length).toBeGreaterThan(0);
  });

  it('fails validation on a deliberately broken object, so passing means something', () => {
    const r = renderChart(chart);
    const broken = structuredClone(r.objects);
    const d = broken.find((o) => o.kind === 'Deployment') as { spec: { replicas: unknown; template: { spec: { containers: Obj[] } } } };
    d.spec.replicas = '3';
    d.spec.template.spec.containers[0].readinessprobe = d.spec.template.spec.containers[0].readinessProbe;
    delete d.spec.template.spec.containers[0].image;
    const svc = broken.find((o) => o.kind === 'Service') as { metadata: Obj };
    svc.metadata.name = 'Labforge_Web';
    expect(problems(broken)).toEqual([
      'Deployment/labforge: Deployment.spec.replicas: expected a number, got string "3"',
      'Deployment/labforge: Deployment.spec.template.spec.containers[0].readinessprobe: unknown field (did you mean readinessProbe?)',
      'Service/Labforge_Web: metadata.name: "Labforge_Web" is not a valid name',
    ]);
    // A name the values make invalid is caught the same way.
    expect(problems(renderChart(chart, { fullnameOverride: 'Labforge_Prod' }).objects).join('\n')).toMatch(/"Labforge_Prod" is not a valid name/);
  });
});
