import { describe, expect, it } from 'vitest';
import { displayAnswer, fieldPathOf, instancePath, isPicture, isSealed, parseReferral, responseFileHref, sectionOf } from './answers';
import { newPassword } from './password';

const select = (type: string) => ({
  type,
  choices: [
    { name: 'piped', label: { en: 'Piped water', es: 'Agua entubada' } },
    { name: 'well', label: 'Well' },
  ],
});

describe('displayAnswer', () => {
  it('shows choice labels in the console’s language', () => {
    expect(displayAnswer(select('select_one'), 'piped', 'es')).toBe('Agua entubada');
    expect(displayAnswer(select('select_one'), 'piped', 'ar')).toBe('Piped water');
    expect(displayAnswer(select('select_multiple'), 'piped well river', 'en')).toBe('Piped water, Well, river');
  });

  it('keeps masked pii apart from an empty answer', () => {
    expect(displayAnswer(select('select_one'), { masked: true }, 'en')).toBeNull();
    expect(displayAnswer(select('select_one'), null, 'en')).toBe('');
    expect(displayAnswer(undefined, 'free', 'en')).toBe('free');
  });

  it('never shows a sealed answer as text', () => {
    expect(displayAnswer(select('select_one'), { sealed: 'YWdl' }, 'en')).toBeNull();
    expect(isSealed({ sealed: true })).toBe(true);
    expect(isSealed({ masked: true })).toBe(false);
    expect(isSealed('sealed')).toBe(false);
  });

  it('writes a geopoint as latitude, longitude', () => {
    expect(displayAnswer({ type: 'geopoint', choices: null }, '-1.2833 36.8167 1700 5', 'en')).toBe('-1.28330, 36.81670');
  });
});

describe('a response\'s files', () => {
  const base = '/projects/demo/responses/r%201';
  it('are read by the response and the file name, pii and saving only when asked', () => {
    expect(responseFileHref(base, 'pump.png', false, false)).toBe('/api/v1/projects/demo/responses/r%201/files/pump.png');
    expect(responseFileHref(base, 'my photo #2.jpg', true, true)).toBe(
      '/api/v1/projects/demo/responses/r%201/files/my%20photo%20%232.jpg?pii=true&download=true',
    );
    expect(responseFileHref(base, '../x?.png', false, true)).toBe('/api/v1/projects/demo/responses/r%201/files/..%2Fx%3F.png?download=true');
  });

  it('preview as pictures for picture questions and picture file names', () => {
    expect(isPicture({ type: 'image' }, 'scan.dat')).toBe(true);
    expect(isPicture({ type: 'file' }, 'receipt.JPG')).toBe(true);
    expect(isPicture({ type: 'file' }, 'notes.pdf')).toBe(false);
  });
});

describe('answer paths', () => {
  it('goes between field paths and instance paths', () => {
    expect(instancePath('/member/member_age', '/member', 2)).toBe('/member[2]/member_age');
    expect(fieldPathOf('/member[2]/child[1]/age')).toBe('/member/child/age');
    expect(fieldPathOf('/member[]')).toBe('/member');
  });
});

describe('newPassword', () => {
  it('makes passwords of the asked length from the unambiguous alphabet, all different', () => {
    const many = new Set(Array.from({ length: 200 }, () => newPassword()));
    expect(many.size).toBe(200);
    for (const p of many) expect(p).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{16}$/);
  });

  it('draws every character with the same chance (rejects the biased top of the range)', () => {
    const values = [0xffffffff, 0, 0xfffffff0, 1];
    let next = 0;
    const p = newPassword(2, (a) => a.map(() => values[next++ % values.length]));
    expect(p).toBe('ab');
  });
});

describe('parseReferral', () => {
  it('reads the outcome and the services accepted', () => {
    expect(parseReferral('accepted hotline north_clinic')).toEqual({ outcome: 'accepted', services: ['hotline', 'north_clinic'] });
    expect(parseReferral('declined')).toEqual({ outcome: 'declined' });
    expect(parseReferral(' no_service ')).toEqual({ outcome: 'no_service' });
  });
  it('leaves any other text alone', () => {
    expect(parseReferral('accepted')).toBeNull();
    expect(parseReferral('declined hotline')).toBeNull();
    expect(parseReferral('maybe')).toBeNull();
  });
});

describe('sectionOf', () => {
  it('names the group without its instances', () => {
    expect(sectionOf('/violence')).toEqual({ group: '/violence', instances: [] });
    expect(sectionOf('/member[2]/violence')).toEqual({ group: '/member/violence', instances: [2] });
  });
});
