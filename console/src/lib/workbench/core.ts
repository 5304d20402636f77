// voices-core in the page: the WebAssembly build of wasm/ (scripts/build-wasm.sh writes
// wasm/pkg; Vite bundles the module as a file of the console, which voices-server embeds).
// Loaded on demand: by the workbench, and to open sealed answers (lib/keyring.svelte.ts). Every export answers one JSON text, `{"ok": …}` or
// `{"error": {"kind", "message"}}`.
import init, { check as checkText, Keyring, Preview } from '../../../../wasm/pkg/voices_core.js';
import type { Finding } from './editor';

export { Keyring, Preview };

let ready: Promise<unknown> | null = null;

/** Load the module once (its URL is a hashed file of the build). */
export function loadCore(): Promise<unknown> {
  ready ??= init();
  return ready;
}

export class CoreError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

/** The answer of an export, or its refusal thrown. */
export function unwrap<T>(answer: string): T {
  const parsed = JSON.parse(answer) as { ok?: T; error?: { kind: string; message: string } };
  if (parsed.error) throw new CoreError(parsed.error.kind, parsed.error.message);
  return parsed.ok as T;
}

export interface CheckReport {
  errors: number;
  warnings: number;
  diagnostics: Finding[];
  form: { id: string; version: string; title: unknown; default_language: string; languages: { code: string; name: string; direction?: string }[] } | null;
}

/** The checker's report on form source text (the module must be loaded). */
export function check(text: string): CheckReport {
  return unwrap<CheckReport>(checkText(text));
}

/** One table of the CSV export of the test response. */
export interface LayoutTable {
  file: string;
  headers: string[];
  rows: string[][];
}
