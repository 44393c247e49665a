import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleCluster, exampleVariant, unclaimedNamespaces } from '@groundwork/testkit';
import type { LoadedCluster } from '@groundwork/cluster';
import { checkPolicies, checkSchemas, formatFinding, renderComponents, type KubeObject } from '@groundwork/kube';
import { applicableSecrets } from '@groundwork/secrets-sops';
import { components } from './platform.ts';
import { GRACE_SECONDS, SHUTDOWN_SECONDS } from './config/env.ts';
import { postgresSettings } from './config/postgres.ts';
import { IMAGES, N8N_VERSION } from './versions.ts';
import secrets from './secrets.ts';

const repo = join(import.meta.dirname, '..', '..', '..');
const WITH_N8N = ['pi-fleet', 'metal-ha', 'docker-dev'];

function render(cluster: LoadedCluster): KubeObject[] {
  return renderComponents('n8n', cluster, components(cluster)).flatMap((c) => c.objects);
}
const find = (objects: KubeObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as any;
const pod = (objects: KubeObject[], kind: string, name: string) => find(objects, kind, name).spec.template.spec;
const env = (objects: KubeObject[], name: string): Record<string, unknown> =>
  Object.fromEntries((pod(objects, 'Deployment', name).containers[0].env as Array<{ name: string; value?: string; valueFrom?: unknown }>).map((e) => [e.name, e.value ?? e.valueFrom]));


describe('n8n for the example clusters', () => {
  for (const name of WITH_N8N) {
    it(`${name}: every object passes the schema and policy checks`, async () => {
      const objects = render(exampleCluster(name));
      expect((await checkSchemas(objects)).problems).toEqual([]);
      expect(checkPolicies(objects).map(formatFinding)).toEqual([]);
    });
  }

  it('renders nothing where the cluster file leaves n8n off', () => {
    expect(components(exampleCluster('proxmox-ha'))).toEqual([]);
  });

  it('reads exactly the Secret keys the layer declares (so secrets-sops keeps them encrypted)', () => {
    const cluster = exampleCluster('pi-fleet');
    const declared = new Set(applicableSecrets([secrets], cluster.config).flatMap((s) => Object.keys(s.keys).map((k) => `${s.name}/${k}`)));
    const refs = JSON.stringify(render(cluster)).match(/"secretKeyRef":\{"name":"[^"]+","key":"[^"]+"\}/g) ?? [];
    const used = new Set(refs.map((r) => JSON.parse(`{${r}}`).secretKeyRef).map((r: { name: string; key: string }) => `${r.name}/${r.key}`));
    // Every key used is declared, and every declared key is used.
    expect([...used].sort()).toEqual([...declared].sort());
  });
});

describe('the n8n processes', () => {
  const pi = render(exampleCluster('pi-fleet'));

  it('all run the one pinned image and share the encryption key, database and queue settings', () => {
    const images = ['n8n', 'n8n-worker', 'n8n-webhook'].map((d) => pod(pi, 'Deployment', d).containers[0].image);
    expect(new Set(images)).toEqual(new Set([IMAGES.n8n]));
    expect(IMAGES.n8n.endsWith(`:${N8N_VERSION}`)).toBe(true);
    const [main, worker, webhook] = ['n8n', 'n8n-worker', 'n8n-webhook'].map((d) => env(pi, d));
    for (const key of ['N8N_ENCRYPTION_KEY', 'DB_POSTGRESDB_PASSWORD', 'QUEUE_BULL_REDIS_PASSWORD', 'EXECUTIONS_MODE', 'GENERIC_TIMEZONE', 'N8N_WEBHOOK_URL']) {
      expect(worker![key], key).toEqual(main![key]);
      expect(webhook![key], key).toEqual(main![key]);
    }
    expect(main!.N8N_ENCRYPTION_KEY).toEqual({ secretKeyRef: { name: 'n8n-encryption-key', key: 'key' } });
    expect(main).toMatchObject({ EXECUTIONS_MODE: 'queue', GENERIC_TIMEZONE: 'Europe/Berlin', TZ: 'Europe/Berlin', N8N_EDITOR_BASE_URL: 'https://n8n.pi.home.arpa/', N8N_PROXY_HOPS: '1', OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true', N8N_METRICS: 'true' });
  });

  it('takes worker count, concurrency, webhook processors and pruning from the cluster file', () => {
    expect(find(pi, 'Deployment', 'n8n-worker').spec.replicas).toBe(2);
    expect(pod(pi, 'Deployment', 'n8n-worker').containers[0].args).toEqual(['worker', '--concurrency=5']);
    expect(find(pi, 'Deployment', 'n8n-webhook').spec.replicas).toBe(1);
    expect(env(pi, 'n8n')).toMatchObject({ EXECUTIONS_DATA_MAX_AGE: '336', EXECUTIONS_DATA_PRUNE_MAX_COUNT: '10000', N8N_DISABLE_PRODUCTION_MAIN_PROCESS: 'true' });
    const tuned = render(exampleVariant('pi-fleet', (t) => t.replace('    concurrency: 5\n', '    concurrency: 8\n    executions: { maxAge: 3d, maxCount: 2000 }\n')));
    expect(pod(tuned, 'Deployment', 'n8n-worker').containers[0].args).toEqual(['worker', '--concurrency=8']);
    expect(env(tuned, 'n8n')).toMatchObject({ EXECUTIONS_DATA_MAX_AGE: '72', EXECUTIONS_DATA_PRUNE_MAX_COUNT: '2000' });
  });

  it('lets main take production webhooks only when there are no webhook processors', () => {
    const none = render(exampleVariant('pi-fleet', (t) => t.replace('webhookProcessors: 1', 'webhookProcessors: 0')));
    expect(find(none, 'Deployment', 'n8n-webhook')).toBeUndefined();
    expect(env(none, 'n8n').N8N_DISABLE_PRODUCTION_MAIN_PROCESS).toBeUndefined();
    expect(find(none, 'Ingress', 'n8n').spec.rules[0].http.paths.map((p: { path: string }) => p.path)).toEqual(['/']);
  });

  it('routes what n8n serves from its webhook processors to them and everything else to main, on the cluster file\'s host', () => {
    const rule = find(pi, 'Ingress', 'n8n').spec.rules[0];
    expect(rule.host).toBe('n8n.pi.home.arpa');
    expect(rule.http.paths.map((p: { path: string; backend: { service: { name: string } } }) => [p.path, p.backend.service.name])).toEqual([
      ['/webhook/', 'n8n-webhook'],
      ['/webhook-waiting/', 'n8n-webhook'],
      ['/webhook-waiting-slack', 'n8n-webhook'],
      ['/webhook-waiting-telegram', 'n8n-webhook'],
      ['/form/', 'n8n-webhook'],
      ['/form-waiting/', 'n8n-webhook'],
      ['/mcp/', 'n8n-webhook'],
      ['/', 'n8n'],
    ]);
  });

  it('probes the documented health endpoints and gives n8n longer to stop than its own timeout', () => {
    for (const name of ['n8n', 'n8n-worker', 'n8n-webhook']) {
      const spec = pod(pi, 'Deployment', name);
      const c = spec.containers[0];
      expect([c.startupProbe.httpGet.path, c.readinessProbe.httpGet.path, c.livenessProbe.httpGet.path]).toEqual(['/healthz', '/healthz/readiness', '/healthz']);
      expect(spec.terminationGracePeriodSeconds).toBe(GRACE_SECONDS);
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 });
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(find(pi, 'Deployment', name).spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '5678' });
    }
    expect(GRACE_SECONDS).toBeGreaterThan(SHUTDOWN_SECONDS);
    expect(env(pi, 'n8n-worker')).toMatchObject({ QUEUE_HEALTH_CHECK_ACTIVE: 'true', QUEUE_HEALTH_CHECK_PORT: '5678', N8N_GRACEFUL_SHUTDOWN_TIMEOUT: String(SHUTDOWN_SECONDS) });
  });

  it('keeps main to one replica, replaced not rolled, and spreads and budgets workers when there are several', () => {
    expect(find(pi, 'Deployment', 'n8n').spec).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } });
    expect(pod(pi, 'Deployment', 'n8n-worker').topologySpreadConstraints[0].topologyKey).toBe('kubernetes.io/hostname');
    expect(find(pi, 'PodDisruptionBudget', 'n8n-worker').spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'n8n', 'app.kubernetes.io/instance': 'n8n-worker' });
    expect(find(pi, 'PodDisruptionBudget', 'n8n')).toBeUndefined();
    // The worker container's name is what the dashboard's log panel selects.
    expect(pod(pi, 'Deployment', 'n8n-worker').containers[0].name).toBe('worker');
  });
});

