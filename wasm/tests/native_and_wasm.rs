//! The core gives the same answers in WebAssembly as natively: every expression case of
//! the conformance suites and a full interview of every example form (consent, privacy
//! checks, repeats, every question, every language, validation, the export layout, the
//! app's screens the preview draws with their quick-hide screen, and the publish summary
//! of a changed form) go through the module's exports twice, natively and in Node, and
//! every answer must be the same text.
//!
//! Needs `wasm/pkg/` from `scripts/build-wasm.sh` (the test fails, saying so, when it is
//! missing or older than the sources) and Node.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::SystemTime;

use base64::Engine;
use serde_json::{json, Value as Json};

const RESPONSE_ID: &str = "0192f0c4-0000-7000-8000-000000000001";
const NOW: &str = "2025-03-04T10:20:30+03:00";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One call of the module's exports, as the page would make it.
#[derive(Debug, Clone)]
enum Call {
    Check(String),
    Evaluate(String, String, String, u32),
    Start(String, String, String, u32),
    View(String),
    SetAnswer(String, Option<String>),
    AddInstance(String),
    RemoveInstance(String),
    RecordConsent(bool),
    /// A minor's assent (the form's `minor` holds: the interview gives ages of 3).
    RecordAssent(bool),
    RecordPrivacy(String, String),
    /// A section offered to a colleague: the path, name, sex, languages (space-separated)
    /// and area.
    HandOver(String, String, String, String, Option<String>),
    /// A section's `match` rule checked with the profile previewed as.
    CheckMatching(String),
    /// The enumerator previewed as (a profile's JSON).
    SetEnumerator(Option<String>),
    /// The project's referral directory (its JSON).
    SetDirectory(Option<String>),
    Validate(String),
    Finalize,
    Response,
    ExportLayout(bool, bool),
    Changes(String, String),
    ScreenState(u32, String),
    ScreenPage(u32),
    ScreenReview,
    ScreenSafeExit(String),
    /// An identity file's bytes (base64 on the line) and its passphrase.
    KeyringNew(Vec<u8>, String),
    KeyringOpen(String),
    KeyringOpenEach(String),
}

impl Call {
    fn request(&self) -> Json {
        let (op, args) = match self {
            Call::Check(s) => ("check", json!([s])),
            Call::Evaluate(e, i, n, s) => ("evaluate", json!([e, i, n, s])),
            Call::Start(f, r, n, s) => ("start", json!([f, r, null, n, s])),
            Call::View(l) => ("view", json!([l])),
            Call::SetAnswer(p, v) => ("set_answer", json!([p, v])),
            Call::AddInstance(p) => ("add_instance", json!([p])),
            Call::RemoveInstance(p) => ("remove_instance", json!([p])),
            Call::RecordConsent(g) => ("record_consent", json!([g])),
            Call::RecordAssent(g) => ("record_assent", json!([g])),
            Call::RecordPrivacy(p, o) => ("record_privacy", json!([p, o])),
            Call::HandOver(p, by, sex, languages, area) => {
                ("hand_over", json!([p, by, sex, languages, area]))
            }
            Call::CheckMatching(p) => ("check_matching", json!([p])),
            Call::SetEnumerator(profile) => ("set_enumerator", json!([profile])),
            Call::SetDirectory(directory) => ("set_directory", json!([directory])),
            Call::Validate(l) => ("validate", json!([l])),
            Call::Finalize => ("finalize", json!([])),
            Call::Response => ("response", json!([])),
            Call::ExportLayout(p, l) => ("export_layout", json!([p, l])),
            Call::Changes(a, b) => ("changes", json!([a, b])),
            Call::ScreenState(i, l) => ("screen_state", json!([i, l])),
            Call::ScreenPage(i) => ("screen_page", json!([i])),
            Call::ScreenReview => ("screen_review", json!([])),
            Call::ScreenSafeExit(n) => ("screen_safe_exit", json!([n])),
            Call::KeyringNew(file, pass) => {
                let file = base64::engine::general_purpose::STANDARD.encode(file);
                ("keyring_new", json!([file, pass]))
            }
            Call::KeyringOpen(sealed) => ("keyring_open", json!([sealed])),
            Call::KeyringOpenEach(sealed) => ("keyring_open_each", json!([sealed])),
        };
        json!({ "op": op, "args": args })
    }

