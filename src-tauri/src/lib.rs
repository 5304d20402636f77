//! Voices enumerator app: a Tauri 2 shell around the local store and the form engine.
//!
//! [`build`] assembles the app for any Tauri runtime, so command tests run it on
//! `tauri::test::mock_builder()`; [`run`] starts the real window.

pub mod bindings;
pub mod commands;
pub mod env;
pub mod error;
pub mod paths;
pub mod store;
pub mod view;
pub mod voices;
#[cfg(target_os = "linux")]
pub mod webview;

use std::path::PathBuf;

use tauri::{Manager, Runtime};

pub use error::{Error, Result};
pub use voices::Voices;

/// Environment variable that puts the data directory somewhere else (tests, kiosks).
pub const DATA_DIR_VAR: &str = "VOICES_DATA_DIR";

/// Register state and commands on a builder of any runtime. The data directory is
/// `data_dir` when given, else the platform's app data directory.
pub fn build<R: Runtime>(
    builder: tauri::Builder<R>,
    data_dir: Option<PathBuf>,
) -> tauri::Builder<R> {
    builder
        .setup(move |app| {
            let dir = match data_dir {
                Some(dir) => dir,
                None => app.path().app_data_dir()?,
            };
            let voices = Voices::open(&dir)?;
            app.manage(voices);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::list_forms,
            commands::import_form_text,
            commands::import_form_spreadsheet,
            commands::import_form_path,
            commands::start_interview,
            commands::open_interview,
            commands::interview_state,
            commands::get_page,
            commands::set_answer,
            commands::add_repeat_instance,
            commands::remove_repeat_instance,
            commands::record_consent,
            commands::record_privacy,
            commands::review,
            commands::finalize,
            commands::reopen,
            commands::list_responses,
            commands::record_paradata,
            commands::safe_exit,
            commands::safe_return,
            commands::attach_file,
            commands::get_attachment,
        ])
}

/// The data directory asked for on the command line (`--data-dir DIR`) or in
/// `VOICES_DATA_DIR`; `None` means the platform's app data directory.
fn requested_data_dir() -> Option<PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--data-dir" {
            return args.next().map(PathBuf::from);
        }
    }
    std::env::var_os(DATA_DIR_VAR).map(PathBuf::from)
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    #[cfg(target_os = "linux")]
    if webview::lean() {
        webview::set_lean_environment();
    }
    let data_dir = requested_data_dir();
    let app = match build(tauri::Builder::default(), data_dir).build(tauri::generate_context!()) {
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
