//! The workbench's figures on the generated 2,000-field stress form: checking it, starting
//! a test response (compile and session) and one answer's recompute and page, through the
//! module's exports natively and as WebAssembly in Node (V8, the engine of Chromium), with
//! the module's size. Needs `wasm/pkg` (scripts/build-wasm.sh) and Node.
//!
//! `cargo bench -p voices-wasm --bench in_webassembly`

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde_json::Value as Json;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn percentile(mut xs: Vec<f64>, p: f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[((xs.len() as f64 * p) as usize).min(xs.len() - 1)]
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs it briefly.
    let full = std::env::args().any(|a| a == "--bench");
    let (rounds, changes) = if full { (7, 2_000) } else { (1, 50) };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let form = voices_core::stress::generate(2_000, 1);
    let source = serde_json::to_string_pretty(&form).expect("the form serializes");
    let now = "2025-06-01T08:00:00+02:00";

    // Natively, through the same exports.
    let mut checks = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let report: Json = serde_json::from_str(&voices_wasm::check(&source)).unwrap();
        checks.push(ms(t));
        assert_eq!(report["ok"]["errors"], 0, "the stress form checks");
    }
    let mut starts = Vec::new();
    let mut preview = None;
    for _ in 0..rounds {
        let t = Instant::now();
        let p = voices_wasm::Preview::new(&source, "bench", None, now, 5);
        assert!(p.started().contains("\"ok\""));
        starts.push(ms(t));
        preview = Some(p);
    }
    let mut preview = preview.expect("rounds > 0");
    preview.screen_record_consent(true, now);

    // The answers: random questions of the form's pages, each with its page.
    let view: Json = serde_json::from_str(&preview.view("en")).unwrap();
    let mut fields = Vec::new();
    for (index, page) in view["ok"]["pages"].as_array().unwrap().iter().enumerate() {
        for item in page["items"].as_array().unwrap() {
            let kind = item["kind"].as_str().unwrap_or_default();
            if item["item"] == "field" && item["read_only"] == false && kind != "note" {
                fields.push((item.clone(), index));
            }
        }
    }
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut answers = Vec::new();
    for i in 0..changes {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let (f, page) = &fields[(state as usize) % fields.len()];
        let value = match f["kind"].as_str().unwrap_or_default() {
            "integer" | "decimal" => ["1", "2", "3", "4"][i % 4].to_owned(),
            "select_one" | "select_multiple" => f["choices"]
                .as_array()
                .and_then(|c| c.get(i % c.len().max(1)))
                .and_then(|c| c["name"].as_str())
                .unwrap_or("x")
                .to_owned(),
            "date" => "2024-05-01".to_owned(),
            _ => format!("text {i}"),
        };
        answers.push((f["path"].as_str().unwrap().to_owned(), value, *page));
    }
    let (mut recompute, mut with_page) = (Vec::new(), Vec::new());
    for (path, value, page) in &answers {
        let t = Instant::now();
        preview.set_answer(path, Some(value.clone()));
        recompute.push(ms(t));
        let t = Instant::now();
        preview.screen_page(*page as u32);
        with_page.push(ms(t));
    }

    // As WebAssembly, in Node.
    let dir = std::env::temp_dir().join(format!("voices-wasm-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let form_file = dir.join("stress.json");
    let answers_file = dir.join("answers.json");
    std::fs::write(&form_file, &source).unwrap();
    std::fs::write(&answers_file, serde_json::to_string(&answers).unwrap()).unwrap();
    let out = Command::new("node")
        .arg(root.join("benches/workbench.mjs"))
        .arg(&form_file)
        .arg(rounds.to_string())
        .arg(&answers_file)
        .output()
        .expect("node runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "node: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wasm: Json = serde_json::from_slice(&out.stdout).expect("node prints JSON");
    let module = root.join("pkg/voices_core_bg.wasm");
    let bytes = std::fs::read(&module).expect("wasm/pkg is built (scripts/build-wasm.sh)");

    println!(
        "stress form ({} bytes of JSON, {} questions answered once each of {changes} times)",
        source.len(),
        fields.len()
    );
    println!(
        "check:             native {:8.2} ms   WebAssembly {:8.2} ms",
        median(checks),
        wasm["check"].as_f64().unwrap()
    );
    println!(
        "start a response:  native {:8.2} ms   WebAssembly {:8.2} ms",
        median(starts),
        wasm["start"].as_f64().unwrap()
    );
    println!(
        "answer recompute:  native p50 {:.3} p99 {:.3} ms   WebAssembly p50 {:.3} p99 {:.3} ms",
        percentile(recompute.clone(), 0.5),
        percentile(recompute, 0.99),
        wasm["recompute_p50"].as_f64().unwrap(),
        wasm["recompute_p99"].as_f64().unwrap()
    );
    println!(
        "its page (screen): native p50 {:.3} p99 {:.3} ms   WebAssembly p50 {:.3} p99 {:.3} ms",
        percentile(with_page.clone(), 0.5),
        percentile(with_page, 0.99),
        wasm["page_p50"].as_f64().unwrap(),
        wasm["page_p99"].as_f64().unwrap()
    );
    println!(
        "module: {} KiB, instantiated in {:.1} ms",
        bytes.len() / 1024,
        wasm["instantiate"].as_f64().unwrap()
    );
}