    fn native(
        &self,
        preview: &mut Option<voices_wasm::Preview>,
        keyring: &mut Option<voices_wasm::Keyring>,
    ) -> String {
        match self {
            Call::KeyringNew(file, pass) => {
                let k = voices_wasm::Keyring::new(file, pass);
                let opened = k.opened();
                *keyring = Some(k);
                return opened;
            }
            Call::KeyringOpen(sealed) => {
                return keyring.as_ref().expect("a keyring first").open(sealed)
            }
            Call::KeyringOpenEach(sealed) => {
                return keyring.as_ref().expect("a keyring first").open_each(sealed)
            }
            _ => {}
        }
        if let Call::Check(s) = self {
            return voices_wasm::check(s);
        }
        if let Call::Evaluate(e, i, n, s) = self {
            return voices_wasm::evaluate(e, i, n, *s);
        }
        if let Call::Changes(a, b) = self {
            return voices_wasm::changes(a, b);
        }
        if let Call::Start(f, r, n, s) = self {
            let p = voices_wasm::Preview::new(f, r, None, n, *s);
            let started = p.started();
            *preview = Some(p);
            return started;
        }
        let p = preview.as_mut().expect("a preview is started first");
        match self {
            Call::View(l) => p.view(l),
            Call::SetAnswer(path, v) => p.set_answer(path, v.clone()),
            Call::AddInstance(path) => p.add_instance(path),
            Call::RemoveInstance(path) => p.remove_instance(path),
            Call::RecordConsent(g) => p.record_consent(*g),
            Call::RecordAssent(g) => p.record_assent(*g),
            Call::RecordPrivacy(path, o) => p.record_privacy(path, o),
            Call::HandOver(path, by, sex, languages, area) => {
                p.hand_over(path, by, Some(sex.clone()), languages, area.clone())
            }
            Call::CheckMatching(path) => p.check_matching(path),
            Call::SetEnumerator(profile) => p.set_enumerator(profile.clone()),
            Call::SetDirectory(directory) => p.set_directory(directory.clone()),
            Call::Validate(l) => p.validate(l),
            Call::Finalize => p.finalize(),
            Call::Response => p.response(),
            Call::ExportLayout(pii, labels) => p.export_layout(*pii, *labels),
            Call::ScreenState(i, l) => p.screen_state(*i, Some(l.clone())),
            Call::ScreenPage(i) => p.screen_page(*i),
            Call::ScreenReview => p.screen_review(),
            Call::ScreenSafeExit(n) => p.screen_safe_exit(n),
            Call::Check(_)
            | Call::Evaluate(..)
            | Call::Start(..)
            | Call::Changes(..)
            | Call::KeyringNew(..)
            | Call::KeyringOpen(_)
            | Call::KeyringOpenEach(_) => unreachable!(),
        }
    }
}

/// The two builds side by side; every call goes to both and the answers are compared.
struct Both {
    native: Option<voices_wasm::Preview>,
    keyring: Option<voices_wasm::Keyring>,
    node: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    calls: usize,
    ok: usize,
    differences: Vec<String>,
}

