//! The part of an ingest that needs no database: given what is stored (the batch's
//! revision ids already known, the current states of the responses it touches), decide
//! every revision's ack, merge, validate and encode the rows to write.
//!
//! Both backends call it. SQLite runs it *before* taking the single write lock, on a
//! read snapshot, and then writes only if none of what it read has changed meanwhile
//! (each response's feed position is its version); PostgreSQL runs it inside its
//! transaction, under per-response advisory locks. Either way the decisions are the
//! same, in the same order.

use std::collections::HashMap;
use std::sync::Arc;

use voices_core::answer::{AnswerValue, InstanceTally, MAX_RESPONSE_INSTANCES};
use voices_core::sync::protocol::{AckStatus, RecordAck, ReviewState};
use voices_core::sync::{MergeError, Register, ResponseState, ResponseStatus, Revision, Value};

use super::codec;
use super::projection::{self, Deltas, FormIndex, Projection};
use super::{IncomingRevision, Uploader, Validation, Validator, COORDINATOR_ACTOR_PREFIX};
use crate::Result;

/// Form indexes by (form, version), for the versions an ingest touches.
pub(crate) type Indexes = HashMap<(String, String), Arc<FormIndex>>;

/// The (form, version) pairs whose indexes an ingest needs: those its revisions name and
/// those the stored states are on. Each backend loads them (through its own connection,
/// so no second one is needed inside a transaction) before planning.
pub(crate) fn versions_needed<'a>(
    batch: &'a [IncomingRevision],
    loaded: impl Iterator<Item = &'a Loaded>,
) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = batch
        .iter()
        .map(|i| (i.revision.form.clone(), i.revision.version.clone()))
        .chain(loaded.map(|l| {
            (
                l.state.form.clone(),
                l.state.form_version().unwrap_or_default().to_owned(),
            )
        }))
        .collect();
    pairs.sort();
    pairs.dedup();
    pairs
}

/// A revision id already stored in the ingest's project: its content hash. Ids are
/// scoped to their project, so the same id in another project is no concern here.
pub(crate) type StoredRevision = String;

/// A response row as read before the merge.
pub(crate) struct Loaded {
    pub state: ResponseState,
    pub device: String,
    pub enumerator: String,
    pub received_at: String,
    pub review_state: String,
    /// Its feed position when read: any later write moves it, so it serves as the row's
    /// version for an optimistic write.
    pub feed_seq: i64,
    /// Its respondent withdrew: revisions of it are refused, and it counts for nothing.
    pub withdrawn: bool,
}

/// A response row to write.
pub(crate) struct Changed {
    pub id: String,
    pub form: String,
    pub version: String,
    pub device: String,
    pub enumerator: String,
    pub state: String,
    pub quarantine: String,
    pub conflict: bool,
    pub review_state: String,
    /// The batch resubmits a response that was sent back: its device sent a finalized
    /// edit of it (the review state is now `resubmitted`; the transition is recorded).
    pub resubmitted: bool,
    pub received_at: String,
    /// Feed position of the row this was merged from; `None` for a new response.
    pub read_at: Option<i64>,
    /// Its row in the console's table index.
    pub projection: Projection,
}

/// What to write for a batch, and the acks to send once it is committed.
pub(crate) struct Plan<'a> {
    pub acks: Vec<RecordAck>,
    /// Revisions to insert, in batch order.
    pub accepted: Vec<&'a IncomingRevision>,
    /// Responses to upsert, sorted by id so feed positions do not depend on hash order.
    pub changed: Vec<Changed>,
    /// What the batch changes in the console's counts.
    pub deltas: Deltas,
}

pub(crate) fn reject(id: &str, code: &str, reason: String) -> RecordAck {
    RecordAck {
        id: id.to_owned(),
        status: AckStatus::Rejected,
        code: Some(code.to_owned()),
        reasons: vec![reason],
    }
}

pub(crate) fn ack(id: &str, status: AckStatus) -> RecordAck {
    RecordAck {
        id: id.to_owned(),
        status,
        code: None,
        reasons: Vec::new(),
    }
}

fn revision_id_conflict(id: &str) -> RecordAck {
    reject(
        id,
        "revision_id_conflict",
        "a different revision with this id is already stored in this project; revision ids must be unique within a project".into(),
    )
}

/// The revisions of the batch that pass their shape check (only those are looked up).
pub(crate) fn well_formed(batch: &[IncomingRevision]) -> Vec<bool> {
    batch.iter().map(|i| i.revision.check().is_ok()).collect()
}

/// The repeat instances a stored state implies: every value each answer register holds
/// (a conflict's too), so the bound holds whichever value is shown.
fn tally_of(state: &ResponseState) -> InstanceTally {
    let mut tally = InstanceTally::new();
    for (key, entries) in &state.registers {
        if let Register::Answer(path) = key {
            tally.add(entries.iter().map(|e| match &e.value {
                Value::Text(text) => (path, text.as_deref()),
                _ => (path, None),
            }));
        }
    }
    tally
}

