//! `voices form preview FILE --answers a.json [--lang ar] [--json]`: what an enumerator
//! would see given some answers: pages, visible questions, required and read-only
//! flags, current values, filtered choices, violations and calculated values.
//!
//! The answers file maps field names to values (repeats as lists of objects), the
//! same shape as a response's `answers`. The consent block's answer (`yes`/`no`) is
//! recorded as consent given or declined, `"$privacy": {"/group": "private"}` records
//! privacy-check outcomes, and `"$matching": {"/group": {"outcome": "handed_over", "by":
//! "Amal", "sex": "female"}}` (or `"skipped"`) what happened at a section with a `match`
//! rule, so every part of a form can be previewed. The preview has no enumerator profile:
//! as the app does on arrival, a section whose rule holds without one is recorded
//! `matched`.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;

use anyhow::{bail, Context};
use chrono::{DateTime, FixedOffset, Utc};
use serde_json::Value;
use voices_core::answer::AnswerPath;
use voices_core::collections::Set;
use voices_core::engine::{
    CompiledForm, FieldView, FormView, ItemView, PageKind, PageView, Session, Violation,
};
use voices_core::env::FixedEnvironment;
use voices_core::form::{answer_key, repeated_names, ConsentRole, FieldType, Form, Item};
use voices_core::response::{
    Answer, Answers, AssentRecord, ConsentRecord, MatchingOutcome, MatchingRecord, PrivacyOutcome,
    PrivacyRecord, Response, SelectionRecord,
};

use super::check::read_form_text;

#[derive(clap::Args)]
pub struct Args {
    /// The form to preview.
    #[arg(value_name = "FILE")]
    form: PathBuf,
    /// Answers as JSON: field names to values, repeats as lists of objects.
    #[arg(long, value_name = "FILE")]
    answers: Option<PathBuf>,
    /// Language of labels and messages (default: the form's default language).
    #[arg(long)]
    lang: Option<String>,
    /// Print the view as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// The current time for `now()`, `today()` and metadata (RFC 3339); default: now, in UTC.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
}

