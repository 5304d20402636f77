//! The app on Tauri's mock runtime, called through the same IPC path the UI uses.
//! Shared by the command tests (`commands.rs`, `sync_commands.rs`).

// Each test crate uses a different part of this module.
#![allow(dead_code)]

use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindowBuilder;

pub struct MockApp {
    pub dir: tempfile::TempDir,
    pub app: tauri::App<tauri::test::MockRuntime>,
    pub window: tauri::WebviewWindow<tauri::test::MockRuntime>,
}

/// The app on a new data directory.
pub fn mock_app() -> MockApp {
    mock_app_in(tempfile::tempdir().unwrap())
}

/// The app on an existing data directory (a restart when one ran on it before).
pub fn mock_app_in(dir: tempfile::TempDir) -> MockApp {
    let mut app = voices_app::build(mock_builder(), Some(dir.path().to_owned()))
        .build(mock_context(noop_assets()))
        .unwrap();
    // The first event-loop turn runs the app's setup, which opens the data directory.
    // Deprecated for use in a loop (it busy-waits); a single turn is what is wanted here.
    #[allow(deprecated)]
    app.run_iteration(|_, _| {});
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    let app = MockApp { dir, app, window };
    // First start sets the PIN; a restart enters it.
    let state = app.call("device_state", None).unwrap();
    let pin = json!({ "pin": voices_app::device::TEST_PIN });
    match state["status"].as_str() {
        Some("new") => app.call("set_pin", Some(pin)).unwrap(),
        Some("locked") => app.call("unlock", Some(pin)).unwrap(),
        other => panic!("the device starts {other:?}"),
    };
    app
}

/// The app on a data directory, left at its lock screen.
pub fn mock_app_locked(dir: tempfile::TempDir) -> MockApp {
    let mut app = voices_app::build(mock_builder(), Some(dir.path().to_owned()))
        .build(mock_context(noop_assets()))
        .unwrap();
    #[allow(deprecated)]
    app.run_iteration(|_, _| {});
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    MockApp { dir, app, window }
}

impl MockApp {
    /// Invoke command `cmd` with `{"request": request}` (or no arguments).
    pub fn call(&self, cmd: &str, request: Option<Value>) -> Result<Value, Value> {
        let body = match request {
            Some(r) => json!({ "request": r }),
            None => json!({}),
        };
        get_ipc_response(
            &self.window,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(body),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().unwrap())
    }
}