/// Why `uploader` may not write `rev` into the response `state` that device `started`
/// (`started`: who sent its first revision), if it may not: a device writes only the
/// responses it started (a coordinator, `user:NAME`, edits any response of the project
/// through its own actor), and `seen` may claim only edits the server holds, so a
/// revision can never supersede edits that have not arrived yet, a coordinator's
/// correction among them.
fn refuse_writer(
    uploader: &Uploader,
    started: &str,
    state: &ResponseState,
    rev: &Revision,
) -> Option<(&'static str, String)> {
    let coordinator = uploader.id.starts_with(COORDINATOR_ACTOR_PREFIX);
    if coordinator
        && started != uploader.id
        && uploader
            .devices
            .as_ref()
            .is_some_and(|devices| !devices.iter().any(|d| d == started))
    {
        // A coordinator limited to teams writes their teams' devices' responses and the
        // ones they start themselves (a new response is started by its uploader, here
        // `user:NAME`, and they read it back: `teams::scope_condition`); any other is
        // refused whether it exists or not.
        return Some((
            "not_your_response",
            format!(
                "response {} is not one of your teams' responses; a coordinator limited to teams edits only those",
                rev.response
            ),
        ));
    }
    if !coordinator && started != uploader.id {
        return Some((
            "not_your_response",
            format!(
                "response {} was started by another device; a device may only edit the responses it started (a coordinator can edit it)",
                rev.response
            ),
        ));
    }
    let held = state.context();
    // Its own actor's earlier edits are the device's to send (maybe still on the way,
    // reordered); `Revision::check` already holds them below its own edit number.
    let mut others = rev.seen.0.iter().filter(|(actor, _)| **actor != rev.actor);
    others.find_map(|(actor, &claimed)| {
        let received = held.get(actor);
        (claimed > received).then(|| {
            (
                "unknown_edits_seen",
                format!(
                    "`seen` claims edit {claimed} of actor `{actor}`, but the server has received only its first {received} edits of this response; a revision may only build on edits the server holds"
                ),
            )
        })
    })
}

/// Who ingests what, where and when.
pub(crate) struct Ingest<'a> {
    pub project: &'a str,
    pub uploader: &'a Uploader,
    pub validator: &'a dyn Validator,
    pub now: &'a str,
}