/// Reserved key of the answers file holding privacy-check outcomes by group path.
const PRIVACY_KEY: &str = "$privacy";
/// The reserved answers key holding respondent-selection draws, as a response records them.
const SELECTIONS_KEY: &str = "$selections";
/// Reserved key of the answers file holding matching records by group path.
const MATCHING_KEY: &str = "$matching";
/// Labels longer than this are cut in the table; `--json` has them whole.
const LABEL_WIDTH: usize = 100;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let text = read_form_text(&args.form).map_err(anyhow::Error::msg)?;
    let report = voices_core::check::check_source(&text);
    let has_errors = report.has_errors();
    let (Some(form), false) = (report.form.clone(), has_errors) else {
        let mut message = format!(
            "{} has errors; fix them first (voices form check lists them all):",
            args.form.display()
        );
        for d in report.errors().take(10) {
            write!(message, "\n  {d}").ok();
        }
        bail!(message);
    };
    let lang = match args.lang {
        Some(lang) if form.language(&lang).is_some() => lang,
        Some(lang) => bail!(
            "--lang {lang}: the form is written in {}",
            form.languages
                .iter()
                .map(|l| l.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => form.default_language.clone(),
    };
    let now = match &args.now {
        Some(text) => DateTime::parse_from_rfc3339(text).with_context(|| {
            format!("--now {text}: not an RFC 3339 time such as 2026-11-26T09:30:00+02:00")
        })?,
        None => DateTime::<Utc>::from(std::time::SystemTime::now()).fixed_offset(),
    };
    let mut env = FixedEnvironment::new(now, 0);
    env.device_id = Some("voices-cli-preview".into());
    env.username = Some("preview".into());

    let input = match &args.answers {
        Some(path) => read_answers(path)?,
        None => Value::Object(Default::default()),
    };
    let response = build_response(&form, input, now)?;
    let compiled = CompiledForm::compile(form.clone()).map_err(|diagnostics| {
        let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("the form does not compile:\n  {}", lines.join("\n  "))
    })?;
    let given = response.answers.clone();
    let mut session = Session::new(Arc::new(compiled), response, &mut env)
        .context("cannot start a session with these answers")?;
    session.set_language(&lang);
    let pending: Vec<AnswerPath> = session
        .view(&lang)
        .pages
        .iter()
        .filter(|p| p.kind == PageKind::MatchCheck && p.matching_outcome.is_none())
        .filter_map(|p| p.path.clone())
        .collect();
    for group in pending {
        session
            .check_matching(&group, &mut env)
            .context("checking a section's match rule")?;
    }
    let view = session.view(&lang);
    let calculated = calculated_values(&form, &session.response().answers);
    let violations = session.validate(&lang);
    let hidden = hidden_answers(&given, &view, &calculated);

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.json {
        let document = serde_json::json!({
            "form": form.id,
            "version": form.version,
            "view": view,
            "calculated": calculated
                .iter()
                .map(|(path, value)| serde_json::json!({ "path": path, "value": value }))
                .collect::<Vec<_>>(),
            "violations": violations,
            "not_shown": hidden,
        });
        serde_json::to_writer_pretty(&mut out, &document).context("cannot write the preview")?;
        writeln!(out).context("cannot write the preview")?;
    } else {
        out.write_all(render(&form, &view, &calculated, &violations, &hidden).as_bytes())
            .context("cannot write the preview")?;
    }
    out.flush().context("cannot write the preview")?;
    Ok(ExitCode::SUCCESS)
}

fn read_answers(path: &Path) -> anyhow::Result<Value> {
    let text = read_form_text(path).map_err(anyhow::Error::msg)?;
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    if !value.is_object() {
        bail!(
            "{}: answers are a JSON object of field names to values, e.g. {{\"age\": 34}}",
            path.display()
        );
    }
    Ok(value)
}

/// The response to preview: the answers, plus consent and privacy records derived from them.
fn build_response(
    form: &Form,
    mut input: Value,
    now: DateTime<FixedOffset>,
) -> anyhow::Result<Response> {
    let Some(object) = input.as_object_mut() else {
        bail!("answers are a JSON object of field names to values");
    };
    let at = now.to_rfc3339();
    let mut privacy = BTreeMap::new();
    if let Some(outcomes) = object.remove(PRIVACY_KEY) {
        let Value::Object(outcomes) = outcomes else {
            bail!("{PRIVACY_KEY} maps group paths to outcomes, e.g. {{\"/experiences\": \"private\"}}");
        };
        for (path, outcome) in outcomes {
            let outcome: PrivacyOutcome = serde_json::from_value(outcome.clone()).map_err(|_| {
                anyhow::anyhow!(
                    "{PRIVACY_KEY} {path}: {outcome} is not an outcome (private, not_private or interrupted)"
                )
            })?;
            let text = if path.starts_with('/') {
                path
            } else {
                format!("/{path}")
            };
            let group: AnswerPath = text
                .parse()
                .with_context(|| format!("{PRIVACY_KEY} names a group by its path"))?;
            privacy.insert(
                group,
                PrivacyRecord {
                    outcome,
                    at: at.clone(),
                },
            );
        }
    }
    let selections: BTreeMap<AnswerPath, SelectionRecord> = match object.remove(SELECTIONS_KEY) {
        None => BTreeMap::new(),
        Some(draws) => serde_json::from_value(draws).with_context(|| {
            format!("{SELECTIONS_KEY} maps selection field paths to draws as responses record them (method, seed, roster_size, eligible, selected, at)")
        })?,
    };
    let mut matching = BTreeMap::new();
    if let Some(records) = object.remove(MATCHING_KEY) {
        let Value::Object(records) = records else {
            bail!("{MATCHING_KEY} maps group paths to what happened, e.g. {{\"/experiences\": \"skipped\"}}");
        };
        for (path, record) in records {
            let (outcome, by, sex) = match &record {
                Value::String(outcome) => (outcome.clone(), None, None),
                Value::Object(o) => (
                    o.get("outcome")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    o.get("by").and_then(Value::as_str).map(str::to_owned),
                    o.get("sex").and_then(Value::as_str).map(str::to_owned),
                ),
                _ => {
                    bail!("{MATCHING_KEY} {path}: an outcome, or {{\"outcome\", \"by\", \"sex\"}}")
                }
            };
            let outcome = MatchingOutcome::from_name(&outcome).ok_or_else(|| {
                anyhow::anyhow!("{MATCHING_KEY} {path}: `{outcome}` is not an outcome (matched, handed_over or skipped)")
            })?;
            let record = MatchingRecord {
                by,
                sex,
                ..MatchingRecord::plain(outcome, at.clone(), Vec::new())
            };
            record
                .check()
                .map_err(|e| anyhow::anyhow!("{MATCHING_KEY} {path}: {e}"))?;
            let text = if path.starts_with('/') {
                path
            } else {
                format!("/{path}")
            };
            let group: AnswerPath = text
                .parse()
                .with_context(|| format!("{MATCHING_KEY} names a group by its path"))?;
            matching.insert(group, record);
        }
    }
    if let Some(key) = object.keys().find(|k| k.starts_with('$')) {
        bail!("unknown key {key} in the answers (the reserved keys are {PRIVACY_KEY}, {SELECTIONS_KEY} and {MATCHING_KEY})");
    }
    // The consent answer, then a minor's assent (recorded with the consent), as given.
    let mut given_of = |role: ConsentRole| {
        let (name, text_version) = consent_block(form, role)?;
        let given = match object.get(name)? {
            Value::String(s) if s == "yes" => true,
            Value::String(s) if s == "no" => false,
            Value::Bool(b) => *b,
            _ => return None,
        };
        object.insert(
            name.to_owned(),
            Value::String(if given { "yes" } else { "no" }.into()),
        );
        Some((given, text_version.to_owned()))
    };
    let assent = given_of(ConsentRole::Assent).map(|(given, text_version)| AssentRecord {
        given,
        at: at.clone(),
        text_version,
    });
    let consent = given_of(ConsentRole::Consent).map(|(given, text_version)| ConsentRecord {
        given,
        at: at.clone(),
        text_version,
        assent,
    });
    let answers: Answers = serde_json::from_value(input)
        .context("the answers are field names mapped to values or lists of repeat instances")?;
    Ok(Response {
        id: "preview".into(),
        form_id: form.id.clone(),
        form_version: form.version.clone(),
        answers,
        consent,
        privacy,
        selections,
        matching,
        // A preview shows an interview under way: it has not ended yet.
        outcome: None,
    })
}

/// The consent (or assent) block's answer name and text version, if the form has one.
fn consent_block(form: &Form, role: ConsentRole) -> Option<(&str, &str)> {
    form.body.iter().find_map(|item| match item {
        Item::Consent(c) if c.role == role => Some((c.name.as_str(), c.text_version.as_str())),
        _ => None,
    })
}

/// Values of calculated, hidden and metadata fields, by answer path, in form order.
fn calculated_values(form: &Form, answers: &Answers) -> Vec<(String, String)> {
    /// Items of one body, the answers of their repeat instance, its path, the groups
    /// opened since the instance began and the names used twice in its scope (answers
    /// are keyed as `voices_core::form::answer_key` says).
    type Frame<'a> = (
        &'a [Item],
        &'a Answers,
        String,
        Vec<&'a str>,
        Rc<Set<&'a str>>,
    );
    // An explicit stack rather than recursion: forms may nest deeply.
    let mut out = Vec::new();
    let top = Rc::new(repeated_names(&form.body));
    let mut stack: Vec<Frame<'_>> = vec![(&form.body, answers, String::new(), Vec::new(), top)];
    while let Some((items, scope, base, groups, repeated)) = stack.pop() {
        let key = |name: &str| answer_key(&groups, name, repeated.contains(name));
        let mut nested = Vec::new();
        for item in items {
            match item {
                Item::Field(f)
                    if f.kind.is_metadata()
                        || matches!(f.kind, FieldType::Calculate | FieldType::Hidden) =>
                {
                    let key = key(&f.name);
                    if let Some(Answer::Value(v)) = scope.0.get(&key) {
                        out.push((format!("{base}/{key}"), v.clone()));
                    }
                }
                Item::Field(_) | Item::Consent(_) => {}
                Item::Group(g) => {
                    let mut inner = groups.clone();
                    inner.push(g.name.as_str());
                    nested.push((
                        g.body.as_slice(),
                        scope,
                        base.clone(),
                        inner,
                        repeated.clone(),
                    ));
                }
                Item::Repeat(r) => {
                    let key = key(&r.name);
                    if let Some(Answer::Repeat(instances)) = scope.0.get(&key) {
                        let inner = Rc::new(repeated_names(&r.body));
                        for (i, instance) in instances.iter().enumerate() {
                            nested.push((
                                r.body.as_slice(),
                                instance,
                                format!("{base}/{key}[{}]", i + 1),
                                Vec::new(),
                                inner.clone(),
                            ));
                        }
                    }
                }
            }
        }
        stack.extend(nested.into_iter().rev());
    }
    out
}