describe('network policies', () => {
  const pi = render(exampleCluster('pi-fleet'));
  const policy = (objects: KubeObject[], name: string) => find(objects, 'NetworkPolicy', name).spec;

  it('lets PostgreSQL and Valkey be reached by n8n only (and PostgreSQL by the dr layer\'s database clients), and reach nothing', () => {
    expect(policy(pi, 'postgres').ingress[0].from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'n8n' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'n8n' } } },
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'dr' } }, podSelector: { matchLabels: { 'groundwork.dev/n8n-database-client': 'true' } } },
    ]);
    expect(policy(pi, 'postgres').egress).toEqual([]);
    expect(policy(pi, 'valkey').ingress[0].from).toHaveLength(1);
    const withoutDr = render(exampleVariant('pi-fleet', (t) => t.replace('  dr:\n    enabled: true\n', '  dr:\n    enabled: false\n')));
    expect(policy(withoutDr, 'postgres').ingress[0].from).toHaveLength(1);
  });

  it('lets n8n reach the database, the queue, the internet on the allowed ports and the LAN addresses listed', () => {
    const egress = policy(pi, 'n8n').egress;
    expect(egress.map((r: { ports: Array<{ port: number }> }) => r.ports.map((p) => p.port))).toEqual([[5432], [6379], [80, 443], [80, 443]]);
    expect(egress[2].to[0].ipBlock.except).toContain('192.168.0.0/16');
    expect(egress[3].to).toEqual([{ ipBlock: { cidr: '192.168.1.50/32' } }]);
    const closed = render(exampleVariant('pi-fleet', (t) => t.replace('egress: { cidrs: [192.168.1.50/32] }', 'egress: { internet: false }')));
    expect(policy(closed, 'n8n').egress).toHaveLength(2);
  });

  it('admits Traefik and Prometheus to n8n, and the nodes (API server proxy) for live verify', () => {
    const from = policy(pi, 'n8n').ingress[0].from;
    expect(from.map((p: any) => p.namespaceSelector?.matchLabels['kubernetes.io/metadata.name'] ?? p.ipBlock.cidr)).toEqual(['traefik', 'observability', '192.168.1.0/24']);
  });
});

