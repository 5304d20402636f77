//! Structural rules: names, languages and translations, choice lists, ranges,
//! repeats, and the people-centred constructs (consent, privacy checks, safe exit,
//! respondent selection, referral steps).
//! A form must meet them before it compiles; the checker reports them too. Languages and
//! texts are in `languages.rs`, the people-centred constructs in `people.rs` (a minor's
//! assent in `assent.rs`).

use std::collections::BTreeSet;

use crate::collections::{Map, Set};

use crate::diagnostic::{suggestion, Code, Diagnostic};
use crate::form::{Direction, Disaggregation, FieldType, Form, Item, Media, Text};

use super::tree::{flatten, has_privacy_check, Flat};
use crate::answer::is_valid_name;

mod assent;
mod languages;
mod people;

use languages::{check_languages, check_texts};
use people::{check_consent, check_disaggregation, check_safe_exit, check_selections};

pub(crate) fn check(form: &Form) -> Vec<Diagnostic> {
    let flat = flatten(form);
    let mut out = Vec::new();
    check_header(form, &mut out);
    check_languages(form, &mut out);
    check_texts(form, &mut out);
    check_names(&flat, &mut out);
    check_choice_lists(form, &flat, &mut out);
    check_fields(form, &flat, &mut out);
    check_containers(&flat, &mut out);
    check_consent(&flat, &mut out);
    assent::check(&flat, &mut out);
    check_safe_exit(form, &flat, &mut out);
    check_disaggregation(&flat, &mut out);
    check_selections(&flat, &mut out);
    super::referral::check(&flat, &mut out);
    out
}

fn check_header(form: &Form, out: &mut Vec<Diagnostic>) {
    if !is_valid_name(&form.id) {
        out.push(Diagnostic::error(
            Code::InvalidId,
            "/id",
            format!(
                "form id `{}` must start with a letter or `_` and contain only letters, digits, `_`, `-` and `.`",
                form.id
            ),
        ));
    }
    if form.version.trim().is_empty() {
        out.push(Diagnostic::error(
            Code::EmptyVersion,
            "/version",
            "version is empty; give every published change a new version string",
        ));
    }
}