/// Paths of answers given in the file for questions the view does not show: they
/// do not apply with the other answers (or wait for a privacy check), so an
/// enumerator could not have given them.
fn hidden_answers(
    given: &Answers,
    view: &FormView,
    calculated: &[(String, String)],
) -> Vec<String> {
    let mut shown: HashSet<String> = calculated.iter().map(|(path, _)| path.clone()).collect();
    for page in &view.pages {
        if let Some(consent) = &page.consent {
            shown.insert(consent.path.to_string());
        }
        for item in &page.items {
            if let ItemView::Field(f) = item {
                shown.insert(f.path.to_string());
            }
        }
    }
    let mut out = Vec::new();
    let mut stack: Vec<(&Answers, String)> = vec![(given, String::new())];
    while let Some((answers, base)) = stack.pop() {
        for (name, answer) in &answers.0 {
            match answer {
                Answer::Value(v) if v.is_empty() => {}
                Answer::Value(_) | Answer::Sealed(_) => {
                    let path = format!("{base}/{name}");
                    if !shown.contains(&path) {
                        out.push(path);
                    }
                }
                Answer::Repeat(instances) => {
                    for (i, instance) in instances.iter().enumerate() {
                        stack.push((instance, format!("{base}/{name}[{}]", i + 1)));
                    }
                }
            }
        }
    }
    out.sort();
    out
}

