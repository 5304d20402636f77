//! The workbench's operations on the core, in plain Rust over JSON: what `lib.rs`
//! exports to JavaScript and what the equivalence test runs natively.
//!
//! Every answer is one JSON text, `{"ok": …}` or `{"error": {"kind", "message"}}`, so the
//! boundary with JavaScript is strings only (no object conversions to keep in step) and
//! the two builds can be compared byte for byte.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use serde_json::{json, Value as Json};
use voices_core::check::check_source;
use voices_core::csv_layout::{self, MAIN_LEADING, MAIN_TRAILING, REPEAT_TRAILING};
use voices_core::engine::{AnswerPath, CompiledForm, EngineError, Session};
use voices_core::env::{Environment, FixedEnvironment};
use voices_core::expr::{self, EvalContext, MapContext, Value};
use voices_core::matching::{Colleague, EnumeratorProfile};
use voices_core::response::{InterviewOutcome, PrivacyOutcome, Response};
use voices_core::Form;

/// Why an operation was refused; `kind` is what the page branches on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The form text does not parse or does not check; its findings come from `check`.
    #[error("{0}")]
    InvalidForm(String),
    /// An argument is not what the operation takes (a path, an instant, an outcome).
    #[error("{0}")]
    InvalidInput(String),
    /// The engine refused the operation (nothing changed).
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl Error {
    fn kind(&self) -> &'static str {
        match self {
            Error::InvalidForm(_) => "invalid_form",
            Error::InvalidInput(_) => "invalid_input",
            Error::Engine(_) => "refused",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The envelope every exported function answers with.
pub fn envelope(result: Result<Json>) -> String {
    match result {
        Ok(value) => json!({ "ok": value }),
        Err(e) => json!({ "error": { "kind": e.kind(), "message": e.to_string() } }),
    }
    .to_string()
}

fn to_json(value: impl serde::Serialize) -> Json {
    // The core's views are plain data (strings, numbers, lists): they always serialize.
    serde_json::to_value(value).unwrap_or(Json::Null)
}

pub fn instant(text: &str) -> Result<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text).map_err(|e| {
        Error::InvalidInput(format!(
            "`{text}` is not an RFC 3339 instant (2025-03-04T10:20:30+03:00): {e}"
        ))
    })
}

fn answer_path(text: &str) -> Result<AnswerPath> {
    text.parse()
        .map_err(|e| Error::InvalidInput(format!("`{text}` is not an answer path: {e}")))
}

/// Every finding of the checker in form source text, each with its pointer, line and
/// column; `form` is the parsed form's id, version and languages when it parses.
pub fn check(source: &str) -> Json {
    let report = check_source(source);
    json!({
        "errors": report.errors().count(),
        "warnings": report.warnings().count(),
        "diagnostics": to_json(&report.diagnostics),
        "form": report.form.as_ref().map(|f| json!({
            "id": f.id,
            "version": f.version,
            "title": f.title,
            "default_language": f.default_language,
            "languages": to_json(&f.languages),
        })),
    })
}

/// Fields of the generated form [`warm_up`] checks: enough work for V8 to optimize the
/// checker's hot functions, little enough to take a tenth of a second unoptimized.
pub const WARM_UP_FIELDS: usize = 300;

/// Check a generated form of [`WARM_UP_FIELDS`] fields and drop the report. V8 runs a new
/// module on its baseline compiler and optimizes the functions that get hot as they run,
/// so the first check after the page loads ran unoptimized: 0.6–1.4 s for a 2,000-field
/// form against 0.15 s once warm (docs/performance.md). The workbench calls this a few
/// times while the page is idle, so the designer's first check runs optimized code.
pub fn warm_up() -> Json {
    let form = voices_core::stress::generate(WARM_UP_FIELDS, 1);
    let text = serde_json::to_string(&form).unwrap_or_default();
    let report = check_source(&text);
    json!({ "fields": WARM_UP_FIELDS, "errors": report.errors().count() })
}

/// What the form in `draft` changes since the form in `published` (both source text).
pub fn changes(published: &str, draft: &str) -> Result<Json> {
    let parse = |which: &str, text: &str| {
        Form::from_json(text)
            .map_err(|e| Error::InvalidForm(format!("the {which} form does not parse: {e}")))
    };
    let (old, new) = (parse("published", published)?, parse("draft", draft)?);
    if old.id != new.id {
        return Err(Error::InvalidInput(format!(
            "the draft is form `{}`, not `{}`",
            new.id, old.id
        )));
    }
    Ok(to_json(crate::changes::changes(&old, &new)))
}

