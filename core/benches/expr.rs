//! Evaluations per second over the conformance expressions, pre-parsed.
//!
//! `cargo bench -p voices-core --bench expr`

use std::path::Path;

use chrono::DateTime;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::Value as Json;
use voices_core::env::FixedEnvironment;
use voices_core::expr::{evaluate, parse, Expr, MapContext};

fn cases() -> Vec<(Expr, MapContext)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance");
    assert!(
        dir.is_dir(),
        "conformance material missing: expected {}",
        dir.display()
    );
    let mut out = Vec::new();
    for file in ["xpath-cases.json", "xpath-cases-javarosa.json"] {
        let text = std::fs::read_to_string(dir.join(file)).expect("readable suite");
        let doc: Json = serde_json::from_str(&text).expect("suite is JSON");
        for case in doc["cases"].as_array().expect("cases array") {
            let scope = case["scope"].as_str().unwrap_or_default();
            if scope != "pure" && scope != "instance" {
                continue;
            }
            let Ok(expr) = parse(case["expression"].as_str().unwrap_or_default()) else {
                continue;
            };
            let mut ctx = MapContext::new();
            if let Json::Object(map) = &case["instance"] {
                for (path, value) in map {
                    match value {
                        Json::String(s) if path == "." => {
                            ctx.set_context_value(s);
                        }
                        Json::String(s) => {
                            ctx.push(path, s);
                        }
                        Json::Array(items) => {
                            for item in items {
                                ctx.push(path, item.as_str().unwrap_or_default());
                            }
                        }
                        _ => {}
                    }
                }
            }
            out.push((expr, ctx));
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let cases = cases();
    let now = DateTime::parse_from_rfc3339("2026-11-26T02:32:40-07:00").expect("valid instant");
    let mut env = FixedEnvironment::new(now, 1);
    let mut group = c.benchmark_group("expr");
    group.throughput(Throughput::Elements(cases.len() as u64));
    group.bench_function("evaluate_conformance_expressions", |b| {
        b.iter(|| {
            let mut ok = 0usize;
            for (expr, ctx) in &cases {
                if evaluate(expr, ctx, &mut env).is_ok() {
                    ok += 1;
                }
            }
            ok
        })
    });
    group.finish();

    // Expressions as forms write them, against a small response.
    let mut ctx = MapContext::new();
    ctx.push("/data/consent", "yes");
    ctx.push("/data/age", "34");
    ctx.push("/data/threats", "violence displacement corruption");
    ctx.push("/data/name", "Amina");
    for age in ["4", "15", "34", "71"] {
        ctx.push("/data/members/member_age", age);
    }
    ctx.set_context_path("/data/age");
    let typical: Vec<Expr> = [
        "${consent} = 'yes' and ${age} >= 18",
        ". >= 0 and . <= 120",
        "if(${age} < 18, 'minor', 'adult')",
        "selected(${threats}, 'violence') or count-selected(${threats}) > 2",
        "concat(${name}, ' (', ${age}, ')')",
        "count(/data/members[member_age < 18])",
        "regex(${name}, '^[A-Z][a-z]+$')",
        "round(sum(/data/members/member_age) div count(/data/members), 1)",
    ]
    .iter()
    .map(|s| parse(s).expect("valid expression"))
    .collect();
    let mut group = c.benchmark_group("expr");
    group.throughput(Throughput::Elements(typical.len() as u64));
    group.bench_function("evaluate_typical_form_expressions", |b| {
        b.iter(|| {
            typical
                .iter()
                .filter(|e| evaluate(e, &ctx, &mut env).is_ok())
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
