import { describe, expect, it } from 'vitest';
import { container, deployment, daemonSet, disruptionBudget, httpProbe, isolatedNamespace, namespace, defaultDeny, toPlain, type App, type KubeObject } from '../index.ts';
import { checkPolicies, formatFinding } from './rules.ts';
import { podSecurityViolations } from './pod-security.ts';
import { podTemplateOf } from './pods.ts';

const app: App = { name: 'web', namespace: 'apps' };
const web = () =>
  container({ name: 'web', image: 'nginx:1.27.3', resources: { cpu: '50m', memory: '64Mi', memoryLimit: '128Mi' }, liveness: httpProbe('/', 8080), readiness: httpProbe('/', 8080) });

/** A namespace and a two-replica Deployment that satisfy every rule; each test breaks one thing. */
function compliant(): KubeObject[] {
  return [...isolatedNamespace('apps', 'restricted'), deployment(app, { replicas: 2, pod: { containers: [web()] } }), disruptionBudget(app)].map((o) => toPlain(o));
}

const findings = (objects: KubeObject[]) => checkPolicies(objects).map(formatFinding);
const workload = (objects: KubeObject[]) => objects.find((o) => o.kind === 'Deployment')!;
const podSpec = (objects: KubeObject[]) => podTemplateOf(workload(objects))!.spec as Record<string, any>;
const firstContainer = (objects: KubeObject[]) => (podSpec(objects).containers as Array<Record<string, any>>)[0]!;

describe('static policies', () => {
  it('find nothing in objects built with the hardened builders', () => {
    expect(findings(compliant())).toEqual([]);
  });

  it('require a Pod Security level on every namespace, and a reason for anything weaker than restricted', () => {
    const objects = compliant();
    delete objects[0]!.metadata.labels!['pod-security.kubernetes.io/enforce'];
    objects.push(toPlain(namespace('node-agents', { level: 'privileged', reason: 'x' })), toPlain(defaultDeny('node-agents')));
    delete objects.at(-2)!.metadata.annotations;
    expect(findings(objects)).toEqual([
      'Namespace apps: metadata.labels[pod-security.kubernetes.io/enforce]: missing: every namespace enforces a Pod Security level [namespace]',
      'Namespace node-agents: metadata.annotations[groundwork.dev/pod-security-reason]: level privileged needs a reason (anything weaker than restricted is an explicit exception) [namespace]',
      'Deployment apps/web: namespace apps is not rendered by any layer, so its Pod Security level is unknown [pod-security]',
    ]);
  });

  it('check pods against their namespace\'s level and name the field', () => {
    const objects = compliant();
    firstContainer(objects).securityContext.allowPrivilegeEscalation = true;
    firstContainer(objects).securityContext.capabilities = { drop: ['ALL'], add: ['NET_ADMIN'] };
    podSpec(objects).hostNetwork = true;
    expect(findings(objects)).toEqual([
      'Deployment apps/web: spec.template.spec.hostNetwork: host namespaces are not allowed (namespace apps enforces restricted) [pod-security]',
      'Deployment apps/web: spec.template.spec.containers[web].securityContext.capabilities.add: capability NET_ADMIN is not allowed (namespace apps enforces restricted) [pod-security]',
      'Deployment apps/web: spec.template.spec.containers[web].securityContext.allowPrivilegeEscalation: must be false (namespace apps enforces restricted) [pod-security]',
      'Deployment apps/web: spec.template.spec.containers[web].securityContext.capabilities.add: only NET_BIND_SERVICE may be added, not NET_ADMIN (namespace apps enforces restricted) [pod-security]',
    ]);
  });

  it('require requests, a memory limit, probes on long-running containers, and pinned images', () => {
    const objects = compliant();
    const c = firstContainer(objects);
    delete c.resources.requests.cpu;
    delete c.resources.limits.memory;
    delete c.readinessProbe;
    c.image = 'nginx:latest';
    podSpec(objects).initContainers = [{ ...web(), name: 'init', image: 'busybox', livenessProbe: undefined, readinessProbe: undefined }];
    expect(findings(objects)).toEqual([
      'Deployment apps/web: spec.template.spec.initContainers[init].image: "busybox" is not pinned (give a version tag or a digest) [images]',
      'Deployment apps/web: spec.template.spec.containers[web].resources.requests.cpu: missing [resources]',
      'Deployment apps/web: spec.template.spec.containers[web].resources.limits.memory: missing [resources]',
      'Deployment apps/web: spec.template.spec.containers[web].image: "nginx:latest" uses the moving tag latest [images]',
      'Deployment apps/web: spec.template.spec.containers[web].readinessProbe: missing on a long-running container [probes]',
    ]);
  });

  it('accept digests and registry ports in image references', () => {
    const objects = compliant();
    firstContainer(objects).image = `registry.local:5000/team/web@sha256:${'a'.repeat(64)}`;
    expect(findings(objects)).toEqual([]);
  });

  it('refuse plaintext Secrets in rendered output', () => {
    const objects = [...compliant(), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: 'apps' }, stringData: { token: 'x' } } as KubeObject];
    expect(findings(objects)).toEqual(["Secret apps/token: plaintext Secret in rendered output: declare it in the layer's src/secrets.ts so it is stored SOPS-encrypted [secrets]"]);
  });

  it('require a default-deny NetworkPolicy, and allows next to it for namespaces with pod-network pods', () => {
    const noDeny = compliant().filter((o) => !(o.kind === 'NetworkPolicy' && o.metadata.name === 'default-deny'));
    expect(findings(noDeny)).toEqual(['Namespace apps: no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules) [network]']);
    const denyOnly = compliant().filter((o) => !(o.kind === 'NetworkPolicy' && o.metadata.name !== 'default-deny'));
    expect(findings(denyOnly)).toEqual(['Namespace apps: default-deny without any allow policy: its pods can reach nothing, not even DNS [network]']);
  });

  it('require a disruption budget and spreading for more than one replica', () => {
    const objects = compliant().filter((o) => o.kind !== 'PodDisruptionBudget');
    delete podSpec(objects).topologySpreadConstraints;
    expect(findings(objects)).toEqual([
      'Deployment apps/web: 2 replicas but no PodDisruptionBudget selects them (a node drain may stop all at once) [disruption]',
      'Deployment apps/web: spec.template.spec.topologySpreadConstraints: 2 replicas but nothing spreads them over nodes (they may all land on one) [disruption]',
    ]);
  });

  it('let pods in namespaces other layers render be checked against those levels', () => {
    const agent = toPlain(daemonSet({ name: 'agent', namespace: 'system' }, { pod: { containers: [web()], spec: { hostNetwork: true } } }));
    expect(checkPolicies([agent], { namespaces: new Map([['system', 'privileged']]) })).toEqual([]);
    expect(checkPolicies([agent], { namespaces: new Map([['system', 'baseline']]) }).map((f) => f.field)).toEqual(['spec.template.spec.hostNetwork']);
  });
});

