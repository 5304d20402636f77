//! Sealed answers in the core: which answers a form seals, how a revision carries them,
//! and how the merge keeps them apart from clear answers while merging them as values.

use std::sync::Arc;

use voices_core::answer::{AnswerPath, AnswerValue, Sealed};
use voices_core::engine::CompiledForm;
use voices_core::response::Answer;
use voices_core::sync::{Hlc, ResponseState, Revision, RevisionError, VersionVector};

fn household() -> Arc<CompiledForm> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schemas/forms/household-survey.json"
    ))
    .unwrap();
    Arc::new(CompiledForm::compile(voices_core::Form::from_json(&text).unwrap()).unwrap())
}

fn path(text: &str) -> AnswerPath {
    AnswerPath::parse(text).unwrap()
}

fn revision(actor: &str, seq: u64, seen: &[(&str, u64)], set: &[(&str, &str)]) -> Revision {
    Revision {
        id: format!("{actor}-{seq}"),
        response: "r1".into(),
        form: "household_survey".into(),
        version: "1".into(),
        actor: actor.into(),
        seq,
        validated: false,
        files: Default::default(),
        hlc: Hlc::new(1_000 + seq, 0),
        seen: VersionVector(seen.iter().map(|(a, s)| (a.to_string(), *s)).collect()),
        set: set
            .iter()
            .map(|(k, v)| (k.to_string(), Some((*v).into())))
            .collect(),
        consent: None,
        privacy: Default::default(),
        selections: Default::default(),
        matching: Default::default(),
        outcome: None,
        status: None,
    }
}

/// A stand-in for the shell's encryption: a different "ciphertext" at every call, as age's
/// are.
fn sealer() -> impl FnMut(&str) -> Result<Sealed, std::convert::Infallible> {
    let mut n = 0;
    move |clear: &str| {
        n += 1;
        Ok(Sealed::new(format!("c{n}{}", clear.len())).unwrap())
    }
}

#[test]
fn a_form_seals_its_pii_and_sensitive_fields_only() {
    let form = household();
    for sealed in [
        "/resp_name",
        "/resp_phone",
        "/gps",
        "/member[1]/member_name",
        "/member[3]/member_name",
    ] {
        assert!(form.seals(&path(sealed)), "{sealed}");
    }
    for clear in [
        "/resp_age",
        "/village",
        "/member[]",
        "/member[1]/member_age",
        "/nothing",
        "/member[1]/nothing",
        "/resp_name[1]/x",
    ] {
        assert!(!form.seals(&path(clear)), "{clear}");
    }
}

#[test]
fn sealing_a_revision_replaces_exactly_the_flagged_values_and_marks_it_validated() {
    let form = household();
    let mut rev = revision(
        "tab",
        1,
        &[],
        &[
            ("/resp_name", "Amina"),
            ("/resp_age", "34"),
            ("/member[]", "1"),
            ("/member[1]/member_name", "Yusuf"),
        ],
    );
    let sealed = rev.seal(|p| form.seals(p), sealer()).unwrap();
    assert_eq!(sealed, 2);
    assert!(rev.validated);
    assert!(rev.set["/resp_name"].as_ref().unwrap().sealed().is_some());
    assert!(rev.set["/member[1]/member_name"]
        .as_ref()
        .unwrap()
        .sealed()
        .is_some());
    assert_eq!(rev.set["/resp_age"].as_ref().unwrap().text(), Some("34"));
    rev.check().unwrap();
    let wire = serde_json::to_string(&rev).unwrap();
    assert!(!wire.contains("Amina") && !wire.contains("Yusuf"), "{wire}");
    assert!(wire.contains(r#""validated":true"#), "{wire}");
    let back: Revision = serde_json::from_str(&wire).unwrap();
    assert_eq!(back, rev);

    // Nothing to seal: the revision is left as it was, flag included.
    let mut clear = revision("tab", 2, &[], &[("/resp_age", "35")]);
    assert_eq!(clear.seal(|p| form.seals(p), sealer()).unwrap(), 0);
    assert!(!clear.validated);
    assert!(!serde_json::to_string(&clear).unwrap().contains("validated"));
}

#[test]
fn a_sealed_value_needs_the_validated_flag_and_never_seals_a_count() {
    let sealed = Some(AnswerValue::Sealed(Sealed::new("YWdl").unwrap()));
    let mut rev = revision("tab", 1, &[], &[]);
    rev.set.insert("/resp_name".into(), sealed.clone());
    assert_eq!(
        rev.check(),
        Err(RevisionError::SealedUnvalidated("/resp_name".into()))
    );
    rev.validated = true;
    rev.check().unwrap();
    rev.set.insert("/member[]".into(), sealed);
    assert_eq!(
        rev.check(),
        Err(RevisionError::SealedCount("/member[]".into()))
    );
}

#[test]
fn the_merge_keeps_sealed_values_apart_and_compares_them_as_opaque_values() {
    let form = household();
    let mut first = revision(
        "tab",
        1,
        &[],
        &[("/resp_name", "Amina"), ("/resp_age", "34")],
    );
    first.seal(|p| form.seals(p), sealer()).unwrap();
    let mut state = ResponseState::for_revision(&first);
    state.apply(&first).unwrap();

    // Clear answers do not include the sealed one; the response tree has it in place.
    assert_eq!(state.answers().get("/resp_age"), Some("34"));
    assert_eq!(state.answers().get("/resp_name"), None);
    assert!(state.is_sealed(&path("/resp_name")));
    assert!(!state.is_sealed(&path("/resp_age")));
    let sealed: Vec<_> = state.sealed().map(|(p, _)| p.as_str().to_owned()).collect();
    assert_eq!(sealed, ["/resp_name"]);
    let response = state.to_response();
    assert!(matches!(
        response.answers.0.get("resp_name"),
        Some(Answer::Sealed(_))
    ));
    let json = serde_json::to_value(&response).unwrap();
    assert!(json["answers"]["resp_name"]["sealed"].is_string(), "{json}");
    let read: voices_core::response::Response = serde_json::from_value(json).unwrap();
    assert_eq!(read, response);

    // Two devices seal the same clear answer concurrently: different ciphertexts, so a
    // conflict a coordinator resolves (the server cannot tell they are equal).
    let mut a = revision("a", 1, &[("tab", 1)], &[("/resp_name", "Amina K.")]);
    let mut b = revision("b", 1, &[("tab", 1)], &[("/resp_name", "Amina K.")]);
    let mut seal = sealer();
    a.seal(|p| form.seals(p), &mut seal).unwrap();
    b.seal(|p| form.seals(p), &mut seal).unwrap();
    state.apply(&a).unwrap();
    state.apply(&b).unwrap();
    let conflicts = state.conflicts();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].key, "/resp_name");

    // A later edit that saw both replaces them, sealed again.
    let mut resolved = revision(
        "tab",
        2,
        &[("a", 1), ("b", 1)],
        &[("/resp_name", "Amina Kamau")],
    );
    resolved.seal(|p| form.seals(p), &mut seal).unwrap();
    state.apply(&resolved).unwrap();
    assert!(!state.has_conflicts());
    assert!(state.is_sealed(&path("/resp_name")));
}