fn render(
    form: &Form,
    view: &FormView,
    calculated: &[(String, String)],
    violations: &[Violation],
    hidden: &[String],
) -> String {
    let mut s = String::new();
    let language = form
        .language(&view.language)
        .map_or(view.language.clone(), |l| {
            format!("{} ({})", l.name, l.code)
        });
    let direction = match view.direction {
        voices_core::form::Direction::Ltr => "left to right",
        voices_core::form::Direction::Rtl => "right to left",
    };
    writeln!(s, "{} — {} version {}", view.title, form.id, form.version).ok();
    writeln!(s, "Language: {language}, {direction}").ok();
    let p = &view.progress;
    writeln!(
        s,
        "Progress: {} of {} questions answered; {} of {} required answered; {} invalid",
        p.answered, p.questions, p.required_answered, p.required, p.invalid
    )
    .ok();
    for (number, page) in view.pages.iter().enumerate() {
        s.push('\n');
        render_page(&mut s, number + 1, page);
    }
    s.push_str("\nCalculated\n");
    if calculated.is_empty() {
        s.push_str("  (none)\n");
    }
    let width = calculated
        .iter()
        .map(|(p, _)| p.chars().count())
        .max()
        .unwrap_or(0);
    for (path, value) in calculated {
        writeln!(s, "  {path:<width$} = {}", quoted(value)).ok();
    }
    if !hidden.is_empty() {
        writeln!(
            s,
            "\nAnswered but not shown ({}): these questions do not apply with the other answers",
            hidden.len()
        )
        .ok();
        for path in hidden {
            writeln!(s, "  {path}").ok();
        }
    }
    writeln!(s, "\nViolations ({})", violations.len()).ok();
    for v in violations {
        writeln!(s, "  {}: {}", v.path, v.message).ok();
    }
    s
}

