//! Devices and sessions: registering a device with a one-time provisioning code,
//! exchanging the code for a device token, and a person's login for a session token.
//! Only hashes of codes and tokens are stored ([`crate::auth`]).

use voices_core::sync::protocol::{DeviceCredentials, ProvisioningCode, SessionToken};

use crate::auth;
use crate::store::{Device, Store, TokenSubject, User};
use crate::Result;

/// How long tokens live.
pub const DEVICE_TOKEN_DAYS: i64 = 90;
pub const SESSION_TOKEN_HOURS: i64 = 12;

/// A device just registered, with the code it is provisioned with (shown once).
pub struct Registered {
    pub device: Device,
    pub code: String,
    pub code_expires_at: String,
}

/// Register a device of `project` (a random id unless given) with a fresh one-time
/// code valid for `valid_days`.
pub fn register_device(
    store: &dyn Store,
    project: &str,
    enumerator: &str,
    id: Option<&str>,
    valid_days: i64,
) -> Result<Registered> {
    register_labelled_device(store, project, enumerator, id, None, valid_days)
}

/// [`register_device`] with a label people recognise the device by ("Tablet 4").
pub fn register_labelled_device(
    store: &dyn Store,
    project: &str,
    enumerator: &str,
    id: Option<&str>,
    label: Option<&str>,
    valid_days: i64,
) -> Result<Registered> {
    let id = match id {
        // A coordinator's edits are `user:NAME`'s: a device named so would pass for one.
        Some(id) if id.starts_with(crate::store::COORDINATOR_ACTOR_PREFIX) => {
            return Err(crate::Error::Invalid(format!(
                "a device id may not start with `{}` (the actor of people's edits)",
                crate::store::COORDINATOR_ACTOR_PREFIX
            )))
        }
        Some(id) => id.to_owned(),
        None => auth::random_secret("dev_")?.chars().take(16).collect(),
    };
    let code = auth::random_secret("")?;
    let code_expires_at = crate::time_from_now(chrono::Duration::days(valid_days));
    let device = Device {
        id,
        project: project.to_owned(),
        enumerator: enumerator.to_owned(),
        revoked_at: None,
        wipe_requested_at: None,
    };
    store.add_labelled_device(
        &device,
        label,
        &auth::secret_hash(&code),
        &code_expires_at,
        &crate::now_text(),
    )?;
    Ok(Registered {
        device,
        code,
        code_expires_at,
    })
}

/// Exchange a provisioning code (its printed text, or the bare code) for a device
/// token. `None` when the code is unknown, used, expired or its device revoked.
pub fn provision(store: &dyn Store, code_text: &str) -> Result<Option<DeviceCredentials>> {
    let code = ProvisioningCode::from_text(code_text)
        .map(|c| c.code)
        .unwrap_or_else(|_| code_text.to_owned());
    let token = auth::random_secret("vt_")?;
    let expires_at = crate::time_from_now(chrono::Duration::days(DEVICE_TOKEN_DAYS));
    let device = store.redeem_code(
        &auth::secret_hash(code.trim()),
        &auth::secret_hash(&token),
        &expires_at,
        &crate::now_text(),
    )?;
    Ok(device.map(|device| {
        tracing::info!(device = %device.id, project = %device.project, "device provisioned");
        DeviceCredentials {
            project: device.project,
            device_id: device.id,
            enumerator: device.enumerator,
            token,
            expires_at,
        }
    }))
}

/// The user with this name and password. `None` for an unknown user or a wrong password
/// (which are not told apart, not even by timing: an unknown name is checked against a
/// decoy hash).
pub fn verify_credentials(
    store: &dyn Store,
    passwords: &auth::Passwords,
    name: &str,
    password: &str,
) -> Result<Option<User>> {
    let user = store.find_user(name)?;
    let matches = passwords.verify(password, user.as_ref().map(|u| u.password_hash.as_str()));
    Ok(user.filter(|_| matches))
}

/// A session for a person whose password matches; `None` as in [`verify_credentials`].
pub fn login(
    store: &dyn Store,
    passwords: &auth::Passwords,
    name: &str,
    password: &str,
) -> Result<Option<SessionToken>> {
    match verify_credentials(store, passwords, name, password)? {
        Some(user) => open_session(store, &user).map(Some),
        None => Ok(None),
    }
}

