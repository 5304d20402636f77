import { describe, expect, it } from 'vitest';
import { Zip, ZipDeflate, strToU8 } from 'fflate';
import { csvZipCounter, lineCounter, progressOf } from './exportProgress';

function chunks(bytes: Uint8Array, size: number): Uint8Array[] {
  const out = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.slice(i, i + size));
  return out;
}

/** A zip written as a stream (sizes in data descriptors after each file), as the server does. */
function streamedZip(files: Record<string, string>): Uint8Array {
  const parts: Uint8Array[] = [];
  const zip = new Zip((err, data) => {
    if (err) throw err;
    parts.push(data);
  });
  for (const [name, text] of Object.entries(files)) {
    const f = new ZipDeflate(name, { level: 6 });
    zip.add(f);
    f.push(strToU8(text), true);
  }
  zip.end();
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('counting responses while an export streams', () => {
  it('counts JSON items and GeoJSON features, one per line after the opening line', () => {
    const items = Array.from({ length: 250 }, (_, i) => `{"cursor":"${i}","answers":{"n":"{x}"}}`).join(',\n');
    for (const opening of ['[', '{"type":"FeatureCollection","features":[']) {
      const text = `${opening}\n${items}\n]${opening === '[' ? '' : '}'}\n`;
      const counter = lineCounter();
      // Chunks of 1 byte too: a newline and the item's brace in different chunks.
      for (const c of chunks(strToU8(text), opening === '[' ? 1 : 7)) counter.push(c);
      expect(counter.rows).toBe(250);
    }
  });

  it('counts the main CSV rows inside a streamed zip, not the repeat files', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => `2026-11-26,uuid:${i},Kijiji ${i % 40}`).join('\n');
    const zip = streamedZip({
      'household_survey.csv': `SubmissionDate,KEY,village\n${rows}\n`,
      'household_survey-member.csv': 'KEY,PARENT_KEY\n' + 'a,b\n'.repeat(3000),
    });
    const counter = csvZipCounter('household_survey');
    let seenMidway = 0;
    const parts = chunks(zip, 1024);
    parts.forEach((c, i) => {
      counter.push(c);
      if (i === Math.floor(parts.length / 4)) seenMidway = counter.rows;
    });
    expect(counter.rows).toBe(1000);
    expect(seenMidway).toBeGreaterThan(0);
    expect(seenMidway).toBeLessThanOrEqual(1000);
  });

  it('turns counts into a fraction of the announced total', () => {
    expect(progressOf(50, 200)).toBe(0.25);
    expect(progressOf(300, 200)).toBe(1);
    expect(progressOf(0, 0)).toBe(1);
    expect(progressOf(10, null)).toBeNull();
  });
});
