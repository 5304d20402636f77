//! Structural rules for languages and translations: known codes, the direction of each,
//! every text in every language the form declares.

use super::*;

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

pub(super) fn check_languages(form: &Form, out: &mut Vec<Diagnostic>) {
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

pub(super) fn check_texts(form: &Form, out: &mut Vec<Diagnostic>) {
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
