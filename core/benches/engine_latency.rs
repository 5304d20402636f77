//! Recompute latency after one answer changes, on the generated 2,000-field
//! stress form: p50, p99 and max over many single changes to random questions
//! (including those that drive repeat counts, which rebuild instances).
//!
//! `cargo bench -p voices-core --bench engine_latency`

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::DateTime;
use voices_core::engine::{CompiledForm, FieldView, ItemView, Session};
use voices_core::env::FixedEnvironment;
use voices_core::form::FieldType;
use voices_core::response::{Answers, Response};

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run briefly then.
    let full = std::env::args().any(|a| a == "--bench");
    let changes = if full { 20_000 } else { 200 };
    let mut env = FixedEnvironment::new(
        DateTime::parse_from_rfc3339("2025-06-01T08:00:00+02:00").unwrap(),
        5,
    );
    let form = voices_core::stress::generate(2_000, 1);
    let compiled = Arc::new(CompiledForm::compile(form).expect("stress form compiles"));
    let response = Response {
        id: "latency".to_owned(),
        form_id: compiled.form().id.clone(),
        form_version: compiled.form().version.clone(),
        answers: Answers::default(),
        consent: None,
        privacy: Default::default(),
        selections: Default::default(),
        matching: Default::default(),
        outcome: None,
    };
    let mut s = Session::new(Arc::clone(&compiled), response, &mut env).unwrap();
    let _ = s.record_consent(true, &mut env);
    let fields: Vec<FieldView> = s
        .view("en")
        .pages
        .into_iter()
        .flat_map(|p| p.items)
        .filter_map(|i| match i {
            ItemView::Field(f) if !f.read_only && f.kind != FieldType::Note => Some(*f),
            _ => None,
        })
        .collect();
    let mut samples: Vec<Duration> = Vec::with_capacity(changes);
    let mut slowest = (Duration::ZERO, String::new(), 0usize);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..changes {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let f = &fields[(state as usize) % fields.len()];
        let value = match f.kind {
            FieldType::Integer | FieldType::Decimal => ["1", "2", "3", "4"][i % 4].to_owned(),
            FieldType::SelectOne | FieldType::SelectMultiple => f
                .choices
                .as_ref()
                .and_then(|c| c.get(i % c.len().max(1)))
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            _ => format!("v{}", i % 5),
        };
        let started = Instant::now();
        let _ = s.set_answer(&f.path, Some(value), &mut env);
        let took = started.elapsed();
        if took > slowest.0 {
            slowest = (took, f.path.to_string(), i);
        }
        samples.push(took);
    }
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "engine_latency: {} single-answer changes on the 2,000-field stress form ({} questions): \
         p50 {:.1} µs, p90 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        samples.len(),
        fields.len(),
        at(0.50).as_secs_f64() * 1e6,
        at(0.90).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        samples[samples.len() - 1].as_secs_f64() * 1e6,
    );
    println!(
        "engine_latency: slowest was change #{} to {}",
        slowest.2, slowest.1
    );
}
