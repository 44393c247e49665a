import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { isolatedEnv, runIn, scratchDir, scratchWorkspace, type ScratchWorkspace } from '@groundwork/testkit';
import { loadCluster } from '@groundwork/cluster';
import { allObjects, checkPolicies, podSecurityViolations, podTemplateOf, reaches, renderComponents, type KubeObject } from '@groundwork/kube';
import { main as secrets } from '../../secrets-sops/src/secrets-cli.ts';
import { main as generate } from './generate.ts';
import { main as verify } from './verify.ts';
import { components } from './platform.ts';

const CLUSTER = `apiVersion: groundwork.dev/v1alpha1
kind: Cluster
name: lab
domain: lab.home.arpa
versions: { talos: v1.13.9, kubernetes: 1.36.3 }
network:
  nodeCidr: 192.168.1.0/24
  gateway: 192.168.1.1
  loadBalancerPool: { start: 192.168.1.40, stop: 192.168.1.49 }
nodes:
  - { name: cp-1, ip: 192.168.1.21, role: controlplane, platform: rpi4 }
  - { name: w-1, ip: 192.168.1.22, role: worker, platform: rpi4 }
features:
  ingress: { loadBalancerIp: 192.168.1.40 }
  observability: { enabled: true }
sops:
  age: []
`;

const WEB = `image: docker.io/library/caddy:2.11.9-alpine
port: 8080
host: web
health: { path: /healthz }
metrics: { port: 9180 }
replicas: 2
`;

const NOTES = `image: docker.io/example/notes:1.4.2
port: 3000
host: notes.example.org
database: { engine: postgres, size: 1Gi }
volumes: { uploads: { path: /uploads, size: 1Gi, backup: false } }
env: { SESSION_SECRET: { secret: session }, URL: https://notes.example.org/ }
secrets: { session: { generate: hex, bytes: 32 } }
egress: { internet: true }
`;

const QUOTA = `apiVersion: v1
kind: ResourceQuota
metadata: { name: quota, namespace: web }
spec: { hard: { requests.cpu: "1" } }
`;

/** A plain Deployment as found on the internet: no limits, no probes, root allowed. */
const LOOSE = `apiVersion: apps/v1
kind: Deployment
metadata: { name: loose, namespace: web }
spec:
  replicas: 1
  selector: { matchLabels: { app: loose } }
  template:
    metadata: { labels: { app: loose } }
    spec:
      containers: [{ name: loose, image: docker.io/library/nginx:1.29.3 }]
`;

