//! Figures for the README's Performance section, measured through the app's own code
//! (store on a real file, engine, views) without the window:
//! opening the data directory, opening the 2,000-field stress form, autosave latency
//! (p50/p99 over many answers, on the SQLCipher store), unlocking (Argon2id of the PIN
//! and keying the store), and resident memory after opening the stress form.
//!
//! `cargo bench -p voices-app --bench app_figures`

use std::time::{Duration, Instant};

use voices_app::device::{open_with_pin, TEST_PIN};
use voices_app::vault::Vault;
use voices_app::view::PageView;
use voices_app::Voices;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// A page with a text or integer question to type into, and that question's path.
fn typing_target(voices: &Voices, id: &str, pages: u32) -> Option<(u32, String, &'static str)> {
    (0..pages).find_map(|i| {
        let page: PageView = voices.page(id, i).ok()?;
        page.fields.iter().find_map(|f| match f.kind.as_str() {
            "text" if !f.read_only => Some((i, f.path.clone(), "text")),
            "integer" if !f.read_only => Some((i, f.path.clone(), "integer")),
            _ => None,
        })
    })
}

fn autosave(voices: &Voices, id: &str, label: &str, rounds: usize) {
    let state = voices.state(id, 0, None).expect("state");
    let (page, path, kind) =
        typing_target(voices, id, state.page_count).expect("a question to type into");
    let mut times = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let value = if kind == "integer" {
            (i % 30 + 1).to_string()
        } else {
            format!("answer {i}")
        };
        let t = Instant::now();
        voices
            .set_answer(id, &path, Some(&value), page)
            .expect("answer saved");
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "autosave ({label}, {path}, {rounds} answers, each committed to SQLCipher with synchronous=FULL): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
    );
}

fn main() {
    // `cargo bench` passes --bench; nothing to parse.
    let dir = tempfile::tempdir().expect("temp dir");
    let t = Instant::now();
    let voices = open_with_pin(dir.path(), TEST_PIN).expect("open");
    println!(
        "first start: set the PIN (Argon2id 64 MiB), create the encrypted database, import {} example forms: {:.1} ms",
        voices_app::forms::EXAMPLES.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    drop(voices);
    let vault = Vault::new(dir.path());
    let mut unlocks = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let key = vault.unlock(TEST_PIN).expect("unlock");
        unlocks.push(t.elapsed());
        drop(key);
    }
    unlocks.sort();
    println!(
        "unwrap the data key with the PIN (Argon2id, 64 MiB, 3 passes; 5 unlocks): median {:.0} ms",
        percentile(&unlocks, 0.5).as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let voices = open_with_pin(dir.path(), TEST_PIN).expect("reopen");
    let forms = voices.forms().list().expect("list");
    println!(
        "unlock: PIN to open app (Argon2id, key the store, reopen, list {} forms): {:.1} ms",
        forms.len(),
        t.elapsed().as_secs_f64() * 1e3
    );

    // The store alone: one answer row committed (fsync included), no engine, no view.
    let id = voices
        .start("minimal", None, None)
        .expect("start minimal")
        .response_id;
    let mut times = Vec::with_capacity(2000);
    let village: voices_core::answer::AnswerPath = "/village".parse().expect("a path");
    voices
        .with_store(|store| {
            for i in 0..2000 {
                let t = Instant::now();
                store.set_answer(
                    &id,
                    &village,
                    Some(&format!("v{i}")),
                    "2026-01-01T00:00:00Z",
                )?;
                times.push(t.elapsed());
            }
            Ok(())
        })
        .expect("store writes");
    times.sort();
    println!(
        "store commit alone (one answer row, SQLCipher, synchronous=FULL, 2000 commits): p50 {:.2} ms, p99 {:.2} ms",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
    );

    // The human-security example: a realistic interview.
    let id = voices
        .start("community_life", None, None)
        .expect("start")
        .response_id;
    voices.record_consent(&id, true).expect("consent");
    autosave(&voices, &id, "community_life", 2000);

    // The 2,000-field stress form.
    let form = voices_core::stress::generate(2000, 1);
    let json = serde_json::to_string(&form).expect("stress form JSON");
    let rss_before = rss_mb();
    let t = Instant::now();
    let report = voices
        .forms()
        .import_text("stress.json", &json, "bench")
        .expect("import");
    assert_eq!(report.outcome, "added", "{:?}", report.diagnostics);
    let imported = t.elapsed();
    let t = Instant::now();
    let state = voices.start(&form.id, None, None).expect("start stress");
    let opened = t.elapsed();
    println!(
        "2,000-field stress form: check + store {:.0} ms; open (compile, new session, first page) {:.0} ms; {} pages",
        imported.as_secs_f64() * 1e3,
        opened.as_secs_f64() * 1e3,
        state.page_count
    );
    let id = state.response_id;
    if state.page.consent.is_some() {
        voices.record_consent(&id, true).expect("consent");
    }
    let t = Instant::now();
    drop(voices);
    let voices = open_with_pin(dir.path(), TEST_PIN).expect("reopen");
    let state = voices.open_interview(&id, None).expect("resume stress");
    println!(
        "resume a stress-form draft after a restart (unlock, reload answers, rebuild session, first page): {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "resident memory after opening the stress form: {:.0} MB (before it: {:.0} MB)",
        rss_mb(),
        rss_before
    );
    let _ = state;
    autosave(&voices, &id, "stress form", 300);
}