impl Both {
    fn start() -> Both {
        let pkg = root().join("wasm/pkg");
        let module = pkg.join("voices_core_bg.wasm");
        let built = std::fs::metadata(&module)
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| {
                panic!(
                    "{} is missing ({e}): build the WebAssembly module with scripts/build-wasm.sh",
                    module.display()
                )
            });
        for dir in ["core/src", "wasm/src"] {
            let newest = newest_file(&root().join(dir));
            assert!(
                newest <= built,
                "{} is older than the sources in {dir}: rebuild it with scripts/build-wasm.sh",
                module.display()
            );
        }
        let mut node = Command::new("node")
            .arg(root().join("wasm/tests/rpc.mjs"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs (install Node.js: scripts/install-deps.sh console)");
        let stdin = node.stdin.take().unwrap();
        let stdout = BufReader::new(node.stdout.take().unwrap());
        Both {
            native: None,
            keyring: None,
            node,
            stdin,
            stdout,
            calls: 0,
            ok: 0,
            differences: Vec::new(),
        }
    }

    /// The answer of both builds (the native one when they differ, which is recorded).
    fn call(&mut self, call: Call) -> Json {
        let native = call.native(&mut self.native, &mut self.keyring);
        writeln!(self.stdin, "{}", call.request()).unwrap();
        let mut wasm = String::new();
        self.stdout.read_line(&mut wasm).unwrap();
        let wasm = wasm.trim_end_matches('\n');
        self.calls += 1;
        if native != wasm {
            let mut what = format!("{call:?}");
            what.truncate(300);
            self.differences.push(format!(
                "{what}\n  native: {}\n  wasm:   {}",
                clip(&native),
                clip(wasm)
            ));
        }
        let answer: Json = serde_json::from_str(&native).expect("answers are JSON");
        if answer.get("ok").is_some() {
            self.ok += 1;
        }
        answer
    }
}

impl Drop for Both {
    fn drop(&mut self) {
        let _ = self.node.kill();
        let _ = self.node.wait();
    }
}

fn clip(text: &str) -> String {
    let mut out: String = text.chars().take(600).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

fn newest_file(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let time = if path.is_dir() {
            newest_file(&path)
        } else {
            std::fs::metadata(&path).unwrap().modified().unwrap()
        };
        newest = newest.max(time);
    }
    newest
}

fn conformance_cases(file: &str, default_offset_hours: i32) -> Vec<Call> {
    let path = root().join("../shared/conformance").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "conformance material missing at {} ({e}); these tests never skip",
            path.display()
        )
    });
    let doc: Json = serde_json::from_str(&text).unwrap();
    let mut calls = Vec::new();
    for case in doc["cases"].as_array().expect("cases") {
        let scope = case["scope"].as_str().unwrap_or_default();
        if scope != "pure" && scope != "instance" {
            continue;
        }
        let mut offset = default_offset_hours;
        for tag in case["tags"].as_array().into_iter().flatten() {
            match tag.as_str() {
                Some("timezone:America/Phoenix") => offset = -7,
                Some("timezone:GMT") => offset = 0,
                _ => {}
            }
        }
        // The instant the suites were recorded, in the offset the case assumes.
        let utc = chrono::DateTime::parse_from_rfc3339("2026-11-26T02:32:40Z").unwrap();
        let now = utc
            .with_timezone(&chrono::FixedOffset::east_opt(offset * 3600).unwrap())
            .to_rfc3339();
        calls.push(Call::Evaluate(
            case["expression"].as_str().unwrap_or_default().to_owned(),
            case["instance"].to_string(),
            now,
            20_261_126,
        ));
    }
    calls
}

