import { describe, expect, it } from 'vitest';
import { NO_PROFILE, loadedDirectory, profileJson } from './previewAs';

describe("the workbench preview's profile and directory", () => {
  it('gives the core only what is set, and no profile when nothing is', () => {
    expect(profileJson(NO_PROFILE)).toBeNull();
    expect(profileJson({ sex: '', languages: ' , ', area: '  ' })).toBeNull();
    expect(JSON.parse(profileJson({ sex: 'female', languages: 'ar, en  uk', area: ' North ' })!)).toEqual({
      sex: 'female',
      languages: ['ar', 'en', 'uk'],
      area: 'North',
    });
    expect(JSON.parse(profileJson({ sex: 'male', languages: '', area: '' })!)).toEqual({ sex: 'male' });
  });

  it("keeps the published directory as the server answers it and counts its services", () => {
    const body = { services: [{ id: 'a' }, { id: 'b' }], version: 3, published_at: '2026-12-08T00:00:00Z' };
    const loaded = loadedDirectory(body)!;
    expect(loaded.version).toBe(3);
    expect(loaded.services).toBe(2);
    expect(JSON.parse(loaded.text)).toEqual(body);
    expect(loadedDirectory({ version: 1 })).toBeNull();
    expect(loadedDirectory(null)).toBeNull();
  });
});
