import { existsSync, readFileSync } from 'node:fs';

/** One entry of the API server's audit log (audit.k8s.io/v1 Event), as much of it as the tests read. */
export interface AuditEvent {
  /** None, Metadata, Request or RequestResponse: what the cluster's audit policy chose for it. */
  level: string;
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string; groups?: string[] };
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string; subresource?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
}

export function readAudit(file: string): AuditEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditEvent);
}

const MUTATING = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/**
 * Requests by `username` that changed (or tried to change) something: mutating verbs that were not dry runs.
 * One entry per request (its ResponseComplete stage).
 */
export function mutatingRequests(events: AuditEvent[], username: string): AuditEvent[] {
  return events.filter((e) => e.stage === 'ResponseComplete' && e.user.username === username && MUTATING.has(e.verb) && !/[?&]dryRun=All\b/.test(e.requestURI));
}

/** `verb resource.group namespace/name` lines (kubectl's way of naming resources), for readable assertions. */
export function describeRequest(e: AuditEvent): string {
  const ref = e.objectRef;
  if (!ref?.resource) return `${e.verb} ${e.requestURI}`;
  const namespace = ref.namespace && ref.resource !== 'namespaces' ? `${ref.namespace}/` : '';
  const resource = ref.apiGroup ? `${ref.resource}.${ref.apiGroup}` : ref.resource;
  return `${e.verb} ${resource}${ref.subresource ? `/${ref.subresource}` : ''} ${namespace}${ref.name ?? ''}`.trim();
}