/// One expression evaluated as the conformance suites state their cases: `instance`
/// maps paths to a value or a list of values (`.` is the context node's value).
pub fn evaluate(expression: &str, instance: &Json, now: &str, seed: u32) -> Result<Json> {
    let mut env = FixedEnvironment::new(instant(now)?, u64::from(seed));
    let ctx = context_for(instance);
    let parsed = expr::parse(expression).map_err(|e| Error::InvalidInput(e.to_string()))?;
    let value =
        expr::evaluate(&parsed, &ctx, &mut env).map_err(|e| Error::InvalidInput(e.to_string()))?;
    let ctx: &dyn EvalContext = &ctx;
    let kind = match &value {
        Value::Boolean(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Date(_) => "date",
        Value::DateTime(_) => "datetime",
        Value::Nodes(_) => "nodes",
    };
    let exact = match &value {
        Value::Date(d) => d.format("%Y-%m-%d").to_string(),
        Value::DateTime(dt) => dt.to_rfc3339(),
        _ => String::new(),
    };
    // Numbers as Rust prints an f64 (shortest text that reads back exactly; NaN, inf):
    // the same bits give the same text on every target.
    Ok(json!({
        "type": kind,
        "text": value.to_string_value(ctx),
        "number": format!("{:?}", value.to_number(ctx)),
        "boolean": value.to_boolean(),
        "exact": exact,
    }))
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

/// One test response being filled in the designer's preview. The answers live here,
/// in the page: nothing is stored or sent anywhere.
pub struct Preview {
    session: Session,
    env: FixedEnvironment,
}

impl Preview {
    /// A session on the form in `source` (which must check without errors), for a
    /// response `response_id`, with the clock at `now` and random numbers from `seed`.
    pub fn start(source: &str, response_id: &str, now: &str, seed: u32) -> Result<Preview> {
        Preview::resume(source, response_id, None, now, seed)
    }

    /// As [`Preview::start`], going on with the answers, consent and privacy checks of
    /// `previous` (a test response's JSON, from [`Preview::response`]) when given: the
    /// preview keeps what the designer filled in while the form is edited. Answers the
    /// edited form no longer asks are kept aside, as the engine keeps unknown answers.
    pub fn resume(
        source: &str,
        response_id: &str,
        previous: Option<&str>,
        now: &str,
        seed: u32,
    ) -> Result<Preview> {
        let form = Form::from_json(source).map_err(|e| Error::InvalidForm(e.to_string()))?;
        let compiled = CompiledForm::compile(form).map_err(|diagnostics| {
            let first = diagnostics
                .iter()
                .find(|d| d.is_error())
                .map(|d| format!("{}: {}", d.pointer, d.message))
                .unwrap_or_default();
            Error::InvalidForm(format!(
                "the form has {} problem(s) to fix before it can be filled in; first: {first}",
                diagnostics.len()
            ))
        })?;
        let compiled = Arc::new(compiled);
        let mut env = FixedEnvironment::new(instant(now)?, u64::from(seed));
        let mut response = match previous {
            Some(text) => serde_json::from_str::<Response>(text).map_err(|e| {
                Error::InvalidInput(format!("the previous test response is not one: {e}"))
            })?,
            None => Response {
                id: response_id.to_owned(),
                form_id: String::new(),
                form_version: String::new(),
                answers: Default::default(),
                consent: None,
                privacy: Default::default(),
                selections: Default::default(),
                matching: Default::default(),
                outcome: None,
            },
        };
        response.form_id = compiled.form().id.clone();
        response.form_version = compiled.form().version.clone();
        let session = Session::new(compiled, response, &mut env)?;
        Ok(Preview { session, env })
    }

    pub fn form(&self) -> &Form {
        self.session.form().form()
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Move the clock (the page passes the browser's time before each operation).
    pub fn set_now(&mut self, now: &str) -> Result<Json> {
        self.env.now = instant(now)?;
        Ok(Json::Null)
    }

    /// The whole form as it stands, in `lang`: pages, progress, the jump list.
    pub fn view(&self, lang: &str) -> Json {
        to_json(self.session.view(lang))
    }

    /// Answer (or clear, with `None`) the question at `path`; what changed.
    pub fn set_answer(&mut self, path: &str, value: Option<String>) -> Result<Json> {
        let path = answer_path(path)?;
        Ok(to_json(self.session.set_answer(
            &path,
            value,
            &mut self.env,
        )?))
    }

    /// A new instance of the repeat at `path`: its path and what changed.
    pub fn add_instance(&mut self, path: &str) -> Result<Json> {
        let path = answer_path(path)?;
        let (added, changes) = self.session.add_repeat_instance(&path, &mut self.env)?;
        Ok(json!({ "path": added.to_string(), "changes": to_json(changes) }))
    }

    /// Remove the repeat instance at `path` (`/members[2]`).
    pub fn remove_instance(&mut self, path: &str) -> Result<Json> {
        let path = answer_path(path)?;
        Ok(to_json(
            self.session.remove_repeat_instance(&path, &mut self.env)?,
        ))
    }

    pub fn record_consent(&mut self, given: bool) -> Result<Json> {
        Ok(to_json(self.session.record_consent(given, &mut self.env)?))
    }

    /// A minor's assent after the guardian's consent.
    pub fn record_assent(&mut self, given: bool) -> Result<Json> {
        Ok(to_json(self.session.record_assent(given, &mut self.env)?))
    }

    /// The privacy check before the group at `path`: `private`, `not_private` or
    /// `interrupted`.
    pub fn record_privacy(&mut self, path: &str, outcome: &str) -> Result<Json> {
        let path = answer_path(path)?;
        let outcome: PrivacyOutcome = serde_json::from_value(json!(outcome)).map_err(|_| {
            Error::InvalidInput(format!(
                "`{outcome}` is not a privacy outcome (private, not_private, interrupted)"
            ))
        })?;
        Ok(to_json(self.session.record_privacy(
            &path,
            outcome,
            &mut self.env,
        )?))
    }

    /// The enumerator the designer previews as (`enumerator()`, the `match` rules), as
    /// the profile's JSON (`{"sex": "female", "languages": ["ar"], "area": "north"}`);
    /// `None` or `{}`: none, as on a device not yet given one.
    pub fn set_enumerator(&mut self, profile: Option<&str>) -> Result<Json> {
        let profile = match profile {
            None => None,
            Some(text) => {
                let profile: EnumeratorProfile = serde_json::from_str(text).map_err(|e| {
                    Error::InvalidInput(format!("the enumerator profile is not one: {e}"))
                })?;
                let profile = profile
                    .normalized()
                    .map_err(|e| Error::InvalidInput(format!("the enumerator profile: {e}")))?;
                (!profile.is_empty()).then_some(profile)
            }
        };
        self.env.enumerator = profile;
        Ok(Json::Null)
    }

    /// Whether the preview has an enumerator profile.
    pub fn has_enumerator(&self) -> bool {
        self.env.enumerator.is_some()
    }

    /// Check the `match` rule of the group at `path` with the profile previewed as
    /// ([`Preview::set_enumerator`]; none: a rule that names a value is not met):
    /// `{"matched": …}`; met rules record `matched`.
    pub fn check_matching(&mut self, path: &str) -> Result<Json> {
        let path = answer_path(path)?;
        let matched = self.session.check_matching(&path, &mut self.env)?;
        Ok(json!({ "matched": matched.is_some() }))
    }

    /// Offer the group at `path` to a colleague (`by`, of `sex`, speaking `languages`
    /// (space-separated), from `area`): the core checks them against the same rule.
    /// `{"accepted": …, "changes": …}`.
    pub fn hand_over(
        &mut self,
        path: &str,
        by: &str,
        sex: Option<String>,
        languages: &str,
        area: Option<String>,
    ) -> Result<Json> {
        let path = answer_path(path)?;
        let colleague = Colleague {
            by: by.to_owned(),
            profile: EnumeratorProfile {
                sex,
                languages: languages.split_whitespace().map(str::to_owned).collect(),
                area,
            },
        };
        let done = self.session.hand_over(&path, &colleague, &mut self.env)?;
        Ok(json!({ "accepted": done.accepted, "changes": to_json(done.changes) }))
    }

    /// Skip the group at `path` (no suitable enumerator).
    pub fn skip_matching(&mut self, path: &str) -> Result<Json> {
        let path = answer_path(path)?;
        Ok(to_json(self.session.skip_matching(&path, &mut self.env)?))
    }

    /// Draw the respondent of the `respondent_selection` field at `path`, once; the seed
    /// comes from the preview's random numbers (seeded by the page).
    pub fn draw_selection(&mut self, path: &str) -> Result<Json> {
        let path = answer_path(path)?;
        let seed = u64::from_le_bytes(self.env.random_bytes()[..8].try_into().unwrap_or_default());
        Ok(to_json(self.session.draw_selection(
            &path,
            seed,
            &mut self.env,
        )?))
    }

    /// End the interview with `outcome` (`refused`, `interrupted_for_safety`…), a note and
    /// a return visit (RFC 3339) when given.
    pub fn end_interview(
        &mut self,
        outcome: &str,
        note: Option<String>,
        return_visit: Option<String>,
    ) -> Result<Json> {
        let outcome: InterviewOutcome = serde_json::from_value(json!(outcome))
            .map_err(|_| Error::InvalidInput(format!("`{outcome}` is not an interview outcome")))?;
        if outcome == InterviewOutcome::Completed {
            return Err(Error::InvalidInput(
                "an interview is completed by finishing it, not by ending it early".to_owned(),
            ));
        }
        self.session
            .record_outcome(outcome, note, return_visit, &mut self.env)?;
        Ok(Json::Null)
    }

    /// Every violation of the response as it stands, messages in `lang`.
    pub fn validate(&self, lang: &str) -> Json {
        to_json(self.session.validate(lang))
    }

    /// Run what finalizing runs (calculations marked to run then) and say what changed.
    pub fn finalize(&mut self) -> Json {
        to_json(self.session.finalize(&mut self.env))
    }

    /// The response as JSON has it (answers tree, consent, privacy checks).
    pub fn response(&self) -> Json {
        to_json(self.session.response())
    }

    /// The response as the CSV export lays it out: each table's file name, headers and
    /// rows (one for the main table, one per instance for a repeat's). The metadata
    /// columns a server fills (submission date, device, review state…) are empty.
    pub fn export_layout(&self, include_pii: bool, labels: bool) -> Json {
        let form = self.session.form().form();
        let response = self.session.response();
        let key = format!("uuid:{}", response.id);
        let tables = csv_layout::tables(form, include_pii);
        let out: Vec<Json> = tables
            .iter()
            .enumerate()
            .map(|(i, table)| {
                let mut headers: Vec<String> = Vec::new();
                let mut rows: Vec<Vec<String>> = Vec::new();
                if i == 0 {
                    headers.extend(MAIN_LEADING.map(String::from));
                    headers.extend(table.headers());
                    headers.extend(MAIN_TRAILING.map(String::from));
                    let mut row = vec![String::new(); MAIN_LEADING.len()];
                    row.extend(table.cells(&response.answers, labels));
                    row.push(key.clone());
                    let outcome = csv_layout::outcome_cells(response.outcome.as_ref());
                    // The outcome's cells, the consent and assent versions and the matching
                    // end the row.
                    let before_outcome = MAIN_TRAILING.len() - outcome.len() - 3;
                    row.extend(MAIN_TRAILING[1..before_outcome].iter().map(
                        |column| match *column {
                            "FormVersion" => response.form_version.clone(),
                            "Status" => "draft".to_owned(),
                            "Conflict" => "false".to_owned(),
                            _ => String::new(),
                        },
                    ));
                    row.extend(outcome);
                    row.push(csv_layout::consent_cell(response.consent.as_ref()));
                    row.push(csv_layout::assent_cell(response.consent.as_ref()));
                    row.push(csv_layout::matching_cell(&response.matching));
                    rows.push(row);
                } else {
                    headers.extend(table.headers());
                    headers.extend(REPEAT_TRAILING.map(String::from));
                    for instance in table.instances(&response.answers, &key) {
                        let mut row = table.cells(instance.answers, labels);
                        row.push(instance.parent_key);
                        row.push(instance.key);
                        rows.push(row);
                    }
                }
                json!({ "file": table.file, "headers": headers, "rows": rows })
            })
            .collect();
        Json::Array(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: &str = r#"{"id": "visit", "version": "1", "title": "Visit",
      "languages": [{"code": "en", "name": "English"}], "default_language": "en",
      "body": [
        {"type": "integer", "name": "age", "label": "Age", "required": true},
        {"type": "text", "name": "school", "label": "School", "relevant": "${age} < 18"},
        {"type": "repeat", "name": "kids", "body": [{"type": "text", "name": "kid"}]}
      ]}"#;
    const NOW: &str = "2025-03-04T10:20:30+03:00";

    fn ok(answer: String) -> Json {
        let mut parsed: Json = serde_json::from_str(&answer).unwrap();
        assert!(parsed.get("error").is_none(), "{answer}");
        parsed["ok"].take()
    }

    #[test]
    fn findings_carry_their_line() {
        let broken = FORM.replace("${age} < 18", "${agee} < 18");
        let report = check(&broken);
        assert_eq!(report["errors"], 1);
        let d = &report["diagnostics"][0];
        assert_eq!(d["code"], "unknown_reference");
        assert_eq!(d["pointer"], "/body/1/relevant");
        assert_eq!(d["line"], 5);
        assert_eq!(check(FORM)["errors"], 0);
    }

    #[test]
    fn a_preview_answers_and_lays_out_its_response() {
        let mut p = Preview::start(FORM, "r1", NOW, 7).unwrap();
        ok(envelope(p.set_answer("/age", Some("12".into()))));
        ok(envelope(p.set_answer("/school", Some("Central".into()))));
        let added = ok(envelope(p.add_instance("/kids")));
        assert_eq!(added["path"], "/kids[1]");
        ok(envelope(p.set_answer("/kids[1]/kid", Some("=Ali".into()))));
        let layout = p.export_layout(true, false);
        assert_eq!(layout[0]["headers"][1], "age");
        assert_eq!(layout[0]["rows"][0][1], "12");
        assert_eq!(layout[0]["rows"][0][2], "Central");
        assert_eq!(layout[0]["rows"][0][3], "uuid:r1");
        assert_eq!(layout[1]["file"], "visit-kids.csv");
        assert_eq!(
            layout[1]["rows"][0],
            json!(["'=Ali", "uuid:r1", "uuid:r1/kids[1]"])
        );
        // Relevance reacts: the school answer goes when the age no longer asks for it.
        ok(envelope(p.set_answer("/age", Some("30".into()))));
        assert!(p.response()["answers"].get("school").is_none());
    }

    #[test]
    fn an_edited_form_goes_on_with_the_answers_given() {
        let mut p = Preview::start(FORM, "r1", NOW, 7).unwrap();
        ok(envelope(p.set_answer("/age", Some("12".into()))));
        let previous = p.response().to_string();
        let edited = FORM.replace("${age} < 18", "${age} < 10");
        let p = Preview::resume(&edited, "r1", Some(&previous), NOW, 7).unwrap();
        assert_eq!(p.response()["answers"]["age"], "12");
        // The edited relevance applies at once: school is no longer asked at 12.
        let view = p.view("en").to_string();
        assert!(!view.contains("\"/school\""), "{view}");
        assert!(Preview::resume(FORM, "r1", Some("{"), NOW, 7).is_err());
    }

    #[test]
    fn refusals_say_what_and_where() {
        let answer = envelope(Preview::start("{", "r", NOW, 1).map(|_| Json::Null));
        assert!(answer.contains("\"kind\":\"invalid_form\""), "{answer}");
        let mut p = Preview::start(FORM, "r1", NOW, 7).unwrap();
        let answer = envelope(p.set_answer("/nope", Some("1".into())));
        assert!(answer.contains("\"kind\":\"refused\""), "{answer}");
        let answer = envelope(p.set_answer("not a path", None));
        assert!(answer.contains("\"kind\":\"invalid_input\""), "{answer}");
        let answer = envelope(p.set_now("yesterday"));
        assert!(answer.contains("RFC 3339"), "{answer}");
    }

    #[test]
    fn expressions_evaluate_as_the_suites_state_them() {
        assert!(evaluate("1 +", &json!({}), NOW, 1).is_err());
        let v = evaluate("/a + 1", &json!({"/a": "41"}), NOW, 1).unwrap();
        assert_eq!(v["type"], "number");
        assert_eq!(v["number"], "42.0");
        let v = evaluate("today()", &json!({}), NOW, 1).unwrap();
        assert_eq!(v["exact"], "2025-03-04");
    }
}
