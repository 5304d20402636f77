//! The form engine: compiled forms, form sessions and response validation.
//!
//! - [`CompiledForm::compile`] turns a [`Form`](crate::form::Form) into a runnable,
//!   thread-shareable form (or every error at once).
//! - [`Session`] holds one response being filled in: [`Session::set_answer`]
//!   re-evaluates only what depends on the change and returns the [`Changes`];
//!   [`Session::view`] gives the pages the app renders.
//! - [`validate_response`] lists every [`Violation`] of a whole response (server side
//!   and at finalize).
//!
//! ```
//! use std::sync::Arc;
//! use voices_core::engine::{AnswerPath, CompiledForm, Session};
//! use voices_core::env::FixedEnvironment;
//! use voices_core::{Form, Response};
//!
//! let form = Form::from_json(r#"{
//!   "id": "visit", "version": "1", "title": "Visit",
//!   "languages": [{"code": "en", "name": "English"}], "default_language": "en",
//!   "body": [
//!     {"type": "integer", "name": "age", "label": "Age", "required": true},
//!     {"type": "text", "name": "school", "label": "School", "relevant": "${age} < 18"}
//!   ]}"#).unwrap();
//! let form = Arc::new(CompiledForm::compile(form).unwrap());
//! let mut env = FixedEnvironment::new(chrono::DateTime::UNIX_EPOCH.fixed_offset(), 1);
//! let response = Response {
//!     id: "0192f0c4-0000-7000-8000-000000000001".into(),
//!     form_id: "visit".into(),
//!     form_version: "1".into(),
//!     answers: Default::default(),
//!     consent: None,
//!     privacy: Default::default(),
//!     selections: Default::default(),
//!     matching: Default::default(),
//!     outcome: None,
//! };
//! let mut session = Session::new(form, response, &mut env).unwrap();
//! assert_eq!(session.validate("en").len(), 1); // age is required
//!
//! let age: AnswerPath = "/age".parse().unwrap();
//! session.set_answer(&age, Some("12".into()), &mut env).unwrap();
//! session.set_answer(&AnswerPath::field("school"), Some("Central".into()), &mut env).unwrap();
//! let changes = session.set_answer(&age, Some("30".into()), &mut env).unwrap();
//! // `school` no longer applies: it is hidden and its answer cleared.
//! assert!(changes.relevance.iter().any(|r| r.path.to_string() == "/school" && !r.value));
//! assert!(!session.response().answers.0.contains_key("school"));
//! assert!(session.validate("en").is_empty());
//! ```

mod bounds;
mod compile;
mod messages;
mod outcome;
mod referral;
mod selection;
mod session;
mod structure;
pub(crate) mod tree;
mod values;
mod view;

use std::sync::Arc;

pub use crate::answer::{AnswerPath, PathError};
pub use bounds::RepeatBoundError;
pub(crate) use compile::compile_diagnostics;
pub use compile::CompiledForm;
pub use session::{
    Changes, FieldViolations, FlagChange, HandOver, Session, ValueChange, Violation, ViolationCode,
};
pub(crate) use structure::check as structure_diagnostics;
pub use view::{
    ChoiceView, ConsentView, FieldView, FormView, ItemView, JumpEntry, MediaView, PageKind,
    PageView, Progress, ReferralView, RepeatControls, SelectionView,
};

use crate::env::Environment;
use crate::response::Response;

/// Why a session operation was refused. Nothing is changed when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("the response is for form {response} but this form is {form}")]
    FormMismatch { response: String, form: String },
    #[error("{0} does not name a field, group, repeat or instance of this form")]
    UnknownPath(String),
    #[error("{path} cannot be answered: {reason}")]
    NotAnswerable { path: String, reason: &'static str },
    #[error("{0} does not apply with the current answers (it is not relevant)")]
    NotRelevant(String),
    #[error("{0} is read-only")]
    ReadOnly(String),
    #[error("{0} is not a repeat")]
    NotARepeat(String),
    #[error("the instances of {0} follow its count; they cannot be added or removed by hand")]
    RepeatControlled(String),
    #[error("{path} allows {limit} instances")]
    RepeatLimit { path: String, limit: String },
    #[error("this form has no consent block")]
    NoConsentBlock,
    #[error("this form has no assent block")]
    NoAssentBlock,
    #[error("assent is asked only after the guardian's consent was given")]
    AssentBeforeConsent,
    #[error("assent is not asked of this respondent (the assent block's `minor` is false)")]
    AssentNotAsked,
    #[error("the consent answer is `yes` or `no`, not `{0}`")]
    InvalidConsentAnswer(String),
    #[error("{0} has no privacy check (\"privacy\": \"required\")")]
    NotPrivacyChecked(String),
    #[error("{0} has no match rule (\"match\")")]
    NoMatchRule(String),
    #[error("{0} is open already (matched or handed over): there is nothing to hand over")]
    MatchingSettled(String),
    #[error("{0}")]
    BadMatching(String),
    #[error("{0} is not a respondent selection")]
    NotASelection(String),
    #[error(
        "the respondent of {0} has been drawn already; a draw once shown cannot be made again"
    )]
    AlreadyDrawn(String),
    #[error("nobody on the roster is eligible for {0}, so nobody can be drawn")]
    NobodyEligible(String),
    #[error("{0} cannot be removed: a respondent was drawn from this roster, and removing a member would change who the drawn number names")]
    RosterDrawn(String),
    #[error("a return visit is a date and time with its offset (RFC 3339, such as 2026-12-09T15:00:00+02:00), not `{0}`")]
    BadReturnVisit(String),
    #[error("the return visit {0} is not later than now")]
    ReturnVisitNotAhead(String),
    #[error("a completed interview has no return visit")]
    ReturnVisitAfterCompletion,
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// Every violation of a whole response, messages in `lang`: required questions
/// unanswered, constraints broken, values not of their field's type, answers to
/// unknown fields, repeat counts out of bounds, consent and privacy checks missing,
/// respondent selections without a draw that gives them.
///
/// The response is evaluated as the app would (calculations recomputed, answers
/// to questions that do not apply ignored). A response for another form or
/// version is one violation at `/`.
pub fn validate_response(
    form: &Arc<CompiledForm>,
    response: &Response,
    lang: &str,
    env: &mut dyn Environment,
) -> Vec<Violation> {
    match Session::new(Arc::clone(form), response.clone(), env) {
        Ok(session) => {
            let mut violations = session.declined_with_answers(response, lang);
            violations.extend(session.validate(lang));
            violations
        }
        Err(err) => vec![Violation {
            path: AnswerPath::root(),
            code: ViolationCode::UnknownField,
            message: err.to_string(),
            without_answer: None,
        }],
    }
}

#[cfg(test)]
mod tests;
