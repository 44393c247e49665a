import { z } from 'zod';
import { cidrv4, dnsLabel, dnsName, enabled, volumeSize } from './schema.ts';

/**
 * An app of the user's, clusters/<name>/apps/<app>.yaml: what it runs and what it needs, nothing about how
 * Kubernetes spells it. The apps layer turns it into restricted pods behind default-deny, an Ingress, probes,
 * budgets, scraping and SOPS Secrets; dr backs up its database. Strict like the cluster file: a typo is an error.
 */

const port = z.int().min(1).max(65535);
const httpPath = z.string().regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, 'must be a URL path such as /healthz');
const absolutePath = z
  .string()
  .regex(/^\/[A-Za-z0-9._/-]*$/, 'must be an absolute path such as /data')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ..');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name (letters, digits, _)');
export const APP_SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const secretKey = z.string().regex(APP_SECRET_KEY, 'must be a Secret key (letters, digits, ".", "_", "-")');
const cpu = z.string().regex(/^(\d+m|\d+(\.\d+)?)$/, 'must be CPU such as 50m or 0.5');
const memory = z.string().regex(/^\d+(Mi|Gi)$/, 'must be memory such as 64Mi or 1Gi');

/** A registry, a repository and a tag (not latest) or a digest: the same rule as the platform's own pins. */
const pinnedImage = z
  .string()
  .regex(
    /^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+(:[A-Za-z0-9._-]+)?(@sha256:[a-f0-9]{64})?$/,
    'must be an image with its registry, such as docker.io/traefik/whoami:v1.11.0',
  )
  .refine((image) => /@sha256:/.test(image) || /:[A-Za-z0-9._-]+$/.test(image.slice(image.lastIndexOf('/'))), 'must pin a tag or a digest')
  .refine((image) => !/:latest(@|$)/.test(image), 'must pin a version, not latest');

const secretValue = z.union([
  z.strictObject({ generate: z.literal('password'), length: z.int().min(16).max(128).default(32) }),
  z.strictObject({ generate: z.enum(['hex', 'base64']), bytes: z.int().min(16).max(128) }),
  z.strictObject({ provided: z.string().min(1).describe('Where a person gets the value (gw-secrets create asks for it).') }),
]);

export const AppSchema = z.strictObject({
  description: z.string().optional(),
  image: pinnedImage.describe('The image, pinned: registry/repository:tag or @sha256:digest.'),
  namespace: dnsLabel.optional().describe('Defaults to the app\'s name (the file name); one app per namespace.'),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  port: port.optional().describe('The port the app serves HTTP on: its Service, its Ingress and its default probe.'),
  host: z
    .union([dnsLabel, dnsName])
    .optional()
    .describe('Published through Traefik: a single label becomes <label>.<domain>, a full name is used as is.'),
  health: z
    .strictObject({
      path: httpPath.describe('An HTTP path answering 2xx or 3xx when the app is alive and ready.'),
      startupSeconds: z.int().min(10).max(3600).default(120).describe('How long the first start may take.'),
    })
    .optional()
    .describe('Without it the probes check that the port accepts connections.'),
  metrics: z
    .strictObject({ port: port.optional().describe('Defaults to `port`.'), path: httpPath.default('/metrics') })
    .optional()
    .describe('Prometheus metrics: the pods are annotated for scraping and Prometheus may reach them.'),
  env: z.record(envName, z.union([z.string(), z.strictObject({ secret: secretKey.describe('A key of `secrets`.') })])).default({}),
  secrets: z.record(secretKey, secretValue).default({}).describe('Values kept SOPS-encrypted in clusters/<name>/secrets/<namespace>/<app>.sops.yaml.'),
  volumes: z
    .record(
      dnsLabel,
      z.strictObject({
        path: absolutePath,
        size: volumeSize,
        storageClass: dnsName.optional().describe('Defaults to the cluster\'s default StorageClass.'),
        backup: enabled(true).describe('Archived (tar.gz) by the dr layer to its S3 bucket on its PostgreSQL schedule (needs features.dr.s3).'),
      }),
    )
    .default({})
    .describe('PersistentVolumeClaims (ReadWriteOnce), mounted at `path`.'),
  database: z
    .strictObject({
      engine: z.literal('postgres'),
      size: volumeSize.default('2Gi'),
      backup: enabled(true).describe('Dumped by the dr layer on its PostgreSQL schedule (needs features.dr).'),
    })
    .optional()
    .describe('A PostgreSQL of the app\'s own; the app gets DATABASE_URL and PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD.'),
  replicas: z.int().min(1).max(20).default(1),
  singleReplicaReason: z.string().optional().describe('Why one replica is acceptable (the resilience report shows it).'),
  resources: z
    .strictObject({
      cpu: cpu.default('50m'),
      memory: memory.default('64Mi').describe('Requested memory.'),
      memoryLimit: memory.optional().describe('Defaults to twice `memory`.'),
    })
    .prefault({}),
  user: z.int().min(1).max(2147483647).default(65532).describe('The uid (and gid) the container runs as; never root.'),
  files: z
    .record(absolutePath, z.string())
    .default({})
    .describe('Configuration files by path, mounted read-only from a ConfigMap; a change rolls the pods.'),
  writable: z.array(absolutePath).default(['/tmp']).describe('Writable scratch folders (the root filesystem is read-only).'),
  egress: z
    .strictObject({
      internet: enabled(false).describe('Public addresses on `ports`.'),
      ports: z.array(port).default([443]),
      cidrs: z.array(cidrv4).default([]).describe('Private networks the app may reach on `ports` (a NAS, a printer).'),
    })
    .prefault({}),
});

