// A response laid out for reading: the form's fields in form order, each with its answer,
// and repeats as their instances, each instance with its own fields (nested repeats too).
import type { AnswerTree, AnswerValue, FieldDef } from './types';

export type ViewNode =
  | { kind: 'field'; field: FieldDef; path: string; value: AnswerValue | undefined }
  | { kind: 'repeat'; repeat: string; name: string; path: string; instances: { path: string; nodes: ViewNode[] }[] };

/** Every answer of a response's tree by flat path (`/name`, `/member[2]/name`, and the
 * instance count of each repeat as `/member[]`). */
export function flattenAnswers(tree: AnswerTree, prefix = '', out: Map<string, AnswerValue> = new Map()): Map<string, AnswerValue> {
  for (const [name, value] of Object.entries(tree)) {
    if (Array.isArray(value)) {
      out.set(`${prefix}/${name}[]`, String(value.length));
      value.forEach((instance, i) => flattenAnswers(instance, `${prefix}/${name}[${i + 1}]`, out));
    } else {
      out.set(`${prefix}/${name}`, value);
    }
  }
  return out;
}

/** The answers with the pii ones the server left out (`masked`: their flat paths) marked
 * as hidden, so the page says "hidden" rather than "not answered". */
export function withMasked(answers: Map<string, AnswerValue>, masked: string[] | undefined): Map<string, AnswerValue> {
  for (const path of masked ?? []) answers.set(path, { masked: true });
  return answers;
}

/** The repeat directly inside `scope` that `repeat` lies in (`/a` for `/a/b` from the top). */
function childRepeat(scope: string, repeat: string, repeats: Set<string>): string | null {
  if (!repeat.startsWith(scope + '/')) return null;
  const rest = repeat.slice(scope.length).split('/').filter(Boolean);
  for (let i = 1; i <= rest.length; i++) {
    const candidate = scope + '/' + rest.slice(0, i).join('/');
    if (repeats.has(candidate)) return candidate;
  }
  return repeat;
}

/** The layout of a response: `fields` in form order with answers from `answers`. */
export function responseView(fields: FieldDef[], answers: Map<string, AnswerValue>): ViewNode[] {
  const repeats = new Set(fields.flatMap((f) => (f.repeat ? [f.repeat] : [])));
  return scope(fields, '', '', answers, repeats);
}

function scope(fields: FieldDef[], scopeRepeat: string, actualPrefix: string, answers: Map<string, AnswerValue>, repeats: Set<string>): ViewNode[] {
  const nodes: ViewNode[] = [];
  const done = new Set<string>();
  for (const f of fields) {
    const repeat = f.repeat ?? '';
    if (repeat === scopeRepeat) {
      const path = actualPrefix + f.path.slice(scopeRepeat.length);
      nodes.push({ kind: 'field', field: f, path, value: answers.get(path) });
      continue;
    }
    const child = childRepeat(scopeRepeat, repeat, repeats);
    if (child === null || done.has(child)) continue;
    done.add(child);
    const inside = fields.filter((g) => g.repeat && (g.repeat === child || g.repeat.startsWith(child + '/')));
    const base = actualPrefix + child.slice(scopeRepeat.length);
    const count = Number(answers.get(`${base}[]`) ?? 0) || 0;
    const instances = [];
    for (let i = 1; i <= count; i++) {
      const path = `${base}[${i}]`;
      instances.push({ path, nodes: scope(inside, child, path, answers, repeats) });
    }
    nodes.push({ kind: 'repeat', repeat: child, name: child.split('/').pop() ?? child, path: base, instances });
  }
  return nodes;
}
