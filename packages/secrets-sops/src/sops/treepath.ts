import { Comment, Mapping, Sequence, type Value } from './values.ts';
import { SopsError, codes } from './errors.ts';

/** A path into the tree as sops's CLI takes it: `["key"][0]["other"]`. */
export type TreePath = Array<string | number>;

export function parseTreePath(text: string): TreePath {
  const path: TreePath = [];
  for (const component of text.split('[')) {
    if (component === '') continue;
    if (!component.endsWith(']')) throw new SopsError(`component ${component} doesn't end with ]`, codes.InvalidTreePathFormat);
    const inner = component.slice(0, -1);
    if (inner.startsWith('"') || inner.startsWith("'")) path.push(inner.slice(1, -1));
    else if (/^[+-]?\d+$/.test(inner)) path.push(Number(inner));
    else throw new SopsError(`strconv.Atoi: parsing "${inner}": invalid syntax`, codes.InvalidTreePathFormat);
  }
  return path;
}

function dataItems(sequence: Sequence): Value[] {
  return sequence.items.filter((i): i is Value => !(i instanceof Comment));
}

/** Branch.Truncate: the value at a path, for `decrypt --extract`. */
export function valueAt(root: Mapping, path: TreePath): Value {
  let current: Value = root;
  for (const component of path) {
    if (typeof component === 'string') {
      if (!(current instanceof Mapping)) throw new SopsError(`error truncating tree: component ['${component}'] not found`, codes.ErrorGeneric);
      const next = current.get(component);
      if (next === undefined) throw new SopsError(`error truncating tree: component ['${component}'] not found`, codes.ErrorGeneric);
      current = next;
    } else {
      if (!(current instanceof Sequence)) throw new SopsError(`error truncating tree: component [${component}] is integer, but tree part is not a slice`, codes.ErrorGeneric);
      const items = dataItems(current);
      if (component >= items.length || component < 0) throw new SopsError(`error truncating tree: component [${component}] accesses out of bounds`, codes.ErrorGeneric);
      current = items[component]!;
    }
  }
  return current;
}

function fromPath(path: TreePath, leaf: Value): Value {
  if (path.length === 0) return leaf;
  const [head, ...rest] = path;
  if (typeof head === 'number') return new Sequence([fromPath(rest, leaf)]);
  return new Mapping([{ key: head!, value: fromPath(rest, leaf) }]);
}

/** Branch.Set: replaces or creates the value at a path; returns whether anything changed. */
export function setAt(root: Mapping, path: TreePath, value: Value, equal: (a: Value, b: Value) => boolean): boolean {
  if (path.length === 0) throw new SopsError('set needs a non-empty path', codes.ErrorInvalidSetFormat);
  const [head, ...rest] = path;
  if (typeof head === 'number') throw new SopsError('the top level of a document is a mapping; the path must start with a key', codes.ErrorInvalidSetFormat);
  const entry = root.entries().find((e) => e.key === head);
  if (!entry) {
    root.items.push({ key: head!, value: fromPath(rest, value) });
    return true;
  }
  if (rest.length === 0) {
    const changed = !equal(entry.value, value);
    entry.value = value;
    return changed;
  }
  return setInValue(entry, rest, value, equal);
}

function setInValue(holder: { value: Value }, path: TreePath, value: Value, equal: (a: Value, b: Value) => boolean): boolean {
  const [head, ...rest] = path;
  const current = holder.value;
  if (typeof head === 'number') {
    if (!(current instanceof Sequence)) {
      holder.value = fromPath(path, value);
      return true;
    }
    const positions = current.items.flatMap((item, i) => (item instanceof Comment ? [] : [i]));
    if (head >= positions.length) {
      current.items.push(fromPath(rest, value));
      return true;
    }
    const at = positions[head]!;
    const slot = { value: current.items[at] as Value };
    const changed = rest.length === 0 ? !equal(slot.value, value) : setInValue(slot, rest, value, equal);
    current.items[at] = rest.length === 0 ? value : slot.value;
    return changed;
  }
  if (!(current instanceof Mapping)) {
    holder.value = fromPath(path, value);
    return true;
  }
  return setAt(current, path, value, equal);
}

/** Branch.Unset: removes the value at a path; a missing key is an error sops reports as "Key not found". */
export function unsetAt(root: Mapping, path: TreePath): void {
  const [head, ...rest] = path;
  if (typeof head !== 'string') throw new SopsError('the path must start with a key', codes.ErrorInvalidSetFormat);
  const index = root.items.findIndex((i) => !(i instanceof Comment) && i.key === head);
  if (index === -1) throw new KeyNotFound(`Key not found: ${head}`);
  if (rest.length === 0) {
    root.items.splice(index, 1);
    return;
  }
  unsetIn(root.items[index] as { value: Value }, rest);
}

function unsetIn(holder: { value: Value }, path: TreePath): void {
  const [head, ...rest] = path;
  const current = holder.value;
  if (typeof head === 'number') {
    if (!(current instanceof Sequence)) throw new SopsError(`Unsupported type for item '${head}'`, codes.ErrorGeneric);
    const positions = current.items.flatMap((item, i) => (item instanceof Comment ? [] : [i]));
    if (head >= positions.length) throw new KeyNotFound(`Index ${head} out of bounds`);
    if (rest.length === 0) current.items.splice(positions[head]!, 1);
    else {
      const slot = { value: current.items[positions[head]!] as Value };
      unsetIn(slot, rest);
      current.items[positions[head]!] = slot.value;
    }
    return;
  }
  if (!(current instanceof Mapping)) throw new SopsError(`Unsupported type for item '${head}'`, codes.ErrorGeneric);
  unsetAt(current, path);
}

export class KeyNotFound extends SopsError {
  constructor(message: string) {
    super(message, codes.ErrorGeneric);
    this.name = 'KeyNotFound';
  }
}
