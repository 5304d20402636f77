//! Structural rules for the people-centred constructs: consent, safe exit, disaggregation
//! and respondent selection (referral steps are in `engine/referral.rs`).

use super::*;
use crate::form::ConsentRole;

pub(super) fn check_consent(flat: &[Flat<'_>], out: &mut Vec<Diagnostic>) {
    let mut first_consent: Option<usize> = None;
    let mut question_before: Option<usize> = None;
    for (i, f) in flat.iter().enumerate() {
        match f.item {
            // A minor's assent has rules of its own (`assent.rs`).
            Item::Consent(c) if c.role == ConsentRole::Consent => {
                if f.depth > 0 {
                    out.push(Diagnostic::error(
                        Code::ConsentNotTopLevel,
                        f.pointer.clone(),
                        "the consent block must be at the top level of the body, not inside a group or repeat",
                    ));
                    continue;
                }
                if let Some(first) = first_consent {
                    out.push(Diagnostic::error(
                        Code::MultipleConsent,
                        f.pointer.clone(),
                        format!(
                            "a form has at most one consent block (the first is at {})",
                            flat[first].pointer
                        ),
                    ));
                    continue;
                }
                first_consent = Some(i);
                if let Some(q) = question_before {
                    out.push(Diagnostic::error(
                        Code::ConsentNotFirst,
                        f.pointer.clone(),
                        format!(
                            "consent must come before any question, but `{}` ({}) is asked first; only metadata, notes and calculations may precede it",
                            flat[q].item.name(),
                            flat[q].pointer
                        ),
                    ));
                }
            }
            Item::Field(field) if f.depth == 0 && first_consent.is_none() => {
                let allowed = field.kind.is_metadata()
                    || matches!(
                        field.kind,
                        FieldType::Note | FieldType::Calculate | FieldType::Hidden
                    );
                if !allowed && question_before.is_none() {
                    question_before = Some(i);
                }
            }
            Item::Group(_) | Item::Repeat(_)
                if f.depth == 0 && first_consent.is_none() && question_before.is_none() =>
            {
                question_before = Some(i);
            }
            _ => {}
        }
    }
}

pub(super) fn check_safe_exit(form: &Form, flat: &[Flat<'_>], out: &mut Vec<Diagnostic>) {
    let Some(decoy) = form.safe_exit.as_ref().and_then(|s| s.decoy_group.as_ref()) else {
        return;
    };
    let ptr = "/safe_exit/decoy_group";
    let Some((index, found)) = flat
        .iter()
        .enumerate()
        .find(|(_, f)| f.item.name() == decoy && matches!(f.item, Item::Group(_)))
        .or_else(|| {
            flat.iter()
                .enumerate()
                .find(|(_, f)| f.item.name() == decoy)
        })
    else {
        out.push(Diagnostic::error(
            Code::UnknownDecoyGroup,
            ptr,
            format!(
                "decoy group `{decoy}` does not exist{}",
                suggestion(
                    decoy,
                    flat.iter()
                        .filter(|f| matches!(f.item, Item::Group(_)))
                        .map(|f| f.item.name())
                )
            ),
        ));
        return;
    };
    if !matches!(found.item, Item::Group(_)) || found.depth > 0 {
        out.push(Diagnostic::error(
            Code::DecoyGroupNotTopLevel,
            ptr,
            format!(
                "decoy `{decoy}` ({}) must be a group at the top level of the body",
                found.pointer
            ),
        ));
        return;
    }
    if found.sensitive || has_privacy_check(found.item) {
        out.push(Diagnostic::error(
            Code::DecoyGroupSensitive,
            ptr,
            format!("decoy group `{decoy}` is marked sensitive or privacy-checked; the decoy must be innocuous"),
        ));
        return;
    }
    for f in flat.iter().skip(index + 1) {
        if f.depth <= found.depth {
            break;
        }
        let flagged = match f.item {
            Item::Field(field) => field.pii || f.sensitive,
            _ => f.sensitive,
        };
        if flagged {
            out.push(Diagnostic::error(
                Code::DecoyGroupSensitive,
                ptr,
                format!(
                    "decoy group `{decoy}` contains `{}` ({}), which is pii or sensitive; the decoy must be innocuous",
                    f.item.name(),
                    f.pointer
                ),
            ));
        }
    }
}

/// A disaggregation mark fits its field's type, and each scope (the top level, each
/// repeat) has at most one field per kind, so every answer belongs to one group.
pub(super) fn check_disaggregation(flat: &[Flat<'_>], out: &mut Vec<Diagnostic>) {
    let mut first: Map<(Option<usize>, Disaggregation), &str> = Map::default();
    for f in flat {
        let Item::Field(field) = f.item else { continue };
        let Some(mark) = field.disaggregation else {
            continue;
        };
        let ptr = format!("{}/disaggregation", f.pointer);
        if !mark.fits(field.kind) {
            out.push(Diagnostic::error(
                Code::DisaggregationType,
                ptr.clone(),
                format!(
                    "`{}` is a {}; \"disaggregation\": \"{}\" needs {}",
                    field.name,
                    field.kind.as_str(),
                    mark.as_str(),
                    match mark {
                        Disaggregation::Age =>
                            "an integer, decimal, range or calculate holding years",
                        Disaggregation::Sex | Disaggregation::Disability => {
                            "a select_one or a calculate"
                        }
                    }
                ),
            ));
        }
        if let Some(earlier) = first.insert((f.scope, mark), &field.name) {
            out.push(Diagnostic::error(
                Code::DuplicateDisaggregation,
                ptr,
                format!(
                    "`{}` and `{earlier}` are both marked \"disaggregation\": \"{}\" in the same {}; mark one",
                    field.name,
                    mark.as_str(),
                    if f.scope.is_some() { "repeat" } else { "form level" }
                ),
            ));
            first.insert((f.scope, mark), earlier);
        }
    }
}

/// A respondent selection draws from a roster beside it: a repeat in the same scope as
/// the selection field (so `${selected}` and the roster's instances mean the same
/// household), with nothing for the designer to compute in its place.
pub(super) fn check_selections(flat: &[Flat<'_>], out: &mut Vec<Diagnostic>) {
    for f in flat {
        let Item::Field(field) = f.item else { continue };
        let ptr = &f.pointer;
        let is_selection = field.kind == FieldType::RespondentSelection;
        let Some(params) = &field.selection else {
            if is_selection {
                out.push(Diagnostic::error(
                    Code::SelectionWithoutParams,
                    ptr.clone(),
                    format!(
                        "respondent selection `{}` needs \"selection\": {{\"roster\": \"<repeat name>\"}}",
                        field.name
                    ),
                ));
            }
            continue;
        };
        if !is_selection {
            out.push(Diagnostic::warning(
                Code::SelectionWithoutParams,
                format!("{ptr}/selection"),
                format!(
                    "selection parameters only apply to `respondent_selection` fields; on a {} they are ignored",
                    field.kind.as_str()
                ),
            ));
            continue;
        }
        let roster = flat.iter().enumerate().find(|(_, r)| {
            matches!(r.item, Item::Repeat(_))
                && r.item.name() == params.roster
                && r.scope == f.scope
        });
        if roster.is_none() {
            let repeats = flat
                .iter()
                .filter(|r| matches!(r.item, Item::Repeat(_)) && r.scope == f.scope)
                .map(|r| r.item.name());
            out.push(Diagnostic::error(
                Code::InvalidRoster,
                format!("{ptr}/selection/roster"),
                format!(
                    "`{}` is not a repeat beside `{}` (the roster must be a repeat in the same scope as the selection){}",
                    params.roster,
                    field.name,
                    suggestion(&params.roster, repeats)
                ),
            ));
        }
        for (key, present) in [
            ("calculation", field.calculation.is_some()),
            ("default", field.default.is_some()),
        ] {
            if present {
                out.push(Diagnostic::error(
                    Code::SelectionCalculated,
                    format!("{ptr}/{key}"),
                    format!(
                        "the answer of respondent selection `{}` is drawn by the app; remove its {key}",
                        field.name
                    ),
                ));
            }
        }
    }
}
