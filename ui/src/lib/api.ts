import { invoke } from '@tauri-apps/api/core';
import type { Commands } from './bindings';
import { asCommandError, type InterviewBackend } from './backend';

export { asCommandError } from './backend';

type Args<K extends keyof Commands> = Commands[K]['request'] extends null
  ? []
  : [Commands[K]['request']];

/** Call a Rust command with its typed request; rejects with a `CommandError`. */
export async function call<K extends keyof Commands>(
  cmd: K,
  ...args: Args<K>
): Promise<Commands[K]['response']> {
  try {
    return await invoke<Commands[K]['response']>(cmd, args.length ? { request: args[0] } : {});
  } catch (e) {
    throw asCommandError(e);
  }
}

/** The app's interview back-end: the Tauri commands, answers committed to the device. */
export const tauriBackend: InterviewBackend = {
  call: (cmd, request) => call(cmd, ...([request] as Args<typeof cmd>)),
};
