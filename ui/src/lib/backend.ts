// The interview screens talk to this interface, never to Tauri directly. The app answers
// with its Tauri commands (`tauriBackend` in api.ts: answers committed to the device's
// store); the console's form workbench answers with the WebAssembly engine, the test
// response kept in the page (`wasmBackend.ts`). Same components, same widgets.
import type { CommandError, Commands } from './bindings';

/** The commands the interview screens (Interview, Field, the quick hide) call. */
export type InterviewCommand =
  | 'interview_state'
  | 'get_page'
  | 'set_answer'
  | 'add_repeat_instance'
  | 'remove_repeat_instance'
  | 'record_consent'
  | 'record_assent'
  | 'record_privacy'
  | 'check_matching'
  | 'hand_over'
  | 'skip_matching'
  | 'draw_selection'
  | 'end_interview'
  | 'review'
  | 'finalize'
  | 'reopen'
  | 'record_paradata'
  | 'attach_file'
  | 'get_attachment'
  | 'read_barcode_picture'
  | 'safe_exit';

export interface InterviewBackend {
  /** One command with its typed request; rejects with a `CommandError`. */
  call<K extends InterviewCommand>(cmd: K, request: Commands[K]['request']): Promise<Commands[K]['response']>;
}

/** The Svelte context key under which Interview hands its back-end to its widgets. */
export const BACKEND = Symbol('voices-interview-backend');

export function asCommandError(e: unknown): CommandError {
  if (e && typeof e === 'object' && 'kind' in e && 'message' in e) return e as CommandError;
  return { kind: 'storage', message: String(e) };
}
