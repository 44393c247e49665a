import { readFileSync } from 'node:fs';
import { parseRetention, type Retention } from './retention.ts';
import { FolderTarget, S3Target, type Target } from './targets.ts';

/**
 * What a backup job is told, all through environment variables the rendered CronJob sets (secret ones from
 * Secrets), so the same program runs unchanged in a pod, on a workstation and in the tests.
 */
export const ENV = {
  cluster: 'DR_CLUSTER',
  recipients: 'DR_RECIPIENTS_FILE',
  identity: 'DR_AGE_IDENTITY_FILE',
  retention: 'DR_RETENTION',
  work: 'DR_WORK',
  volume: 'DR_VOLUME',
  s3Endpoint: 'DR_S3_ENDPOINT',
  s3Region: 'DR_S3_REGION',
  s3Bucket: 'DR_S3_BUCKET',
  s3Prefix: 'DR_S3_PREFIX',
  s3PathStyle: 'DR_S3_PATH_STYLE',
  s3CaFile: 'DR_S3_CA_FILE',
  accessKeyId: 'AWS_ACCESS_KEY_ID',
  secretAccessKey: 'AWS_SECRET_ACCESS_KEY',
  talosconfig: 'TALOSCONFIG',
  allowedAge: 'DR_ALLOWED_AGE_SECONDS',
  requiredTables: 'DR_REQUIRED_TABLES',
} as const;

export interface Settings {
  cluster: string;
  work: string;
  retention: Retention;
  recipientsFile?: string;
  identityFile?: string;
  s3?: { endpoint: string; region: string; bucket: string; prefix?: string; pathStyle: boolean; accessKeyId: string; secretAccessKey: string; ca?: string };
  volume?: string;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): Settings {
  const settings: Settings = {
    cluster: required(env, ENV.cluster),
    work: env[ENV.work] ?? '/work',
    retention: parseRetention(env[ENV.retention] ?? 'daily=7,weekly=4,monthly=6'),
    ...(env[ENV.recipients] ? { recipientsFile: env[ENV.recipients] } : {}),
    ...(env[ENV.identity] ? { identityFile: env[ENV.identity] } : {}),
    ...(env[ENV.volume] ? { volume: env[ENV.volume] } : {}),
  };
  if (env[ENV.s3Endpoint]) {
    settings.s3 = {
      endpoint: env[ENV.s3Endpoint]!,
      region: env[ENV.s3Region] ?? 'us-east-1',
      bucket: required(env, ENV.s3Bucket),
      ...(env[ENV.s3Prefix] ? { prefix: env[ENV.s3Prefix] } : {}),
      pathStyle: env[ENV.s3PathStyle] !== 'false',
      accessKeyId: required(env, ENV.accessKeyId),
      secretAccessKey: required(env, ENV.secretAccessKey),
      ...(env[ENV.s3CaFile] ? { ca: readFileSync(env[ENV.s3CaFile]!, 'utf8') } : {}),
    };
  }
  if (!settings.s3 && !settings.volume) throw new Error(`no backup target: set ${ENV.s3Endpoint} (and the bucket) or ${ENV.volume}`);
  return settings;
}

/** The bucket first (off-site), then the volume. */
export function targetsOf(settings: Settings): Target[] {
  const out: Target[] = [];
  if (settings.s3) out.push(new S3Target(settings.s3));
  if (settings.volume) out.push(new FolderTarget(settings.volume));
  return out;
}

/** The key prefix inside a target: the bucket's configured prefix, none in a volume. */
export function prefixFor(settings: Settings, target: Target): string | undefined {
  return target.type === 's3' ? settings.s3?.prefix : undefined;
}

