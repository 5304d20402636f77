// The designer's drafts of a project, kept in this browser (localStorage) until published:
// a draft is only text, and nothing about it reaches the server before `publish`. Test
// responses are not kept at all (they live in the preview's memory).

export interface Draft {
  id: string;
  /** What the designer calls it (the file it came from, or the form's id). */
  name: string;
  text: string;
  /** ISO instant of the last edit. */
  updated: string;
}

/** Where drafts are kept: localStorage in the page, a Map in tests. */
export interface DraftStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

const key = (project: string) => `voices-workbench:${project}`;

export function loadDrafts(storage: DraftStorage, project: string): Draft[] {
  try {
    const parsed = JSON.parse(storage.getItem(key(project)) ?? '[]') as unknown;
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (d): d is Draft => !!d && typeof d.id === 'string' && typeof d.name === 'string' && typeof d.text === 'string' && typeof d.updated === 'string',
    );
  } catch {
    return [];
  }
}

export function saveDrafts(storage: DraftStorage, project: string, drafts: Draft[]): void {
  storage.setItem(key(project), JSON.stringify(drafts));
}

/** A new draft's id: unique among `drafts`. */
export function newDraftId(drafts: Draft[], now: Date = new Date()): string {
  let n = drafts.length + 1;
  const base = `d${now.getTime().toString(36)}`;
  while (drafts.some((d) => d.id === `${base}-${n}`)) n++;
  return `${base}-${n}`;
}

/** `drafts` with `draft` in place of the one of its id (or added first), newest first. */
export function putDraft(drafts: Draft[], draft: Draft): Draft[] {
  return [draft, ...drafts.filter((d) => d.id !== draft.id)];
}

/** A starting text: an empty form in one language, which checks clean. */
export function blankForm(id: string): string {
  return JSON.stringify(
    {
      $schema: 'https://example.invalid/voices/schemas/form.schema.json',
      id,
      version: '1',
      title: 'New form',
      languages: [{ code: 'en', name: 'English' }],
      default_language: 'en',
      body: [{ type: 'text', name: 'first_question', label: 'First question' }],
    },
    null,
    2,
  );
}
