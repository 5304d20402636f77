// The dashboard's disaggregation tables: for each choice question, one row per choice and
// one column per group of each dimension (sex, age band, disability) next to the total.
import { pickText } from './languages';
import type { ChoiceDef, Count, Dashboard, DashboardQuestion, FieldDef } from './types';

export const DIMENSIONS = [
  { key: 'sex', marker: 'sex' },
  { key: 'age_band', marker: 'age' },
  { key: 'disability', marker: 'disability' },
] as const;

export type DimensionKey = (typeof DIMENSIONS)[number]['key'];

export interface GroupColumn {
  dimension: DimensionKey;
  group: string;
  label: string;
}

export interface QuestionTable {
  path: string;
  label: string;
  groups: GroupColumn[];
  rows: { choice: string; label: string; total: Count; cells: Count[] }[];
}

/** The groups of each dimension the form marks, in a stable order: the marked field's
 * choices (or the age bands), then any other group the server reported, then "unknown". */
export function dimensionGroups(
  dashboard: Dashboard,
  fields: FieldDef[],
  lang: string,
  unknownLabel: string,
): GroupColumn[] {
  const columns: GroupColumn[] = [];
  for (const d of DIMENSIONS) {
    const marked = dashboard.disaggregation[d.marker];
    if (!marked) continue;
    let known: { name: string; label: string }[];
    if (d.key === 'age_band') {
      known = dashboard.age_bands.map((b) => ({ name: b, label: b }));
    } else {
      const field = fields.find((f) => f.path === marked);
      known = (field?.choices ?? []).map((c: ChoiceDef) => ({ name: c.name, label: pickText(c.label, lang) || c.name }));
    }
    const seen = new Set(known.map((k) => k.name));
    const extra = new Set<string>();
    for (const q of dashboard.questions) {
      for (const cell of q.by[d.key] ?? []) if (!seen.has(cell.group)) extra.add(cell.group);
    }
    const others = [...extra].filter((g) => g !== 'unknown').sort();
    for (const k of known) columns.push({ dimension: d.key, group: k.name, label: k.label });
    for (const g of others) columns.push({ dimension: d.key, group: g, label: g });
    if (extra.has('unknown')) columns.push({ dimension: d.key, group: 'unknown', label: unknownLabel });
  }
  return columns;
}

/** One question's table: missing cells are 0 (the server leaves zero cells out). */
export function questionTable(q: DashboardQuestion, groups: GroupColumn[], lang: string): QuestionTable {
  const totals = new Map(q.total.map((c) => [c.choice, c.count]));
  const cells = new Map<string, Count>();
  for (const [dimension, list] of Object.entries(q.by)) {
    for (const c of list) cells.set(`${dimension}\u0000${c.group}\u0000${c.choice}`, c.count);
  }
  const choices = [...q.choices];
  // Answers outside the choice list still count (a choice removed in a later version).
  for (const c of q.total) if (!choices.some((k) => k.name === c.choice)) choices.push({ name: c.choice, label: c.choice });
  return {
    path: q.path,
    label: pickText(q.label, lang) || q.path,
    groups,
    rows: choices.map((c) => ({
      choice: c.name,
      label: pickText(c.label, lang) || c.name,
      total: totals.get(c.name) ?? 0,
      cells: groups.map((g) => cells.get(`${g.dimension}\u0000${g.group}\u0000${c.name}`) ?? 0),
    })),
  };
}
