//! Form engine benchmarks on the generated 2,000-field stress form:
//! parse + check, compile, recompute after one answer changes, full validation.
//!
//! `cargo bench -p voices-core --bench engine`. Criterion gives means; the
//! `engine_latency` bench gives the p50/p99 of recompute after one change.

use std::hint::black_box;
use std::sync::Arc;

use chrono::DateTime;
use criterion::{criterion_group, criterion_main, Criterion};
use voices_core::check::check_source;
use voices_core::engine::{validate_response, CompiledForm, ItemView, Session};
use voices_core::env::FixedEnvironment;
use voices_core::form::FieldType;
use voices_core::response::{Answers, Response};

fn env() -> FixedEnvironment {
    FixedEnvironment::new(
        DateTime::parse_from_rfc3339("2025-06-01T08:00:00+02:00").unwrap(),
        3,
    )
}

fn stress_text() -> String {
    serde_json::to_string_pretty(&voices_core::stress::generate(2_000, 1)).unwrap()
}

fn session(form: &Arc<CompiledForm>) -> Session {
    let mut env = env();
    let response = Response {
        id: "bench".to_owned(),
        form_id: form.form().id.clone(),
        form_version: form.form().version.clone(),
        answers: Answers::default(),
        consent: None,
        privacy: Default::default(),
        selections: Default::default(),
        matching: Default::default(),
        outcome: None,
    };
    let mut s = Session::new(Arc::clone(form), response, &mut env).unwrap();
    let _ = s.record_consent(true, &mut env);
    s
}

fn bench(c: &mut Criterion) {
    let text = stress_text();
    c.bench_function("stress_2000/parse_and_check", |b| {
        b.iter(|| black_box(check_source(black_box(&text))))
    });
    let form = voices_core::form::Form::from_json(&text).unwrap();
    c.bench_function("stress_2000/compile", |b| {
        b.iter(|| black_box(CompiledForm::compile(black_box(form.clone())).unwrap()))
    });
    let compiled = Arc::new(CompiledForm::compile(form).unwrap());
    let mut s = session(&compiled);
    let integers: Vec<_> = s
        .view("en")
        .pages
        .into_iter()
        .flat_map(|p| p.items)
        .filter_map(|i| match i {
            ItemView::Field(f) if f.kind == FieldType::Integer && !f.read_only => Some(f.path),
            _ => None,
        })
        .collect();
    let mut env = env();
    let mut i = 0usize;
    c.bench_function("stress_2000/set_answer_recompute", |b| {
        b.iter(|| {
            i += 1;
            let path = &integers[(i * 7) % integers.len()];
            let value = ["1", "2", "3"][i % 3].to_owned();
            black_box(s.set_answer(path, Some(value), &mut env).ok())
        })
    });
    let response = s.response().clone();
    c.bench_function("stress_2000/validate_response", |b| {
        b.iter(|| black_box(validate_response(&compiled, &response, "en", &mut env)))
    });
    c.bench_function("stress_2000/view", |b| b.iter(|| black_box(s.view("en"))));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