describe('PostgreSQL and Valkey', () => {
  const pi = render(exampleCluster('pi-fleet'));

  it('creates the n8n role once, on the first start, with the password from its Secret', () => {
    const script = find(pi, 'ConfigMap', 'postgres-init').data['create-n8n-role.sh'];
    expect(script).toContain("PASSWORD :'password'");
    expect(script).toContain('NOSUPERUSER NOCREATEDB NOCREATEROLE');
    const container = pod(pi, 'StatefulSet', 'postgres').containers[0];
    expect(container.env.find((e: { name: string }) => e.name === 'N8N_DB_PASSWORD').valueFrom).toEqual({ secretKeyRef: { name: 'postgres', key: 'n8n-password' } });
    expect(container.lifecycle.preStop.exec.command).toContain('--mode=fast');
  });

  it('sizes max_connections for every n8n process\'s pool', () => {
    const big = exampleVariant('metal-ha', (t) => t.replace('workers: 3', 'workers: 20'));
    expect(Number(postgresSettings(exampleCluster('pi-fleet')).max_connections)).toBe(40);
    expect(Number(postgresSettings(big).max_connections)).toBeGreaterThanOrEqual(2 * (1 + 20 + 1) + 15);
  });

  it('keeps the queue\'s password out of its files and every queued job in memory (noeviction)', () => {
    const config = find(pi, 'ConfigMap', 'valkey-config').data['valkey.conf'];
    expect(config).toContain('maxmemory-policy noeviction');
    expect(config).toContain('appendonly yes');
    expect(config).not.toMatch(/requirepass/);
    expect(pod(pi, 'StatefulSet', 'valkey').containers[0].command).toEqual(['valkey-server', '/etc/valkey/valkey.conf', '--requirepass', '$(VALKEY_PASSWORD)']);
  });
});

describe('versions', () => {
  it('pins every image where Renovate finds it, and keeps n8n on the 2.x line the end-to-end test can install', () => {
    const renovate = JSON.parse(readFileSync(join(repo, 'renovate.json'), 'utf8')) as { customManagers: Array<{ matchStrings: string[] }>; packageRules: Array<{ matchPackageNames: string[]; allowedVersions?: string }> };
    const text = readFileSync(join(import.meta.dirname, 'versions.ts'), 'utf8');
    const found = [...text.matchAll(new RegExp(renovate.customManagers[0]!.matchStrings[0]!, 'g'))].map((m) => ({ name: m.groups!.depName!, tag: m.groups!.currentValue! }));
    expect(found.map((f) => `${f.name}:${f.tag}`).sort()).toEqual(Object.values(IMAGES).sort());
    const n8n = found.find((f) => f.name.endsWith('/n8n'))!;
    expect(renovate.packageRules.find((r) => r.matchPackageNames.includes(n8n.name))?.allowedVersions).toBe('<3');
    expect(n8n.tag).toMatch(/^2\./);
  });
});

describe('namespaces the n8n layer claims', () => {
  it('are all listed in the cluster file\'s CLAIMED_NAMESPACES, so no feature can be pointed at one of them', () => {
    expect(unclaimedNamespaces((cluster) => renderComponents('n8n', cluster, components(cluster)).flatMap((c) => c.objects))).toEqual({});
  });
});
