import { z } from 'zod';
import { cronProblem } from './cron.ts';
import type { AppSpec } from './apps.ts';

/**
 * The cluster file, clusters/<name>/cluster.yaml. Every object is strict so that a typo is an error that
 * names the field instead of a setting silently ignored. Cross-field rules live in validate.ts.
 */

export const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a lowercase DNS label (a-z, 0-9 and "-", at most 63 characters)');

export const dnsName = z
  .string()
  .regex(/^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/, 'must be a lowercase DNS name');

const semver = z.string().regex(/^v?\d+\.\d+\.\d+$/, 'must be a version such as v1.13.9 or 1.36.3');

const ipv4 = z.ipv4({ error: 'must be an IPv4 address' });
export const cidrv4 = z.cidrv4({ error: 'must be an IPv4 CIDR such as 10.0.1.0/24' });

const ageRecipient = z
  .string()
  .regex(/^age1(pq1)?[02-9ac-hj-np-z]+$/, 'must be an age recipient (age1… for X25519, age1pq1… for post-quantum)');

const pgpFingerprint = z
  .string()
  .transform((s) => s.replace(/\s+/g, '').toUpperCase())
  .pipe(z.string().regex(/^[0-9A-F]{40}$/, 'must be a 40-character PGP fingerprint'));

const labelKey = z
  .string()
  .regex(
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
    'must be a Kubernetes label key (optional-prefix/name)',
  );
const labelValue = z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, 'must be a Kubernetes label value');

export const platforms = ['rpi4', 'metal', 'proxmox', 'docker'] as const;
export type Platform = (typeof platforms)[number];

export const Taint = z.strictObject({
  key: labelKey,
  value: labelValue.optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
});

export const DiskSelector = z
  .strictObject({
    size: z.string().optional().describe('Size match as Talos takes it, e.g. ">= 100GB" or "256GB".'),
    model: z.string().optional(),
    serial: z.string().optional(),
    wwid: z.string().optional(),
    type: z.enum(['ssd', 'hdd', 'nvme', 'sd']).optional(),
    busPath: z.string().optional(),
  })
  .describe('Talos install disk selector; the first disk matching every field is used.');

export const LocalStorageDisk = z
  .strictObject({
    match: z
      .string()
      .regex(/\S/, 'must be a CEL expression such as disk.transport == "usb" && !system_disk')
      .describe('Talos disk selector (CEL over disk.transport, disk.rotational, disk.size, disk.model, ... and system_disk), e.g. disk.transport == "usb" && !system_disk.'),
    minSize: z
      .string()
      .regex(/^\d+(MB|GB|TB|MiB|GiB|TiB)$/, 'must be a size such as 32GB or 10GiB')
      .default('10GiB')
      .describe('Only a disk with this much free space is used; the volume then takes all of its free space.'),
  })
  .describe('The disk local-path volumes live on: a Talos user volume (partition) mounted at features.localStorage.hostPath, which must be /var/mnt/<volume name>.');

export const EphemeralDisk = z
  .strictObject({
    match: LocalStorageDisk.shape.match,
    minSize: z
      .string()
      .regex(/^\d+(MB|GB|TB|MiB|GiB|TiB)$/, 'must be a size such as 32GB or 10GiB')
      .default('16GiB')
      .describe('Only a disk with this much free space is used; /var then takes all of its free space.'),
  })
  .describe(
    "Where Talos keeps /var (etcd's data, container images, pod logs) instead of the system disk: a Talos VolumeConfig for EPHEMERAL. On a Raspberry Pi booting from its SD card, a USB SSD here keeps etcd's constant writes off the card.",
  );

export const Node = z.strictObject({
  name: dnsLabel.describe('Hostname of the node.'),
  ip: ipv4.describe('Static address of the node inside network.nodeCidr.'),
  role: z.enum(['controlplane', 'worker']),
  platform: z.enum(platforms).describe('rpi4 (Raspberry Pi 4), metal (bare metal), proxmox (VM with the QEMU guest agent) or docker.'),
  arch: z.enum(['amd64', 'arm64']).optional().describe('Defaults to arm64 for rpi4 and amd64 otherwise.'),
  installDisk: z.string().regex(/^\/dev\/\S+$/, 'must be a device path such as /dev/sda').optional(),
  installDiskSelector: DiskSelector.optional(),
  localStorageDisk: LocalStorageDisk.optional(),
  ephemeralDisk: EphemeralDisk.optional(),
  link: z.string().regex(/^[A-Za-z0-9._-]{1,15}$/, 'must be a network link name such as eth0').optional()
    .describe('Network link that carries the static address; defaults per platform (end0, ens18, eth0).'),
  mac: z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, 'must be a lowercase MAC address').optional()
    .describe('Select the link by hardware address instead of by name.'),
  labels: z.record(labelKey, labelValue).default({}),
  taints: z.array(Taint).default([]),
  extensions: z.array(z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, 'must be an extension such as siderolabs/iscsi-tools')).default([])
    .describe('Extra Talos system extensions baked into this node\'s Image Factory schematic.'),
  capacity: z
    .strictObject({
      cpu: z.number().positive().max(1024).describe('CPU cores.'),
      memory: z.string().regex(/^\d+(\.\d+)?(Mi|Gi|Ti)$/, 'must be a memory size such as 8Gi or 7680Mi'),
    })
    .optional()
    .describe('What the machine has, for the footprint report; a Raspberry Pi 4 defaults to 4 cores and 8Gi.'),
});

