//! The overview's and a dashboard's counts as a coordinator limited to teams sees them.
//! The counts the ingest keeps (`response_counts`, `choice_counts`) are the whole
//! project's, so a limited reader's are tallied from their teams' responses, read a page
//! at a time through the store's scoped pull (filtered in the database), with the
//! ingest's own projection and deltas: the same numbers the kept counts would give for
//! those responses, and only the counts held in memory. The work grows with the teams'
//! responses, not the project's (docs/console.md, Teams).

use std::collections::BTreeMap;

use voices_core::sync::protocol::ReviewState;

use crate::store::console::{DashboardCounts, Overview};
use crate::store::projection::{self, Deltas, IndexCache, OUTCOME_QUESTION};
use crate::store::{Scope, Store, StoredResponse};
use crate::Result;

/// Responses read per page while tallying.
const PAGE: usize = 500;

/// The counts of the responses a scope sees, before they are shaped.
#[derive(Default)]
struct Tally {
    deltas: Deltas,
    pending_review: u64,
    quarantined: u64,
    conflicts: u64,
}

fn tally(
    store: &dyn Store,
    indexes: &IndexCache,
    project: &str,
    scope: &Scope,
    form: Option<&str>,
    version: Option<&str>,
) -> Result<Tally> {
    let mut out = Tally::default();
    let mut after = 0;
    loop {
        let page: Vec<StoredResponse> = match form {
            Some(form) => store.pull_form_in(project, scope, form, after, PAGE)?,
            None => store.pull_in(project, scope, after, PAGE)?,
        };
        let Some(last) = page.last() else { break };
        after = last.feed_seq;
        for r in &page {
            let form_version = r.state.form_version().unwrap_or_default();
            if version.is_some_and(|v| v != form_version) {
                continue;
            }
            let index = indexes.get(project, &r.state.form, form_version, || {
                Ok(store
                    .get_form(project, &r.state.form, form_version)?
                    .map(|f| f.document))
            })?;
            let p = projection::project(&r.state, index.as_deref(), !r.quarantine.is_empty());
            out.deltas.add(&p, &r.enumerator, &r.received_at, 1);
            out.pending_review += u64::from(r.review_state == ReviewState::Received);
            out.quarantined += u64::from(p.quarantined);
            out.conflicts += u64::from(p.conflicts > 0);
        }
        if page.len() < PAGE {
            break;
        }
    }
    Ok(out)
}

/// Sum `(key, n)` pairs by key, keeping the keys with a count.
fn summed(pairs: impl Iterator<Item = (String, i64)>) -> Vec<(String, u64)> {
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    for (key, n) in pairs {
        *sums.entry(key).or_default() += n;
    }
    sums.into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| (k, n as u64))
        .collect()
}

/// The project overview's counts as `scope` sees them.
pub fn overview(
    store: &dyn Store,
    indexes: &IndexCache,
    project: &str,
    scope: &Scope,
    today: &str,
    week_start: &str,
) -> Result<Overview> {
    if *scope == Scope::Project {
        return store.overview(project, today, week_start);
    }
    let t = tally(store, indexes, project, scope, None, None)?;
    let counts = || t.deltas.counts.iter();
    let by_form = summed(counts().map(|(k, n)| (k.form.clone(), *n)));
    let by_day = summed(
        counts()
            .filter(|(k, _)| k.day.as_str() >= week_start)
            .map(|(k, n)| (k.day.clone(), *n)),
    );
    let mut by_enumerator = summed(counts().map(|(k, n)| (k.enumerator.clone(), *n)));
    by_enumerator.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(Overview {
        total: by_form.iter().map(|(_, n)| n).sum(),
        today: by_day
            .iter()
            .filter(|(d, _)| d.as_str() >= today)
            .map(|(_, n)| n)
            .sum(),
        week: by_day.iter().map(|(_, n)| n).sum(),
        by_form,
        by_enumerator,
        pending_review: t.pending_review,
        quarantined: t.quarantined,
        conflicts: t.conflicts,
        by_outcome: summed(
            t.deltas
                .tallies
                .iter()
                .filter(|(k, _)| k.question == OUTCOME_QUESTION)
                .map(|(k, n)| (k.choice.clone(), *n)),
        ),
    })
}

/// A form's dashboard counts (one version, or all) as `scope` sees them.
pub fn dashboard_counts(
    store: &dyn Store,
    indexes: &IndexCache,
    project: &str,
    scope: &Scope,
    form: &str,
    version: Option<&str>,
) -> Result<DashboardCounts> {
    if *scope == Scope::Project {
        return store.dashboard_counts(project, form, version);
    }
    let t = tally(store, indexes, project, scope, Some(form), version)?;
    let counts = || t.deltas.counts.iter();
    let mut tallies: BTreeMap<(String, String, String, String, String), i64> = BTreeMap::new();
    for (k, n) in &t.deltas.tallies {
        let key = (
            k.question.clone(),
            k.choice.clone(),
            k.sex.clone(),
            k.age_band.clone(),
            k.disability.clone(),
        );
        *tallies.entry(key).or_default() += n;
    }
    Ok(DashboardCounts {
        days: summed(counts().map(|(k, n)| (k.day.clone(), *n))),
        enumerators: summed(counts().map(|(k, n)| (k.enumerator.clone(), *n))),
        tallies: tallies
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|((q, c, s, a, d), n)| (q, c, s, a, d, n as u64))
            .collect(),
    })
}
