//! One error type for the whole app, serialized for the UI as `{kind, message}`.

use serde::{Serialize, Serializer};
use ts_rs::TS;

/// What went wrong, in a form the UI can branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The local database failed (disk full, corruption, locked).
    Storage,
    /// A file could not be read or written.
    File,
    /// The thing asked for does not exist (form, response, repeat instance).
    NotFound,
    /// The request itself is wrong (bad path, bad value shape).
    InvalidInput,
    /// A form document has errors; the message says where.
    InvalidForm,
    /// The request is not allowed in the record's current state.
    Conflict,
    /// No provisioning QR code could be read in the picture given.
    NoCodeFound,
    /// Sync needs a server link: provision the device first.
    NotProvisioned,
    /// The server could not be reached (no network, server down, timeout); retried later.
    Offline,
    /// The server answered with a refusal; the message says why.
    ServerRefused,
    /// A provisioning code that is damaged, already used, expired or revoked.
    BadCode,
    /// The device is locked (or has no PIN yet): unlock it first.
    Locked,
    /// The PIN is wrong; the message says how many tries are left.
    WrongPin,
    /// The device's data was erased (too many wrong PINs, or a wipe ordered by the server).
    Wiped,
    /// The response was withdrawn by the coordinator (its respondent withdrew) and
    /// removed from this device: the interview closes with a neutral message.
    Withdrawn,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("local database: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("{context}: {source}")]
    File {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    InvalidForm(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NoCodeFound(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("{0}")]
    NotProvisioned(String),
    #[error("{0}")]
    Offline(String),
    #[error("{0}")]
    ServerRefused(String),
    #[error("{0}")]
    BadCode(String),
    #[error("{0}")]
    Locked(String),
    #[error("wrong PIN: {attempts_left} tries left before this device's data is erased")]
    WrongPin { attempts_left: u32 },
    #[error("{0}")]
    Wiped(String),
    #[error("{0}")]
    Withdrawn(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Storage(_) | Error::Corrupt(_) => ErrorKind::Storage,
            Error::File { .. } => ErrorKind::File,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::InvalidInput(_) => ErrorKind::InvalidInput,
            Error::InvalidForm(_) => ErrorKind::InvalidForm,
            Error::Conflict(_) => ErrorKind::Conflict,
            Error::NoCodeFound(_) => ErrorKind::NoCodeFound,
            Error::NotProvisioned(_) => ErrorKind::NotProvisioned,
            Error::Offline(_) => ErrorKind::Offline,
            Error::ServerRefused(_) => ErrorKind::ServerRefused,
            Error::BadCode(_) => ErrorKind::BadCode,
            Error::Locked(_) => ErrorKind::Locked,
            Error::WrongPin { .. } => ErrorKind::WrongPin,
            Error::Wiped(_) => ErrorKind::Wiped,
            Error::Withdrawn(_) => ErrorKind::Withdrawn,
        }
    }

    pub fn file(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::File {
            context: context.into(),
            source,
        }
    }
}

/// The error as the UI receives it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CommandError {
    pub kind: ErrorKind,
    pub message: String,
}

impl From<&Error> for CommandError {
    fn from(e: &Error) -> Self {
        CommandError {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        CommandError::from(self).serialize(s)
    }
}
