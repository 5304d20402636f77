//! PostgreSQL: a device's enumerator profile and a project's presentation (migration 14).

use postgres::GenericClient;
use voices_core::matching::EnumeratorProfile;
use voices_core::sync::protocol::Presentation;

use super::connection::Attempt;
use crate::store::profile::{columns, from_columns};

pub(super) fn device_profile(
    c: &mut impl GenericClient,
    project: Option<&str>,
    device: &str,
) -> Attempt<Option<EnumeratorProfile>> {
    let Some(row) = c.query_opt(
        "SELECT enumerator_sex, enumerator_languages, enumerator_area FROM devices
         WHERE id = $1 AND ($2::TEXT IS NULL OR project = $2)",
        &[&device, &project],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(from_columns(
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
    )))
}

pub(super) fn set_device_profile(
    c: &mut impl GenericClient,
    project: Option<&str>,
    device: &str,
    profile: &EnumeratorProfile,
) -> Attempt<bool> {
    let (sex, languages, area) = columns(profile);
    let n = c.execute(
        "UPDATE devices SET enumerator_sex = $3, enumerator_languages = $4, enumerator_area = $5
         WHERE id = $1 AND ($2::TEXT IS NULL OR project = $2)",
        &[&device, &project, &sex, &languages, &area],
    )?;
    Ok(n > 0)
}

pub(super) fn presentation(
    c: &mut impl GenericClient,
    project: &str,
) -> Attempt<Option<Presentation>> {
    let Some(row) = c.query_opt(
        "SELECT neutral_name FROM projects WHERE id = $1",
        &[&project],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(Presentation {
        neutral_name: row.try_get(0)?,
    }))
}

pub(super) fn set_presentation(
    c: &mut impl GenericClient,
    project: &str,
    presentation: &Presentation,
) -> Attempt<bool> {
    let n = c.execute(
        "UPDATE projects SET neutral_name = $2 WHERE id = $1",
        &[&project, &presentation.neutral_name],
    )?;
    Ok(n > 0)
}
