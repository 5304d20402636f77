import { describe, expect, it } from 'vitest';
import { localInstant, unwrap, wasmBackend, type ScreensEngine } from './wasmBackend';

describe('the WebAssembly interview back-end', () => {
  it('gives the local instant with its offset, as the engine reads it', () => {
    const text = localInstant(new Date(2025, 2, 4, 9, 5, 7, 12));
    expect(text).toMatch(/^2025-03-04T09:05:07\.012[+-]\d\d:\d\d$/);
    expect(Number.isNaN(Date.parse(text))).toBe(false);
  });

  it("unwraps answers and throws refusals as the app's command errors", () => {
    expect(unwrap<number>('{"ok": 3}')).toBe(3);
    expect(() => unwrap('{"error": {"kind": "refused", "message": "/x is read-only"}}')).toThrow(
      expect.objectContaining({ kind: 'invalid_input', message: '/x is read-only' }),
    );
  });

  it('answers commands from the engine, keeps files in the page and records no paradata', async () => {
    const calls: string[] = [];
    const answer = (what: string) => (...args: unknown[]) => {
      calls.push(`${what} ${JSON.stringify(args.slice(0, 3))}`);
      return JSON.stringify({ ok: { what } });
    };
    const engine = {
      screen_state: answer('state'),
      screen_page: answer('page'),
      screen_set_answer: answer('set'),
      screen_add_instance: answer('add'),
      screen_remove_instance: answer('remove'),
      screen_record_consent: answer('consent'),
      screen_record_assent: answer('assent'),
      screen_record_privacy: answer('privacy'),
      screen_review: answer('review'),
      screen_finalize: answer('finalize'),
      screen_reopen: answer('reopen'),
      screen_safe_exit: answer('decoy'),
    } as ScreensEngine;
    let changes = 0;
    const backend = wasmBackend(engine, () => changes++);
    await backend.call('set_answer', { response_id: 'r', path: '/age', value: '12', page: 1 });
    await backend.call('get_page', { response_id: 'r', page: 2, language: null });
    expect(await backend.call('record_paradata', { response_id: 'r', event: 'page_enter', path: '/a' })).toBeNull();
    await backend.call('attach_file', { response_id: 'r', path: '/photo', file_name: 'a.png', media_type: 'image/png', data_base64: 'AAAA', page: 1 });
    expect(await backend.call('get_attachment', { response_id: 'r', path: '/photo' })).toEqual({
      file_name: 'a.png',
      media_type: 'image/png',
      data_base64: 'AAAA',
    });
    await expect(backend.call('get_attachment', { response_id: 'r', path: '/other' })).rejects.toMatchObject({ kind: 'not_found' });
    // A quick hide asks the engine for the decoy and changes nothing.
    expect(await backend.call('safe_exit', { response_id: 'r', form_id: null, language: 'ar' })).toEqual({ what: 'decoy' });
    expect(calls.slice(0, 3)).toEqual(['set ["/age","12",1]', 'page [2]', 'set ["/photo","a.png",1]']);
    expect(calls[3]).toMatch(/^decoy \["\d{4}-\d\d-\d\dT/);
    expect(changes).toBe(2);
  });

  it("offers a section to a colleague with what they state, the languages as the engine's one string", async () => {
    const calls: unknown[][] = [];
    const engine = {
      screen_hand_over: (...args: unknown[]) => {
        calls.push(args.slice(0, 6));
        return JSON.stringify({ ok: { accepted: args[2] === 'female', update: {} } });
      },
      screen_skip_matching: (...args: unknown[]) => {
        calls.push(['skip', ...args.slice(0, 2)]);
        return JSON.stringify({ ok: { page: {} } });
      },
    } as unknown as ScreensEngine;
    const backend = wasmBackend(engine);
    const offer = { response_id: 'r', group_path: '/experiences', languages: ['ar', 'en'], area: 'north', page: 4 };
    expect((await backend.call('hand_over', { ...offer, by: 'Karim', sex: 'male' })).accepted).toBe(false);
    expect((await backend.call('hand_over', { ...offer, by: 'Amal', sex: 'female' })).accepted).toBe(true);
    await backend.call('skip_matching', { response_id: 'r', group_path: '/experiences', page: 4 });
    expect(calls).toEqual([
      ['/experiences', 'Karim', 'male', 'ar en', 'north', 4],
      ['/experiences', 'Amal', 'female', 'ar en', 'north', 4],
      ['skip', '/experiences', 4],
    ]);
  });
});
