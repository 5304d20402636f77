//! Turning finalized responses into revisions: the first one holds everything (seq 1),
//! each later edit only what changed since the revisions already built.
//!
//! Revisions are built only once the device is linked, because the server accepts a
//! device's revisions only under its own device id (`wrong_actor` otherwise) and a
//! built revision is never changed: building earlier under a local id would need
//! re-keying immutable records. Finalized responses simply wait, whole, until the link.

use std::collections::BTreeMap;

use voices_core::response::{ConsentRecord, PrivacyOutcome, PrivacyRecord};
use voices_core::sync::{paths, Hlc, ResponseStatus, Revision, VersionVector};

use crate::error::{Error, Result};
use crate::store::{ResponseStatus as StoreStatus, RevisionRow, Store};

/// What the revisions built so far say about a response.
#[derive(Default)]
struct Folded {
    values: BTreeMap<String, String>,
    consent: Option<ConsentRecord>,
    privacy: BTreeMap<String, PrivacyRecord>,
    status: Option<ResponseStatus>,
    hlc: Option<Hlc>,
    /// Highest edit number per actor.
    seen: VersionVector,
}

fn fold(rows: &[RevisionRow]) -> Result<Folded> {
    let mut f = Folded::default();
    for row in rows {
        let r: Revision = serde_json::from_str(&row.body)
            .map_err(|e| Error::Corrupt(format!("revision `{}`: {e}", row.id)))?;
        for (path, value) in &r.set {
            match value {
                Some(v) => f.values.insert(path.clone(), v.clone()),
                None => f.values.remove(path),
            };
        }
        if r.consent.is_some() {
            f.consent = r.consent.clone();
        }
        f.privacy.extend(r.privacy.clone());
        if r.status.is_some() {
            f.status = r.status;
        }
        f.hlc = Some(f.hlc.map_or(r.hlc, |h| h.max(r.hlc)));
        f.seen.observe(&r.actor, r.seq);
    }
    Ok(f)
}

/// Build the next revision of `response_id` as `actor` if its state differs from what
/// its revisions already say. Returns whether one was built. Call with the store locked
/// for the whole step, so two builders cannot race for an edit number.
pub fn build_for(
    store: &mut Store,
    response_id: &str,
    actor: &str,
    now_ms: u64,
    now: &str,
) -> Result<bool> {
    let row = store.response(response_id)?;
    if !matches!(
        row.status,
        StoreStatus::Queued | StoreStatus::Sent | StoreStatus::Refused
    ) {
        return Ok(false);
    }
    let answers = crate::paths::from_rows(&store.answers(response_id)?)?;
    let consent = store.consent(response_id)?.map(|c| ConsentRecord {
        given: c.given,
        at: c.at,
        text_version: c.text_version,
    });
    let mut privacy = BTreeMap::new();
    for (group, outcome, at) in store.privacy_checks(response_id)? {
        let outcome = match outcome.as_str() {
            "private" => PrivacyOutcome::Private,
            "not_private" => PrivacyOutcome::NotPrivate,
            _ => PrivacyOutcome::Interrupted,
        };
        privacy.insert(group, PrivacyRecord { outcome, at });
    }
    let built = store.revisions(response_id)?;
    let before = fold(&built)?;
    let set = if built.is_empty() {
        paths::flatten(&answers)
            .into_iter()
            .map(|(k, v)| (k, Some(v)))
            .collect()
    } else {
        let previous =
            paths::unflatten(before.values.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        paths::diff(&previous, &answers)
    };
    let consent_change = consent.filter(|c| before.consent.as_ref() != Some(c));
    let privacy_change: BTreeMap<String, PrivacyRecord> = privacy
        .into_iter()
        .filter(|(group, record)| before.privacy.get(group) != Some(record))
        .collect();
    let status_change =
        (before.status != Some(ResponseStatus::Finalized)).then_some(ResponseStatus::Finalized);
    if !built.is_empty()
        && set.is_empty()
        && consent_change.is_none()
        && privacy_change.is_empty()
        && status_change.is_none()
    {
        return Ok(false);
    }
    let seq = before.seen.get(actor) + 1;
    // What this edit was made on: every revision of this response the device holds;
    // its own earlier edits are implied by `seq`, so that entry is left out.
    let mut seen = before.seen.clone();
    seen.0.remove(actor);
    let revision = Revision {
        id: uuid::Uuid::now_v7().to_string(),
        response: response_id.to_owned(),
        form: row.form_id.clone(),
        version: row.form_version.clone(),
        actor: actor.to_owned(),
        seq,
        hlc: before.hlc.map_or(Hlc::new(now_ms, 0), |h| h.tick(now_ms)),
        seen,
        set,
        consent: consent_change,
        privacy: privacy_change,
        status: status_change,
    };
    revision
        .check()
        .map_err(|e| Error::Corrupt(format!("response `{response_id}` cannot be sent: {e}")))?;
    let body = serde_json::to_string(&revision)
        .map_err(|e| Error::Corrupt(format!("revision of `{response_id}`: {e}")))?;
    store.add_revision(
        &RevisionRow {
            id: revision.id.clone(),
            response_id: response_id.to_owned(),
            actor: actor.to_owned(),
            seq,
            body,
            ack: None,
            code: None,
            reasons: Vec::new(),
            attempts: 0,
        },
        now,
    )?;
    Ok(true)
}

/// Build every revision that is due; how many were built.
pub fn build_due(store: &mut Store, actor: &str, now_ms: u64, now: &str) -> Result<u32> {
    let mut built = 0;
    for id in store.responses_to_build()? {
        if build_for(store, &id, actor, now_ms, now)? {
            built += 1;
        }
    }
    Ok(built)
}