export type AppInput = z.input<typeof AppSchema>;
export interface AppSpec extends z.output<typeof AppSchema> {
  /** The file name without .yaml. */
  name: string;
  namespace: string;
  /** Where the spec came from, as the user knows it (clusters/<name>/apps/<app>.yaml). */
  file: string;
}

/** Rules between fields of one app; each names its field. */
export function appProblems(app: z.output<typeof AppSchema>, name: string): Array<{ path: string; message: string }> {
  const out: Array<{ path: string; message: string }> = [];
  if (app.host && app.port === undefined) out.push({ path: 'host', message: 'needs `port`: the Ingress sends the host to it' });
  if (app.health && app.port === undefined) out.push({ path: 'health', message: 'needs `port`: the probes ask it' });
  if (app.metrics && app.metrics.port === undefined && app.port === undefined) out.push({ path: 'metrics.port', message: 'required when the app has no `port`' });
  if (app.replicas > 1 && Object.keys(app.volumes).length) out.push({ path: 'replicas', message: 'must be 1 with volumes: a volume is ReadWriteOnce, one pod holds it' });
  for (const [name, value] of Object.entries(app.env)) {
    if (typeof value !== 'string' && !(value.secret in app.secrets)) out.push({ path: `env.${name}.secret`, message: `names "${value.secret}", which \`secrets\` does not declare` });
  }
  // CronJob names are at most 52 characters: <app>-db-backup and <app>-<volume>-backup must fit.
  if (app.database && `${name}-db-backup`.length > 52) out.push({ path: 'database', message: `${name}-db-backup, the name of its backup job, is longer than 52 characters; shorten the file name` });
  for (const [volume, spec] of Object.entries(app.volumes)) {
    if (spec.backup && `${name}-${volume}-backup`.length > 52) out.push({ path: `volumes.${volume}`, message: `${name}-${volume}-backup, the name of its backup job, is longer than 52 characters; shorten the names` });
  }
  const paths = [...Object.values(app.volumes).map((v) => v.path), ...app.writable, ...Object.keys(app.files)];
  const twice = paths.find((p, i) => paths.indexOf(p) !== i);
  if (twice) out.push({ path: 'volumes', message: `${twice} is mounted twice (as a volume, a writable folder or a file)` });
  return out;
}

/** The host an app is published on, if any. */
export function appHost(app: Pick<AppSpec, 'host'>, domain: string): string | undefined {
  if (!app.host) return undefined;
  return app.host.includes('.') ? app.host : `${app.host}.${domain}`;
}
