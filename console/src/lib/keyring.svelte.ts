// The coordinator's identity in the page, to read sealed answers: the identity file that
// `voices keygen` wrote is opened with its passphrase by the WebAssembly module (wasm/,
// src/unseal.rs) and kept in that module's memory only. Neither the file, nor the
// passphrase, nor a clear answer is sent anywhere or stored (no storage API is used):
// forgetting the key, signing out or closing the tab ends it. The server is told only
// that sealed answers were opened, and with which public key (docs/console.md).
import { api, projectPath } from './api';
import { isSealed } from './answers';
import type { AnswerValue } from './types';

interface KeyringModule {
  opened(): string;
  open(sealed: string): string;
  file_name(sealed: string): string;
  open_file(sealed: Uint8Array): string;
  free(): void;
}

/** What the page shows of the open identity (reactive). */
export const keyring = $state<{ open: boolean; project: string | null; recipients: string[]; version: number }>({
  open: false,
  project: null,
  recipients: [],
  version: 0,
});

let ring: KeyringModule | null = null;
/** Clear texts by ciphertext (`null`: not sealed to this identity), for this key only. */
const opened = new Map<string, string | null>();

export class KeyringError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

function unwrap<T>(answer: string): T {
  const parsed = JSON.parse(answer) as { ok?: T; error?: { kind: string; message: string } };
  if (parsed.error) throw new KeyringError(parsed.error.kind, parsed.error.message);
  return parsed.ok as T;
}

/**
 * Open `file` (the identity file's bytes) with `passphrase` in the page, then record on the
 * server that `project`'s sealed answers were opened (with the identity's public keys only).
 * Throws KeyringError (`wrong_passphrase`, `not_an_identity`, `too_much_work`) when the file
 * does not open; nothing is kept then.
 */
export async function openKey(file: Uint8Array, passphrase: string, project: string): Promise<void> {
  // The module (the core with age) is loaded on demand, as for the workbench.
  const core = await import('./workbench/core');
  await core.loadCore();
  const candidate = new core.Keyring(file, passphrase);
  let recipients: string[];
  try {
    recipients = unwrap<{ recipients: string[] }>(candidate.opened()).recipients;
    // Recorded before anything is shown: an opening the server could not record (signed
    // out, no longer a coordinator) shows nothing.
    await api<void>(projectPath(project, '/sealed-opened'), { method: 'POST', json: { recipients } });
  } catch (e) {
    candidate.free();
    throw e;
  }
  forgetKey();
  ring = candidate;
  keyring.open = true;
  keyring.project = project;
  keyring.recipients = recipients;
  keyring.version++;
}

/** Drop the identity from memory; sealed answers show as sealed again. Also on signing
 * out and on leaving the project it was opened for (its opening was recorded there). */
export function forgetKey(): void {
  ring?.free();
  ring = null;
  opened.clear();
  if (keyring.open) {
    keyring.open = false;
    keyring.project = null;
    keyring.recipients = [];
    keyring.version++;
  }
}

/**
 * `value` with a sealed answer replaced by its clear text when the open identity opens it;
 * anything else (and a sealed answer it cannot open) as it is. Reactive: reads the
 * keyring's version, so shown values change when a key is opened or forgotten.
 */
export function reveal(value: AnswerValue | undefined): AnswerValue | undefined {
  void keyring.version;
  if (!ring || !isSealed(value) || typeof value.sealed !== 'string') return value;
  let clear = opened.get(value.sealed);
  if (clear === undefined) {
    try {
      clear = unwrap<string>(ring.open(value.sealed));
    } catch {
      clear = null;
    }
    opened.set(value.sealed, clear);
  }
  return clear ?? value;
}

/**
 * The name the file of a sealed file answer goes by on the server (`sealed-….age`, derived
 * from the sealed answer by the core), when an identity is open; else null.
 */
export function sealedFileName(sealed: string): string | null {
  void keyring.version;
  if (!ring) return null;
  try {
    return unwrap<string>(ring.file_name(sealed));
  } catch {
    return null;
  }
}

/**
 * The clear bytes of a sealed file (as the server serves it), opened in the page with the
 * open identity. Throws KeyringError (`not_yours`, `not_sealed`, `no_key`).
 */
export function openSealedFile(sealed: Uint8Array): Uint8Array {
  if (!ring) throw new KeyringError('no_key', 'no identity is open');
  const base64 = unwrap<string>(ring.open_file(sealed));
  const text = atob(base64);
  const clear = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) clear[i] = text.charCodeAt(i);
  return clear;
}
