//! How an interview ended: recorded with the session, and what an early end excuses.
//!
//! Every started interview ends with an outcome from the standard list
//! ([`InterviewOutcome`]). An interview that ended early (refused, nobody at home,
//! interrupted for safety…) is a complete record of a non-interview: the questions it
//! never reached are not mistakes, so they do not stop it from being finalized.

use crate::env::Environment;
use crate::response::{InterviewOutcome, OutcomeRecord};

use super::session::{Session, Violation, ViolationCode, ROOT_INST};
use super::{EngineError, Result};

impl Session {
    /// Record how the interview ended (the last outcome recorded stands), with a note
    /// and the return visit agreed (RFC 3339, later than now), if any. A completed
    /// interview has no return visit.
    pub fn record_outcome(
        &mut self,
        outcome: InterviewOutcome,
        note: Option<String>,
        return_visit: Option<String>,
        env: &mut dyn Environment,
    ) -> Result<()> {
        let now = env.now();
        if let Some(text) = &return_visit {
            if outcome == InterviewOutcome::Completed {
                return Err(EngineError::ReturnVisitAfterCompletion);
            }
            let at = chrono::DateTime::parse_from_rfc3339(text)
                .map_err(|_| EngineError::BadReturnVisit(text.clone()))?;
            if at <= now {
                return Err(EngineError::ReturnVisitNotAhead(text.clone()));
            }
        }
        self.outcome = Some(OutcomeRecord {
            outcome,
            at: now.to_rfc3339(),
            note: note.filter(|n| !n.trim().is_empty()),
            return_visit,
        });
        self.response.take();
        Ok(())
    }

    /// How the interview ended, if it has.
    pub fn outcome(&self) -> Option<&OutcomeRecord> {
        self.outcome.as_ref()
    }

    /// Whether an early end excuses `violation`: a question, section, entry or consent
    /// the interview never reached. Wrong answers given are never excused.
    pub(crate) fn excused_by_outcome(&self, violation: &Violation) -> bool {
        if !self
            .outcome
            .as_ref()
            .is_some_and(|o| o.outcome.ended_early())
        {
            return false;
        }
        match violation.code {
            ViolationCode::Required
            | ViolationCode::PrivacyCheck
            | ViolationCode::Matching
            | ViolationCode::RepeatCount => true,
            // Consent (or a minor's assent) never asked, not one answered wrongly.
            ViolationCode::Consent => [self.form.consent, self.form.assent]
                .into_iter()
                .flatten()
                .any(|node| {
                    self.path_of(ROOT_INST, node) == violation.path
                        && self.slot(ROOT_INST, node).value.is_none()
                }),
            ViolationCode::Constraint
            | ViolationCode::Type
            | ViolationCode::UnknownField
            | ViolationCode::Selection => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::super::{validate_response, CompiledForm, Session, ViolationCode};
    use crate::env::FixedEnvironment;
    use crate::form::Form;
    use crate::response::{InterviewOutcome, Response};

    fn session() -> (Session, FixedEnvironment) {
        let form: Form = serde_json::from_value(json!({
            "id": "visit", "version": "1", "title": "Visit",
            "languages": [{"code": "en", "name": "English"}], "default_language": "en",
            "body": [
                {"type": "consent", "text_version": "v1", "text": "We ask…"},
                {"type": "integer", "name": "age", "required": true, "label": "Age",
                 "constraint": ". < 120"},
                {"type": "group", "name": "safety", "privacy": "required", "label": "Safety",
                 "body": [{"type": "text", "name": "felt", "required": true, "label": "Felt"}]}
            ]
        }))
        .unwrap();
        let form = Arc::new(CompiledForm::compile(form).unwrap());
        let mut env = FixedEnvironment::new(
            chrono::DateTime::parse_from_rfc3339("2026-12-07T10:00:00+02:00").unwrap(),
            1,
        );
        let response = Response {
            id: "0193a0c4-0000-7000-8000-000000000009".into(),
            form_id: "visit".into(),
            form_version: "1".into(),
            answers: Default::default(),
            consent: None,
            privacy: Default::default(),
            selections: Default::default(),
            matching: Default::default(),
            outcome: None,
        };
        let s = Session::new(form, response, &mut env).unwrap();
        (s, env)
    }

    #[test]
    fn an_early_end_excuses_what_was_never_reached_but_not_wrong_answers() {
        let (mut s, mut env) = session();
        assert!(!s.validate("en").is_empty(), "consent is missing");
        s.record_outcome(InterviewOutcome::NobodyAtHome, None, None, &mut env)
            .unwrap();
        assert!(s.validate("en").is_empty(), "{:?}", s.validate("en"));

        s.record_consent(true, &mut env).unwrap();
        s.set_answer(&"/age".parse().unwrap(), Some("130".into()), &mut env)
            .unwrap();
        s.record_outcome(
            InterviewOutcome::InterruptedForSafety,
            Some("  ".into()),
            Some("2026-12-09T15:00:00+02:00".into()),
            &mut env,
        )
        .unwrap();
        let codes: Vec<_> = s.validate("en").into_iter().map(|v| v.code).collect();
        assert_eq!(
            codes,
            [ViolationCode::Constraint],
            "the wrong age still counts"
        );
        let record = s.response().outcome.clone().unwrap();
        assert_eq!(record.note, None, "a blank note is no note");
        assert_eq!(
            record.return_visit.as_deref(),
            Some("2026-12-09T15:00:00+02:00")
        );

        // Completed: everything counts again, on the device and on the server.
        s.set_answer(&"/age".parse().unwrap(), Some("30".into()), &mut env)
            .unwrap();
        s.record_outcome(InterviewOutcome::Completed, None, None, &mut env)
            .unwrap();
        let codes: Vec<_> = s.validate("en").into_iter().map(|v| v.code).collect();
        assert!(codes.contains(&ViolationCode::PrivacyCheck), "{codes:?}");
        let response = s.response().clone();
        assert!(!validate_response(s.form(), &response, "en", &mut env).is_empty());
    }

    #[test]
    fn a_return_visit_is_a_later_time_and_never_after_a_completed_interview() {
        let (mut s, mut env) = session();
        let refused = |s: &mut Session, env: &mut FixedEnvironment, outcome, when: &str| {
            s.record_outcome(outcome, None, Some(when.to_owned()), env)
                .unwrap_err()
        };
        for (outcome, when, expected) in [
            (
                InterviewOutcome::RespondentNotAvailable,
                "tomorrow at three",
                "not `tomorrow at three`",
            ),
            (
                InterviewOutcome::RespondentNotAvailable,
                "2026-12-09T15:00:00",
                "2026-12-09T15:00:00",
            ),
            (
                InterviewOutcome::InterruptedForSafety,
                "2026-12-07T09:59:00+02:00",
                "is not later than now",
            ),
            (
                InterviewOutcome::Completed,
                "2026-12-09T15:00:00+02:00",
                "completed",
            ),
        ] {
            let e = refused(&mut s, &mut env, outcome, when).to_string();
            assert!(e.contains(expected), "{e}");
        }
        assert_eq!(s.outcome(), None, "nothing refused is recorded");
        s.record_outcome(
            InterviewOutcome::NobodyAtHome,
            Some("neighbour says evenings".into()),
            Some("2026-12-07T18:00:00+02:00".into()),
            &mut env,
        )
        .unwrap();
        let record = s.outcome().unwrap();
        assert_eq!(
            record.return_visit_at().unwrap().to_rfc3339(),
            "2026-12-07T18:00:00+02:00"
        );
        assert_eq!(record.at, "2026-12-07T10:00:00+02:00");
    }
}
