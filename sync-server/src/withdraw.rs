//! A respondent's withdrawal after the interview (WHO, *Putting Women First*: a
//! respondent may withdraw at any time). A coordinator marks the response withdrawn: it
//! leaves exports, the responses table, dashboards and counts at once, later revisions
//! of it are refused, and it is kept for the audit only for the project's days
//! (`withdrawn_keep_days`), then purged: its answers and revision bodies emptied, its
//! revision ids and hashes kept so a device sending one again is answered as before.

use chrono::{DateTime, Duration, Utc};

use crate::store::{Store, Withdrawal, MAX_WITHDRAWN_KEEP_DAYS};
use crate::{Error, Result};

/// Longest reason kept, in characters.
pub const MAX_REASON: usize = 2_000;

/// Mark response `id` withdrawn by coordinator `by`, then purge what the project no
/// longer keeps. `None` when there is no such response; a response already withdrawn
/// keeps its first withdrawal.
pub fn withdraw(
    store: &dyn Store,
    project: &str,
    id: &str,
    reason: Option<&str>,
    by: &str,
) -> Result<Option<Withdrawal>> {
    if reason.is_some_and(|r| r.chars().count() > MAX_REASON) {
        return Err(Error::Invalid(format!(
            "a withdrawal's reason has at most {MAX_REASON} characters"
        )));
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let now = Utc::now();
    let done = store.withdraw(project, id, reason, by, &crate::time_text(now))?;
    if done.is_some() {
        purge_due(store, project, now)?;
    }
    Ok(done)
}

/// Purge the project's responses withdrawn longer ago than it keeps them; how many.
pub fn purge_due(store: &dyn Store, project: &str, now: DateTime<Utc>) -> Result<u64> {
    let Some(days) = store.withdrawn_keep_days(project)? else {
        return Ok(0);
    };
    let before = crate::time_text(now - Duration::days(i64::from(days)));
    store.purge_withdrawn(project, &before, &crate::time_text(now))
}

/// [`purge_due`] for every project (the server runs it hourly); how many were purged.
pub fn purge_all(store: &dyn Store, now: DateTime<Utc>) -> Result<u64> {
    let mut purged = 0;
    for (project, _) in store.list_projects()? {
        purged += purge_due(store, &project, now)?;
    }
    Ok(purged)
}

/// Set how many days the project keeps withdrawn responses (0: purged at once), then
/// purge what that no longer keeps. `false` when there is no such project.
pub fn set_keep_days(store: &dyn Store, project: &str, days: u32) -> Result<bool> {
    if days > MAX_WITHDRAWN_KEEP_DAYS {
        return Err(Error::Invalid(format!(
            "withdrawn responses are kept 0 to {MAX_WITHDRAWN_KEEP_DAYS} days"
        )));
    }
    if !store.set_withdrawn_keep_days(project, days)? {
        return Ok(false);
    }
    purge_due(store, project, Utc::now())?;
    Ok(true)
}