/// Decide, merge, validate and encode. `stored` holds the batch's revision ids that are
/// already stored; `loaded` the current rows of the responses it touches; `indexes` the
/// form versions of both (see [`versions_needed`]), for the console's projection.
pub(crate) fn plan<'a>(
    ingest: &Ingest<'_>,
    indexes: &Indexes,
    batch: &'a [IncomingRevision],
    valid: &[bool],
    stored: &HashMap<String, StoredRevision>,
    mut loaded: HashMap<String, Loaded>,
) -> Result<Plan<'a>> {
    let Ingest {
        project,
        uploader,
        validator,
        now,
    } = *ingest;
    let index_of = |state: &ResponseState| {
        let key = (
            state.form.clone(),
            state.form_version().unwrap_or_default().to_owned(),
        );
        indexes.get(&key).map(Arc::as_ref)
    };
    let mut deltas = Deltas::default();
    /// A response the batch merges into.
    struct Touched {
        state: ResponseState,
        device: String,
        enumerator: String,
        received_at: String,
        review_state: String,
        read_at: Option<i64>,
        /// Indexes into the acks of the revisions merged into it.
        acks: Vec<usize>,
        /// Its projection before the batch (a stored response).
        before: Option<Projection>,
        /// The repeat instances its answers imply, with the revisions merged so far.
        instances: InstanceTally,
    }
    let mut acks: Vec<RecordAck> = Vec::with_capacity(batch.len());
    let mut accepted: Vec<&IncomingRevision> = Vec::new();
    let mut accepted_sha: HashMap<&str, &str> = HashMap::new();
    let mut touched: HashMap<String, Touched> = HashMap::new();
    for (incoming, ok) in batch.iter().zip(valid) {
        let rev = &incoming.revision;
        if !ok {
            let reason = rev.check().err().map(|e| e.to_string()).unwrap_or_default();
            acks.push(reject(&rev.id, "invalid_revision", reason));
            continue;
        }
        let earlier = stored
            .get(&rev.id)
            .map(String::as_str)
            .or_else(|| accepted_sha.get(rev.id.as_str()).copied());
        if let Some(sha) = earlier {
            acks.push(if sha == incoming.sha256 {
                ack(&rev.id, AckStatus::Duplicate)
            } else {
                revision_id_conflict(&rev.id)
            });
            continue;
        }
        if loaded.get(&rev.response).is_some_and(|row| row.withdrawn) {
            acks.push(reject(
                &rev.id,
                "withdrawn",
                format!(
                    "the respondent of response {} withdrew; nothing more of it is kept",
                    rev.response
                ),
            ));
            continue;
        }
        if !touched.contains_key(&rev.response) {
            let entry = match loaded.remove(&rev.response) {
                Some(row) => {
                    // What the response counted for before this batch: taken away below
                    // if the batch changes it.
                    let before = projection::project(&row.state, index_of(&row.state), false);
                    deltas.add(&before, &row.enumerator, &row.device, &row.received_at, -1);
                    Touched {
                        instances: tally_of(&row.state),
                        state: row.state,
                        device: row.device,
                        enumerator: row.enumerator,
                        received_at: row.received_at,
                        review_state: row.review_state,
                        read_at: Some(row.feed_seq),
                        acks: Vec::new(),
                        before: Some(before),
                    }
                }
                None => Touched {
                    instances: InstanceTally::new(),
                    state: ResponseState::for_revision(rev),
                    device: uploader.id.clone(),
                    enumerator: uploader.enumerator.clone(),
                    received_at: now.to_owned(),
                    review_state: ReviewState::Received.as_str().to_owned(),
                    read_at: None,
                    acks: Vec::new(),
                    before: None,
                },
            };
            touched.insert(rev.response.clone(), entry);
        }
        let Some(entry) = touched.get_mut(&rev.response) else {
            continue;
        };
        if let Some((code, reason)) = refuse_writer(uploader, &entry.device, &entry.state, rev) {
            acks.push(reject(&rev.id, code, reason));
            continue;
        }
        // Checked above (`valid`), so the edits parse.
        let Ok(edits) = rev.edits() else { continue };
        if let Some(reason) = validator.refuse(project, rev, &edits) {
            acks.push(reject(&rev.id, "repeat_bound", reason));
            continue;
        }
        // A sealed value is never a count: its text is not needed to tally instances.
        let edited = || {
            edits
                .answers
                .iter()
                .map(|(p, v)| (p, v.and_then(AnswerValue::text)))
        };
        let instances = entry.instances.total_with(edited());
        if instances > MAX_RESPONSE_INSTANCES {
            acks.push(reject(
                &rev.id,
                "too_many_instances",
                format!(
                    "with this revision the response would hold {instances} repeat instances; a response may hold at most {MAX_RESPONSE_INSTANCES}"
                ),
            ));
            continue;
        }
        // `apply` refuses before it changes anything, so no copy is needed.
        if let Err(e) = entry.state.apply(rev) {
            let code = match e {
                MergeError::WrongForm { .. } => "form_mismatch",
                MergeError::DotReused { .. } => "edit_number_reused",
                MergeError::WrongResponse { .. } | MergeError::Invalid(_) => "invalid_revision",
            };
            acks.push(reject(&rev.id, code, e.to_string()));
            continue;
        }
        entry.instances.add(edited());
        entry.acks.push(acks.len());
        acks.push(ack(&rev.id, AckStatus::Accepted));
        accepted_sha.insert(&rev.id, &incoming.sha256);
        accepted.push(incoming);
    }

    let touched: Vec<(String, Touched)> = touched
        .into_iter()
        .filter(|(_, entry)| {
            if entry.acks.is_empty() {
                // Nothing merged: it keeps counting as it did.
                if let Some(before) = &entry.before {
                    deltas.add(
                        before,
                        &entry.enumerator,
                        &entry.device,
                        &entry.received_at,
                        1,
                    );
                }
            }
            !entry.acks.is_empty()
        })
        .collect();
    // Validation and encoding of each response stand alone: spread over the cores.
    type Checked = (Vec<String>, String, Projection);
    let checked = crate::par_map(&touched, |(_, entry)| -> Result<Checked> {
        let response = entry.state.to_response();
        let quarantine = match validator.validate(project, &entry.state, &response) {
            Validation::Valid => Vec::new(),
            Validation::Quarantine(reasons) => reasons,
            Validation::Unavailable(reason) => return Err(crate::Error::Busy(reason)),
        };
        let after =
            projection::project(&entry.state, index_of(&entry.state), !quarantine.is_empty());
        Ok((quarantine, codec::encode(&entry.state)?, after))
    });
    let mut changed = Vec::with_capacity(touched.len());
    let from_device = !uploader.id.starts_with(COORDINATOR_ACTOR_PREFIX);
    for ((id, mut entry), checked) in touched.into_iter().zip(checked) {
        let resubmitted = from_device
            && entry.review_state == ReviewState::SentBack.as_str()
            && entry.state.status() == Some(ResponseStatus::Finalized);
        if resubmitted {
            entry.review_state = ReviewState::Resubmitted.as_str().to_owned();
        }
        let (quarantine, state, projection) = checked?;
        deltas.add(
            &projection,
            &entry.enumerator,
            &entry.device,
            &entry.received_at,
            1,
        );
        if !quarantine.is_empty() {
            for &i in &entry.acks {
                acks[i].status = AckStatus::Quarantined;
                acks[i].code = Some("quarantined".into());
                acks[i].reasons = quarantine.clone();
            }
        }
        changed.push(Changed {
            form: entry.state.form.clone(),
            version: entry.state.form_version().unwrap_or_default().to_owned(),
            state,
            quarantine: serde_json::to_string(&quarantine)?,
            conflict: entry.state.has_conflicts(),
            id,
            device: entry.device,
            enumerator: entry.enumerator,
            review_state: entry.review_state,
            resubmitted,
            received_at: entry.received_at,
            read_at: entry.read_at,
            projection,
        });
    }
    changed.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Plan {
        acks,
        accepted,
        changed,
        deltas,
    })
}
