//! Structural rules: names, languages and translations, choice lists, ranges,
//! repeats, and the people-centred constructs (consent, privacy checks, safe exit,
//! respondent selection, referral steps).
//! A form must meet them before it compiles; the checker reports them too.

use std::collections::BTreeSet;

use crate::collections::{Map, Set};

use crate::diagnostic::{suggestion, Code, Diagnostic};
use crate::form::{Direction, Disaggregation, FieldType, Form, Item, Media, Text};

use super::tree::{flatten, has_privacy_check, Flat};
use crate::answer::is_valid_name;

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

/// Language codes whose script is written right to left (primary subtag), unless a
/// Latin/Cyrillic script subtag says otherwise.
const RTL_LANGUAGES: &[&str] = &[
    "ar", "arc", "arz", "apc", "ary", "azb", "bal", "bqi", "ckb", "dv", "fa", "glk", "he", "iw",
    "khw", "ks", "lrc", "mzn", "nqo", "pnb", "prs", "ps", "sd", "skr", "syr", "ug", "ur", "yi",
];

pub(crate) fn is_rtl_code(code: &str) -> bool {
    let lower = code.to_ascii_lowercase();
    let mut parts = lower.split(['-', '_']);
    let primary = parts.next().unwrap_or("");
    let script = parts.find(|p| p.len() == 4);
    match script {
        Some("arab" | "hebr" | "syrc" | "thaa" | "nkoo" | "adlm" | "rohg") => true,
        Some(_) => false,
        None => RTL_LANGUAGES.contains(&primary),
    }
}

