//! One response as the console shows it: the pull item with pii masked unless asked and
//! its last review comment; its history; and a coordinator's resolution of a conflict,
//! ingested like any edit.

use std::sync::Arc;

use serde_json::Value;
use voices_core::sync::protocol::RecordAck;

use super::{history, mask, resolve};
use crate::auth;
use crate::store::projection::{FormIndex, IndexCache};
use crate::store::{IncomingRevision, Store, Uploader, Validator};
use crate::Result;

/// The index of a form version (`None` when it is not published), cached.
pub fn index_of(
    store: &dyn Store,
    indexes: &IndexCache,
    project: &str,
    form: &str,
    version: &str,
) -> Result<Option<Arc<FormIndex>>> {
    indexes.get(project, form, version, || {
        Ok(store.get_form(project, form, version)?.map(|f| f.document))
    })
}

/// The response as `GET /responses/{id}` shows it, or `None` if there is no such one.
pub fn response_json(
    store: &dyn Store,
    indexes: &IndexCache,
    project: &str,
    id: &str,
    pii: bool,
) -> Result<Option<Value>> {
    let Some(row) = store.get_response(project, id)? else {
        return Ok(None);
    };
    let mut item = crate::responses::pulled(row);
    item.review_comment = store.reviews_of(project, id)?.pop().and_then(|r| r.comment);
    let index = index_of(
        store,
        indexes,
        project,
        &item.response.form_id,
        &item.response.form_version,
    )?;
    let mut json = mask::pulled_json(&item, index.as_deref(), pii);
    if let Some(withdrawal) = store.withdrawal_of(project, id)? {
        // The respondent withdrew: what they said is not shown again, only that (and
        // when, by whom, why) the response was withdrawn.
        if let Some(response) = json.get_mut("response").and_then(Value::as_object_mut) {
            response.insert("answers".into(), Value::Object(Default::default()));
            for kept_out in ["consent", "privacy", "selections", "outcome"] {
                response.remove(kept_out);
            }
        }
        json["conflicts"] = Value::Array(Vec::new());
        json["withdrawn"] = serde_json::to_value(withdrawal)?;
    }
    Ok(Some(json))
}

/// A response's history entries, or `None` if there is no such response.
pub fn history_json(
    store: &dyn Store,
    indexes: &IndexCache,
    project: &str,
    id: &str,
    pii: bool,
) -> Result<Option<Value>> {
    let Some(row) = store.get_response(project, id)? else {
        return Ok(None);
    };
    let version = row.state.form_version().unwrap_or_default().to_owned();
    let index = index_of(store, indexes, project, &row.state.form, &version)?;
    let bodies = store.revisions_of(project, id)?;
    let reviews = store.reviews_of(project, id)?;
    let withdrawal = store.withdrawal_of(project, id)?;
    Ok(Some(Value::Array(history::history(
        &bodies,
        &reviews,
        withdrawal.as_ref(),
        index.as_deref(),
        pii,
    ))))
}

/// Why a resolution was not made.
#[derive(Debug)]
pub enum Unresolved {
    UnknownResponse,
    Refused(resolve::ResolveError),
    /// The ingest did not accept the resolution (its ack says why).
    Rejected(RecordAck),
}

/// Resolve the conflict at `path` of a response to `value`, as coordinator `user`.
pub fn resolve_conflict(
    store: &dyn Store,
    validator: &dyn Validator,
    project: &str,
    id: &str,
    user: &str,
    path: &str,
    value: Option<String>,
) -> Result<std::result::Result<(), Unresolved>> {
    let Some(row) = store.get_response(project, id)? else {
        return Ok(Err(Unresolved::UnknownResponse));
    };
    if store.withdrawal_of(project, id)?.is_some() {
        return Ok(Err(Unresolved::UnknownResponse));
    }
    let now_ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
    let revision = match resolve::resolution(&row.state, user, path, value, now_ms, random_uuid()?)
    {
        Ok(r) => r,
        Err(e) => return Ok(Err(Unresolved::Refused(e))),
    };
    let body = serde_json::to_string(&revision)?;
    let incoming = IncomingRevision {
        sha256: auth::sha256_hex(body.as_bytes()),
        body,
        revision,
    };
    let uploader = Uploader {
        id: format!("{}{user}", history::COORDINATOR_ACTOR_PREFIX),
        enumerator: user.to_owned(),
        devices: None,
    };
    let named = [(
        incoming.revision.form.as_str(),
        incoming.revision.version.as_str(),
    )];
    validator.prepare(project, &named);
    let acks = store.ingest(
        project,
        &uploader,
        std::slice::from_ref(&incoming),
        validator,
        &crate::now_text(),
    )?;
    match acks.into_iter().next() {
        Some(ack) if ack.status == voices_core::sync::protocol::AckStatus::Rejected => {
            Ok(Err(Unresolved::Rejected(ack)))
        }
        _ => Ok(Ok(())),
    }
}

/// A fresh random (version 4) UUID for a revision made on the server.
fn random_uuid() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| crate::Error::Invalid(format!("the system random source failed: {e}")))?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Ok(uuid::Uuid::from_bytes(bytes).to_string())
}
