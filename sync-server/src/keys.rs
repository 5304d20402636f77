//! A project's recipient keys: the age X25519 public keys (`age1…`) its devices seal
//! `sensitive` and `pii` answers to. Only public keys ever reach the server; the
//! identities that open sealed answers stay with the people who read them
//! (`voices keygen`, `voices decrypt`). Devices receive the current recipients with the
//! forms they pull; a retired key stops being used for new answers, while answers
//! sealed to it still open with its identity.

use std::str::FromStr;

use crate::store::access::{AuditAction, AuditRecord, ProjectKey};
use crate::store::Store;
use crate::Result;

/// The most current keys a project may have (each sealed answer carries one stanza per
/// recipient).
pub const MAX_KEYS: usize = 16;

/// Why a key cannot be added or retired.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("`{0}` is not an age X25519 recipient (`age1…`, as `voices keygen` prints)")]
    NotARecipient(String),
    #[error("project `{0}` already has this key")]
    Exists(String),
    #[error("project `{0}` has no current key `{1}`")]
    Unknown(String, String),
    #[error("project `{0}` already has {MAX_KEYS} current keys; retire one first")]
    TooMany(String),
    #[error("`{1}` is the last current key of project `{0}`: without a key devices would send sensitive and pii answers in clear; add the new key first, then retire this one")]
    LastKey(String, String),
    #[error("there is no project `{0}`")]
    UnknownProject(String),
    #[error(transparent)]
    Store(#[from] crate::Error),
}

/// The recipient in its canonical text, if `text` is one.
pub fn parse_recipient(text: &str) -> std::result::Result<String, KeyError> {
    let text = text.trim();
    age::x25519::Recipient::from_str(text)
        .map(|r| r.to_string())
        .map_err(|_| KeyError::NotARecipient(text.chars().take(100).collect()))
}

/// Add a recipient to a project, recorded in the audit as done by `by`.
pub fn add(
    store: &dyn Store,
    project: &str,
    recipient: &str,
    label: &str,
    by: &str,
    now: &str,
) -> std::result::Result<ProjectKey, KeyError> {
    let recipient = parse_recipient(recipient)?;
    if !store.project_exists(project)? {
        return Err(KeyError::UnknownProject(project.to_owned()));
    }
    if current(store, project)?.len() >= MAX_KEYS {
        return Err(KeyError::TooMany(project.to_owned()));
    }
    let key = ProjectKey {
        recipient,
        label: label.trim().chars().take(200).collect(),
        added_by: by.to_owned(),
        added_at: now.to_owned(),
        retired_at: None,
    };
    if !store.add_project_key(project, &key)? {
        return Err(KeyError::Exists(project.to_owned()));
    }
    audit(store, by, AuditAction::AddKey, project, &key.recipient, now)?;
    Ok(key)
}

/// Retire a recipient: devices stop sealing to it at their next form pull. The last
/// current key is never retired (a new one is added first).
pub fn retire(
    store: &dyn Store,
    project: &str,
    recipient: &str,
    by: &str,
    now: &str,
) -> std::result::Result<(), KeyError> {
    let recipient = recipient.trim();
    // A project that seals never goes back to clear answers by a retirement.
    if current(store, project)? == [recipient] {
        return Err(KeyError::LastKey(project.to_owned(), recipient.to_owned()));
    }
    if !store.retire_project_key(project, recipient, now)? {
        return Err(KeyError::Unknown(project.to_owned(), recipient.to_owned()));
    }
    audit(store, by, AuditAction::RetireKey, project, recipient, now)?;
    Ok(())
}

/// The recipients devices seal to now.
pub fn current(store: &dyn Store, project: &str) -> Result<Vec<String>> {
    Ok(store
        .project_keys(project)?
        .into_iter()
        .filter(|k| k.retired_at.is_none())
        .map(|k| k.recipient)
        .collect())
}

fn audit(
    store: &dyn Store,
    by: &str,
    action: AuditAction,
    project: &str,
    recipient: &str,
    now: &str,
) -> Result<()> {
    store.append_audit(&AuditRecord {
        at: now.to_owned(),
        actor: by.to_owned(),
        action,
        project: Some(project.to_owned()),
        target: Some(recipient.to_owned()),
        detail: String::new(),
        ok: true,
    })
}
