//! Devices and sessions: registering a device with a one-time provisioning code,
//! exchanging the code for a device token, and a person's login for a session token.
//! Only hashes of codes and tokens are stored ([`crate::auth`]).

use voices_core::sync::protocol::{DeviceCredentials, ProvisioningCode, SessionToken};

use crate::auth;
use crate::store::{Device, Store, TokenSubject};
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
    let id = match id {
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
    };
    store.add_device(
        &device,
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

/// A session for a person whose password matches. `None` for an unknown user or a
/// wrong password (which are not told apart).
pub fn login(store: &dyn Store, user: &str, password: &str) -> Result<Option<SessionToken>> {
    let Some(user) = store.find_user(user)? else {
        return Ok(None);
    };
    if !auth::verify_password(password, &user.password_hash) {
        return Ok(None);
    }
    let token = auth::random_secret("vs_")?;
    let expires_at = crate::time_from_now(chrono::Duration::hours(SESSION_TOKEN_HOURS));
    store.add_token(
        &auth::secret_hash(&token),
        &TokenSubject::User(user.name.clone()),
        &expires_at,
        &crate::now_text(),
    )?;
    Ok(Some(SessionToken {
        token,
        expires_at,
        role: user.role.as_str().to_owned(),
    }))
}
