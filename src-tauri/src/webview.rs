//! WebKitGTK settings that cut the app's memory on Linux.
//!
//! The app shows one local page and never browses, so WebKit's browser-sized defaults
//! only cost memory. Most of it is in the web content process, where WebKit paints and
//! composites through GL by default (on machines without a GPU driver, through Mesa's
//! llvmpipe). Painting with Skia on the CPU and turning GL off in GTK (so WebKit
//! composites on the CPU too) takes the web process from 323 to 193 MB RSS with the
//! 2,000-field stress form open (WebKitGTK 2.50; `docs/app.md`); a form is a plain
//! document that the CPU paints quickly. Smaller caches and no page cache suit an app
//! that shows one local page and never navigates.
//! Setting `VOICES_WEBKIT_DEFAULTS=1` keeps WebKit's defaults, to measure the difference.

use webkit2gtk::{CacheModel, SettingsExt, WebContextExt, WebViewExt};

/// Environment variable that keeps WebKit's default settings (for comparing figures).
pub const DEFAULTS_VAR: &str = "VOICES_WEBKIT_DEFAULTS";

/// Whether the lean settings apply (they do unless `VOICES_WEBKIT_DEFAULTS=1`).
pub fn lean() -> bool {
    std::env::var_os(DEFAULTS_VAR).is_none_or(|v| v != "1")
}

/// WebKit reads these when its processes start; an explicit setting by the user wins.
const LEAN_ENVIRONMENT: [(&str, &str); 2] = [
    // Paint on the CPU instead of through GL (Skia's GPU backend).
    ("WEBKIT_SKIA_ENABLE_CPU_RENDERING", "1"),
    // No GL in GTK, so WebKit composites the page on the CPU too (its "hardware
    // acceleration" off): the web process no longer keeps GL surfaces and compositing
    // layers, 264 -> 193 MB RSS with the stress form open.
    ("GDK_GL", "disable"),
];

/// Set WebKit's lean environment. Call first thing in the process, before any thread
/// starts (the environment is not synchronised between threads).
pub fn set_lean_environment() {
    for (name, value) in LEAN_ENVIRONMENT {
        if std::env::var_os(name).is_none() {
            std::env::set_var(name, value);
        }
    }
}

/// Apply the lean settings to the app's web view.
pub fn tune(webview: &webkit2gtk::WebView) {
    if let Some(context) = webview.context() {
        // One local document: keep the smallest caches.
        context.set_cache_model(CacheModel::DocumentViewer);
    }
    if let Some(settings) = WebViewExt::settings(webview) {
        // There is no back/forward navigation to serve from a page cache.
        settings.set_enable_page_cache(false);
        // No 3D content in a form.
        settings.set_enable_webgl(false);
        settings.set_enable_back_forward_navigation_gestures(false);
        settings.set_enable_site_specific_quirks(false);
    }
}