fn render_page(s: &mut String, number: usize, page: &PageView) {
    let title = page.title.as_deref().unwrap_or("(untitled)");
    let kind = match page.kind {
        PageKind::Questions => "",
        PageKind::Consent => " [consent]",
        PageKind::PrivacyCheck => " [privacy check]",
        PageKind::MatchCheck => " [matching check: hand over or skip]",
        PageKind::RepeatControls => " [repeat controls]",
    };
    let sensitive = if page.sensitive { " [sensitive]" } else { "" };
    let path = page
        .path
        .as_ref()
        .map(|p| format!(" {p}"))
        .unwrap_or_default();
    writeln!(s, "Page {number}: {title}{kind}{sensitive}{path}").ok();
    if let Some(consent) = &page.consent {
        writeln!(
            s,
            "  {} = {}  (consent text version {})",
            consent.path,
            consent.value.as_deref().map_or("—".to_owned(), quoted),
            consent.text_version
        )
        .ok();
        if let Some(question) = &consent.question {
            writeln!(s, "      {}", cut(question)).ok();
        }
    }
    if let Some(prompt) = &page.privacy_prompt {
        writeln!(s, "  asks: {}", cut(prompt)).ok();
    }
    if page.kind == PageKind::PrivacyCheck {
        let outcome = page
            .privacy_outcome
            .map_or("not recorded", PrivacyOutcome::as_str);
        writeln!(s, "  outcome: {outcome}").ok();
    }
    if let Some(repeat) = &page.repeat {
        let bounds = match (repeat.min, repeat.max) {
            (Some(min), Some(max)) => format!(", {min} to {max}"),
            (Some(min), None) => format!(", at least {min}"),
            (None, Some(max)) => format!(", at most {max}"),
            (None, None) => String::new(),
        };
        writeln!(
            s,
            "  {}: {} instance(s){bounds}; can add: {}, can remove: {}",
            repeat.path,
            repeat.count,
            yes_no(repeat.can_add),
            yes_no(repeat.can_remove)
        )
        .ok();
    }
    let fields: Vec<&FieldView> = page
        .items
        .iter()
        .filter_map(|item| match item {
            ItemView::Field(f) => Some(f.as_ref()),
            ItemView::Heading { .. } => None,
        })
        .collect();
    let path_width = fields
        .iter()
        .map(|f| f.path.to_string().chars().count())
        .max()
        .unwrap_or(0);
    let type_width = fields
        .iter()
        .map(|f| f.kind.as_str().len())
        .max()
        .unwrap_or(0);
    for item in &page.items {
        match item {
            ItemView::Heading { label, .. } => {
                writeln!(s, "  — {}", label.as_deref().unwrap_or("")).ok();
            }
            ItemView::Field(f) => render_field(s, f, path_width, type_width),
        }
    }
}

fn render_field(s: &mut String, f: &FieldView, path_width: usize, type_width: usize) {
    let mut flags = Vec::new();
    if f.required {
        flags.push("required");
    }
    if f.read_only {
        flags.push("read-only");
    }
    if f.pii {
        flags.push("pii");
    }
    if f.sensitive {
        flags.push("sensitive");
    }
    let value = match (&f.value, &f.choices) {
        (Some(v), Some(choices)) => {
            let labels: Vec<String> = v
                .split_whitespace()
                .map(|name| match choices.iter().find(|c| c.name == name) {
                    Some(c) => format!("{name} ({})", c.label),
                    None => name.to_owned(),
                })
                .collect();
            format!("= {}", labels.join(", "))
        }
        (Some(v), None) => format!("= {}", quoted(v)),
        (None, Some(choices)) => format!("— ({} choices offered)", choices.len()),
        (None, None) if f.kind == FieldType::Note => String::new(),
        (None, None) => "—".to_owned(),
    };
    let mut columns = vec![
        format!("{:<path_width$}", f.path.to_string()),
        format!("{:<type_width$}", f.kind.as_str()),
    ];
    if !flags.is_empty() {
        columns.push(format!("[{}]", flags.join(", ")));
    }
    if !value.is_empty() {
        columns.push(value);
    }
    writeln!(s, "  {}", columns.join("  ").trim_end()).ok();
    if let Some(label) = &f.label {
        writeln!(s, "      {}", cut(label)).ok();
    }
    for v in &f.violations {
        writeln!(s, "      ! {}", v.message).ok();
    }
}

/// The value as is, quoted only where that shows something (empty, surrounding spaces).
fn quoted(value: &str) -> String {
    if value.is_empty() || value.trim() != value || value.contains('\n') {
        format!("{value:?}")
    } else {
        value.to_owned()
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// One line of at most [`LABEL_WIDTH`] characters.
fn cut(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= LABEL_WIDTH {
        line
    } else {
        let mut cut: String = line.chars().take(LABEL_WIDTH - 1).collect();
        cut.push('…');
        cut
    }
}
