// Form versions and field lists of a project, fetched once per page visit and shared by the
// pages that need them (table columns, the response page, dashboard labels).
import { api, projectPath } from './api';
import type { LocalText } from './languages';
import type { FieldDef, FormVersionSummary } from './types';

const fieldCache = new Map<string, Promise<FieldDef[]>>();

/** The columns of a form (of `version`, or the newest published). */
export function fieldsOf(project: string, form: string, version = ''): Promise<FieldDef[]> {
  const key = `${project}\u0000${form}\u0000${version}`;
  let found = fieldCache.get(key);
  if (!found) {
    const q = version ? `?version=${encodeURIComponent(version)}` : '';
    found = api<FieldDef[]>(projectPath(project, `/forms/${encodeURIComponent(form)}/fields${q}`));
    found.catch(() => fieldCache.delete(key));
    fieldCache.set(key, found);
  }
  return found;
}

export function formVersions(project: string): Promise<FormVersionSummary[]> {
  return api<FormVersionSummary[]>(projectPath(project, '/forms'));
}

export interface FormSummary {
  form: string;
  title: string;
  /** Newest first. */
  versions: FormVersionSummary[];
}

/** Versions grouped by form, each form's newest version first, forms by title. */
export function groupForms(versions: FormVersionSummary[]): FormSummary[] {
  const byForm = new Map<string, FormVersionSummary[]>();
  for (const v of versions) {
    const list = byForm.get(v.form) ?? [];
    list.push(v);
    byForm.set(v.form, list);
  }
  return [...byForm.entries()]
    .map(([form, list]) => {
      list.sort((a, b) => (b.published_at.localeCompare(a.published_at) || b.version.localeCompare(a.version)));
      return { form, title: list[0].title || form, versions: list };
    })
    .sort((a, b) => a.title.localeCompare(b.title));
}

/** Published versions are fixed, so once a form's fields are known they stay valid; a
 * newly published version (no version asked) is seen after this. */
export function forgetFields(project: string, form: string): void {
  fieldCache.delete(`${project}\u0000${form}\u0000`);
}

interface FormItem {
  type?: string;
  name?: string;
  label?: LocalText;
  body?: FormItem[];
}

/** The labels of a form document's repeats by their path (`/member`, `/member/child`):
 * groups add nothing to a path, repeats add their name, as in answer paths. */
export function repeatLabels(body: FormItem[], prefix = '', out: Map<string, LocalText> = new Map()): Map<string, LocalText> {
  for (const item of body) {
    if (item.type === 'repeat' && item.name) {
      const path = `${prefix}/${item.name}`;
      if (item.label) out.set(path, item.label);
      repeatLabels(item.body ?? [], path, out);
    } else if (item.body) {
      repeatLabels(item.body, prefix, out);
    }
  }
  return out;
}

/** The labels of a form document's groups by their path as matching and privacy records
 * name them (`/violence`, `/member/violence`: a repeat's name and the group's). */
export function groupLabels(body: FormItem[], prefix = '', out: Map<string, LocalText> = new Map()): Map<string, LocalText> {
  for (const item of body) {
    if (item.type === 'repeat' && item.name) {
      groupLabels(item.body ?? [], `${prefix}/${item.name}`, out);
    } else if (item.body && item.name) {
      if (item.label) out.set(`${prefix}/${item.name}`, item.label);
      groupLabels(item.body, prefix, out);
    } else if (item.body) {
      groupLabels(item.body, prefix, out);
    }
  }
  return out;
}

const documentCache = new Map<string, Promise<FormItem[]>>();

/** The body of one published form version (fixed once published). */
function bodyOf(project: string, form: string, version: string): Promise<FormItem[]> {
  const key = `${project}\u0000${form}\u0000${version}`;
  let found = documentCache.get(key);
  if (!found) {
    found = api<{ body?: FormItem[] }>(
      projectPath(project, `/forms/${encodeURIComponent(form)}/versions/${encodeURIComponent(version)}`),
    ).then((doc) => doc.body ?? []);
    found.catch(() => documentCache.delete(key));
    documentCache.set(key, found);
  }
  return found;
}

/** Repeat labels of one published form version. */
export function repeatLabelsOf(project: string, form: string, version: string): Promise<Map<string, LocalText>> {
  return bodyOf(project, form, version).then((body) => repeatLabels(body));
}

/** Group labels of one published form version. */
export function groupLabelsOf(project: string, form: string, version: string): Promise<Map<string, LocalText>> {
  return bodyOf(project, form, version).then((body) => groupLabels(body));
}