export const Network = z.strictObject({
  nodeCidr: cidrv4.describe('The LAN the nodes live on.'),
  gateway: ipv4,
  nameservers: z.array(ipv4).min(1).optional().describe('Defaults to the gateway.'),
  ntp: z.array(z.string().min(1)).default(['time.cloudflare.com']),
  podCidr: cidrv4.default('10.244.0.0/16'),
  serviceCidr: cidrv4.default('10.96.0.0/12'),
  vlan: z.number().int().min(1).max(4094).optional(),
  mtu: z.number().int().min(576).max(9216).optional(),
  loadBalancerPool: z
    .strictObject({ start: ipv4, stop: ipv4 })
    .optional()
    .describe('Addresses Cilium hands to LoadBalancer Services and announces on the LAN (L2 announcements); keep them out of your DHCP range. Defaults to features.ingress.loadBalancerIp alone.'),
  vip: z
    .strictObject({
      address: ipv4.describe('Shared address for the Kubernetes API, held by one control plane at a time.'),
      link: z.string().regex(/^[A-Za-z0-9._-]{1,15}$/).optional().describe('Link the VIP lives on; defaults to the control planes\' link.'),
    })
    .optional(),
});

export const enabled = (value: boolean) => z.boolean().default(value);

const duration = z.string().regex(/^\d+(h|d|w)$/, 'must be a duration in hours, days or weeks, such as 36h, 15d or 2w');
export const volumeSize = z.string().regex(/^\d+(Mi|Gi|Ti)$/, 'must be a size such as 512Mi, 8Gi or 1Ti');
const cron = z.string().refine((text) => cronProblem(text) === undefined, { error: (issue) => `is not a cron schedule: ${cronProblem(String(issue.input))}` });
const email = z.email({ error: 'must be an email address' });

export const Receiver = z
  .strictObject({
    name: dnsLabel,
    email: z
      .strictObject({
        to: z.array(email).min(1),
        from: email,
        smarthost: z.string().regex(/^[a-z0-9.-]+:\d+$/, 'must be host:port, such as smtp.example.com:587'),
        username: z.string().optional().describe('SMTP login; its password is the SOPS secret key <name>-smtp-password.'),
      })
      .optional(),
    slack: z.strictObject({ channel: z.string().min(1) }).optional().describe('The webhook URL is the SOPS secret key <name>-webhook-url.'),
    webhook: z
      .strictObject({ url: z.url({ protocol: /^https?$/ }), bearerToken: enabled(false).describe('Send the SOPS secret key <name>-token as a bearer token.') })
      .optional(),
    ntfy: z
      .strictObject({
        server: z.url({ protocol: /^https?$/ }).default('https://ntfy.sh'),
        topic: z.string().regex(/^[-_A-Za-z0-9]{1,64}$/, 'must be an ntfy topic name'),
        token: enabled(false).describe('Send the SOPS secret key <name>-token as an access token.'),
        public: enabled(false).describe('The topic is meant to be read by anyone who knows its name (no access token).'),
      })
      .optional(),
  })
  .describe('Where Alertmanager sends notifications: exactly one of email, slack, webhook or ntfy.');

export const Alerting = z.strictObject({
  receivers: z.array(Receiver).default([]),
  heartbeat: z
    .strictObject({
      enabled: enabled(false),
      interval: z.string().regex(/^\d+(s|m|h)$/, 'must be a duration such as 5m').default('5m').describe('How often the Watchdog is sent.'),
    })
    .prefault({})
    .describe(
      "A dead man's switch: the always-firing Watchdog is sent to an external heartbeat URL (healthchecks.io, Uptime Kuma's push monitor, …) every interval, so that service warns you when alerting itself is down. The URL is the SOPS secret key heartbeat-url.",
    ),
  route: z
    .strictObject({
      receiver: dnsLabel.optional().describe('Receiver for every alert; defaults to the first one.'),
      critical: dnsLabel.optional().describe('Receiver for critical alerts (they also go to the default one).'),
    })
    .prefault({}),
});