/// A value of the field's kind, as an enumerator would give one.
fn value_for(field: &Json) -> Option<String> {
    let choices: Vec<&str> = field["choices"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    Some(match field["kind"].as_str()? {
        "note" => return None,
        "integer" => "3".to_owned(),
        "decimal" => "2.5".to_owned(),
        "range" => field["range"]["start"].as_f64().unwrap_or(1.0).to_string(),
        "date" => "2024-05-01".to_owned(),
        "time" => "10:20:00.000+03:00".to_owned(),
        "datetime" => "2024-05-01T10:20:00.000+03:00".to_owned(),
        "geopoint" => "-1.2921 36.8219 1700 5".to_owned(),
        "geotrace" => "-1.29 36.82 0 0;-1.30 36.83 0 0".to_owned(),
        "geoshape" => "-1.29 36.82 0 0;-1.30 36.83 0 0;-1.31 36.82 0 0;-1.29 36.82 0 0".to_owned(),
        "select_one" => choices.first()?.to_string(),
        "select_multiple" | "rank" => {
            let mut picked = vec![*choices.first()?];
            if let Some(last) = choices.last().filter(|l| **l != picked[0]) {
                picked.push(last);
            }
            picked.join(" ")
        }
        "acknowledge" => "OK".to_owned(),
        // The preview has no directory: nothing can be offered.
        "referral" => "no_service".to_owned(),
        _ => "text".to_owned(),
    })
}

/// Fill the form as an enumerator would, page by page, until nothing is left to do;
/// then read it in every language and lay out its response.
fn interview(both: &mut Both, source: &str, languages: &[String]) {
    let start = both.call(Call::Start(
        source.to_owned(),
        RESPONSE_ID.to_owned(),
        NOW.to_owned(),
        42,
    ));
    assert!(start.get("ok").is_some(), "{start}");
    // Previewed as a male enumerator, with the project's referral directory: matching
    // rules refuse him and a male colleague, and take a female one; referral steps list
    // the directory's services.
    both.call(Call::SetEnumerator(Some(
        json!({"sex": "male", "languages": ["en", "ar"], "area": "north"}).to_string(),
    )));
    let directory =
        std::fs::read_to_string(root().join("schemas/referrals/human-security-perceptions.json"))
            .expect("the example referral directory");
    let set = both.call(Call::SetDirectory(Some(directory)));
    assert!(set.get("ok").is_some(), "{set}");
    let lang = languages[0].clone();
    let mut tried = std::collections::BTreeSet::new();
    let mut broken_once = false;
    for _ in 0..2_000 {
        let view = both.call(Call::View(lang.clone()));
        let mut next = None;
        'pages: for page in view["ok"]["pages"].as_array().into_iter().flatten() {
            let key = |what: &str, path: &Json| format!("{what} {path}");
            match page["kind"].as_str() {
                Some("consent") if page["consent"]["value"].is_null() => {
                    next = Some(if page["consent"]["assent"] == true {
                        Call::RecordAssent(true)
                    } else {
                        Call::RecordConsent(true)
                    });
                    break;
                }
                Some("match_check")
                    if page["matching_outcome"].is_null()
                        && tried.insert(key("matching", &page["path"])) =>
                {
                    let path = page["path"].as_str().unwrap_or_default().to_owned();
                    next = Some(Call::HandOver(
                        path,
                        "Karim".to_owned(),
                        "male".to_owned(),
                        "ar".to_owned(),
                        None,
                    ));
                    break;
                }
                Some("match_check")
                    if page["matching_outcome"] == "hand_over_refused"
                        && tried.insert(key("matching again", &page["path"])) =>
                {
                    let path = page["path"].as_str().unwrap_or_default().to_owned();
                    next = Some(Call::HandOver(
                        path,
                        "Amal".to_owned(),
                        "female".to_owned(),
                        "ar en".to_owned(),
                        Some("north".to_owned()),
                    ));
                    break;
                }
                Some("privacy_check")
                    if page["privacy_outcome"].is_null()
                        && tried.insert(key("privacy", &page["path"])) =>
                {
                    let path = page["path"].as_str().unwrap_or_default().to_owned();
                    next = Some(Call::RecordPrivacy(path, "private".to_owned()));
                    break;
                }
                Some("repeat_controls")
                    if page["repeat"]["can_add"] == true
                        && page["repeat"]["count"].as_u64().unwrap_or_default() < 2
                        && tried.insert(key(
                            "add",
                            &json!([page["repeat"]["path"], page["repeat"]["count"]]),
                        )) =>
                {
                    let path = page["repeat"]["path"].as_str().unwrap_or_default();
                    next = Some(Call::AddInstance(path.to_owned()));
                    break;
                }
                _ => {}
            }
            for item in page["items"].as_array().into_iter().flatten() {
                if item["item"] != "field" || item["read_only"] == true || !item["value"].is_null()
                {
                    continue;
                }
                let path = item["path"].as_str().unwrap_or_default().to_owned();
                if !tried.insert(key("answer", &json!(path))) {
                    continue;
                }
                if let Some(value) = value_for(item) {
                    // One answer of the wrong type first, so violations are compared too.
                    if !broken_once && item["kind"] == "integer" {
                        broken_once = true;
                        both.call(Call::SetAnswer(path.clone(), Some("many".to_owned())));
                        both.call(Call::Validate(lang.clone()));
                    }
                    next = Some(Call::SetAnswer(path, Some(value)));
                    break 'pages;
                }
            }
        }
        match next {
            Some(call) => {
                both.call(call);
            }
            None => break,
        }
    }
    // A repeat instance removed and one answer cleared: the engine's other paths.
    let response = both.call(Call::Response);
    if let Some((name, _)) = response["ok"]["answers"].as_object().and_then(|a| {
        a.iter()
            .find(|(_, v)| v.as_array().is_some_and(|l| l.len() > 1))
    }) {
        both.call(Call::RemoveInstance(format!("/{name}[2]")));
    }
    for lang in languages {
        let view = both.call(Call::View(lang.clone()));
        both.call(Call::Validate(lang.clone()));
        // The app's screens as the preview draws them, and its quick-hide screen.
        both.call(Call::ScreenState(0, lang.clone()));
        let pages = view["ok"]["pages"].as_array().map_or(0, Vec::len);
        for index in 0..pages {
            both.call(Call::ScreenPage(index as u32));
        }
        both.call(Call::ScreenReview);
        both.call(Call::ScreenSafeExit(NOW.to_owned()));
    }
    both.call(Call::ExportLayout(true, false));
    both.call(Call::ExportLayout(false, true));
    both.call(Call::Finalize);
    both.call(Call::Response);
}