fn check_languages(form: &Form, out: &mut Vec<Diagnostic>) {
    if form.languages.is_empty() {
        out.push(Diagnostic::error(
            Code::NoLanguages,
            "/languages",
            "list at least one language (code, name and direction)",
        ));
    }
    let mut seen: Map<&str, usize> = Map::default();
    for (i, lang) in form.languages.iter().enumerate() {
        if let Some(first) = seen.insert(&lang.code, i) {
            out.push(Diagnostic::error(
                Code::DuplicateLanguage,
                format!("/languages/{i}/code"),
                format!(
                    "language `{}` is listed twice (first at /languages/{first})",
                    lang.code
                ),
            ));
        }
        if lang.direction == Direction::Ltr && is_rtl_code(&lang.code) {
            out.push(Diagnostic::warning(
                Code::RtlExpected,
                format!("/languages/{i}"),
                format!(
                    "`{}` is written right to left; add \"direction\": \"rtl\" so the app mirrors the interface",
                    lang.code
                ),
            ));
        }
    }
    if !form.languages.is_empty() && form.language(&form.default_language).is_none() {
        out.push(Diagnostic::error(
            Code::DefaultLanguageNotListed,
            "/default_language",
            format!(
                "default language `{}` is not in `languages` ({})",
                form.default_language,
                form.languages
                    .iter()
                    .map(|l| l.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
}

/// Every translatable text of the form with its pointer.
fn texts(form: &Form) -> Vec<(String, &Text)> {
    let mut out: Vec<(String, &Text)> = vec![("/title".to_owned(), &form.title)];
    fn media<'a>(base: &str, m: &'a Option<Media>, out: &mut Vec<(String, &'a Text)>) {
        if let Some(m) = m {
            for (key, t) in [
                ("image", &m.image),
                ("audio", &m.audio),
                ("video", &m.video),
            ] {
                if let Some(t) = t {
                    out.push((format!("{base}/media/{key}"), t));
                }
            }
        }
    }
    fn opt<'a>(base: &str, key: &str, t: &'a Option<Text>, out: &mut Vec<(String, &'a Text)>) {
        if let Some(t) = t {
            out.push((format!("{base}/{key}"), t));
        }
    }
    opt("", "description", &form.description, &mut out);
    if let Some(se) = &form.safe_exit {
        out.push(("/safe_exit/title".to_owned(), &se.title));
        opt("/safe_exit", "message", &se.message, &mut out);
    }
    form.walk(|item, ptr| match item {
        Item::Field(f) => {
            opt(ptr, "label", &f.label, &mut out);
            opt(ptr, "hint", &f.hint, &mut out);
            opt(ptr, "guidance", &f.guidance, &mut out);
            opt(ptr, "required_message", &f.required_message, &mut out);
            opt(ptr, "constraint_message", &f.constraint_message, &mut out);
            media(ptr, &f.media, &mut out);
        }
        Item::Group(g) => {
            opt(ptr, "label", &g.label, &mut out);
            opt(ptr, "hint", &g.hint, &mut out);
            opt(ptr, "privacy_prompt", &g.privacy_prompt, &mut out);
        }
        Item::Repeat(r) => {
            opt(ptr, "label", &r.label, &mut out);
            opt(ptr, "hint", &r.hint, &mut out);
            opt(ptr, "add_label", &r.add_label, &mut out);
            opt(ptr, "privacy_prompt", &r.privacy_prompt, &mut out);
        }
        Item::Consent(c) => {
            opt(ptr, "label", &c.label, &mut out);
            out.push((format!("{ptr}/text"), &c.text));
            opt(ptr, "question", &c.question, &mut out);
            opt(ptr, "agree_label", &c.agree_label, &mut out);
            opt(ptr, "decline_label", &c.decline_label, &mut out);
            opt(ptr, "decline_message", &c.decline_message, &mut out);
        }
    });
    for (list, choices) in &form.choices {
        let base = format!("/choices/{}", crate::locate::escape_token(list));
        for (i, c) in choices.iter().enumerate() {
            out.push((format!("{base}/{i}/label"), &c.label));
            media(&format!("{base}/{i}"), &c.media, &mut out);
        }
    }
    out
}

fn check_texts(form: &Form, out: &mut Vec<Diagnostic>) {
    let codes: BTreeSet<&str> = form.languages.iter().map(|l| l.code.as_str()).collect();
    let multilingual = codes.len() > 1;
    for (ptr, text) in texts(form) {
        match text {
            Text::Plain(_) => {
                if multilingual {
                    let others: Vec<&str> = codes
                        .iter()
                        .copied()
                        .filter(|c| *c != form.default_language)
                        .collect();
                    out.push(Diagnostic::warning(
                        Code::MissingTranslation,
                        ptr,
                        format!(
                            "plain text is shown in every language; translate it ({})",
                            others.join(", ")
                        ),
                    ));
                }
            }
            Text::Translated(map) => {
                for code in map.keys() {
                    if !codes.contains(code.as_str()) {
                        out.push(Diagnostic::error(
                            Code::UnknownLanguage,
                            format!("{ptr}/{}", crate::locate::escape_token(code)),
                            format!(
                                "language `{code}` is not one of the form's languages ({})",
                                codes.iter().copied().collect::<Vec<_>>().join(", ")
                            ),
                        ));
                    }
                }
                let missing: Vec<&str> = codes
                    .iter()
                    .copied()
                    .filter(|c| !map.contains_key(*c))
                    .collect();
                if !missing.is_empty() && !codes.is_empty() {
                    out.push(Diagnostic::warning(
                        Code::MissingTranslation,
                        ptr,
                        format!("missing translation: {}", missing.join(", ")),
                    ));
                }
            }
        }
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

fn check_consent(flat: &[Flat<'_>], out: &mut Vec<Diagnostic>) {
    let mut first_consent: Option<usize> = None;
    let mut question_before: Option<usize> = None;
    for (i, f) in flat.iter().enumerate() {
        match f.item {
            Item::Consent(_) => {
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

fn check_safe_exit(form: &Form, flat: &[Flat<'_>], out: &mut Vec<Diagnostic>) {
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
fn check_disaggregation(flat: &[Flat<'_>], out: &mut Vec<Diagnostic>) {
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
fn check_selections(flat: &[Flat<'_>], out: &mut Vec<Diagnostic>) {
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