fn check_names(flat: &[Flat<'_>], out: &mut Vec<Diagnostic>) {
    let mut seen: Map<(Option<usize>, &str), usize> = Map::default();
    for (i, f) in flat.iter().enumerate() {
        let name = f.item.name();
        if !is_valid_name(name) {
            out.push(Diagnostic::error(
                Code::InvalidName,
                format!("{}/name", f.pointer),
                format!(
                    "name `{name}` must start with a letter or `_` and contain only letters, digits, `_`, `-` and `.`"
                ),
            ));
        }
        // As in XLSForm, names are unique within their parent group or repeat; the same
        // name in two groups is addressed through its group (`Flat::key`).
        if let Some(first) = seen.insert((f.parent, name), i) {
            // Keep the first as the one later items are compared with.
            seen.insert((f.parent, name), first);
            out.push(Diagnostic::error(
                Code::DuplicateName,
                format!("{}/name", f.pointer),
                format!(
                    "name `{name}` is already used at {} in the same {}; names must be unique within their group or repeat",
                    flat[first].pointer,
                    match f.parent.map(|p| flat[p].item) {
                        Some(Item::Repeat(_)) => "repeat",
                        Some(_) => "group",
                        None => "form (outside groups and repeats)",
                    }
                ),
            ));
        }
    }
}

fn check_choice_lists(form: &Form, flat: &[Flat<'_>], out: &mut Vec<Diagnostic>) {
    // A select_multiple or rank answer is its choice names separated by spaces, so only
    // their lists need names without spaces (as in XLSForm, where a select_one list may
    // have them).
    let space_separated: Set<&str> = flat
        .iter()
        .filter_map(|f| match f.item {
            Item::Field(field)
                if matches!(field.kind, FieldType::SelectMultiple | FieldType::Rank) =>
            {
                field.choices.as_deref()
            }
            _ => None,
        })
        .collect();
    for (list, choices) in &form.choices {
        let needs_no_spaces = space_separated.contains(list.as_str());
        let base = format!("/choices/{}", crate::locate::escape_token(list));
        // A list name is an XML name as in XLSForm, where OSM-style `building:material`
        // is common; fields are never named so (`${a:b}` would not read as a reference).
        if !list.split(':').all(is_valid_name) {
            out.push(Diagnostic::error(
                Code::InvalidName,
                base.clone(),
                format!("choice list name `{list}` must start with a letter or `_` and contain only letters, digits, `_`, `-`, `.` and `:` between names"),
            ));
        }
        if choices.is_empty() {
            out.push(Diagnostic::error(
                Code::EmptyChoiceList,
                base.clone(),
                format!("choice list `{list}` has no choices"),
            ));
        }
        let mut seen: Map<&str, usize> = Map::default();
        for (i, c) in choices.iter().enumerate() {
            if c.name.trim().is_empty() {
                out.push(Diagnostic::error(
                    Code::InvalidChoiceName,
                    format!("{base}/{i}/name"),
                    format!("a choice of list `{list}` has an empty name"),
                ));
            } else if needs_no_spaces && c.name.chars().any(char::is_whitespace) {
                out.push(Diagnostic::error(
                    Code::InvalidChoiceName,
                    format!("{base}/{i}/name"),
                    format!(
                        "choice name `{}` must be without spaces: list `{list}` is used by a select_multiple or rank question, whose answers are stored space-separated",
                        c.name
                    ),
                ));
            }
            if let Some(first) = seen.insert(&c.name, i) {
                seen.insert(&c.name, first);
                out.push(Diagnostic::error(
                    Code::DuplicateChoice,
                    format!("{base}/{i}/name"),
                    format!(
                        "choice `{}` appears twice in list `{list}` (first at {base}/{first})",
                        c.name
                    ),
                ));
            }
        }
    }
}

fn check_fields(form: &Form, flat: &[Flat<'_>], out: &mut Vec<Diagnostic>) {
    for f in flat {
        let Item::Field(field) = f.item else { continue };
        let ptr = &f.pointer;
        let kind = field.kind;
        if kind.uses_choices() {
            let sources = [
                field.choices.is_some(),
                field.choices_file.is_some(),
                field.choices_from.is_some(),
            ];
            if sources.iter().filter(|set| **set).count() > 1 {
                out.push(Diagnostic::error(
                    Code::ConflictingChoiceSources,
                    ptr.clone(),
                    format!(
                        "`{}` takes its choices from more than one of `choices`, `choices_file` and `choices_from`; keep one",
                        field.name
                    ),
                ));
            }
            match (&field.choices, &field.choices_file, &field.choices_from) {
                (None, None, None) => out.push(Diagnostic::error(
                    Code::SelectWithoutList,
                    ptr.clone(),
                    format!(
                        "`{}` is a {} but names no choice list; add \"choices\": \"<list name>\" (or \"choices_from\": \"<field in a repeat>\")",
                        field.name,
                        kind.as_str()
                    ),
                )),
                (Some(list), _, _) if !form.choices.contains_key(list) => {
                    out.push(Diagnostic::error(
                        Code::UnknownChoiceList,
                        format!("{ptr}/choices"),
                        format!(
                            "choice list `{list}` is not defined in `choices`{}",
                            suggestion(list, form.choices.keys().map(String::as_str))
                        ),
                    ))
                }
                _ => {}
            }
        } else {
            if field.choices.is_some() || field.choices_from.is_some() {
                let key = if field.choices.is_some() {
                    "choices"
                } else {
                    "choices_from"
                };
                out.push(Diagnostic::warning(
                    Code::ChoicesOnNonSelect,
                    format!("{ptr}/{key}"),
                    format!(
                        "a {} field does not use a choice list; this is ignored",
                        kind.as_str()
                    ),
                ));
            }
            if field.choice_filter.is_some() {
                out.push(Diagnostic::warning(
                    Code::ChoiceFilterOnNonSelect,
                    format!("{ptr}/choice_filter"),
                    format!(
                        "a {} field has no choices to filter; this is ignored",
                        kind.as_str()
                    ),
                ));
            }
        }
        match (&field.range, kind) {
            (None, FieldType::Range) => out.push(Diagnostic::error(
                Code::RangeWithoutParams,
                ptr.clone(),
                format!(
                    "range field `{}` needs \"range\": {{\"start\", \"end\", \"step\"}}",
                    field.name
                ),
            )),
            (Some(r), _) => {
                let rptr = format!("{ptr}/range");
                if kind != FieldType::Range {
                    out.push(Diagnostic::warning(
                        Code::InvalidRange,
                        rptr.clone(),
                        "range parameters only apply to `range` fields; they are ignored",
                    ));
                }
                if !(r.start.is_finite() && r.end.is_finite() && r.step.is_finite()) {
                    out.push(Diagnostic::error(
                        Code::InvalidRange,
                        rptr,
                        "range start, end and step must be finite numbers",
                    ));
                } else if r.step <= 0.0 {
                    out.push(Diagnostic::error(
                        Code::InvalidRange,
                        format!("{rptr}/step"),
                        format!("range step must be greater than 0 (it is {})", r.step),
                    ));
                } else if r.start == r.end {
                    out.push(Diagnostic::error(
                        Code::InvalidRange,
                        rptr,
                        "range start and end are equal; there is nothing to choose",
                    ));
                } else if r.step > (r.end - r.start).abs() {
                    out.push(Diagnostic::error(
                        Code::InvalidRange,
                        format!("{rptr}/step"),
                        format!(
                            "range step {} is larger than the distance from {} to {}",
                            r.step, r.start, r.end
                        ),
                    ));
                } else {
                    let steps = (r.end - r.start).abs() / r.step;
                    if (steps - steps.round()).abs() > 1e-9 {
                        out.push(Diagnostic::warning(
                            Code::InvalidRange,
                            format!("{rptr}/step"),
                            format!(
                                "the distance from {} to {} is not a whole number of steps of {}; the end cannot be chosen",
                                r.start, r.end, r.step
                            ),
                        ));
                    }
                }
            }
            (None, _) => {}
        }
    }
}

fn check_containers(flat: &[Flat<'_>], out: &mut Vec<Diagnostic>) {
    for f in flat {
        let ptr = &f.pointer;
        let (body_empty, prompt, privacy) = match f.item {
            Item::Group(g) => (
                g.body.is_empty(),
                g.privacy_prompt.is_some(),
                has_privacy_check(f.item),
            ),
            Item::Repeat(r) => (
                r.body.is_empty(),
                r.privacy_prompt.is_some(),
                has_privacy_check(f.item),
            ),
            Item::Field(_) | Item::Consent(_) => continue,
        };
        if body_empty {
            out.push(Diagnostic::warning(
                Code::EmptyGroup,
                format!("{ptr}/body"),
                format!("`{}` contains nothing", f.item.name()),
            ));
        }
        if prompt && !privacy {
            out.push(Diagnostic::warning(
                Code::PrivacyPromptWithoutPrivacy,
                format!("{ptr}/privacy_prompt"),
                "privacy_prompt is only shown with \"privacy\": \"required\"; add it or remove the prompt",
            ));
        }
        if privacy {
            if let Some(outer) = f.privacy_ancestor {
                out.push(Diagnostic::warning(
                    Code::NestedPrivacyCheck,
                    format!("{ptr}/privacy"),
                    format!(
                        "`{}` is inside `{}`, which already checks privacy; the respondent is asked twice",
                        f.item.name(),
                        flat[outer].item.name()
                    ),
                ));
            }
        }
        if matches!(f.item, Item::Group(g) if g.match_rule.is_some()) {
            let mut up = f.parent;
            while let Some(p) = up {
                if matches!(flat[p].item, Item::Group(g) if g.match_rule.is_some()) {
                    out.push(Diagnostic::error(
                        Code::NestedMatch,
                        format!("{ptr}/match"),
                        format!(
                            "`{}` is inside `{}`, which already has a match rule; put both conditions in one rule",
                            f.item.name(),
                            flat[p].item.name()
                        ),
                    ));
                    break;
                }
                up = flat[p].parent;
            }
        }
        if let Item::Repeat(r) = f.item {
            if let (Some(min), Some(max)) = (r.min, r.max) {
                if min > max {
                    out.push(Diagnostic::error(
                        Code::RepeatMinMax,
                        format!("{ptr}/min"),
                        format!("min ({min}) is greater than max ({max})"),
                    ));
                }
            }
            if let Some(count) = &r.count {
                match count.trim().parse::<f64>() {
                    Ok(n) if n < 0.0 || n.fract() != 0.0 || !n.is_finite() => {
                        out.push(Diagnostic::error(
                            Code::RepeatCountBounds,
                            format!("{ptr}/count"),
                            format!("repeat count must be a whole number of 0 or more, not {n}"),
                        ))
                    }
                    Ok(n) => {
                        let low = r.min.is_some_and(|m| n < f64::from(m));
                        let high = r.max.is_some_and(|m| n > f64::from(m));
                        if low || high {
                            out.push(Diagnostic::error(
                                Code::RepeatCountBounds,
                                format!("{ptr}/count"),
                                format!(
                                    "fixed count {n} is outside min/max ({}..{})",
                                    r.min.map_or(String::new(), |m| m.to_string()),
                                    r.max.map_or(String::new(), |m| m.to_string())
                                ),
                            ));
                        }
                    }
                    Err(_) => {
                        if r.min.is_some() || r.max.is_some() {
                            out.push(Diagnostic::warning(
                                Code::RepeatCountBounds,
                                format!("{ptr}/count"),
                                "with a count expression the number of instances follows the count; min/max only bound enumerator-controlled repeats and are checked at validation",
                            ));
                        }
                    }
                }
            }
        }
    }
}