describe('apps: clusters/<name>/apps/<app>.yaml and manifests/ as a layer', () => {
  let ws: ScratchWorkspace;
  let env: NodeJS.ProcessEnv;
  const run = (main: (argv: string[]) => Promise<number>, argv: string[]) => runIn(ws.root, main, argv, env);
  const rendered = (): KubeObject[] => {
    const cluster = loadCluster(ws.root, 'lab');
    return allObjects({ components: renderComponents('apps', cluster, components(cluster)) });
  };
  const find = (objects: KubeObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name)!;

  const editCluster = (edit: (text: string) => string) => ws.write('clusters/lab/cluster.yaml', edit(ws.read('clusters/lab/cluster.yaml')));

  beforeEach(async () => {
    ws = scratchWorkspace({ lab: CLUSTER }, {
      apps: `export { default } from ${JSON.stringify(join(import.meta.dirname, 'secrets.ts'))};\n`,
      dr: `export { default } from ${JSON.stringify(join(import.meta.dirname, '..', '..', 'dr', 'src', 'secrets.ts'))};\n`,
    });
    env = isolatedEnv(scratchDir('gw-home-'));
    expect((await run(secrets, ['init', '--cluster=lab', '--x25519'])).code).toBe(0);
    // dr (which dumps the apps' databases) needs the cluster's age recipient, which init has just added.
    editCluster((text) => text.replace('features:\n', 'features:\n  dr: { enabled: true, volume: { size: 10Gi } }\n'));
    ws.write('clusters/lab/apps/web.yaml', WEB);
    ws.write('clusters/lab/apps/notes.yaml', NOTES);
  });

  it('names the file and the field of every mistake in an app file, all at once, and loads nothing', () => {
    ws.write('clusters/lab/apps/bad.yaml', 'image: docker.io/library/nginx:latest\nreplicas: 3\nvolumes: { data: { path: /data, size: 1Gi } }\nenv: { TOKEN: { secret: token } }\nreplica: 2\n');
    ws.write('clusters/lab/apps/Kube-System.yaml', WEB);
    ws.write('clusters/lab/apps/traefik.yaml', WEB);
    expect(() => loadCluster(ws.root, 'lab')).toThrow(
      expect.objectContaining({
        problems: expect.arrayContaining([
          'clusters/lab/apps/bad.yaml: image: must pin a version, not latest (got "docker.io/library/nginx:latest")',
          'clusters/lab/apps/bad.yaml: replica: unknown field (did you mean replicas?)',
          'clusters/lab/apps/Kube-System.yaml: the file name is the app\'s name: a lowercase DNS label ending in .yaml, such as whoami.yaml',
          'clusters/lab/apps/traefik.yaml: (file name): the namespace traefik belongs to platform-core (Ingress); give the app a namespace of its own',
        ]),
      }),
    );
    ws.write('clusters/lab/apps/bad.yaml', 'image: docker.io/library/nginx:1.29.3\nreplicas: 3\nvolumes: { data: { path: /data, size: 1Gi } }\nenv: { TOKEN: { secret: token } }\n');
    ws.write('clusters/lab/apps/traefik.yaml', `namespace: web\n${WEB}`);
    ws.write('clusters/lab/apps/grafana.yaml', 'image: docker.io/grafana/grafana:12.3.0\nport: 3000\nhost: grafana\n');
    ws.write('clusters/lab/apps/files.yaml', 'image: docker.io/library/nginx:1.29.3\nvolumes: { data: { path: /data, size: 1Gi } }\n');
    expect(() => loadCluster(ws.root, 'lab')).toThrow(
      expect.objectContaining({
        problems: expect.arrayContaining([
          'clusters/lab/apps/bad.yaml: replicas: must be 1 with volumes: a volume is ReadWriteOnce, one pod holds it',
          'clusters/lab/apps/bad.yaml: env.TOKEN.secret: names "token", which `secrets` does not declare',
          'clusters/lab/apps/web.yaml: (file name): the namespace web is also traefik\'s; one app per namespace (each gets its own default-deny)',
          'clusters/lab/apps/grafana.yaml: host: grafana.lab.home.arpa is already Grafana\'s; give the app a host of its own',
          'clusters/lab/apps/files.yaml: volumes.data.backup: dr archives volumes to its S3 bucket only (features.dr.s3; its volume target lives in the dr namespace, out of the app\'s reach); add a bucket or set backup: false',
        ]),
      }),
    );
  });

  it('renders restricted pods, a budget and spreading for replicas, an Ingress, scraping, and a database only the app and its dump job reach', () => {
    const objects = rendered();
    expect(checkPolicies(objects, {}).map((f) => `${f.object}: ${f.message}`)).toEqual([]);
    for (const workload of objects.filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind))) {
      expect(podSecurityViolations(podTemplateOf(workload)!, 'restricted')).toEqual([]);
    }
    const web = find(objects, 'Deployment', 'web');
    expect(find(objects, 'PodDisruptionBudget', 'web')).toBeDefined();
    expect(JSON.stringify(web.spec)).toContain('topologySpreadConstraints');
    expect(podTemplateOf(web)!.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9180' });
    expect(find(objects, 'Ingress', 'web').spec).toMatchObject({ rules: [{ host: 'web.lab.home.arpa' }] });
    expect(find(objects, 'Ingress', 'notes').spec).toMatchObject({ rules: [{ host: 'notes.example.org' }] });
    // One pod holds the ReadWriteOnce volume: the old pod stops before the new one starts.
    expect(find(objects, 'Deployment', 'notes').spec).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } });
    const env = JSON.stringify(podTemplateOf(find(objects, 'Deployment', 'notes'))!.spec.containers);
    expect(env).toContain('postgres://notes:$(PGPASSWORD)@notes-postgres.notes.svc:5432/notes?sslmode=disable');
    expect(env).toContain('"secretKeyRef":{"name":"notes","key":"session"}');

    const pod = (namespace: string, labels: Record<string, string>) => ({ pod: { namespace, labels } });
    const notesPod = pod('notes', { 'app.kubernetes.io/name': 'notes', 'app.kubernetes.io/instance': 'notes' });
    const database = pod('notes', { 'app.kubernetes.io/name': 'postgres', 'app.kubernetes.io/instance': 'notes-postgres' });
    const traefik = pod('traefik', { 'app.kubernetes.io/name': 'traefik' });
    const dumpJob = pod('dr', { 'groundwork.dev/app-database-client': 'notes' });
    const webPod = pod('web', { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/instance': 'web' });
    const allowed = (from: ReturnType<typeof pod>, to: ReturnType<typeof pod>, port: number) => reaches(objects, { from, to, port, protocol: 'TCP' }).allowed;
    expect(allowed(notesPod, database, 5432)).toBe(true);
    expect(allowed(dumpJob, database, 5432)).toBe(true);
    expect(allowed(webPod, database, 5432)).toBe(false);
    expect(allowed(traefik, notesPod, 3000)).toBe(true);
    expect(allowed(traefik, database, 5432)).toBe(false);
  });

  it('keeps app values in SOPS files: generate waits for them, gw-secrets creates them, verify passes', async () => {
    const before = await run(generate, ['--cluster=lab']);
    expect(before.code).toBe(0);
    expect(before.stderr).toContain('not provided yet (apply refuses until it is): clusters/lab/secrets/notes/notes.sops.yaml: session');
    expect((await run(secrets, ['create', '--cluster=lab'])).code).toBe(0);
    expect(ws.read('clusters/lab/secrets/notes/notes-postgres.sops.yaml')).toContain('ENC[');
    expect(ws.read('clusters/lab/secrets/dr/notes-database.sops.yaml')).toContain('sops:');
    expect((await run(generate, ['--cluster=lab'])).code).toBe(0);
    const checked = await run(verify, ['--cluster=lab']);
    expect(checked.stderr).toContain('pass schema and policy checks');
    expect(checked.code).toBe(0);
  });

  it('applies plain manifests through the same checks: a policy finding stops verify, or only warns when the cluster file says so', async () => {
    expect((await run(secrets, ['create', '--cluster=lab'])).code).toBe(0);
    ws.write('clusters/lab/manifests/web/quota.yaml', QUOTA);
    ws.write('clusters/lab/manifests/web/extra/loose.yaml', LOOSE);
    expect((await run(generate, ['--cluster=lab'])).code).toBe(0);
    expect(find(rendered(), 'ResourceQuota', 'quota')).toBeDefined();
    const stopped = await run(verify, ['--cluster=lab']);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain('Deployment web/loose: spec.template.spec.containers[loose].resources.limits.memory: missing [resources]');

    editCluster((text) => text.replace('features:\n', 'features:\n  manifests: { policy: warn }\n'));
    expect((await run(generate, ['--cluster=lab'])).code).toBe(0);
    const warned = await run(verify, ['--cluster=lab']);
    expect(warned.stderr).toContain('warning (features.manifests.policy: warn): Deployment web/loose');
    expect(warned.code).toBe(0);

    ws.write('clusters/lab/manifests/web/broken.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n---\nkind: [\n');
    const broken = await run(generate, ['--cluster=lab']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('clusters/lab/manifests/web/broken.yaml (document 1): metadata.namespace: required for a ConfigMap');
    expect(broken.stderr).toMatch(/clusters\/lab\/manifests\/web\/broken\.yaml:\d+: /);
  });
});