/// A section whose rule reads the enumerator's sex, languages and area, previewed as a
/// male enumerator: blocked; offered to a colleague who does not meet it (refused), then
/// to one who does (handed over); and a referral step listing the example directory's
/// services for the respondent's district and need.
fn matching_and_referrals(both: &mut Both) {
    let form = json!({
        "id": "match_ref", "version": "1", "title": "Matching",
        "languages": [{"code": "en", "name": "English"}], "default_language": "en",
        "body": [
            {"type": "select_one", "name": "district", "label": "District", "choices": "districts"},
            {"type": "group", "name": "violence", "label": "Experiences",
             "match": "enumerator('sex') = 'female' and selected(enumerator('languages'), 'ar') and enumerator('area') = ${district}",
             "body": [{"type": "text", "name": "hurt", "label": "What happened?"}]},
            {"type": "select_multiple", "name": "needs", "label": "Needs", "choices": "kinds"},
            {"type": "referral", "name": "services", "label": "Services",
             "referral": {"area": "${district}", "needs": "${needs}"}}
        ],
        "choices": {
            "districts": [{"name": "pse_hebron", "label": "Hebron"}, {"name": "afg_kabul_city", "label": "Kabul"}],
            "kinds": [{"name": "health", "label": "Health"}, {"name": "psychosocial", "label": "Someone to talk to"}]
        }
    })
    .to_string();
    let start = both.call(Call::Start(form, RESPONSE_ID.to_owned(), NOW.to_owned(), 7));
    assert!(start.get("ok").is_some(), "{start}");
    both.call(Call::SetEnumerator(Some(
        json!({"sex": "male", "languages": ["ar"], "area": "pse_hebron"}).to_string(),
    )));
    let directory =
        std::fs::read_to_string(root().join("schemas/referrals/human-security-perceptions.json"))
            .expect("the example referral directory");
    both.call(Call::SetDirectory(Some(directory)));
    both.call(Call::SetAnswer(
        "/district".into(),
        Some("pse_hebron".into()),
    ));
    let checked = both.call(Call::CheckMatching("/violence".into()));
    assert_eq!(checked["ok"]["matched"], false, "{checked}");
    let hand = |by: &str, sex: &str, languages: &str, area: Option<&str>| {
        Call::HandOver(
            "/violence".into(),
            by.into(),
            sex.into(),
            languages.into(),
            area.map(Into::into),
        )
    };
    let refused = both.call(hand("Huda", "female", "ar", None));
    assert_eq!(
        refused["ok"]["accepted"], false,
        "no area stated: {refused}"
    );
    let refused = both.call(hand("Noor", "female", "en", Some("pse_hebron")));
    assert_eq!(refused["ok"]["accepted"], false, "no Arabic: {refused}");
    let accepted = both.call(hand("Amal", "female", "ar en", Some("pse_hebron")));
    assert_eq!(accepted["ok"]["accepted"], true, "{accepted}");
    both.call(Call::SetAnswer("/hurt".into(), Some("nothing".into())));
    both.call(Call::SetAnswer(
        "/needs".into(),
        Some("health psychosocial".into()),
    ));
    let response = both.call(Call::Response);
    let record = &response["ok"]["matching"]["/violence"];
    assert_eq!(record["outcome"], "handed_over", "{record}");
    assert_eq!(
        record["refused"].as_array().map(Vec::len),
        Some(2),
        "{record}"
    );
    // The referral step's page lists the directory's services for Hebron and the needs.
    let view = both.call(Call::View("en".into()));
    let pages = view["ok"]["pages"].as_array().map_or(0, Vec::len);
    let mut listed = Vec::new();
    for index in 0..pages {
        let page = both.call(Call::ScreenPage(index as u32));
        for field in page["ok"]["fields"].as_array().into_iter().flatten() {
            for service in field["referral"]["services"]
                .as_array()
                .into_iter()
                .flatten()
            {
                listed.push(service["id"].as_str().unwrap_or_default().to_owned());
            }
        }
    }
    assert_eq!(listed, ["ps_hebron_health", "ps_counselling"]);
    both.call(Call::ExportLayout(true, false));
}