/// A new session token for a person whose credentials were checked.
pub fn open_session(store: &dyn Store, user: &User) -> Result<SessionToken> {
    let token = auth::random_secret("vs_")?;
    let expires_at = crate::time_from_now(chrono::Duration::hours(SESSION_TOKEN_HOURS));
    store.add_token(
        &auth::secret_hash(&token),
        &TokenSubject::User(user.name.clone()),
        &expires_at,
        &crate::now_text(),
    )?;
    Ok(SessionToken {
        token,
        expires_at,
        role: user.role.as_str().to_owned(),
    })
}

/// Change a person's own password: `false` when `old` is not their current password.
/// The new one obeys the password rule; every session and token they hold ends (the
/// one asking too: they sign in again with the new password).
pub fn change_password(
    store: &dyn Store,
    passwords: &auth::Passwords,
    name: &str,
    old: &str,
    new: &str,
) -> Result<bool> {
    auth::check_new_password(new)?;
    if verify_credentials(store, passwords, name, old)?.is_none() {
        return Ok(false);
    }
    reset_password(store, name, new)
}

/// An admin's reset: a new password without the old one, every session ended. `false`
/// when there is no such user.
pub fn reset_password(store: &dyn Store, name: &str, new: &str) -> Result<bool> {
    auth::check_new_password(new)?;
    let hash = auth::hash_password(new)?;
    let changed = store.set_password(name, &hash, &crate::now_text())?;
    if changed {
        tracing::info!(user = %name, "password changed; sessions revoked");
    }
    Ok(changed)
}

/// A provisioning code's text as a QR code: an SVG document to show on screen.
pub fn qr_svg(text: &str) -> Result<String> {
    let code = qrcode::QrCode::new(text.as_bytes())
        .map_err(|e| crate::Error::Invalid(format!("the code does not fit a QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;
    use crate::store::Role;

    #[test]
    fn unknown_names_and_wrong_passwords_both_run_argon2() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("v.sqlite3")).unwrap();
        let hash = auth::hash_password("correct horse battery").unwrap();
        store
            .add_user("cora", Role::Coordinator, &hash, &crate::now_text())
            .unwrap();
        let passwords = auth::Passwords::new(2);
        let unknown = login(&store, &passwords, "nobody", "correct horse battery").unwrap();
        assert!(unknown.is_none());
        assert_eq!(passwords.checks(), 1, "an unknown name ran the hasher");
        let wrong = login(&store, &passwords, "cora", "wrong horse battery").unwrap();
        assert!(wrong.is_none());
        assert_eq!(passwords.checks(), 2, "a wrong password ran the hasher");
        let right = login(&store, &passwords, "cora", "correct horse battery").unwrap();
        assert_eq!(right.map(|s| s.role), Some("coordinator".to_owned()));
        assert_eq!(passwords.checks(), 3);
    }

    #[test]
    fn a_password_change_needs_the_old_one_and_ends_every_session() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("v.sqlite3")).unwrap();
        let hash = auth::hash_password("correct horse battery").unwrap();
        store
            .add_user("cora", Role::Coordinator, &hash, &crate::now_text())
            .unwrap();
        let passwords = auth::Passwords::new(2);
        let session = login(&store, &passwords, "cora", "correct horse battery")
            .unwrap()
            .unwrap();
        let wrong = change_password(
            &store,
            &passwords,
            "cora",
            "not it at all",
            "new passphrase",
        );
        assert!(!wrong.unwrap());
        let weak = change_password(&store, &passwords, "cora", "correct horse battery", "short");
        assert!(matches!(weak, Err(crate::Error::WeakPassword(_))));
        assert!(change_password(
            &store,
            &passwords,
            "cora",
            "correct horse battery",
            "new passphrase"
        )
        .unwrap());
        let token = store
            .find_token(&auth::secret_hash(&session.token))
            .unwrap()
            .unwrap();
        assert!(token.revoked_at.is_some(), "the old session still works");
        assert!(login(&store, &passwords, "cora", "correct horse battery")
            .unwrap()
            .is_none());
        assert!(login(&store, &passwords, "cora", "new passphrase")
            .unwrap()
            .is_some());
        assert!(!reset_password(&store, "nobody", "new passphrase").unwrap());
    }
}
