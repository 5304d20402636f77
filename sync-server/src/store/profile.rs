//! How a device's enumerator profile and a project's neutral name are stored, the same
//! on both backends: the profile in three nullable columns of `devices` (languages
//! space-separated, as `enumerator('languages')` gives them), the name in `projects`
//! (migration 14).

use voices_core::matching::EnumeratorProfile;

/// The columns `enumerator_sex`, `enumerator_languages`, `enumerator_area` of a profile.
pub(crate) fn columns(
    profile: &EnumeratorProfile,
) -> (Option<String>, Option<String>, Option<String>) {
    (
        profile.sex.clone(),
        (!profile.languages.is_empty()).then(|| profile.languages.join(" ")),
        profile.area.clone(),
    )
}

/// The profile those columns hold.
pub(crate) fn from_columns(
    sex: Option<String>,
    languages: Option<String>,
    area: Option<String>,
) -> EnumeratorProfile {
    EnumeratorProfile {
        sex,
        languages: languages
            .map(|l| l.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
        area,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_survives_its_columns() {
        let p = EnumeratorProfile {
            sex: Some("female".into()),
            languages: vec!["ar".into(), "en".into()],
            area: Some("North".into()),
        };
        let (s, l, a) = columns(&p);
        assert_eq!(l.as_deref(), Some("ar en"));
        assert_eq!(from_columns(s, l, a), p);
        let (s, l, a) = columns(&EnumeratorProfile::default());
        assert_eq!((s.clone(), l.clone(), a.clone()), (None, None, None));
        assert_eq!(from_columns(s, l, a), EnumeratorProfile::default());
    }
}