#[test]
fn native_and_webassembly_give_the_same_answers() {
    let mut both = Both::start();

    let mut expressions = conformance_cases("xpath-cases.json", -7);
    expressions.extend(conformance_cases("xpath-cases-javarosa.json", 0));
    let expression_count = expressions.len();
    assert!(
        expression_count > 1_500,
        "{expression_count} expression cases"
    );
    for call in expressions {
        both.call(call);
    }
    let after_expressions = both.calls;

    let dir = root().join("schemas/forms");
    let mut forms = 0;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for path in &paths {
        let source = std::fs::read_to_string(path).unwrap();
        let report = both.call(Call::Check(source.clone()));
        assert_eq!(report["ok"]["errors"], 0, "{}", path.display());
        // The checker on broken text: a bad expression and a cut-off document.
        both.call(Call::Check(source.replacen("${", "${no_such_", 1)));
        both.call(Call::Check(source[..source.len() / 2].to_owned()));
        let languages: Vec<String> = report["ok"]["form"]["languages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["code"].as_str().unwrap().to_owned())
            .collect();
        interview(&mut both, &source, &languages);
        // The publish summary of a changed version: a question and a choice taken away.
        let mut changed: Json = serde_json::from_str(&source).unwrap();
        changed["version"] = json!(format!("{}-next", changed["version"].as_str().unwrap()));
        if let Some(body) = changed["body"].as_array_mut() {
            body.pop();
        }
        if let Some(list) = changed
            .get_mut("choices")
            .and_then(Json::as_object_mut)
            .and_then(|lists| lists.values_mut().next())
            .and_then(Json::as_array_mut)
        {
            list.pop();
        }
        both.call(Call::Changes(source.clone(), changed.to_string()));
        forms += 1;
    }
    assert!(forms >= 3, "the example forms in {}", dir.display());
    matching_and_referrals(&mut both);
    let interview_calls = both.calls - after_expressions;
    println!(
        "native-wasm: {} calls, {} answered ok ({expression_count} expression cases; \
         {interview_calls} calls checking and filling {forms} example forms), {} different",
        both.calls,
        both.ok,
        both.differences.len()
    );
    assert!(
        interview_calls > 100,
        "the interviews made only {interview_calls} calls"
    );
    assert!(
        both.differences.is_empty(),
        "{} of {} answers differ between native and WebAssembly; the first:\n{}",
        both.differences.len(),
        both.calls,
        both.differences[..both.differences.len().min(10)].join("\n")
    );
}

/// A coordinator's identity as `voices keygen` writes it (passphrase-protected), and
/// answers sealed to it as the app seals them (`src-tauri/src/sync/seal.rs`: one age file
/// to every recipient, base64), open the same in the page as natively: the clear texts,
/// a wrong passphrase, an answer sealed to another key only, text that is not sealed.
#[test]
fn sealed_answers_open_the_same_natively_and_in_webassembly() {
    const PASSPHRASE: &str = "the coordinator's long passphrase";
    let dir = tempfile::tempdir().unwrap();
    let identity_path = dir.path().join("coordinator.age");
    // `voices keygen` reads the passphrase from the environment when a script runs it.
    std::env::set_var(voices_cli::identity::PASSPHRASE_VAR, PASSPHRASE);
    let code = voices_cli::run_args([
        std::ffi::OsStr::new("voices"),
        "keygen".as_ref(),
        "--output".as_ref(),
        identity_path.as_os_str(),
    ]);
    assert_eq!(code, std::process::ExitCode::SUCCESS, "voices keygen");
    let file = std::fs::read(&identity_path).unwrap();
    let mine = voices_cli::identity::read(&identity_path).unwrap()[0].to_public();
    let other = age::x25519::Identity::generate().to_public();

    let seal = |recipients: &[&age::x25519::Recipient], clear: &str| -> String {
        let encryptor =
            age::Encryptor::with_recipients(recipients.iter().map(|r| *r as &dyn age::Recipient))
                .unwrap();
        let mut sealed = Vec::new();
        let mut writer = encryptor.wrap_output(&mut sealed).unwrap();
        writer.write_all(clear.as_bytes()).unwrap();
        writer.finish().unwrap();
        base64::engine::general_purpose::STANDARD.encode(sealed)
    };
    let clear = [
        "Amina Wanjiru",
        "",
        "نور الهدى",
        "line one\nline two, with \"quotes\" and a tab\t",
    ];
    let sealed: Vec<String> = clear
        .iter()
        .enumerate()
        // Alone and with a second recipient, as a project with two keys seals.
        .map(|(i, c)| {
            if i % 2 == 0 {
                seal(&[&mine], c)
            } else {
                seal(&[&other, &mine], c)
            }
        })
        .collect();
    let foreign = seal(&[&other], "not for this coordinator");

    let mut both = Both::start();
    let refused = both.call(Call::KeyringNew(file.clone(), "not the passphrase".into()));
    assert_eq!(refused["error"]["kind"], "wrong_passphrase", "{refused}");
    let refused = both.call(Call::KeyringNew(
        b"# not an identity\n".to_vec(),
        PASSPHRASE.into(),
    ));
    assert_eq!(refused["error"]["kind"], "not_an_identity", "{refused}");

    let opened = both.call(Call::KeyringNew(file, PASSPHRASE.into()));
    assert_eq!(
        opened["ok"]["recipients"],
        json!([mine.to_string()]),
        "{opened}"
    );
    for (sealed, clear) in sealed.iter().zip(clear) {
        assert_eq!(both.call(Call::KeyringOpen(sealed.clone()))["ok"], clear);
    }
    let not_yours = both.call(Call::KeyringOpen(foreign.clone()));
    assert_eq!(not_yours["error"]["kind"], "not_yours", "{not_yours}");
    let not_sealed = both.call(Call::KeyringOpen("Amina Wanjiru".into()));
    assert_eq!(not_sealed["error"]["kind"], "not_sealed", "{not_sealed}");
    let mut page: Vec<String> = sealed.clone();
    page.push(foreign);
    let each = both.call(Call::KeyringOpenEach(serde_json::to_string(&page).unwrap()));
    let each = each["ok"].as_array().unwrap();
    assert_eq!(each.len(), 5);
    assert_eq!(each[2]["ok"], clear[2]);
    assert_eq!(each[4]["error"]["kind"], "not_yours");

    println!(
        "native-wasm sealed: {} calls, {} answered ok, {} different",
        both.calls,
        both.ok,
        both.differences.len()
    );
    assert!(
        both.differences.is_empty(),
        "answers differ between native and WebAssembly:\n{}",
        both.differences.join("\n")
    );
}
