// The enumerator profile on the Devices page: the form's text fields to the API's body,
// and a profile in words for the device list.
import type { EnumeratorProfile } from './types';

export interface ProfileForm {
  sex: string;
  /** Language codes as typed: separated by commas or spaces. */
  languages: string;
  area: string;
}

/** The body of `PUT …/devices/{id}/profile` (empty parts: unknown; the server checks). */
export function profileFromForm(form: ProfileForm): EnumeratorProfile {
  const languages = form.languages
    .split(/[\s,]+/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const sex = form.sex === 'female' || form.sex === 'male' || form.sex === 'other' ? form.sex : null;
  const area = form.area.trim();
  return { sex, languages, area: area === '' ? null : area };
}

type Translate = (key: 'sexFemale' | 'sexMale' | 'sexOther' | 'noProfile') => string;

/** "female · ar, en · North"; the words for no profile at all. */
export function profileText(profile: EnumeratorProfile | undefined, t: Translate): string {
  const parts: string[] = [];
  if (profile?.sex === 'female') parts.push(t('sexFemale'));
  else if (profile?.sex === 'male') parts.push(t('sexMale'));
  else if (profile?.sex === 'other') parts.push(t('sexOther'));
  if (profile?.languages?.length) parts.push(profile.languages.join(', '));
  if (profile?.area) parts.push(profile.area);
  return parts.length ? parts.join(' · ') : t('noProfile');
}
