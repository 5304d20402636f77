//! Linking the device to a server with a provisioning code, and forgetting the link;
//! the sync settings (automatic sync, proxy).

use serde::Deserialize;
use ts_rs::TS;
use voices_core::sync::protocol::ProvisioningCode;

use super::client::{Client, ClientError, ClientOptions};
use super::status::{to_link, DeviceLink, SyncStatus};
use super::{client_error, profile, revisions, seal, Live, Syncer, AUTO_SYNC_KEY, PROXY_KEY};
use crate::env::now;
use crate::error::{Error, Result};
use crate::lock::lock;
use crate::store::LinkRow;

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ProvisionRequest {
    /// The `voices1:…` text from `voices-server device add` (whitespace tolerated).
    pub code: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct SyncSettingsRequest {
    pub auto_sync: bool,
    /// `http://host:port` of an HTTP(S) proxy; `null` uses `HTTPS_PROXY`/`HTTP_PROXY` if set.
    pub proxy: Option<String>,
}

impl Syncer {
    /// Link this device with the `voices1:…` code from `voices-server device add`.
    pub async fn provision_device(&self, code_text: &str) -> Result<DeviceLink> {
        let text = code_text.trim();
        let code = ProvisioningCode::from_text(text).map_err(Error::BadCode)?;
        let client = Client::pinned(
            &code.server,
            code.certificate_sha256.as_deref(),
            &self.client_options()?,
        )
        .map_err(client_error)?;
        let credentials = match client.provision(text).await {
            Ok(c) => c,
            Err(ClientError::Refused { code, detail, .. })
                if code == "invalid_code" || code == "bad_json" =>
            {
                return Err(Error::BadCode(detail))
            }
            Err(e) => return Err(client_error(e)),
        };
        let row = LinkRow {
            server_url: code.server.trim_end_matches('/').to_owned(),
            project: credentials.project,
            device_id: credentials.device_id,
            enumerator: credentials.enumerator,
            token: credentials.token,
            expires_at: credentials.expires_at,
            linked_at: now(),
            certificate_sha256: code.certificate_sha256.clone(),
        };
        // The project's keys come with its form list: no revision is built before the
        // device knows what to seal to (a failure here leaves it to the first sync).
        let listed = client
            .authenticated(&row.token, &row.project)
            .forms()
            .await
            .ok();
        self.store.with(|s| {
            s.set_link(&row)?;
            seal::forget_recipients(s)?;
            // Another project's enumerator profile and name do not carry over.
            profile::forget(s)?;
            let Some(first) = listed.as_ref().and_then(|l| l.first()) else {
                return Ok(0);
            };
            seal::save_recipients(s, &first.recipients)?;
            // Responses finalized before the link become revisions under the device id.
            revisions::build_due(
                s,
                Some(self.files.as_ref()),
                &row.device_id,
                self.now_ms(),
                &now(),
            )
        })?;
        self.update(|l| *l = Live::default());
        self.request_now();
        self.emit_status(true);
        Ok(to_link(&row))
    }

    pub fn unlink_device(&self) -> Result<()> {
        self.store.with(|s| {
            s.clear_link()?;
            profile::forget(s)
        })?;
        self.update(|l| *l = Live::default());
        self.emit_status(true);
        Ok(())
    }

    pub fn set_sync_settings(&self, auto_sync: bool, proxy: Option<&str>) -> Result<SyncStatus> {
        let proxy = proxy.map(str::trim).filter(|p| !p.is_empty());
        if let Some(p) = proxy {
            reqwest::Proxy::all(p).map_err(|e| Error::InvalidInput(format!("proxy `{p}`: {e}")))?;
        }
        self.store.with(|s| {
            s.set_setting(AUTO_SYNC_KEY, if auto_sync { "true" } else { "false" })?;
            match proxy {
                Some(p) => s.set_setting(PROXY_KEY, p),
                None => s.delete_setting(PROXY_KEY),
            }
        })?;
        self.nudge();
        self.emit_status(true);
        self.sync_status()
    }

    pub(super) fn client_options(&self) -> Result<ClientOptions> {
        let mut options = lock(&self.options).clone();
        if let Some(proxy) = self.store.with(|s| s.setting(PROXY_KEY))? {
            options.proxy = Some(proxy);
        }
        Ok(options)
    }
}
