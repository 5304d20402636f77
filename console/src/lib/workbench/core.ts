// voices-core in the page: the WebAssembly build of wasm/ (scripts/build-wasm.sh writes
// wasm/pkg; Vite bundles the module as a file of the console, which voices-server embeds).
// Loaded on demand: by the workbench, and to open sealed answers (lib/keyring.svelte.ts). Every export answers one JSON text, `{"ok": …}` or
// `{"error": {"kind", "message"}}`.
import init, { check as checkText, Keyring, Preview, warm_up as warmUpRound } from '../../../../wasm/pkg/voices_core.js';
import type { Finding } from './editor';

export { Keyring, Preview };

let ready: Promise<unknown> | null = null;

/** Load the module once (its URL is a hashed file of the build). */
export function loadCore(): Promise<unknown> {
  ready ??= init();
  return ready;
}

/** Rounds of the warm-up: three checks of a 300-field form took V8 from 0.3–0.7 s for the
 *  first check of a 2,000-field form to under 0.1–0.3 s (docs/performance.md). */
const WARM_UP_ROUNDS = 3;

let warm: Promise<void> | null = null;

/** When the page has nothing else to do (or after `ms` at the latest). */
function idle(ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (typeof requestIdleCallback === 'function') requestIdleCallback(() => resolve(), { timeout: ms });
    else setTimeout(resolve, ms);
  });
}

/** Warm the engine up while the page is idle: V8 runs a new module unoptimized and
 *  optimizes the functions that get hot, in the background, so without this the
 *  designer's first check ran several times slower than the next ones. Each round is
 *  one check of a generated form (about 0.1 s); a check the designer asks for meanwhile
 *  simply runs between two rounds. Resolves when done; never rejects. */
export function warmUpCore(): Promise<void> {
  warm ??= (async () => {
    try {
      await loadCore();
      for (let round = 0; round < WARM_UP_ROUNDS; round++) {
        await idle(200);
        warmUpRound();
      }
    } catch {
      // A warm-up that fails costs speed only; the checks themselves report errors.
    }
  })();
  return warm;
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
