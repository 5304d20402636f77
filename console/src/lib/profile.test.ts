import { describe, expect, it } from 'vitest';
import { profileFromForm, profileText } from './profile';

describe('the enumerator profile on the Devices page', () => {
  it('turns the form into the body the server checks', () => {
    expect(profileFromForm({ sex: 'female', languages: ' ar, en  uk,', area: ' North ' })).toEqual({
      sex: 'female',
      languages: ['ar', 'en', 'uk'],
      area: 'North',
    });
    expect(profileFromForm({ sex: '', languages: '', area: '  ' })).toEqual({ sex: null, languages: [], area: null });
  });

  it('says a profile in words, and when there is none', () => {
    const t = (k: string) => ({ sexFemale: 'female', sexMale: 'male', sexOther: 'other', noProfile: 'no profile' })[k]!;
    expect(profileText({ sex: 'male', languages: ['ar'], area: 'South' }, t)).toBe('male · ar · South');
    expect(profileText({ languages: [] }, t)).toBe('no profile');
    expect(profileText(undefined, t)).toBe('no profile');
  });
});
