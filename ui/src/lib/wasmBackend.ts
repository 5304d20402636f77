// The interview back-end of the console's form workbench: the WebAssembly engine
// (voices-wasm's `Preview`, its `screen_*` exports answering as the app's commands do)
// with the test response kept in the page. Nothing is stored or sent: paradata is not
// recorded, attached files stay in memory, and a test response never reaches real data.
import type { Commands } from './bindings';
import type { InterviewBackend, InterviewCommand } from './backend';

/** What the console passes in: voices-wasm's `Preview` (wasm/src/lib.rs). Every method
 *  answers one JSON text, `{"ok": …}` or `{"error": {"kind", "message"}}`. */
export interface ScreensEngine {
  screen_state(page: number, language?: string | null): string;
  screen_page(page: number): string;
  screen_set_answer(path: string, value: string | null | undefined, page: number, now: string): string;
  screen_add_instance(path: string, page: number, now: string): string;
  screen_remove_instance(path: string, page: number, now: string): string;
  screen_record_consent(given: boolean, now: string): string;
  screen_record_assent(given: boolean, page: number, now: string): string;
  screen_record_privacy(group: string, outcome: string, page: number, now: string): string;
  screen_draw_selection(path: string, page: number, now: string): string;
  screen_check_matching(group: string, page: number, now: string): string;
  /** `languages` space-separated (the boundary is strings only). */
  screen_hand_over(
    group: string,
    by: string,
    sex: string | null,
    languages: string,
    area: string | null,
    page: number,
    now: string,
  ): string;
  screen_skip_matching(group: string, page: number, now: string): string;
  screen_end_interview(outcome: string, note: string | null, returnVisit: string | null, now: string): string;
  screen_review(): string;
  screen_finalize(now: string): string;
  screen_reopen(): string;
  screen_safe_exit(now: string): string;
}

/** The engine's answer, or the app's `CommandError` shape thrown. */
export function unwrap<T>(answer: string): T {
  const parsed = JSON.parse(answer) as { ok?: T; error?: { kind: string; message: string } };
  if (parsed.error) throw { kind: parsed.error.kind === 'refused' ? 'invalid_input' : parsed.error.kind, message: parsed.error.message };
  return parsed.ok as T;
}

/** The current instant in RFC 3339 with the browser's own offset (dates in forms are local). */
export function localInstant(at: Date = new Date()): string {
  const pad = (n: number, w = 2) => String(Math.trunc(Math.abs(n))).padStart(w, '0');
  const offset = -at.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return (
    `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}` +
    `T${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}` +
    `${sign}${pad(offset / 60)}:${pad(offset % 60)}`
  );
}

type Handler<K extends InterviewCommand> = (request: Commands[K]['request']) => Commands[K]['response'];

/** An interview back-end over one preview; `onChange` hears of every change made. */
export function wasmBackend(engine: ScreensEngine, onChange: () => void = () => {}): InterviewBackend {
  const files = new Map<string, Commands['get_attachment']['response']>();
  const changed = <T>(value: T): T => {
    onChange();
    return value;
  };
  const handlers: { [K in InterviewCommand]: Handler<K> } = {
    interview_state: (r) => unwrap(engine.screen_state(r.page, r.language)),
    get_page: (r) => unwrap(engine.screen_page(r.page)),
    set_answer: (r) => changed(unwrap(engine.screen_set_answer(r.path, r.value, r.page, localInstant()))),
    add_repeat_instance: (r) => changed(unwrap(engine.screen_add_instance(r.path, r.page, localInstant()))),
    remove_repeat_instance: (r) => changed(unwrap(engine.screen_remove_instance(r.path, r.page, localInstant()))),
    record_consent: (r) => changed(unwrap(engine.screen_record_consent(r.given, localInstant()))),
    record_assent: (r) => changed(unwrap(engine.screen_record_assent(r.given, r.page, localInstant()))),
    record_privacy: (r) => changed(unwrap(engine.screen_record_privacy(r.group_path, r.outcome, r.page, localInstant()))),
    check_matching: (r) => changed(unwrap(engine.screen_check_matching(r.group_path, r.page, localInstant()))),
    hand_over: (r) =>
      changed(
        unwrap(
          engine.screen_hand_over(r.group_path, r.by, r.sex, r.languages.join(' '), r.area, r.page, localInstant()),
        ),
      ),
    skip_matching: (r) => changed(unwrap(engine.screen_skip_matching(r.group_path, r.page, localInstant()))),
    draw_selection: (r) => changed(unwrap(engine.screen_draw_selection(r.field_path, r.page, localInstant()))),
    end_interview: (r) =>
      changed(unwrap(engine.screen_end_interview(r.outcome, r.note, r.return_visit, localInstant()))),
    review: () => unwrap(engine.screen_review()),
    finalize: () => changed(unwrap(engine.screen_finalize(localInstant()))),
    reopen: () => changed(unwrap(engine.screen_reopen())),
    // The designer's own clicks are not fieldwork: no paradata.
    record_paradata: () => null,
    attach_file: (r) => {
      files.set(r.path, { file_name: r.file_name, media_type: r.media_type, data_base64: r.data_base64 });
      return changed(unwrap(engine.screen_set_answer(r.path, r.file_name, r.page, localInstant())));
    },
    get_attachment: (r) => {
      const file = files.get(r.path);
      if (!file) throw { kind: 'not_found', message: `nothing is attached at ${r.path}` };
      return file;
    },
    read_barcode_picture: () => {
      throw { kind: 'no_code_found', message: 'the preview does not read codes from pictures; type the code' };
    },
    // The app's own decoy screen, in the language on screen; nothing is recorded.
    safe_exit: () => unwrap(engine.screen_safe_exit(localInstant())),
  };
  return {
    call: async (cmd, request) => (handlers[cmd] as Handler<typeof cmd>)(request),
  };
}