describe('Pod Security Standards', () => {
  const pod = (spec: Record<string, unknown>) => ({ path: 'spec', spec, annotations: {}, labels: {} });
  const restrictedContainer = { name: 'c', securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, capabilities: { drop: ['ALL'] } } };

  it('admit what the restricted profile admits', () => {
    expect(podSecurityViolations(pod({ containers: [restrictedContainer] }), 'restricted')).toEqual([]);
    const bind = { ...restrictedContainer, securityContext: { ...restrictedContainer.securityContext, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } };
    expect(podSecurityViolations(pod({ containers: [bind] }), 'restricted')).toEqual([]);
  });

  it('take runAsNonRoot and seccomp from the pod when the container leaves them out', () => {
    const bare = { name: 'c', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } };
    expect(podSecurityViolations(pod({ securityContext: { runAsNonRoot: true, seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } }, containers: [bare] }), 'restricted')).toEqual([]);
    expect(podSecurityViolations(pod({ containers: [bare] }), 'restricted').map((v) => v.field)).toEqual(['spec.containers[c].securityContext.runAsNonRoot', 'spec.containers[c].securityContext.seccompProfile.type']);
  });

  it('allow baseline capabilities and volumes that restricted refuses', () => {
    const chown = { name: 'c', securityContext: { capabilities: { add: ['CHOWN'] } } };
    const spec = { containers: [chown], volumes: [{ name: 'cache', nfs: { server: 'nas', path: '/x' } }] };
    expect(podSecurityViolations(pod(spec), 'baseline')).toEqual([]);
    expect(podSecurityViolations(pod(spec), 'restricted').map((v) => v.message)).toEqual(
      expect.arrayContaining(['volume type nfs is not allowed', 'only NET_BIND_SERVICE may be added, not CHOWN']),
    );
  });

  it('refuse at baseline what only privileged allows', () => {
    const spec = {
      hostPID: true,
      volumes: [{ name: 'root', hostPath: { path: '/' } }],
      securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }] },
      containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 80 }], securityContext: { privileged: true, procMount: 'Unmasked', seccompProfile: { type: 'Unconfined' } } }],
    };
    expect(podSecurityViolations(pod(spec), 'baseline').map((v) => v.message)).toEqual([
      'host namespaces are not allowed',
      'hostPath volumes are not allowed',
      'sysctl kernel.msgmax is not in the safe set',
      'privileged containers are not allowed',
      'only the Default /proc mount is allowed',
      'seccomp Unconfined is not allowed',
      'host ports are not allowed',
    ]);
    expect(podSecurityViolations(pod(spec), 'privileged')).toEqual([]);
  });
});
