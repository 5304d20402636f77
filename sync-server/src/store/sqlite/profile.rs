//! SQLite: a device's enumerator profile and a project's presentation (migration 14).

use rusqlite::{params, Connection, OptionalExtension};
use voices_core::matching::EnumeratorProfile;
use voices_core::sync::protocol::Presentation;

use crate::store::profile::{columns, from_columns};
use crate::Result;

pub(super) fn device_profile(
    c: &Connection,
    project: Option<&str>,
    device: &str,
) -> Result<Option<EnumeratorProfile>> {
    let row: Option<(Option<String>, Option<String>, Option<String>)> = c
        .query_row(
            "SELECT enumerator_sex, enumerator_languages, enumerator_area FROM devices
             WHERE id = ?1 AND (?2 IS NULL OR project = ?2)",
            params![device, project],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(row.map(|(s, l, a)| from_columns(s, l, a)))
}

pub(super) fn set_device_profile(
    c: &Connection,
    project: Option<&str>,
    device: &str,
    profile: &EnumeratorProfile,
) -> Result<bool> {
    let (sex, languages, area) = columns(profile);
    let n = c.execute(
        "UPDATE devices SET enumerator_sex = ?3, enumerator_languages = ?4, enumerator_area = ?5
         WHERE id = ?1 AND (?2 IS NULL OR project = ?2)",
        params![device, project, sex, languages, area],
    )?;
    Ok(n > 0)
}

pub(super) fn presentation(c: &Connection, project: &str) -> Result<Option<Presentation>> {
    let row: Option<Option<String>> = c
        .query_row(
            "SELECT neutral_name FROM projects WHERE id = ?1",
            [project],
            |r| r.get(0),
        )
        .optional()?;
    Ok(row.map(|neutral_name| Presentation { neutral_name }))
}

pub(super) fn set_presentation(
    c: &Connection,
    project: &str,
    presentation: &Presentation,
) -> Result<bool> {
    let n = c.execute(
        "UPDATE projects SET neutral_name = ?2 WHERE id = ?1",
        params![project, presentation.neutral_name],
    )?;
    Ok(n > 0)
}
