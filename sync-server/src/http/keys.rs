//! A project's recipient keys and the pii grant, for admins:
//! `GET/POST /projects/{p}/keys`, `DELETE /projects/{p}/keys/{recipient}`,
//! `PUT /projects/{p}/members/{name}/pii`; and, for coordinators,
//! `POST /projects/{p}/sealed-opened` (the console opened sealed answers). Only public
//! keys are ever sent here.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{Admin, Authorized, Coordinate};
use super::body::json_body;
use super::error::{ApiError, ApiResult};
use super::{blocking, AppState};
use crate::keys::{self, KeyError};
use crate::store::access::{AuditAction, AuditRecord};

impl From<KeyError> for ApiError {
    fn from(e: KeyError) -> ApiError {
        match e {
            KeyError::NotARecipient(_) => ApiError::bad_request("bad_recipient", e.to_string()),
            KeyError::Exists(_) => ApiError::new(StatusCode::CONFLICT, "key_exists", e.to_string()),
            KeyError::Unknown(..) => ApiError::not_found("unknown_key", e.to_string()),
            KeyError::TooMany(_) => {
                ApiError::new(StatusCode::CONFLICT, "too_many_keys", e.to_string())
            }
            KeyError::LastKey(..) => ApiError::new(StatusCode::CONFLICT, "last_key", e.to_string()),
            KeyError::UnknownProject(_) => ApiError::not_found("unknown_project", e.to_string()),
            KeyError::Store(e) => e.into(),
        }
    }
}

fn unknown_project(project: &str) -> ApiError {
    ApiError::not_found(
        "unknown_project",
        format!("there is no project `{project}`"),
    )
}

pub(super) async fn list(
    State(state): State<AppState>,
    Path(project): Path<String>,
    _: Admin,
) -> ApiResult<Json<Value>> {
    let store = state.store.clone();
    let p = project.clone();
    let found = blocking(move || {
        if !store.project_exists(&p)? {
            return Ok::<_, crate::Error>(None);
        }
        store.project_keys(&p).map(Some)
    })
    .await?;
    let keys = found.ok_or_else(|| unknown_project(&project))?;
    Ok(Json(json!({ "keys": keys })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    recipient: String,
    #[serde(default)]
    label: String,
}

pub(super) async fn add(
    State(state): State<AppState>,
    Path(project): Path<String>,
    Admin(admin): Admin,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request: NewKey = json_body(&state, body).await?;
    let store = state.store.clone();
    let key = blocking(move || {
        keys::add(
            store.as_ref(),
            &project,
            &request.recipient,
            &request.label,
            &admin.name,
            &crate::now_text(),
        )
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!(key))))
}

pub(super) async fn retire(
    State(state): State<AppState>,
    Path((project, recipient)): Path<(String, String)>,
    Admin(admin): Admin,
) -> ApiResult<StatusCode> {
    let store = state.store.clone();
    blocking(move || {
        keys::retire(
            store.as_ref(),
            &project,
            &recipient,
            &admin.name,
            &crate::now_text(),
        )
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PiiGrant {
    read_pii: bool,
}

pub(super) async fn grant_pii(
    State(state): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    Admin(admin): Admin,
    body: Body,
) -> ApiResult<Json<Value>> {
    let request: PiiGrant = json_body(&state, body).await?;
    let store = state.store.clone();
    let (p, n) = (project.clone(), name.clone());
    let member = blocking(move || {
        let now = crate::now_text();
        if !store.set_pii_grant(&n, &p, request.read_pii)? {
            return Ok::<_, crate::Error>(false);
        }
        store.append_audit(&AuditRecord {
            at: now,
            actor: admin.name.clone(),
            action: AuditAction::GrantPii,
            project: Some(p),
            target: Some(n),
            detail: format!("read_pii={}", request.read_pii),
            ok: true,
        })?;
        Ok(true)
    })
    .await?;
    if !member {
        return Err(ApiError::not_found(
            "not_member",
            format!("`{name}` is not a member of project `{project}`"),
        ));
    }
    Ok(Json(
        json!({"project": project, "name": name, "read_pii": request.read_pii}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Opened {
    recipients: Vec<String>,
}

/// `POST /projects/{p}/sealed-opened`: a coordinator opened their identity in the console
/// to read the project's sealed answers. The page sends the identity's public keys only
/// (it decrypts in the browser and never sends what it reads); the audit records them and
/// whether each is a current, retired or unknown key of the project. The console shows
/// nothing in clear unless this succeeded.
pub(super) async fn opened(
    State(state): State<AppState>,
    caller: Authorized<Coordinate>,
    body: Body,
) -> ApiResult<StatusCode> {
    let request: Opened = json_body(&state, body).await?;
    if request.recipients.is_empty() || request.recipients.len() > keys::MAX_KEYS {
        return Err(ApiError::bad_request(
            "bad_recipient",
            format!(
                "`recipients` lists the identity's public keys: 1 to {}, not {}",
                keys::MAX_KEYS,
                request.recipients.len()
            ),
        ));
    }
    let recipients = request
        .recipients
        .iter()
        .map(|r| keys::parse_recipient(r))
        .collect::<Result<Vec<String>, KeyError>>()?;
    let store = state.store.clone();
    blocking(move || {
        let known = store.project_keys(&caller.project)?;
        let kinds: Vec<&str> = recipients
            .iter()
            .map(|r| match known.iter().find(|k| &k.recipient == r) {
                Some(k) if k.retired_at.is_none() => "current",
                Some(_) => "retired",
                None => "unknown",
            })
            .collect();
        caller.audit(
            store.as_ref(),
            AuditAction::OpenSealed,
            Some(&recipients.join(" ")),
            format!("in the console; keys: {}", kinds.join(" ")),
        )
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
