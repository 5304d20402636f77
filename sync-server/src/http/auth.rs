//! Who is asking, and may they: the bearer token (or, from a browser, the session
//! cookie: see `session`) is looked up and checked, then the caller's role in the
//! project is held against what the route needs. Handlers take an [`Authorized`]
//! extractor for the permission they need (or [`Person`], [`Admin`] for routes outside
//! a project) and never check by hand.
//!
//! The checks run in a fixed order, and each failure has its own status and code:
//! no or unknown token (401 `unauthorized`), a revoked token or device (401
//! `token_revoked`), an expired token (401 `token_expired`), a disabled person (401
//! `account_disabled`), another project
//! (403 `wrong_project`), a role without the permission (403 `forbidden`), a project
//! that does not exist (404 `unknown_project`).

use std::collections::HashMap;
use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};

use super::error::{ApiError, ApiResult};
use super::extract::Path;
use super::{blocking, AppState};
use crate::auth;
use crate::store::{Principal, Role, Scope, Uploader, User, COORDINATOR_ACTOR_PREFIX};

/// What a request wants to do in a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// List and download forms.
    Forms,
    /// Upload revisions and attachments (devices; coordinators for their edits and
    /// resolutions).
    Upload,
    /// Publish form versions.
    Publish,
    /// Read responses and attachments, review, export, manage devices.
    Coordinate,
    /// What every member of the project may read (form fields); not devices.
    Member,
    /// Pull back the responses it started (devices only: people read the project feed).
    OwnResponses,
}

/// A permission a route asks for, as a type, so that a handler's signature says it.
pub trait Permission: Send + Sync + 'static {
    const NEED: Need;
}

/// Devices and every member of the project: list and download forms.
pub enum ReadForms {}
/// Devices, coordinators and admins: upload revisions and attachments.
pub enum Upload {}
/// Designers and admins: publish form versions.
pub enum Publish {}
/// Coordinators and admins: read responses, review, export, download attachments.
pub enum Coordinate {}
/// Every member of the project (designers, coordinators) and admins, not devices.
pub enum Member {}
/// Devices only: their own responses' reviews and coordinators' edits.
pub enum OwnResponses {}

impl Permission for ReadForms {
    const NEED: Need = Need::Forms;
}
impl Permission for Upload {
    const NEED: Need = Need::Upload;
}
impl Permission for Publish {
    const NEED: Need = Need::Publish;
}
impl Permission for Coordinate {
    const NEED: Need = Need::Coordinate;
}
impl Permission for Member {
    const NEED: Need = Need::Member;
}
impl Permission for OwnResponses {
    const NEED: Need = Need::OwnResponses;
}

/// A caller allowed to do `P` in the project named by the route's `{project}`.
pub struct Authorized<P> {
    pub principal: Principal,
    pub project: String,
    permission: PhantomData<P>,
}

impl<P> Authorized<P> {
    /// Who the caller is in the records: a device's id, a person's name.
    pub fn name(&self) -> String {
        match &self.principal {
            Principal::User(u) => u.name.clone(),
            Principal::Device(d) => d.id.clone(),
        }
    }

    /// Whose responses the caller reads in the project: a coordinator limited to teams
    /// reads their teams' devices' only (docs/console.md, Teams). Devices read no
    /// project feed (their own responses come through the device feed).
    pub fn scope(&self) -> Scope {
        match &self.principal {
            Principal::User(u) => u.scope_in(&self.project),
            Principal::Device(_) => Scope::Project,
        }
    }

    /// Refuse, as missing (404 `unknown_response`, so that existence is not told), a
    /// response the caller's scope does not see.
    pub async fn sees(&self, state: &AppState, id: &str) -> ApiResult<()> {
        let scope = self.scope();
        if scope == Scope::Project {
            return Ok(());
        }
        let (store, project, ids) = (
            state.store.clone(),
            self.project.clone(),
            vec![id.to_owned()],
        );
        let seen = blocking(move || store.visible_responses(&project, &scope, &ids)).await?;
        if seen.first() == Some(&true) {
            Ok(())
        } else {
            Err(ApiError::not_found(
                "unknown_response",
                format!("no response `{id}` in this project"),
            ))
        }
    }
}

impl<P> Authorized<P> {
    /// Refuse a request that asks for pii answers (`asked`) unless the caller holds the
    /// pii grant in this project: admins do; anyone else only if an admin gave it
    /// (`voices-server user grant-pii`), whatever their role.
    pub fn check_pii(&self, asked: bool) -> ApiResult<()> {
        match &self.principal {
            _ if !asked => Ok(()),
            Principal::User(u) if u.may_read_pii(&self.project) => Ok(()),
            _ => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "pii_not_granted",
                "reading pii answers needs the pii grant in this project (an admin gives it with `voices-server user grant-pii`); ask without pii=true",
            )),
        }
    }

    /// Append to the access audit what the caller did in this project (call from a
    /// blocking task).
    pub fn audit(
        &self,
        store: &dyn crate::store::Store,
        action: crate::store::access::AuditAction,
        target: Option<&str>,
        detail: impl Into<String>,
    ) -> crate::Result<()> {
        crate::audit::record(
            store,
            &self.name(),
            action,
            Some(&self.project),
            target,
            detail,
            true,
        )
    }
}

impl Authorized<Upload> {
    /// Whom the ingest records as sending: a device, or `user:NAME` for a person.
    pub fn uploader(&self) -> Uploader {
        match &self.principal {
            Principal::Device(d) => Uploader {
                id: d.id.clone(),
                enumerator: d.enumerator.clone(),
                devices: None,
            },
            Principal::User(u) => Uploader {
                id: format!("{COORDINATOR_ACTOR_PREFIX}{}", u.name),
                enumerator: u.name.clone(),
                // Set from the store by the upload for a coordinator limited to teams.
                devices: None,
            },
        }
    }
}

