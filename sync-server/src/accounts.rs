//! Devices and sessions: registering a device with a one-time provisioning code,
//! exchanging the code for a device token, and a person's login for a session token
//! (the same token serves as the console's cookie). Only hashes of codes and tokens are
//! stored ([`crate::auth`]).

use std::sync::OnceLock;

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
    label: Option<&str>,
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

/// Why a person may not have a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// An unknown user or a wrong password (not told apart).
    BadCredentials,
    /// The right password of a user an admin disabled.
    Disabled,
}

/// An Argon2 hash checked when the user name is unknown, so that an unknown name takes
/// as long to refuse as a wrong password.
fn decoy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| auth::hash_password("not a password of anyone").unwrap_or_default())
}

/// The person with this name and password.
pub fn check_password(
    store: &dyn Store,
    name: &str,
    password: &str,
) -> Result<std::result::Result<User, Refusal>> {
    let user = store.find_user(name)?;
    let hash = user
        .as_ref()
        .map_or_else(|| decoy_hash().to_owned(), |u| u.password_hash.clone());
    let verified = auth::verify_password(password, &hash);
    Ok(match user {
        Some(user) if verified && user.disabled => Err(Refusal::Disabled),
        Some(user) if verified => Ok(user),
        _ => Err(Refusal::BadCredentials),
    })
}

/// A new session token for `user`: (token, expiry).
pub fn open_session(store: &dyn Store, user: &str) -> Result<(String, String)> {
    let token = auth::random_secret("vs_")?;
    let expires_at = crate::time_from_now(chrono::Duration::hours(SESSION_TOKEN_HOURS));
    store.add_token(
        &auth::secret_hash(&token),
        &TokenSubject::User(user.to_owned()),
        &expires_at,
        &crate::now_text(),
    )?;
    Ok((token, expires_at))
}

/// A session for a person whose password matches.
pub fn login(
    store: &dyn Store,
    user: &str,
    password: &str,
) -> Result<std::result::Result<SessionToken, Refusal>> {
    let user = match check_password(store, user, password)? {
        Ok(user) => user,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let (token, expires_at) = open_session(store, &user.name)?;
    Ok(Ok(SessionToken {
        token,
        expires_at,
        role: user.role.as_str().to_owned(),
    }))
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
