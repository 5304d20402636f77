//! Runs the expression cases other projects wrote (Enketo's openrosa-xpath-evaluator
//! and JavaRosa) against the Voices evaluator. Every case whose scope is `pure`
//! or `instance` runs; `dom` cases need an XML document and are skipped.
//!
//! Prints one line per suite, `openrosa: N passed, N failed, N skipped`, and
//! fails if a pass count drops below the floor in `conformance-floor.txt`.
//! Known failures and their reasons: `conformance-failures.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use serde_json::Value as Json;
use voices_core::env::FixedEnvironment;
use voices_core::expr::{evaluate, parse, EvalContext, MapContext, Value};

fn conformance_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance");
    assert!(
        dir.is_dir(),
        "conformance material missing: expected {} (the `shared/conformance` directory next to the repository); \
         these tests never skip",
        dir.display()
    );
    dir
}

fn load(name: &str) -> Json {
    let path = conformance_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

#[derive(Debug, Default)]
struct Tally {
    passed: usize,
    failed: usize,
    skipped: usize,
    failures: Vec<String>,
}

/// The instant the openrosa suite was recorded, in the offset the case assumes.
fn environment(tags: &[Json], default_offset_secs: i32) -> FixedEnvironment {
    let mut offset_secs = default_offset_secs;
    for tag in tags.iter().filter_map(Json::as_str) {
        match tag {
            "timezone:America/Phoenix" => offset_secs = -7 * 3600,
            "timezone:GMT" => offset_secs = 0,
            _ => {}
        }
    }
    let offset = FixedOffset::east_opt(offset_secs).expect("valid offset");
    let utc = DateTime::parse_from_rfc3339("2026-11-26T02:32:40Z").expect("valid instant");
    FixedEnvironment::new(utc.with_timezone(&offset), 20_261_126)
}

fn context_for(instance: &Json) -> MapContext {
    let mut ctx = MapContext::new();
    if let Json::Object(map) = instance {
        for (path, value) in map {
            match value {
                Json::Null => {}
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
                other => {
                    ctx.push(path, &other.to_string());
                }
            }
        }
    }
    ctx
}

fn expected_number(v: &Json) -> f64 {
    match v {
        Json::String(s) if s == "NaN" => f64::NAN,
        Json::String(s) if s == "Infinity" => f64::INFINITY,
        Json::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        other => other.as_f64().unwrap_or(f64::NAN),
    }
}

fn numbers_match(actual: f64, expected: f64, tolerance: f64, decimals: Option<i32>) -> bool {
    if expected.is_nan() {
        return actual.is_nan();
    }
    if expected.is_infinite() {
        return actual == expected;
    }
    if let Some(d) = decimals {
        let f = 10f64.powi(d);
        return ((actual * f).round() - (expected * f).round()).abs() < 0.5;
    }
    (actual - expected).abs() <= tolerance.max(expected.abs() * 1e-15)
}

/// Check one case; `Err` says why it failed.
fn run_case(case: &Json, native: bool, default_offset: i32) -> Result<(), String> {
    let expr_src = case["expression"].as_str().unwrap_or_default();
    let expected = &case["expected"];
    let etype = expected["type"].as_str().unwrap_or_default();
    let tags = case["tags"].as_array().cloned().unwrap_or_default();
    let mut env = environment(&tags, default_offset);
    let ctx = context_for(&case["instance"]);
    let result = parse(expr_src).and_then(|e| evaluate(&e, &ctx, &mut env));
    let value = match (result, etype) {
        (Err(_), "error") => return Ok(()),
        (Ok(v), "error") => return Err(format!("expected an error, got {v:?}")),
        (Err(e), _) => return Err(format!("error: {e}")),
        (Ok(v), _) => v,
    };
    let result_type = case["result_type"].as_str().unwrap_or("any");
    let ctx: &dyn EvalContext = &ctx;
    let as_string = |v: &Value| v.to_string_value(ctx).into_owned();
    match etype {
        "boolean" => {
            let want = expected["value"].as_bool().unwrap_or_default();
            if native && !matches!(value, Value::Boolean(_)) {
                return Err(format!("expected boolean {want}, got {value:?}"));
            }
            let got = value.to_boolean();
            (got == want)
                .then_some(())
                .ok_or_else(|| format!("expected {want}, got {got} ({value:?})"))
        }
        "number" => {
            let want = expected_number(&expected["value"]);
            if native && !matches!(value, Value::Number(_)) {
                return Err(format!("expected number {want}, got {value:?}"));
            }
            let got = value.to_number(ctx);
            let tolerance = expected["tolerance"].as_f64().unwrap_or(0.0);
            let decimals = expected["round_to_decimals"].as_i64().map(|d| d as i32);
            numbers_match(got, want, tolerance, decimals)
                .then_some(())
                .ok_or_else(|| format!("expected {want}, got {got} ({value:?})"))
        }
        "string" => {
            let want = expected["value"].as_str().unwrap_or_default();
            if native && !matches!(value, Value::String(_)) {
                return Err(format!("expected string {want:?}, got {value:?}"));
            }
            let got = if result_type == "number" {
                voices_core::expr::format_number(value.to_number(ctx))
            } else {
                as_string(&value)
            };
            (got == want)
                .then_some(())
                .ok_or_else(|| format!("expected {want:?}, got {got:?}"))
        }
        "string_matches" => {
            let pattern = expected["pattern"].as_str().unwrap_or_default();
            let re = regex::Regex::new(pattern).map_err(|e| format!("bad test pattern: {e}"))?;
            let got = as_string(&value);
            re.is_match(&got)
                .then_some(())
                .ok_or_else(|| format!("{got:?} does not match /{pattern}/"))
        }
        "string_length" => {
            let want = expected["value"].as_u64().unwrap_or_default() as usize;
            let got = as_string(&value).chars().count();
            (got == want)
                .then_some(())
                .ok_or_else(|| format!("expected length {want}, got {got}"))
        }
        "date" => {
            let want = expected["value"].as_str().unwrap_or_default();
            match &value {
                Value::Date(d) if d.format("%Y-%m-%d").to_string() == want => Ok(()),
                other => Err(format!("expected date {want}, got {other:?}")),
            }
        }
        "datetime" => {
            let want = expected["value"].as_str().unwrap_or_default();
            let want = NaiveDateTime::parse_from_str(want, "%Y-%m-%dT%H:%M:%S%.3f")
                .map_err(|e| format!("bad expected date-time: {e}"))?;
            let offset = env_offset(&tags, default_offset);
            let want = offset
                .from_local_datetime(&want)
                .single()
                .ok_or("ambiguous expected date-time")?;
            match &value {
                Value::DateTime(dt) if *dt == want => Ok(()),
                other => Err(format!("expected date-time {want}, got {other:?}")),
            }
        }
        other => Err(format!("unknown expectation type {other}")),
    }
}

fn env_offset(tags: &[Json], default_offset: i32) -> FixedOffset {
    *environment(tags, default_offset).now.offset()
}

fn run_suite(file: &str, native: bool, default_offset: i32) -> Tally {
    let doc = load(file);
    let cases = doc["cases"]
        .as_array()
        .unwrap_or_else(|| panic!("{file} has no `cases` array"));
    let mut tally = Tally::default();
    for case in cases {
        let scope = case["scope"].as_str().unwrap_or_default();
        if scope != "pure" && scope != "instance" {
            tally.skipped += 1;
            continue;
        }
        match run_case(case, native, default_offset) {
            Ok(()) => tally.passed += 1,
            Err(why) => {
                tally.failed += 1;
                tally.failures.push(format!(
                    "{} `{}`: {why}",
                    case["id"].as_str().unwrap_or("?"),
                    case["expression"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    tally
}

fn floors() -> BTreeMap<String, usize> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance-floor.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once('=').expect("floor lines are `suite=count`");
            (
                k.trim().to_owned(),
                v.trim().parse().expect("floor is a number"),
            )
        })
        .collect()
}

#[test]
fn expression_conformance() {
    // Enketo's suite was written for America/Phoenix; JavaRosa's ran in GMT unless tagged.
    let openrosa = run_suite("xpath-cases.json", false, -7 * 3600);
    let javarosa = run_suite("xpath-cases-javarosa.json", true, 0);
    for (name, tally) in [("openrosa", &openrosa), ("javarosa", &javarosa)] {
        if std::env::var_os("VOICES_CONFORMANCE_VERBOSE").is_some() {
            for f in &tally.failures {
                println!("{name} FAIL {f}");
            }
        }
        println!(
            "{name}: {} passed, {} failed, {} skipped",
            tally.passed, tally.failed, tally.skipped
        );
    }
    let floors = floors();
    for (name, tally) in [("openrosa", &openrosa), ("javarosa", &javarosa)] {
        let floor = floors.get(name).copied().unwrap_or(usize::MAX);
        assert!(
            tally.passed >= floor,
            "{name}: {} passed, below the committed floor of {floor}; failures:\n{}",
            tally.passed,
            tally.failures.join("\n")
        );
    }
}

/// Every conformance expression printed back (`Display`) parses to a tree that
/// prints the same and evaluates to the same result.
#[test]
fn printed_expressions_mean_the_same() {
    let mut checked = 0;
    for (file, offset) in [
        ("xpath-cases.json", -7 * 3600),
        ("xpath-cases-javarosa.json", 0),
    ] {
        let doc = load(file);
        for case in doc["cases"].as_array().expect("cases") {
            let scope = case["scope"].as_str().unwrap_or_default();
            if scope != "pure" && scope != "instance" {
                continue;
            }
            let src = case["expression"].as_str().unwrap_or_default();
            let Ok(expr) = parse(src) else { continue };
            let printed = expr.to_string();
            let reparsed = parse(&printed)
                .unwrap_or_else(|e| panic!("`{src}` printed as `{printed}` does not parse: {e}"));
            assert_eq!(reparsed.to_string(), printed, "`{src}`");
            let tags = case["tags"].as_array().cloned().unwrap_or_default();
            let ctx = context_for(&case["instance"]);
            let a = evaluate(&expr, &ctx, &mut environment(&tags, offset));
            let b = evaluate(&reparsed, &ctx, &mut environment(&tags, offset));
            match (a, b) {
                (Ok(a), Ok(b)) => {
                    let same = a == b
                        || matches!((&a, &b), (Value::Number(x), Value::Number(y)) if x.is_nan() && y.is_nan());
                    assert!(same, "`{src}` → {a:?}, printed `{printed}` → {b:?}");
                }
                (Err(_), Err(_)) => {}
                (a, b) => panic!("`{src}` → {a:?}, printed `{printed}` → {b:?}"),
            }
            checked += 1;
        }
    }
    assert!(checked > 1500, "only {checked} expressions checked");
}
