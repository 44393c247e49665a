import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPolicies, checkSchemas, formatFinding, podTemplateOf, renderComponents, allObjects, containersOf, type KubeObject } from '@groundwork/kube';
import { N8N_IMAGES } from '@groundwork/n8n';
import { exampleCluster, exampleVariant, scratchDir } from '@groundwork/testkit';
import type { LoadedCluster } from '@groundwork/cluster';
import { components as appsComponents } from '@groundwork/apps';
import { components } from './platform.ts';
import { staticChecks } from './checks/static.ts';
import { drillNamespace, drillNamespaceObjects, n8nRestoreJob, postgresRestoreJob } from './components/jobs.ts';
import { IMAGES } from './versions.ts';

const render = (cluster: LoadedCluster): KubeObject[] => allObjects({ components: renderComponents('dr', cluster, components(cluster)) });
const find = (objects: KubeObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as KubeObject & { spec: any; data?: Record<string, string> };
const pod = (objects: KubeObject[], name: string) => podTemplateOf(find(objects, 'CronJob', name))!;

describe('the dr layer\'s objects', () => {
  const pi = render(exampleCluster('pi-fleet'));
  const metal = render(exampleCluster('metal-ha'));

  it('renders nothing without dr, only the etcd backup without n8n and apps, a dump job per app database and the archives of app volumes', () => {
    expect(components(exampleCluster('docker-dev'))).toEqual([]);
    const etcdOnly = components(exampleVariant('pi-fleet', (t) => t.replace('  n8n:\n    enabled: true\n', '  n8n:\n    enabled: false\n')));
    expect(etcdOnly.map((c) => c.name)).toEqual(['network', 'runner', 'etcd']);
    expect(components(exampleCluster('pi-fleet')).map((c) => c.name)).toEqual(['network', 'runner', 'etcd', 'postgres', 'n8n', 'rss-db-backup', 'vault-volumes']);
  });

  it('schedules in UTC, never overlaps runs, stops hung ones, and keeps a short history', () => {
    for (const [name, schedule, deadline] of [['etcd-snapshot', '0 */6 * * *', 1800], ['postgres-backup', '30 1 * * *', 3600], ['n8n-export', '45 1 * * *', 1800]] as const) {
      const spec = find(pi, 'CronJob', name).spec;
      expect(spec).toMatchObject({ schedule, timeZone: 'Etc/UTC', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 3600, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 3 });
      expect(spec.jobTemplate.spec).toMatchObject({ activeDeadlineSeconds: deadline, backoffLimit: 1 });
      expect(spec.jobTemplate.spec.template.spec.restartPolicy).toBe('Never');
    }
  });

  it('runs each step in its tool\'s image, as that image\'s user, with pinned images from one place', () => {
    const images = (name: string) => containersOf(pod(pi, name)).map((c) => [c.container.name, c.container.image, (c.container.securityContext as { runAsUser: number }).runAsUser]);
    expect(images('etcd-snapshot')).toEqual([['snapshot', IMAGES.runner, 1000]]);
    expect(images('postgres-backup')).toEqual([['dump', N8N_IMAGES.postgres, 999], ['store', IMAGES.runner, 1000]]);
    expect(images('n8n-export')).toEqual([['export', N8N_IMAGES.n8n, 1000], ['store', IMAGES.runner, 1000]]);
    expect(IMAGES.runner).toMatch(/^docker\.io\/library\/node:24\.\d+\.\d+-bookworm-slim$/);
  });

  it('gives the Talos API credentials to the etcd job alone, and the database-client label to the database jobs alone', () => {
    expect(find(pi, 'ServiceAccount', 'etcd-snapshot')).toMatchObject({ apiVersion: 'talos.dev/v1alpha1', spec: { roles: ['os:etcd:backup'] } });
    const volumes = (name: string) => (pod(pi, name).spec.volumes as Array<{ name: string; secret?: { secretName: string } }>).filter((v) => v.secret).map((v) => v.secret!.secretName);
    expect(volumes('etcd-snapshot')).toEqual(['etcd-snapshot']);
    expect(volumes('postgres-backup')).toEqual([]);
    const client = (name: string) => pod(pi, name).labels['groundwork.dev/n8n-database-client'];
    expect([client('etcd-snapshot'), client('postgres-backup'), client('n8n-export')]).toEqual([undefined, 'true', 'true']);
  });

  it('ships the program, the scripts and the cluster\'s recipients (public keys only), byte for byte the same each time', () => {
    const runner = find(pi, 'ConfigMap', 'dr-runner');
    expect(Object.keys(runner.data!).sort()).toEqual(['n8n-export.sh', 'n8n-import.sh', 'postgres-drill.sh', 'postgres-dump.sh', 'postgres-restore.sh', 'recipients.txt', 'runner.mjs']);
    expect(runner.data!['recipients.txt']).toBe(`${exampleCluster('pi-fleet').config.sops.age.join('\n')}\n`);
    expect(runner.data!['runner.mjs']).toMatch(/^\/\/ groundwork dr runner: built by packages\/dr\/src\/bundle\.ts/);
    expect(runner.data!['runner.mjs']).toMatch(/Bundled packages: .*age-encryption@[\d.]+ \(BSD-3-Clause\)/);
    // The jobs get the public half only: the cluster key itself is nowhere in what is rendered.
    const identity = readFileSync(join(exampleCluster('pi-fleet').dir, 'age.key'), 'utf8').split('\n').find((l) => l && !l.startsWith('#'))!;
    expect(identity.length).toBeGreaterThan(60);
    expect(JSON.stringify(pi)).not.toContain(identity);
    expect(JSON.stringify(render(exampleCluster('pi-fleet')))).toBe(JSON.stringify(pi));
  });

  it('takes the bucket\'s key from its Secret, and a volume only where the cluster file asks for one', () => {
    const env = (containersOf(pod(pi, 'postgres-backup'))[1]!.container.env as Array<{ name: string; value?: string; valueFrom?: unknown }>);
    expect(env.find((e) => e.name === 'AWS_SECRET_ACCESS_KEY')?.valueFrom).toEqual({ secretKeyRef: { name: 'backup-s3', key: 'secret-access-key' } });
    expect(env.find((e) => e.name === 'DR_S3_ENDPOINT')?.value).toBe('https://s3.eu-central-003.backblazeb2.com');
    expect(env.find((e) => e.name === 'DR_RETENTION')?.value).toBe('last=4,daily=7,weekly=4,monthly=6');
    expect(env.find((e) => e.name === 'DR_VOLUME')).toBeUndefined();
    expect(find(pi, 'PersistentVolumeClaim', 'backups')).toBeUndefined();
    expect(find(metal, 'PersistentVolumeClaim', 'backups').spec.resources.requests.storage).toBe('50Gi');
    expect(pod(metal, 'etcd-snapshot').spec.volumes).toContainEqual({ name: 'backups', persistentVolumeClaim: { claimName: 'backups' } });
  });

  it('lets the jobs reach the bucket at its address, or the internet and the LAN for a host name, on its port only', () => {
    const bucket = (objects: KubeObject[]) => find(objects, 'NetworkPolicy', 'backup-bucket').spec.egress;
    expect(bucket(metal)).toEqual([{ to: [{ ipBlock: { cidr: '10.20.0.5/32' } }], ports: [{ protocol: 'TCP', port: 9000 }] }]);
    expect(bucket(pi)[0].to).toEqual([expect.objectContaining({ ipBlock: expect.objectContaining({ cidr: '0.0.0.0/0' }) }), { ipBlock: { cidr: '192.168.1.0/24' } }]);
    expect(bucket(pi)[0].ports).toEqual([{ protocol: 'TCP', port: 443 }]);
    expect(find(metal, 'NetworkPolicy', 'talos-api').spec.egress[0].to).toEqual(['10.20.0.11', '10.20.0.12', '10.20.0.13'].map((ip) => ({ ipBlock: { cidr: `${ip}/32` } })));
  });

  it('lets only the dump job of an app with a database reach it: no database policy for an app with volumes only', () => {
    const policies = render(exampleCluster('pi-fleet')).filter((o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === 'dr').map((o) => o.metadata.name);
    expect(policies).toContain('rss-database');
    expect(policies).not.toContain('vault-database');
  });

  it('passes the schema and policy checks, and so do the drill and restore Jobs built at run time', async () => {
    for (const cluster of [exampleCluster('pi-fleet'), exampleCluster('metal-ha')]) {
      const run = { namespace: drillNamespace(cluster, '20261130t010000'), name: 'drill', at: 'latest' };
      const onDemand = [...drillNamespaceObjects(cluster, run), postgresRestoreJob(cluster, { ...run, namespace: 'dr', name: 'postgres-restore-x' }), n8nRestoreJob(cluster, { ...run, namespace: 'dr', name: 'n8n-restore-x' })];
      const objects = [...render(cluster), ...onDemand];
      expect((await checkSchemas(objects)).problems).toEqual([]);
      // The apps layer renders the namespaces where the volumes' archive jobs run.
      const appNamespaces = allObjects({ components: renderComponents('apps', cluster, appsComponents(cluster)) }).filter((o) => o.kind === 'Namespace');
      const levels = new Map(appNamespaces.map((ns) => [ns.metadata.name, 'restricted' as const]));
      expect(appNamespaces.every((ns) => ns.metadata.labels?.['pod-security.kubernetes.io/enforce'] === 'restricted')).toBe(true);
      expect(checkPolicies(objects, { namespaces: levels }).map(formatFinding)).toEqual([]);
    }
    expect(drillNamespace(exampleCluster('pi-fleet'), '20261130t010000')).toBe('dr-drill-20261130t010000');
  });
});

describe('a bucket on a private network the node network does not cover', () => {
  const repo = join(import.meta.dirname, '..', '..', '..');
  const withEndpoint = (s3: string) => exampleVariant('metal-ha', (t) => t.replace('s3: { endpoint: http://10.20.0.5:9000, bucket: metal-ha-backups, prefix: groundwork }', s3));
  const check = async (cluster: LoadedCluster) => {
    const objects = renderComponents('dr', cluster, components(cluster)).flatMap((c) => c.objects);
    return staticChecks.find((c) => c.name === 'network')!.run({ root: repo, cluster, objects });
  };

  it('is found by verify at the address its host name resolves to, and allowed once the cluster file names its network', async () => {
    // localhost resolves to 127.0.0.1 here: a private address no policy of the dr namespace allows.
    const blocked = await check(withEndpoint('s3: { endpoint: "https://localhost:9000", bucket: metal-ha-backups }'));
    expect(blocked.problems.filter((p) => p.includes('the bucket at 127.0.0.1')).length).toBeGreaterThan(0);
    expect(blocked.problems[0]).toMatch(/→ the bucket at 127\.0\.0\.1 \(localhost resolves there; name its network in features\.dr\.s3\.cidr if it is private\): refused/);
    const named = await check(withEndpoint('s3: { endpoint: "https://localhost:9000", bucket: metal-ha-backups, cidr: 127.0.0.0/8 }'));
    expect(named.problems).toEqual([]);
  });

  it('is told in the runner ConfigMap and environment which CA to trust, and a missing CA file is named', () => {
    const cluster = withEndpoint('s3: { endpoint: "https://nas.lan:9000", bucket: metal-ha-backups, caFile: dr/s3-ca.pem }');
    expect(() => components(cluster)).toThrowError(/features\.dr\.s3\.caFile: dr\/s3-ca\.pem does not exist/);
    const dir = scratchDir('gw-dr-cafile-');
    mkdirSync(join(dir, 'dr'));
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    writeFileSync(join(dir, 'dr', 's3-ca.pem'), pem);
    const objects = renderComponents('dr', { ...cluster, dir }, components({ ...cluster, dir })).flatMap((c) => c.objects);
    const runner = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'dr-runner') ?? objects.find((o) => o.kind === 'ConfigMap' && (o.data as Record<string, string>)['runner.mjs']);
    expect((runner!.data as Record<string, string>)['s3-ca.pem']).toBe(pem);
    const envs = objects.flatMap((o) => { const t = podTemplateOf(o); return t ? containersOf(t) : []; }).flatMap((c) => (c.container.env ?? []) as Array<{ name: string; value?: string }>);
    expect(envs.filter((e) => e.name === 'DR_S3_CA_FILE').map((e) => e.value)).toContain('/opt/dr/s3-ca.pem');
  });
});
