//! Incremental recomputation must agree with recomputing from scratch: after any
//! sequence of answers and repeat changes, a new session built from the saved
//! response sees exactly the same values, pages, flags and violations.

use std::sync::Arc;

use chrono::DateTime;
use proptest::prelude::*;
use voices_core::engine::{CompiledForm, FieldView, ItemView, PageKind, Session};
use voices_core::env::FixedEnvironment;
use voices_core::form::FieldType;
use voices_core::response::{Answers, PrivacyOutcome, Response};

fn env() -> FixedEnvironment {
    FixedEnvironment::new(
        DateTime::parse_from_rfc3339("2025-06-01T08:00:00+02:00").unwrap(),
        9,
    )
}

fn compiled(fields: usize, seed: u64) -> Arc<CompiledForm> {
    let form = voices_core::stress::generate(fields, seed);
    Arc::new(CompiledForm::compile(form).unwrap_or_else(|d| panic!("{d:#?}")))
}

fn new_response(form: &CompiledForm) -> Response {
    Response {
        id: "0192f0c4-0000-7000-8000-0000000000aa".to_owned(),
        form_id: form.form().id.clone(),
        form_version: form.form().version.clone(),
        answers: Answers::default(),
        consent: None,
        privacy: Default::default(),
        selections: Default::default(),
        matching: Default::default(),
        outcome: None,
    }
}

/// One step: what to do, and two selectors interpreted against the current view.
#[derive(Debug, Clone)]
enum Op {
    Answer(usize, usize),
    Clear(usize),
    AddInstance(usize),
    RemoveInstance(usize, usize),
    Privacy(usize, u8),
    Consent(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Op::Answer(a, b)),
        1 => any::<usize>().prop_map(Op::Clear),
        1 => any::<usize>().prop_map(Op::AddInstance),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Op::RemoveInstance(a, b)),
        1 => (any::<usize>(), 0u8..3).prop_map(|(a, b)| Op::Privacy(a, b)),
        1 => any::<bool>().prop_map(Op::Consent),
    ]
}

fn sample_value(field: &FieldView, pick: usize) -> String {
    let choices: Vec<&str> = field
        .choices
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect();
    match field.kind {
        FieldType::Integer => ["0", "1", "2", "3", "4", "7", "12", "-1", "x"][pick % 9].to_owned(),
        FieldType::Decimal | FieldType::Range => {
            ["0.5", "1", "2.25", "7", "100"][pick % 5].to_owned()
        }
        FieldType::SelectOne if !choices.is_empty() => choices[pick % choices.len()].to_owned(),
        FieldType::SelectMultiple | FieldType::Rank if !choices.is_empty() => {
            let mut picked: Vec<&str> = choices
                .iter()
                .enumerate()
                .filter(|(i, _)| (pick >> i) & 1 == 1)
                .map(|(_, c)| *c)
                .collect();
            if picked.is_empty() {
                picked.push(choices[pick % choices.len()]);
            }
            picked.join(" ")
        }
        FieldType::Date => ["2024-01-02", "1990-12-31"][pick % 2].to_owned(),
        FieldType::Acknowledge => "OK".to_owned(),
        _ => ["yes", "7", "hello", ""][pick % 4].to_owned(),
    }
}

fn editable(session: &Session) -> Vec<FieldView> {
    session
        .view("en")
        .pages
        .into_iter()
        .flat_map(|p| p.items)
        .filter_map(|i| match i {
            ItemView::Field(f) if !f.read_only && f.kind != FieldType::Note => Some(*f),
            _ => None,
        })
        .collect()
}

fn apply(session: &mut Session, op: &Op, env: &mut FixedEnvironment) {
    let view = session.view("en");
    // Refusals (a limit reached, an instance that no longer exists) are fine: the
    // property is about what the session does, not about every op succeeding.
    match op {
        Op::Answer(which, pick) => {
            let fields = editable(session);
            if let Some(f) = fields.get(which % fields.len().max(1)) {
                let value = sample_value(f, *pick);
                let _ = session.set_answer(&f.path, Some(value), env);
            }
        }
        Op::Clear(which) => {
            let fields = editable(session);
            if let Some(f) = fields.get(which % fields.len().max(1)) {
                let _ = session.set_answer(&f.path, None, env);
            }
        }
        Op::AddInstance(which) | Op::RemoveInstance(which, _) => {
            let repeats: Vec<_> = view
                .pages
                .iter()
                .filter_map(|p| p.repeat.as_ref())
                .collect();
            if let Some(r) = repeats.get(which % repeats.len().max(1)) {
                if let Op::RemoveInstance(_, k) = op {
                    if r.count > 0 {
                        let parent = r.path.parent().unwrap();
                        let path = parent.child(r.path.name().unwrap(), Some(k % r.count + 1));
                        let _ = session.remove_repeat_instance(&path, env);
                    }
                } else {
                    let _ = session.add_repeat_instance(&r.path, env);
                }
            }
        }
        Op::Privacy(which, outcome) => {
            let checks: Vec<_> = view
                .pages
                .iter()
                .filter(|p| p.kind == PageKind::PrivacyCheck)
                .filter_map(|p| p.path.clone())
                .collect();
            if let Some(path) = checks.get(which % checks.len().max(1)) {
                let outcome = [
                    PrivacyOutcome::Private,
                    PrivacyOutcome::NotPrivate,
                    PrivacyOutcome::Interrupted,
                ][*outcome as usize];
                let _ = session.record_privacy(path, outcome, env);
            }
        }
        Op::Consent(given) => {
            let _ = session.record_consent(*given, env);
        }
    }
}

fn check_sequence(form: &Arc<CompiledForm>, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut env = env();
    let mut session = Session::new(Arc::clone(form), new_response(form), &mut env).unwrap();
    let _ = session.record_consent(true, &mut env);
    for op in ops {
        apply(&mut session, op, &mut env);
    }
    let saved = session.response().clone();
    let fresh = Session::new(Arc::clone(form), saved.clone(), &mut env).unwrap();
    prop_assert_eq!(fresh.response(), &saved);
    for lang in ["en", "ar"] {
        prop_assert_eq!(fresh.view(lang), session.view(lang));
        prop_assert_eq!(fresh.validate(lang), session.validate(lang));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn incremental_recompute_equals_a_full_recompute(
        seed in 0u64..4,
        ops in prop::collection::vec(op(), 1..60),
    ) {
        let form = compiled(120, seed);
        check_sequence(&form, &ops)?;
    }
}

#[test]
fn a_long_session_on_the_stress_form_stays_consistent() {
    let form = compiled(2_000, 1);
    let ops: Vec<Op> = (0..300)
        .map(|i| match i % 11 {
            0 => Op::AddInstance(i),
            5 => Op::Privacy(i, (i % 3) as u8),
            7 => Op::Clear(i * 7),
            _ => Op::Answer(i * 13, i),
        })
        .collect();
    check_sequence(&form, &ops).unwrap();
}
