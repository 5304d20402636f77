//! Import time and peak memory: the largest conformance workbook and a generated
//! 5,000-question workbook. Run with `cargo bench -p voices-xlsform --bench import`.
//!
//! Each case runs in a child process of its own so its peak resident memory (`VmHWM` in
//! `/proc/self/status`) is not mixed with the other case's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use voices_core::form::{
    Choice, Condition, Direction, Field, FieldType, Form, Group, Item, Language, Text,
};
use voices_xlsform::{export_xlsx, import_spreadsheet_bytes, ImportOptions, Workbook};

const RUNS: usize = 5;
const GENERATED_QUESTIONS: usize = 5_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--case") {
        let label = args.get(i + 1).expect("--case LABEL PATH");
        let path = args.get(i + 2).expect("--case LABEL PATH");
        run_case(label, Path::new(path));
        return;
    }
    println!("XLSForm import ({RUNS} runs each, release build)");
    let largest = largest_workbook();
    let generated = std::env::temp_dir().join(format!(
        "voices-xlsform-bench-{}-{GENERATED_QUESTIONS}.xlsx",
        std::process::id()
    ));
    let bytes = export_xlsx(&generated_form(GENERATED_QUESTIONS)).expect("export");
    std::fs::write(&generated, bytes).expect("temporary workbook written");
    let cases = [
        (
            largest.file_name().unwrap().to_string_lossy().into_owned(),
            largest.clone(),
        ),
        (
            format!("generated {GENERATED_QUESTIONS}-question workbook"),
            generated.clone(),
        ),
    ];
    let mut failed = false;
    for (label, path) in &cases {
        let output = Command::new(std::env::current_exe().expect("own path"))
            .arg("--case")
            .arg(label)
            .arg(path)
            .output()
            .expect("the bench binary runs itself");
        print!("{}", String::from_utf8_lossy(&output.stdout));
        if !output.status.success() {
            eprint!("{}", String::from_utf8_lossy(&output.stderr));
            failed = true;
        }
    }
    let _ = std::fs::remove_file(&generated);
    if failed {
        std::process::exit(1);
    }
}

fn run_case(label: &str, path: &Path) {
    let bytes = std::fs::read(path).expect("workbook readable");
    let before = vm_hwm_kib();
    let options = ImportOptions {
        source_name: "bench".into(),
        lenient: true,
    };
    let mut times: Vec<Duration> = Vec::new();
    let mut reads: Vec<Duration> = Vec::new();
    let mut fields = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let report = import_spreadsheet_bytes(&bytes, &options).expect("imports");
        times.push(start.elapsed());
        // The spreadsheet reading alone (calamine), to tell it from the import proper.
        let start = Instant::now();
        std::hint::black_box(Workbook::from_spreadsheet_bytes(&bytes).expect("reads"));
        reads.push(start.elapsed());
        let form = report.form.expect("no errors");
        fields = count_items(&form.body);
        std::hint::black_box(form);
    }
    times.sort();
    reads.sort();
    let peak = vm_hwm_kib();
    println!(
        "{label}: {:.1} KiB, {fields} items; import median {:.1} ms (min {:.1}, max {:.1}; \
         reading the cells alone {:.1} ms); peak RSS {:.1} MiB (process before import {:.1} MiB)",
        bytes.len() as f64 / 1024.0,
        ms(times[RUNS / 2]),
        ms(times[0]),
        ms(times[RUNS - 1]),
        ms(reads[RUNS / 2]),
        peak as f64 / 1024.0,
        before as f64 / 1024.0,
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn largest_workbook() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/xlsform");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "conformance workbooks missing: {} ({e}); the repository must sit next to shared/",
            dir.display()
        )
    });
    entries
        .map(|e| e.expect("readable directory").path())
        .filter(|p| p.extension().is_some_and(|e| e == "xlsx"))
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .expect("at least one workbook")
}

fn count_items(items: &[Item]) -> usize {
    items
        .iter()
        .map(|i| match i {
            Item::Group(g) => 1 + count_items(&g.body),
            Item::Repeat(r) => 1 + count_items(&r.body),
            _ => 1,
        })
        .sum()
}

fn text(en: String, fr: String) -> Text {
    Text::Translated(BTreeMap::from([
        ("en".to_owned(), en),
        ("fr".to_owned(), fr),
    ]))
}

/// A bilingual form with `questions` fields in groups of 50: selects, numbers with
/// constraints, texts with relevance on earlier answers, and calculations.
fn generated_form(questions: usize) -> Form {
    let mut choices = BTreeMap::new();
    for list in 0..20 {
        choices.insert(
            format!("list{list}"),
            (0..8)
                .map(|c| Choice {
                    name: format!("c{c}"),
                    label: text(format!("Option {c}"), format!("Option {c} (fr)")),
                    media: None,
                    properties: BTreeMap::new(),
                })
                .collect(),
        );
    }
    let mut body = Vec::new();
    let mut group_items = Vec::new();
    for q in 0..questions {
        let (kind, list, constraint, calculation) = match q % 5 {
            0 => (
                FieldType::SelectOne,
                Some(format!("list{}", q % 20)),
                None,
                None,
            ),
            1 => (
                FieldType::Integer,
                None,
                Some(". >= 0 and . <= 120".to_owned()),
                None,
            ),
            2 => (FieldType::Text, None, None, None),
            3 => (
                FieldType::SelectMultiple,
                Some(format!("list{}", q % 20)),
                None,
                None,
            ),
            _ => (
                FieldType::Calculate,
                None,
                None,
                Some(format!("${{q{}}} * 2", q - 3)),
            ),
        };
        let relevant = (q % 5 == 2).then(|| format!("selected(${{q{}}}, 'c1')", q - 2));
        group_items.push(Item::Field(Field {
            kind,
            name: format!("q{q}"),
            label: (kind != FieldType::Calculate)
                .then(|| text(format!("Question {q}"), format!("Question {q} (fr)"))),
            hint: None,
            guidance: None,
            required: (q % 7 == 0).then_some(Condition::Always(true)),
            required_message: None,
            relevant,
            constraint,
            constraint_message: None,
            calculation,
            default: None,
            read_only: None,
            appearance: None,
            choices: list,
            choices_file: None,
            choices_from: None,
            choice_filter: None,
            range: None,
            selection: None,
            referral: None,
            parameters: BTreeMap::new(),
            media: None,
            pii: false,
            sensitive: false,
            disaggregation: None,
            save_to: None,
        }));
        if group_items.len() == 50 {
            body.push(Item::Group(Group {
                name: format!("g{}", q / 50),
                label: Some(text(
                    format!("Section {}", q / 50),
                    format!("Section {} (fr)", q / 50),
                )),
                hint: None,
                relevant: None,
                appearance: None,
                page: true,
                privacy: None,
                privacy_prompt: None,
                sensitive: false,
                body: std::mem::take(&mut group_items),
            }));
        }
    }
    body.extend(group_items);
    Form {
        schema: None,
        id: "generated".into(),
        version: "1".into(),
        title: text("Generated".into(), "Généré".into()),
        description: None,
        languages: vec![
            Language {
                code: "en".into(),
                name: "English".into(),
                direction: Direction::Ltr,
            },
            Language {
                code: "fr".into(),
                name: "French".into(),
                direction: Direction::Ltr,
            },
        ],
        default_language: "en".into(),
        instance_name: None,
        safe_exit: None,
        body,
        choices,
        entities: Vec::new(),
    }
}
