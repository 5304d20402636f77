// The keyring's rules with the WebAssembly module and the API stood in for: an opening is
// recorded (with public keys only) before anything shows in clear, a refusal or a failed
// record keeps nothing, and forgetting frees the key. The real module is tested natively
// and in Node by wasm/tests/native_and_wasm.rs, the whole path in Chromium by e2e/sealed.mjs.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const calls: { path: string; options: unknown }[] = [];
let failRecord = false;
const freed: string[] = [];

vi.mock('./api', () => ({
  projectPath: (project: string, rest = '') => `/projects/${project}${rest}`,
  api: async (path: string, options: unknown) => {
    calls.push({ path, options });
    if (failRecord) throw new Error('not signed in');
  },
}));

vi.mock('./workbench/core', () => ({
  loadCore: async () => undefined,
  Keyring: class {
    constructor(
      private file: Uint8Array,
      private passphrase: string,
    ) {}
    opened(): string {
      if (this.passphrase !== 'right passphrase') {
        return JSON.stringify({ error: { kind: 'wrong_passphrase', message: 'no' } });
      }
      return JSON.stringify({ ok: { recipients: ['age1public'] } });
    }
    open(sealed: string): string {
      return sealed === 'CIPHER'
        ? JSON.stringify({ ok: 'Amina' })
        : JSON.stringify({ error: { kind: 'not_yours', message: 'other key' } });
    }
    free(): void {
      freed.push(this.passphrase);
    }
  },
}));

const { forgetKey, keyring, KeyringError, openKey, reveal } = await import('./keyring.svelte');

describe('the keyring', () => {
  beforeEach(() => {
    forgetKey();
    calls.length = 0;
    freed.length = 0;
    failRecord = false;
  });

  it('records the opening with the public keys only, then shows sealed answers in clear', async () => {
    expect(reveal({ sealed: 'CIPHER' })).toEqual({ sealed: 'CIPHER' });
    await openKey(new Uint8Array([1, 2, 3]), 'right passphrase', 'demo');
    expect(calls).toEqual([{ path: '/projects/demo/sealed-opened', options: { method: 'POST', json: { recipients: ['age1public'] } } }]);
    expect(JSON.stringify(calls)).not.toContain('right passphrase');
    expect(keyring).toMatchObject({ open: true, project: 'demo', recipients: ['age1public'] });
    expect(reveal({ sealed: 'CIPHER' })).toBe('Amina');
    // Sealed to another key, masked, clear and missing values stay as they are.
    expect(reveal({ sealed: 'OTHER' })).toEqual({ sealed: 'OTHER' });
    expect(reveal({ masked: true })).toEqual({ masked: true });
    expect(reveal('clear')).toBe('clear');
    expect(reveal(undefined)).toBeUndefined();
  });

  it('keeps nothing when the passphrase is wrong', async () => {
    await expect(openKey(new Uint8Array([1]), 'wrong', 'demo')).rejects.toBeInstanceOf(KeyringError);
    expect(calls).toEqual([]);
    expect(freed).toEqual(['wrong']);
    expect(keyring.open).toBe(false);
  });

  it('keeps nothing when the server cannot record the opening', async () => {
    failRecord = true;
    await expect(openKey(new Uint8Array([1]), 'right passphrase', 'demo')).rejects.toThrow('not signed in');
    expect(freed).toEqual(['right passphrase']);
    expect(keyring.open).toBe(false);
    expect(reveal({ sealed: 'CIPHER' })).toEqual({ sealed: 'CIPHER' });
  });

  it('forgets: frees the key and seals the answers again', async () => {
    await openKey(new Uint8Array([1]), 'right passphrase', 'demo');
    expect(reveal({ sealed: 'CIPHER' })).toBe('Amina');
    forgetKey();
    expect(freed).toEqual(['right passphrase']);
    expect(keyring).toMatchObject({ open: false, project: null, recipients: [] });
    expect(reveal({ sealed: 'CIPHER' })).toEqual({ sealed: 'CIPHER' });
  });
});
