import { invoke } from '@tauri-apps/api/core';
import type { CommandError, Commands } from './bindings';

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

export function asCommandError(e: unknown): CommandError {
  if (e && typeof e === 'object' && 'kind' in e && 'message' in e) return e as CommandError;
  return { kind: 'storage', message: String(e) };
}
