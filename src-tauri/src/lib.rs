//! Voices enumerator app: a Tauri 2 shell around the local store and the form engine.
//!
//! [`build`] assembles the app for any Tauri runtime, so command tests run it on
//! `tauri::test::mock_builder()`; [`run`] starts the real window.

pub mod bindings;
pub mod commands;
pub mod decoy;
pub mod device;
pub mod env;
pub mod error;
pub mod forms;
pub mod headless;
mod lock;
pub mod qr;
pub mod store;
pub mod sync;
pub mod vault;
pub mod view;
pub mod voices;
#[cfg(target_os = "linux")]
pub mod webview;

use std::path::PathBuf;
use std::sync::Arc;

use tauri::{Emitter, Manager, Runtime};

pub use device::Device;
pub use error::{Error, Result};
pub use voices::Voices;

/// Environment variable that puts the data directory somewhere else (tests, kiosks).
pub const DATA_DIR_VAR: &str = "VOICES_DATA_DIR";
/// Environment variable with a provisioning code to link the device at start
/// (same as `--provision CODE`; used by `make run`).
pub const PROVISION_CODE_VAR: &str = "VOICES_PROVISION_CODE";
/// The Tauri event that carries every change of [`sync::SyncStatus`].
pub const SYNC_STATUS_EVENT: &str = "sync-status";
/// The Tauri event sent when the app locked (or wiped) itself: its [`device::DeviceState`].
pub const DEVICE_LOCKED_EVENT: &str = "device-locked";
/// How often the idle time is checked.
const IDLE_CHECK: std::time::Duration = std::time::Duration::from_secs(5);

/// Register state and commands on a builder of any runtime. The data directory is
/// `data_dir` when given, else the platform's app data directory.
pub fn build<R: Runtime>(
    builder: tauri::Builder<R>,
    data_dir: Option<PathBuf>,
) -> tauri::Builder<R> {
    build_with_provisioning(builder, data_dir, None)
}

/// [`build`], linking the device with `provision_code` at start unless it is linked
/// already. The automatic sync task starts with the app.
pub fn build_with_provisioning<R: Runtime>(
    builder: tauri::Builder<R>,
    data_dir: Option<PathBuf>,
    provision_code: Option<String>,
) -> tauri::Builder<R> {
    builder
        .setup(move |app| {
            let dir = match data_dir {
                Some(dir) => dir,
                None => app.path().app_data_dir()?,
            };
            let device = Device::new(&dir);
            let handle = app.handle().clone();
            // Each unlock starts sync (linking first with a code given at start); each
            // lock stops it.
            device.on_unlock(move |voices: Arc<Voices>| {
                let events = handle.clone();
                voices.sync().set_emitter(move |status| {
                    let _ = events.emit(SYNC_STATUS_EVENT, status);
                });
                let code = provision_code.clone();
                let handle = handle.clone();
                let task = tauri::async_runtime::spawn(async move {
                    if let Some(code) = code {
                        if !voices.sync().is_linked() {
                            if let Err(e) = voices.sync().provision_device(&code).await {
                                eprintln!("Voices: linking with the provisioning code failed: {e}");
                            }
                        }
                    }
                    // Returns only when the server ordered this device wiped.
                    voices.sync().auto_sync_loop().await;
                    drop(voices);
                    let device = handle.state::<Device>();
                    if let Err(e) = device.wipe() {
                        eprintln!("Voices: erasing the device's data failed: {e}");
                    }
                    if let Ok(state) = device.state() {
                        let _ = handle.emit(DEVICE_LOCKED_EVENT, state);
                    }
                });
                Box::new(move || task.abort())
            });
            app.manage(device);
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                loop {
                    tokio::time::sleep(IDLE_CHECK).await;
                    let device = handle.state::<Device>();
                    if device.lock_if_idle() {
                        if let Ok(state) = device.state() {
                            let _ = handle.emit(DEVICE_LOCKED_EVENT, state);
                        }
                    }
                }
            });
            Ok(())
        })
        .invoke_handler(commands::handler())
}

/// The value after `flag` on the command line.
fn argument(flag: &str) -> Option<std::ffi::OsString> {
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        if arg == flag {
            return args.next();
        }
    }
    None
}

/// The data directory asked for on the command line (`--data-dir DIR`) or in
/// `VOICES_DATA_DIR`; `None` means the platform's app data directory.
fn requested_data_dir() -> Option<PathBuf> {
    argument("--data-dir")
        .or_else(|| std::env::var_os(DATA_DIR_VAR))
        .map(PathBuf::from)
}

/// The provisioning code from `--provision CODE` or `VOICES_PROVISION_CODE`.
fn requested_provision_code() -> Option<String> {
    argument("--provision")
        .or_else(|| std::env::var_os(PROVISION_CODE_VAR))
        .and_then(|c| c.into_string().ok())
        .filter(|c| !c.trim().is_empty())
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    if std::env::args_os().nth(1).is_some_and(|a| a == "sync") {
        std::process::exit(headless::sync_main(
            requested_data_dir(),
            requested_provision_code(),
        ));
    }
    if std::env::args_os().nth(1).is_some_and(|a| a == "check") {
        std::process::exit(headless::check_main(requested_data_dir()));
    }
    #[cfg(target_os = "linux")]
    if webview::lean() {
        webview::set_lean_environment();
    }
    let data_dir = requested_data_dir();
    let app = match build_with_provisioning(
        tauri::Builder::default(),
        data_dir,
        requested_provision_code(),
    )
    .build(tauri::generate_context!())
    {
        Ok(app) => app,
        Err(e) => {
            eprintln!("Voices could not start: {e}");
            std::process::exit(1);
        }
    };
    #[cfg(target_os = "linux")]
    if webview::lean() {
        for window in app.webview_windows().values() {
            if let Err(e) = window.with_webview(|w| webview::tune(&w.inner())) {
                eprintln!("Voices: web view settings not applied: {e}");
            }
        }
    }
    app.run(|_, _| {});
}