export const Features = z.strictObject({
  manifests: z
    .strictObject({
      policy: z
        .enum(['stop', 'warn'])
        .default('stop')
        .describe('What a policy finding (no default-deny, a root container, no limits, …) about an object of clusters/<name>/manifests/ does in verify: stop, or only warn. The apps of clusters/<name>/apps/ always meet the policy.'),
    })
    .prefault({})
    .describe('Plain manifests of clusters/<name>/manifests/**/*.yaml, applied by the apps layer.'),
  cilium: z.strictObject({ enabled: enabled(true), kubeProxyReplacement: enabled(true) }).prefault({}),
  ingress: z.strictObject({ enabled: enabled(true), loadBalancerIp: ipv4.optional() }).prefault({}),
  cloudflareTunnel: z.strictObject({ enabled: enabled(false) }).prefault({}),
  localStorage: z
    .strictObject({ enabled: enabled(true), hostPath: z.string().regex(/^\/var\//, 'must live under /var (the rest of Talos is read-only)').default('/var/mnt/local-path-provisioner') })
    .prefault({}),
  observability: z
    .strictObject({
      enabled: enabled(false),
      controlPlaneMetrics: enabled(true).describe('Scrape etcd, the controller manager and the scheduler (talos-config opens their metrics ports).'),
      grafanaHost: dnsName.optional().describe('Host name Grafana is served on through the Ingress; defaults to grafana.<domain>.'),
      prometheus: z
        .strictObject({ retention: duration.default('15d'), volumeSize: volumeSize.default('8Gi') })
        .prefault({})
        .describe('How long metrics are kept; the size limit is 80% of the volume.'),
      logs: z
        .strictObject({ retention: duration.default('7d'), volumeSize: volumeSize.default('8Gi') })
        .prefault({})
        .describe('How long VictoriaLogs keeps container and Talos logs; the size limit is 80% of the volume.'),
      alerting: Alerting.prefault({}),
    })
    .prefault({}),
  n8n: z
    .strictObject({
      enabled: enabled(false),
      host: dnsName.optional().describe('Public host name; defaults to n8n.<domain>.'),
      workers: z.number().int().min(1).max(20).default(1).describe('Worker pods that run the executions.'),
      concurrency: z.number().int().min(1).max(50).default(5).describe('Executions each worker runs at once (n8n advises 5 or more).'),
      webhookProcessors: z.number().int().min(0).max(10).default(1).describe('Pods that take production webhooks (/webhook/*) off the main process; 0 lets main take them.'),
      timezone: z.string().default('UTC').describe('IANA time zone of schedules and dates, e.g. Europe/Berlin.'),
      executions: z
        .strictObject({
          maxAge: duration.default('14d').describe('Finished executions older than this are deleted.'),
          maxCount: z.number().int().min(100).default(10_000).describe('At most this many finished executions are kept.'),
        })
        .prefault({}),
      egress: z
        .strictObject({
          internet: enabled(true).describe('Workflows may call the internet (public addresses only).'),
          ports: z.array(z.number().int().min(1).max(65535)).min(1).default([80, 443]).describe('Ports workflows may call on the internet and on `cidrs`.'),
          cidrs: z.array(cidrv4).default([]).describe('Private networks workflows may call too, e.g. a home automation server on the LAN.'),
        })
        .prefault({}),
      postgres: z.strictObject({ volumeSize: volumeSize.default('8Gi') }).prefault({}),
      queue: z.strictObject({ volumeSize: volumeSize.default('1Gi') }).prefault({}).describe('Valkey, the queue between main, webhook processors and workers.'),
    })
    .prefault({}),
  dr: z
    .strictObject({
      enabled: enabled(false),
      namespace: dnsLabel.default('dr').describe('Namespace of the backup jobs; it may reach the Talos API with the etcd:backup role.'),
      etcdSchedule: cron.default('0 */6 * * *').describe('etcd snapshots through the Talos API (cron, UTC).'),
      postgresSchedule: cron.default('30 1 * * *').describe('Dumps of the n8n database (cron, UTC).'),
      n8nSchedule: cron.default('45 1 * * *').describe('Workflows and credentials exported with n8n\'s own commands (cron, UTC).'),
      retention: z
        .strictObject({
          last: z.number().int().min(0).max(100).default(4).describe('Keep this many newest backups, whenever they were taken (several a day of etcd).'),
          daily: z.number().int().min(0).max(366).default(7).describe('Keep the newest backup of each of this many days.'),
          weekly: z.number().int().min(0).max(520).default(4).describe('Keep the newest backup of each of this many ISO weeks.'),
          monthly: z.number().int().min(0).max(120).default(6).describe('Keep the newest backup of each of this many months.'),
        })
        .prefault({})
        .describe('Per kind and per target; a backup kept by any rule stays.'),
      s3: z
        .strictObject({
          endpoint: z.url({ protocol: /^https?$/, error: 'must be an http(s):// URL such as https://s3.eu-central-003.backblazeb2.com' }),
          region: z.string().regex(/^[a-z0-9-]{1,32}$/, 'must be a region name such as us-east-1').default('us-east-1'),
          bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)'),
          prefix: z.string().regex(/^([A-Za-z0-9._-]+\/)*[A-Za-z0-9._-]+$/, 'must be a key prefix such as backups or homelab/groundwork').optional(),
          pathStyle: enabled(true).describe('Address the bucket in the path (MinIO, Garage, most self-hosted stores) instead of the host name.'),
          cidr: cidrv4
            .optional()
            .describe('Where the endpoint is when its host name resolves to a private address outside the node network (a NAS on another subnet or VLAN): the backup jobs may reach it there.'),
          caFile: z
            .string()
            .regex(/^[A-Za-z0-9._/-]+\.(pem|crt)$/, 'must be a .pem or .crt file inside the cluster folder, such as dr/s3-ca.pem')
            .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'must be a path inside the cluster folder, such as dr/s3-ca.pem')
            .optional()
            .describe('A PEM file in the cluster folder with the CA that signed the endpoint\'s certificate (a store with a private CA); trusted besides the public ones.'),
        })
        .optional()
        .describe('An S3-compatible bucket (off-site); its access key is the SOPS secret dr/backup-s3.'),
      volume: z
        .strictObject({
          size: volumeSize.default('20Gi'),
          storageClass: dnsName.optional().describe('Defaults to the cluster\'s default StorageClass; name an NFS-backed one to keep the copy off the nodes.'),
        })
        .optional()
        .describe('A PersistentVolumeClaim the backups are also written to.'),
    })
    .prefault({}),
});

export const Sops = z
  .strictObject({
    age: z.array(ageRecipient).default([]).describe('age recipients (public keys) that every secret of this cluster is encrypted to.'),
    pgp: z.array(pgpFingerprint).default([]).describe('PGP fingerprints that every secret of this cluster is encrypted to.'),
  })
  .describe('Who can decrypt this cluster\'s secrets.');

export const ClusterSchema = z.strictObject({
  apiVersion: z.literal('groundwork.dev/v1alpha1'),
  kind: z.literal('Cluster'),
  name: dnsLabel.describe('Cluster name; must match the folder clusters/<name>/.'),
  description: z.string().optional(),
  domain: dnsName.describe('DNS domain the cluster\'s services are published under.'),
  versions: z.strictObject({
    talos: semver.describe('Talos Linux version, e.g. v1.13.9.'),
    kubernetes: semver.describe('Kubernetes version, e.g. 1.36.3.'),
  }),
  endpoint: z
    .url({ protocol: /^https$/, error: 'must be an https:// URL such as https://10.0.1.10:6443' })
    .optional()
    .describe('Kubernetes API endpoint; defaults to the VIP or the only control plane, port 6443.'),
  kubeconfigEndpoint: z
    .url({ protocol: /^https$/, error: 'must be an https:// URL such as https://127.0.0.1:6444' })
    .optional()
    .describe(
      'Where kubectl on your machine reaches the Kubernetes API when that is not `endpoint`: a port Docker publishes for Talos in Docker (https://127.0.0.1:6444 keeps clear of kind), or a forwarded port. The nodes keep `endpoint`; the kubeconfig and apply use this, and its host is added to the API certificate.',
    ),
  controlPlane: z.strictObject({ allowWorkloads: enabled(false).describe('Schedule ordinary pods on control planes too.') }).prefault({}),
  network: Network,
  nodes: z.array(Node).min(1, 'must list at least one node'),
  features: Features.prefault({}),
  sops: Sops,
});

export type ClusterInput = z.input<typeof ClusterSchema>;
/** The cluster file, plus the apps of clusters/<name>/apps/ once loaded (loadClusterFile fills them in). */
export type Cluster = z.output<typeof ClusterSchema> & { apps?: AppSpec[] };
export type ClusterNode = Cluster['nodes'][number];
