import { describe, expect, it } from 'vitest';
import { base64Of } from './files';

describe('base64Of', () => {
  it('encodes every byte, across chunk boundaries', async () => {
    // Several 32 KB chunks and a ragged end.
    const bytes = new Uint8Array(100_003).map((_, i) => (i * 31 + 7) % 256);
    const text = await base64Of(new Blob([bytes]));
    expect(text.length).toBe(Math.ceil(bytes.length / 3) * 4);
    const back = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    expect(back.length).toBe(bytes.length);
    expect(back.every((b, i) => b === bytes[i])).toBe(true);
  });

  it('encodes an empty file as an empty string', async () => {
    expect(await base64Of(new Blob([]))).toBe('');
  });
});
