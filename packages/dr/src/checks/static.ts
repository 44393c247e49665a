import { lookup } from 'node:dns/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupPlan, controlPlanes, longestGapSeconds, workers } from '@groundwork/cluster';
import { execFile } from '@groundwork/kit';
import { APP_DATABASE_CLIENT_LABEL, APPS_LAYER, appDatabaseEndpoint } from '@groundwork/apps';
import { allObjects, checkPolicies, checkSchemas, formatFinding, podTemplateOf, readRenderedLayer, reaches, selectorMatches, type KubeObject, type StaticCheck, type Traffic } from '@groundwork/kube';
import { N8N_LAYER, N8N_NAMESPACE, N8N_POSTGRES } from '@groundwork/n8n';
import { drillNamespace, drillNamespaceObjects } from '../components/jobs.ts';
import { TALOS_API_PORT, s3Address } from '../components/network.ts';
import { RUNNER_CONFIG } from '../names.ts';

type Result = { problems: string[]; notes: string[] };

const runnerData = (objects: KubeObject[]) => (objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === RUNNER_CONFIG) as { data?: Record<string, string> } | undefined)?.data ?? {};

/** The rendered program itself: the bundle starts on Node 24 and the scripts parse in a POSIX shell. */
const program: StaticCheck = {
  name: 'program',
  async run({ objects }): Promise<Result> {
    const data = runnerData(objects);
    if (!data['runner.mjs']) return { problems: [], notes: [] };
    const dir = mkdtempSync(join(tmpdir(), 'gw-dr-runner-'));
    const problems: string[] = [];
    try {
      for (const [file, text] of Object.entries(data)) writeFileSync(join(dir, file), text);
      const help = execFile(process.execPath, [join(dir, 'runner.mjs'), '--help']);
      if (help.status !== 0 || !help.stdout.toString().includes('groundwork dr runner')) problems.push(`runner.mjs does not start: ${help.stderr.toString().trim().split('\n').slice(-3).join(' | ')}`);
      const scripts = Object.keys(data).filter((f) => f.endsWith('.sh'));
      for (const script of scripts) {
        const parsed = execFile('sh', ['-n', join(dir, script)]);
        if (parsed.status !== 0) problems.push(`${script}: ${parsed.stderr.toString().trim()}`);
      }
      return { problems, notes: [`runner.mjs (${Math.round((data['runner.mjs'] ?? '').length / 1024)} KiB) starts on node ${process.versions.node}; ${scripts.length} scripts parse with sh -n`] };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

function podsOf(objects: KubeObject[]): Array<{ name: string; namespace: string; labels: Record<string, string> }> {
  return objects.flatMap((o) => {
    const pod = podTemplateOf(o);
    return pod ? [{ name: `${o.kind} ${o.metadata.name}`, namespace: o.metadata.namespace!, labels: pod.labels }] : [];
  });
}

/**
 * Network policies, evaluated over this layer, the n8n layer and the apps layer as rendered: each job reaches
 * what its work needs (DNS, the bucket, the Talos API of the control planes, n8n's or its app's database) and
 * what it does not need is refused; the same for the drill's scratch namespace.
 */
const network: StaticCheck = {
  name: 'network',
  async run({ root, cluster, objects }): Promise<Result> {
    if (!cluster.config.features.dr.enabled) return { problems: [], notes: [] };
    const problems: string[] = [];
    const n8n = cluster.config.features.n8n.enabled ? readRenderedLayer(root, cluster.name, N8N_LAYER) : undefined;
    const drill = drillNamespaceObjects(cluster, { namespace: drillNamespace(cluster, 'check'), name: 'drill', at: 'latest' });
    // The apps' namespaces hold their databases and, for their volumes' archives, jobs of this layer.
    const apps = cluster.config.apps?.length ? readRenderedLayer(root, cluster.name, APPS_LAYER) : undefined;
    const all = [...objects, ...(n8n ? allObjects(n8n) : []), ...(apps ? allObjects(apps) : []), ...drill];
    const appDatabases = (cluster.config.apps ?? []).filter((a) => a.database).map((a) => ({ app: a.name, to: { pod: { namespace: a.namespace, labels: appDatabaseEndpoint(a).pods } }, port: appDatabaseEndpoint(a).port }));
    // The database pod as the n8n layer renders it (all its labels: policies may select on any of them).
    const database = n8n ? podsOf(allObjects(n8n)).find((p) => selectorMatches({ matchLabels: { ...N8N_POSTGRES.pods } }, p.labels)) : undefined;
    const postgres = { pod: { namespace: N8N_NAMESPACE, labels: database?.labels ?? { ...N8N_POSTGRES.pods } } };
    const dns = { pod: { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } } };
    const { s3 } = cluster.config.features.dr;
    const notes: string[] = [];
    // A host name is checked at the addresses it resolves to from here: a NAS on a VLAN the policy does not
    // name would be refused in the cluster while every other check passed.
    let resolved: string[] = [];
    if (s3 && !/^\d+\.\d+\.\d+\.\d+$/.test(s3Address(s3.endpoint).host)) {
      resolved = await resolveIPv4(s3Address(s3.endpoint).host);
      if (resolved.length === 0) notes.push(`${s3Address(s3.endpoint).host} does not resolve from here: the bucket path is checked for a public address only`);
    }
    let checked = 0;
    const expect = (traffic: Traffic, allowed: boolean, why: string) => {
      checked++;
      const verdict = reaches(all, traffic);
      if (verdict.allowed !== allowed) problems.push(`${why}: ${allowed ? `refused (${verdict.reason})` : 'allowed, and it should not be'}`);
    };
    for (const pod of podsOf([...objects, ...drill])) {
      const from = { pod: { namespace: pod.namespace, labels: pod.labels } };
      const isEtcd = pod.labels['app.kubernetes.io/name'] === 'etcd-snapshot';
      const isClient = pod.labels['groundwork.dev/n8n-database-client'] === 'true';
      expect({ from, to: dns, port: 53, protocol: 'UDP' }, true, `${pod.name} → DNS`);
      if (s3) {
        const { host, port } = s3Address(s3.endpoint);
        expect({ from, to: { ip: /^\d+\.\d+\.\d+\.\d+$/.test(host) ? host : '203.0.113.10' }, port }, true, `${pod.name} → the bucket (${s3.endpoint})`);
        for (const ip of resolved) expect({ from, to: { ip }, port }, true, `${pod.name} → the bucket at ${ip} (${host} resolves there; name its network in features.dr.s3.cidr if it is private)`);
      }
      expect({ from, to: { ip: '203.0.113.10' }, port: 22 }, false, `${pod.name} → the internet on port 22`);
      for (const node of controlPlanes(cluster.config)) expect({ from, to: { ip: node.ip }, port: TALOS_API_PORT }, isEtcd, `${pod.name} → Talos API of ${node.name}`);
      for (const node of workers(cluster.config).slice(0, 1)) expect({ from, to: { ip: node.ip }, port: TALOS_API_PORT }, false, `${pod.name} → Talos API of worker ${node.name}`);
      if (n8n) expect({ from, to: postgres, port: N8N_POSTGRES.port }, isClient && pod.namespace === cluster.config.features.dr.namespace, `${pod.name} → n8n's PostgreSQL`);
      for (const db of appDatabases) {
        const dumps = pod.labels[APP_DATABASE_CLIENT_LABEL] === db.app && pod.namespace === cluster.config.features.dr.namespace;
        expect({ from, to: db.to, port: db.port }, dumps, `${pod.name} → ${db.app}'s PostgreSQL`);
      }
    }
    const layers = ['dr', ...(n8n ? ['n8n'] : []), ...(apps ? ['apps'] : [])].join(', ');
    return { problems, notes: [...notes, `${checked} paths of ${podsOf([...objects, ...drill]).length} job pods checked against the network policies of ${layers}`] };
  },
};

/** The drill's objects pass the same schema and policy checks as rendered ones, though only `gw-dr drill` creates them. */
const drillObjects: StaticCheck = {
  name: 'drill',
  async run({ cluster }): Promise<Result> {
    if (!cluster.config.features.dr.enabled) return { problems: [], notes: [] };
    const objects = drillNamespaceObjects(cluster, { namespace: drillNamespace(cluster, 'check'), name: 'drill', at: 'latest' });
    const schema = await checkSchemas(objects);
    const problems = [...schema.problems, ...checkPolicies(objects).map(formatFinding)];
    return { problems, notes: [`the drill's ${objects.length} objects pass schema and policy checks`] };
  },
};

/** How far back the backups reach and how much can be lost: from the schedules and retention. */
const coverage: StaticCheck = {
  name: 'coverage',
  async run({ cluster }): Promise<Result> {
    if (!cluster.config.features.dr.enabled) return { problems: [], notes: [] };
    const { retention, s3 } = cluster.config.features.dr;
    const notes = backupPlan(cluster.config).map((p) => `${p.kind}: "${p.schedule}" (UTC), up to ${Math.round(longestGapSeconds(p.schedule) / 3600)}h of changes lost (RPO); alert after ${Math.round(p.allowedAgeSeconds / 3600)}h without a good run`);
    const depth = retention.monthly ? `${retention.monthly} months` : retention.weekly ? `${retention.weekly} weeks` : `${retention.daily} days`;
    notes.push(`retention keeps the ${retention.last} newest, ${retention.daily} daily, ${retention.weekly} weekly and ${retention.monthly} monthly backups per kind: about ${depth} back`);
    const problems: string[] = [];
    if (s3 && new URL(s3.endpoint).protocol === 'http:' && !/^\d+\.\d+\.\d+\.\d+$/.test(new URL(s3.endpoint).hostname)) {
      problems.push(`features.dr.s3.endpoint: ${s3.endpoint} is plain HTTP to a host name: use https (the backups are encrypted, the bucket's traffic would not be)`);
    }
    return { problems, notes };
  },
};

/** The IPv4 addresses a host name resolves to from this machine; none when it does not resolve in time. */
async function resolveIPv4(host: string): Promise<string[]> {
  const timeout = new Promise<never[]>((resolve) => setTimeout(() => resolve([]), 3_000).unref());
  const answer = lookup(host, { all: true, family: 4 }).then((list) => list.map((a) => a.address)).catch(() => []);
  return Promise.race([answer, timeout]);
}

export const staticChecks: StaticCheck[] = [program, network, drillObjects, coverage];