impl<P: Permission> FromRequestParts<AppState> for Authorized<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let Path(params) =
            Path::<HashMap<String, String>>::from_request_parts(parts, state).await?;
        let project = params
            .get("project")
            .cloned()
            .ok_or_else(|| ApiError::internal("a project route without `{project}`"))?;
        let principal = authenticate(state, &parts.headers).await?;
        permit(&principal, &project, P::NEED)?;
        let store = state.store.clone();
        let p = project.clone();
        if !blocking(move || store.project_exists(&p)).await? {
            return Err(ApiError::not_found(
                "unknown_project",
                format!("there is no project `{project}`"),
            ));
        }
        Ok(Authorized {
            principal,
            project,
            permission: PhantomData,
        })
    }
}

fn unauthorized(code: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, detail)
}

/// A person (not a device) signed in, for requests about their own account and the
/// console's routes outside a project.
pub struct Person(pub User);

impl FromRequestParts<AppState> for Person {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        match authenticate(state, &parts.headers).await? {
            Principal::User(user) => Ok(Person(user)),
            Principal::Device(_) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "devices have no account of their own; this is for people",
            )),
        }
    }
}

/// An admin: manages people, memberships and keys, reads the audit and the server's metrics.
pub struct Admin(pub User);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let Person(user) = Person::from_request_parts(parts, state).await?;
        if user.role != Role::Admin {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "only an admin may do this (people, memberships, keys, the audit, the server's metrics)",
            ));
        }
        Ok(Admin(user))
    }
}

/// The principal of the request's bearer token or session cookie, if it is known,
/// current and not revoked (the CSRF header of a cookie was checked by the `session`
/// layer already). A device's contact is recorded on the way.
/// The error code answering every call of a device revoked with wipe.
pub const DEVICE_WIPE: &str = "device_wipe";

pub(super) async fn authenticate(state: &AppState, headers: &HeaderMap) -> ApiResult<Principal> {
    let token = super::session::credential(headers).ok_or_else(|| {
        unauthorized(
            "unauthorized",
            "send `Authorization: Bearer TOKEN` (a device token from provisioning or a session from /api/v1/login), or sign in (POST /api/v1/session)",
        )
    })?;
    let hash = auth::secret_hash(&token);
    let store = state.store.clone();
    let found = blocking(move || store.find_token(&hash)).await?;
    let info = found.ok_or_else(|| unauthorized("unauthorized", "unknown token"))?;
    // Before the revocation itself: the app must learn that it is to erase its data.
    if let Principal::Device(d) = &info.principal {
        if d.wipe_requested_at.is_some() {
            return Err(unauthorized(
                DEVICE_WIPE,
                "this device was revoked with wipe: it must erase its data",
            ));
        }
    }
    if info.revoked_at.is_some() {
        return Err(unauthorized(
            "token_revoked",
            "this token was revoked; provision the device again or log in again",
        ));
    }
    if info.expires_at <= crate::now_text() {
        return Err(unauthorized(
            "token_expired",
            format!(
                "this token expired at {}; provision the device again or log in again",
                info.expires_at
            ),
        ));
    }
    match &info.principal {
        Principal::Device(d) => {
            if d.revoked_at.is_some() {
                return Err(unauthorized("token_revoked", "this device was revoked"));
            }
            super::devices::record_contact(state, &d.id, headers);
        }
        Principal::User(u) if u.disabled => {
            return Err(unauthorized(
                "account_disabled",
                "this account was disabled by an admin",
            ))
        }
        Principal::User(_) => {}
    }
    Ok(info.principal)
}

/// The permission rules: devices fetch forms and upload in their own project; people
/// act in the projects they are members of (admins in all), as their role allows.
fn permit(principal: &Principal, project: &str, need: Need) -> ApiResult<()> {
    let forbidden = |detail: String| ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail);
    let wrong_project =
        |detail: String| ApiError::new(StatusCode::FORBIDDEN, "wrong_project", detail);
    match principal {
        Principal::Device(d) => {
            if d.project != project {
                return Err(wrong_project(format!(
                    "this device belongs to project `{}`, not `{project}`",
                    d.project
                )));
            }
            if !matches!(need, Need::Forms | Need::Upload | Need::OwnResponses) {
                return Err(forbidden(
                    "devices can only fetch forms, upload and pull back their own responses".into(),
                ));
            }
        }
        Principal::User(u) => {
            let Some(role) = u.role_in(project) else {
                return Err(wrong_project(format!(
                    "user `{}` is not a member of project `{project}`",
                    u.name
                )));
            };
            if need == Need::OwnResponses {
                return Err(forbidden(
                    "this is a device's feed of the responses it started; people read the project's responses (GET /responses)".into(),
                ));
            }
            let allowed = match need {
                Need::Forms | Need::Member => true,
                Need::OwnResponses => false,
                Need::Publish => matches!(role, Role::Admin | Role::Designer),
                Need::Upload | Need::Coordinate => matches!(role, Role::Admin | Role::Coordinator),
            };
            if !allowed {
                return Err(forbidden(format!(
                    "a {} cannot do this; it needs {}",
                    role.as_str(),
                    match need {
                        Need::Publish => "a designer or admin",
                        _ => "a coordinator or admin",
                    }
                )));
            }
        }
    }
    Ok(())
}
