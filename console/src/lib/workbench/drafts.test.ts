import { describe, expect, it } from 'vitest';
import { blankForm, loadDrafts, newDraftId, putDraft, saveDrafts, type Draft } from './drafts';

function memory() {
  const items = new Map<string, string>();
  return { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v), items };
}

describe('drafts kept in the browser', () => {
  it('are kept per project and read back', () => {
    const storage = memory();
    const a: Draft = { id: 'a', name: 'visit.json', text: '{}', updated: '2025-03-04T10:00:00Z' };
    saveDrafts(storage, 'kisumu', [a]);
    expect(loadDrafts(storage, 'kisumu')).toEqual([a]);
    expect(loadDrafts(storage, 'other')).toEqual([]);
  });

  it('ignore what is not a list of drafts', () => {
    const storage = memory();
    storage.setItem('voices-workbench:p', 'not json');
    expect(loadDrafts(storage, 'p')).toEqual([]);
    storage.setItem('voices-workbench:p', JSON.stringify([{ id: 1 }, { id: 'x', name: 'n', text: 't', updated: 'u' }]));
    expect(loadDrafts(storage, 'p').map((d) => d.id)).toEqual(['x']);
  });

  it('put the latest edit first and give new ids that are free', () => {
    const one: Draft = { id: 'one', name: '1', text: '', updated: '' };
    const two: Draft = { id: 'two', name: '2', text: '', updated: '' };
    expect(putDraft([one, two], { ...two, text: 'x' }).map((d) => d.id)).toEqual(['two', 'one']);
    const now = new Date(0);
    const first = newDraftId([], now);
    expect(newDraftId([{ ...one, id: first }], now)).not.toBe(first);
  });

  it('start from a form that parses', () => {
    const form = JSON.parse(blankForm('visit'));
    expect(form.id).toBe('visit');
    expect(form.body).toHaveLength(1);
  });
});
