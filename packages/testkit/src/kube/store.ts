import { randomUUID } from 'node:crypto';
import { deletePath, dotted, fieldsV1, fromKey, getPath, leafPaths, mergePatch, overlaps, pathKey, sameValue, setPath, type Path } from './fields.ts';
import { BUILTIN_RESOURCES, groupVersion, type ResourceType } from './resources.ts';

export type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown> & { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: number, reason: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }
  status(): Record<string, unknown> {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code, ...(this.details ? { details: this.details } : {}) };
  }
}

interface Ownership {
  manager: string;
  operation: 'Apply' | 'Update';
  paths: Set<string>;
}

interface Entry {
  object: KubeObject;
  owners: Ownership[];
}

export interface WriteResult {
  object: KubeObject;
  created: boolean;
  changed: boolean;
}

/** The objects of the test API server and the server-side apply rules over them. */
export class ObjectStore {
  readonly resources: ResourceType[] = [...BUILTIN_RESOURCES];
  private readonly entries = new Map<string, Entry>();
  private revision = 1000;

  resource(group: string, version: string, plural: string): ResourceType | undefined {
    return this.resources.find((r) => r.group === group && r.version === version && r.plural === plural);
  }

  resourceForKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.resources.find((r) => groupVersion(r) === apiVersion && r.kind === kind);
  }

  register(type: ResourceType): void {
    if (!this.resources.some((r) => r.group === type.group && r.version === type.version && r.kind === type.kind)) this.resources.push(type);
  }

  private key(type: ResourceType, namespace: string | undefined, name: string): string {
    return `${type.group}/${type.plural}/${type.namespaced ? (namespace ?? '') : ''}/${name}`;
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const entry = this.entries.get(this.key(type, namespace, name));
    return entry ? this.render(entry) : undefined;
  }

  list(type: ResourceType, namespace: string | undefined): KubeObject[] {
    const prefix = `${type.group}/${type.plural}/`;
    return [...this.entries.entries()]
      .filter(([key, e]) => key.startsWith(prefix) && (!type.namespaced || namespace === undefined || e.object.metadata.namespace === namespace))
      .map(([, e]) => this.render(e))
      .sort((a, b) => `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`));
  }

  private render(entry: Entry): KubeObject {
    const object = structuredClone(entry.object);
    object.metadata.managedFields = entry.owners
      .filter((o) => o.paths.size)
      .map((o) => ({ manager: o.manager, operation: o.operation, apiVersion: object.apiVersion, fieldsType: 'FieldsV1', fieldsV1: fieldsV1([...o.paths].map(fromKey)) }));
    return object;
  }

  private requireNamespace(type: ResourceType, namespace: string | undefined): void {
    if (!type.namespaced) return;
    const ns = this.resourceForKind('v1', 'Namespace')!;
    if (!namespace || !this.entries.has(this.key(ns, undefined, namespace))) throw new ApiError(404, 'NotFound', `namespaces "${namespace ?? ''}" not found`, { name: namespace, kind: 'namespaces' });
  }

  /** Server-side apply of `config` by `manager`. */
  apply(type: ResourceType, namespace: string | undefined, name: string, config: KubeObject, manager: string, options: { force: boolean; dryRun: boolean }): WriteResult {
    if (config.kind !== type.kind || config.apiVersion !== groupVersion(type)) throw new ApiError(400, 'BadRequest', `the body is ${config.apiVersion} ${config.kind}, the URL is ${groupVersion(type)} ${type.kind}`);
    if (config.metadata?.name !== name) throw new ApiError(400, 'BadRequest', `metadata.name "${String(config.metadata?.name)}" does not match the URL name "${name}"`);
    this.requireNamespace(type, namespace);
    const key = this.key(type, namespace, name);
    const existing = this.entries.get(key);
    const object: KubeObject = existing ? structuredClone(existing.object) : { apiVersion: config.apiVersion, kind: config.kind, metadata: { name, ...(type.namespaced ? { namespace } : {}) } };
    const owners = existing ? existing.owners.map((o) => ({ ...o, paths: new Set(o.paths) })) : [];
    const applied = leafPaths(config);
    const appliedKeys = new Set(applied.map(pathKey));

    const conflicts: Array<{ manager: string; path: Path }> = [];
    for (const path of applied) {
      const live = getPath(object, path);
      if (live === undefined || sameValue(live, getPath(config, path))) continue;
      for (const owner of owners) {
        if (owner.manager === manager) continue;
        for (const owned of owner.paths) if (overlaps(fromKey(owned), path)) conflicts.push({ manager: owner.manager, path: fromKey(owned) });
      }
    }
    if (conflicts.length && !options.force) {
      const causes = conflicts.map((c) => ({ type: 'FieldManagerConflict', message: `conflict with "${c.manager}"`, field: dotted(c.path) }));
      const summary = conflicts.map((c) => `conflict with "${c.manager}": ${dotted(c.path)}`).join('\n- ');
      throw new ApiError(409, 'Conflict', `Apply failed with ${conflicts.length} conflict${conflicts.length === 1 ? '' : 's'}: ${summary}`, { name, kind: type.plural, causes });
    }
    if (options.force) for (const c of conflicts) for (const owner of owners) owner.paths.delete(pathKey(c.path));

    let mine = owners.find((o) => o.manager === manager && o.operation === 'Apply');
    for (const previous of mine ? [...mine.paths] : []) {
      if (appliedKeys.has(previous)) continue;
      const ownedElsewhere = owners.some((o) => o !== mine && [...o.paths].some((p) => overlaps(fromKey(p), fromKey(previous))));
      if (!ownedElsewhere) deletePath(object, fromKey(previous));
    }
    for (const path of applied) setPath(object, path, getPath(config, path));
    if (!mine) {
      mine = { manager, operation: 'Apply', paths: new Set() };
      owners.push(mine);
    }
    mine.paths = appliedKeys;
    return this.commit(key, existing, object, owners, options.dryRun);
  }

  /** create (POST): fails when the object exists. */
  create(type: ResourceType, namespace: string | undefined, body: KubeObject, manager: string, dryRun: boolean): WriteResult {
    this.requireNamespace(type, namespace);
    const key = this.key(type, namespace, body.metadata.name);
    if (this.entries.has(key)) throw new ApiError(409, 'AlreadyExists', `${type.plural} "${body.metadata.name}" already exists`);
    const object = structuredClone(body);
    if (type.namespaced) object.metadata.namespace = namespace;
    const owners: Ownership[] = [{ manager, operation: 'Update', paths: new Set(leafPaths(object).map(pathKey)) }];
    return this.commit(key, undefined, object, owners, dryRun);
  }

  /** A merge patch by `manager` (an Update): it takes over the fields it changes. */
  patch(type: ResourceType, namespace: string | undefined, name: string, patch: Record<string, unknown>, manager: string, dryRun: boolean, subresource?: string): WriteResult {
    const key = this.key(type, namespace, name);
    const existing = this.entries.get(key);
    if (!existing) throw new ApiError(404, 'NotFound', `${type.plural} "${name}" not found`);
    const body = subresource === 'status' ? { status: (patch as { status?: unknown }).status } : patch;
    const object = mergePatch(existing.object, body) as KubeObject;
    const owners = existing.owners.map((o) => ({ ...o, paths: new Set(o.paths) }));
    if (subresource !== 'status') {
      const changed = leafPaths(body).filter((p) => !sameValue(getPath(existing.object, p), getPath(object, p)));
      for (const owner of owners) for (const p of changed) owner.paths.delete(pathKey(p));
      let mine = owners.find((o) => o.manager === manager && o.operation === 'Update');
      if (!mine) owners.push((mine = { manager, operation: 'Update', paths: new Set() }));
      for (const p of changed) mine.paths.add(pathKey(p));
    }
    return this.commit(key, existing, object, owners, dryRun);
  }

  delete(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const key = this.key(type, namespace, name);
    const entry = this.entries.get(key);
    if (!entry) throw new ApiError(404, 'NotFound', `${type.plural} "${name}" not found`);
    this.entries.delete(key);
    if (type.kind === 'Namespace') {
      for (const [k, e] of [...this.entries.entries()]) if (e.object.metadata.namespace === name) this.entries.delete(k);
    }
    return entry.object;
  }

  private commit(key: string, existing: Entry | undefined, object: KubeObject, owners: Ownership[], dryRun: boolean): WriteResult {
    if (object.kind === 'Secret' && object.stringData && typeof object.stringData === 'object') {
      // stringData is write-only: the server merges it into data (base64) and never returns it.
      const data = { ...((object.data as Record<string, string>) ?? {}) };
      for (const [k, v] of Object.entries(object.stringData as Record<string, string>)) data[k] = Buffer.from(v, 'utf8').toString('base64');
      object.data = data;
      delete object.stringData;
    }
    const strip = (o: KubeObject) => {
      const { metadata, status: _status, ...rest } = o;
      const { resourceVersion: _rv, generation: _g, managedFields: _m, uid: _u, creationTimestamp: _c, ...meta } = metadata;
      return { rest, meta };
    };
    const ownersChanged = !existing || !sameValue(existing.owners.map((o) => [o.manager, [...o.paths].sort()]), owners.map((o) => [o.manager, [...o.paths].sort()]));
    const before = existing ? strip(existing.object) : undefined;
    const after = strip(object);
    const specChanged = !before || !sameValue(before.rest, after.rest);
    const changed = !existing || specChanged || !sameValue(before!.meta, after.meta) || !sameValue(existing.object.status, object.status) || ownersChanged;
    if (!existing) {
      object.metadata.uid = randomUUID();
      object.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      object.metadata.generation = 1;
    } else {
      object.metadata.uid = existing.object.metadata.uid;
      object.metadata.creationTimestamp = existing.object.metadata.creationTimestamp;
      object.metadata.generation = (existing.object.metadata.generation as number) + (specChanged ? 1 : 0);
    }
    object.metadata.resourceVersion = changed ? String(dryRun ? this.revision + 1 : ++this.revision) : existing!.object.metadata.resourceVersion;
    const entry = { object, owners };
    if (!dryRun) this.entries.set(key, entry);
    return { object: this.render(entry), created: !existing, changed };
  }

  /** Test helper: set fields without any manager (what controllers and kubelets do through status). */
  setStatus(type: ResourceType, namespace: string | undefined, name: string, status: Record<string, unknown>): void {
    const entry = this.entries.get(this.key(type, namespace, name));
    if (!entry) throw new Error(`no ${type.kind} ${namespace ?? ''}/${name}`);
    if (sameValue(entry.object.status, status)) return;
    entry.object.status = structuredClone(status);
    entry.object.metadata.resourceVersion = String(++this.revision);
  }

  all(): KubeObject[] {
    return [...this.entries.values()].map((e) => this.render(e));
  }
}
