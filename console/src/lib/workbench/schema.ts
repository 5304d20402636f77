// Help from the published JSON Schema (schemas/form.schema.json) at a place in a form: the
// properties an object may have, the values a property takes, and the description of
// each, for the workbench editor's completion and hover. Pure: the editor (editor.ts)
// finds the place from the syntax tree; this follows the schema there.
//
// The schema's shapes handled are the ones it uses: `$ref` to `#/$defs/…`, `properties`,
// `additionalProperties`, `items`, `anyOf`/`oneOf` (every branch offers its help) and
// `allOf` of `if`/`then` on an item's `type` (a group's properties only in a group).

export type Schema = { [key: string]: unknown };
/** A step into a JSON document: a property name or an array index. */
export type Segment = string | number;
/** The `type` property of the object at a path (an item's kind), when it has one. */
export type TypeAt = (path: Segment[]) => string | undefined;

export interface PropertyHelp {
  name: string;
  description: string;
  required: boolean;
}

export interface ValueHelp {
  /** The value as JSON text (`"select_one"`, `true`). */
  json: string;
  description: string;
}

const obj = (v: unknown): Schema | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Schema) : null);
const list = (v: unknown): Schema[] => (Array.isArray(v) ? v.map(obj).filter((s): s is Schema => s !== null) : []);

function deref(root: Schema, s: Schema, seen = 0): Schema {
  const ref = s['$ref'];
  if (typeof ref !== 'string' || !ref.startsWith('#/') || seen > 32) return s;
  let at: unknown = root;
  for (const part of ref.slice(2).split('/')) at = obj(at)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  const target = obj(at);
  if (!target) return s;
  // Sibling keywords (a description next to the `$ref`) win over the target's.
  const { $ref: _, ...rest } = s;
  return { ...deref(root, target, seen + 1), ...rest };
}

/** Whether `type` meets an `if` of the form `{"properties": {"type": {const | not enum}}}`. */
function ifHolds(cond: Schema, type: string | undefined): boolean {
  const t = obj(obj(cond['properties'])?.['type']);
  if (!t) return false;
  if ('const' in t) return t['const'] === type;
  const not = obj(t['not']);
  if (not && Array.isArray(not['enum'])) return type !== undefined && !(not['enum'] as unknown[]).includes(type);
  if (Array.isArray(t['enum'])) return (t['enum'] as unknown[]).includes(type);
  return false;
}

/** `s` with its references followed and its branches spread: every schema the value meets
 *  or may meet. `type` is the object's own `type` property, for `if`/`then`. */
export function expand(root: Schema, s: Schema, type?: string, depth = 0): Schema[] {
  if (depth > 16) return [];
  const here = deref(root, s);
  const out: Schema[] = [here];
  for (const branch of [...list(here['anyOf']), ...list(here['oneOf'])]) out.push(...expand(root, branch, type, depth + 1));
  for (const part of list(here['allOf'])) {
    const cond = obj(part['if']);
    const then = obj(part['then']);
    if (cond && then) {
      if (ifHolds(cond, type)) out.push(...expand(root, then, type, depth + 1));
    } else out.push(...expand(root, part, type, depth + 1));
  }
  return out;
}

function child(root: Schema, s: Schema, step: Segment): Schema[] {
  const out: Schema[] = [];
  if (typeof step === 'number') {
    const items = obj(s['items']);
    if (items) out.push(items);
    return out;
  }
  const prop = obj(obj(s['properties'])?.[step]);
  if (prop) out.push(prop);
  else {
    const extra = obj(s['additionalProperties']);
    if (extra) out.push(extra);
  }
  return out;
}

/** Every schema the value at `path` meets or may meet. */
export function schemasAt(root: Schema, path: Segment[], typeAt: TypeAt): Schema[] {
  let current = expand(root, root, typeAt([]));
  for (let i = 0; i < path.length; i++) {
    const prefix = path.slice(0, i + 1);
    current = current.flatMap((s) => child(root, s, path[i])).flatMap((s) => expand(root, s, typeAt(prefix)));
    if (current.length === 0) break;
  }
  return current;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The properties the object at `path` may have, each once, with its description. */
export function propertiesAt(root: Schema, path: Segment[], typeAt: TypeAt): PropertyHelp[] {
  const found = new Map<string, PropertyHelp>();
  for (const s of schemasAt(root, path, typeAt)) {
    const required = Array.isArray(s['required']) ? (s['required'] as string[]) : [];
    for (const [name, value] of Object.entries(obj(s['properties']) ?? {})) {
      const prop = deref(root, obj(value) ?? {});
      const seen = found.get(name);
      const description = text(prop['description']) || text(prop['title']);
      if (!seen) found.set(name, { name, description, required: required.includes(name) });
      else {
        seen.required ||= required.includes(name);
        if (!seen.description) seen.description = description;
      }
    }
  }
  return [...found.values()];
}

/** The values the schema lists for the value at `path` (enums, constants, booleans). */
export function valuesAt(root: Schema, path: Segment[], typeAt: TypeAt): ValueHelp[] {
  const found = new Map<string, ValueHelp>();
  const add = (value: unknown, description: string) => {
    const json = JSON.stringify(value);
    if (!found.has(json)) found.set(json, { json, description });
  };
  for (const s of schemasAt(root, path, typeAt)) {
    if (Array.isArray(s['enum'])) {
      const descriptions = Array.isArray(s['enumDescriptions']) ? (s['enumDescriptions'] as unknown[]) : [];
      (s['enum'] as unknown[]).forEach((v, i) => add(v, text(descriptions[i])));
    }
    if ('const' in s) add(s['const'], text(s['description']));
    if (s['type'] === 'boolean') {
      add(true, '');
      add(false, '');
    }
  }
  return [...found.values()];
}

/** What the schema says about the value at `path`: its description, or its title. */
export function describe(root: Schema, path: Segment[], typeAt: TypeAt): string | null {
  if (path.length === 0) return text(root['description']) || null;
  const parent = path.slice(0, -1);
  const last = path[path.length - 1];
  for (const s of schemasAt(root, parent, typeAt)) {
    for (const prop of child(root, s, last)) {
      const d = deref(root, prop);
      const words = text(d['description']) || text(d['title']);
      if (words) return words;
    }
  }
  return null;
}
