//! The XLSForm column vocabulary, shared by import and export: the columns of each
//! sheet, pyxform's aliases for them, which ones take a `::language` suffix, the form
//! property each one fills (so a problem in the form can be shown at its cell), and
//! the values their cells take (yes/no flags, literal or computed defaults).
//!
//! The exporter writes only columns listed here and the importer reads every one of
//! them, which is what keeps `import(export(form)) == form`.

/// Survey columns the exporter writes, in order (the importer reads them all).
pub(crate) const SURVEY: &[&str] = &[
    "type",
    "name",
    "label",
    "hint",
    "guidance_hint",
    "required",
    "required_message",
    "relevant",
    "constraint",
    "constraint_message",
    "calculation",
    "default",
    "read_only",
    "appearance",
    "choice_filter",
    "repeat_count",
    "parameters",
    "image",
    "audio",
    "video",
    "pii",
    "sensitive",
    "disaggregation",
    "save_to",
    "privacy",
    "privacy_prompt",
    "match",
    "page",
    "repeat_min",
    "repeat_max",
    "add_label",
    "consent_version",
    "consent_title",
    "consent_question",
    "consent_agree",
    "consent_decline",
    "consent_decline_message",
    "minor",
    "selection_roster",
    "selection_eligible",
    "selection_method",
    "referral_area",
    "referral_needs",
];

/// Survey columns that are read but never written by the exporter; together with
/// [`SURVEY`] they are every survey column with a meaning in Voices.
pub(crate) const SURVEY_READ_ONLY: &[&str] = &["big-image", "trigger", "media"];

/// Choices sheet columns the exporter writes, in order; any other column of a
/// choices sheet is a property of the choice (for `choice_filter`).
pub(crate) const CHOICES: &[&str] = &["list_name", "name", "label", "image", "audio", "video"];

/// Choices sheet columns that are never a choice's property.
pub(crate) const CHOICES_RESERVED: &[&str] = &[
    "list_name",
    "name",
    "label",
    "image",
    "audio",
    "video",
    "big-image",
];

/// Settings columns the exporter writes, in order.
pub(crate) const SETTINGS: &[&str] = &[
    "form_id",
    "version",
    "form_title",
    "default_language",
    "instance_name",
    "description",
    "safe_exit_title",
    "safe_exit_message",
    "safe_exit_decoy_group",
    "direction",
];

/// Columns of ODK's `entities` sheet, in the order the exporter writes them.
pub(crate) const ENTITIES: &[&str] = &["list_name", "label", "create_if", "update_if", "entity_id"];

/// pyxform's older name of the entities sheet's `list_name` (only on that sheet: on
/// `choices` a `dataset` column is a choice property).
pub(crate) const ENTITIES_LIST_NAME_ALIAS: &str = "dataset";

/// Columns whose header may carry a language suffix.
const TRANSLATABLE: &[&str] = &[
    "label",
    "hint",
    "guidance_hint",
    "constraint_message",
    "required_message",
    "image",
    "audio",
    "video",
    "big-image",
    "form_title",
];

/// pyxform's header groups: `bind::relevant` is the column `relevant`.
const GROUPS: &[&str] = &["media", "bind", "control", "body"];

/// Canonical column key for a header (lowercase, pyxform aliases resolved), plus the
/// raw language suffix.
pub(crate) fn split_header(header: &str) -> (String, Option<String>) {
    // Older forms write `label:English` and `bind:relevant` with single colons, as
    // pyxform still reads them where a header has no `::`; `jr:constraintMsg` keeps its
    // colon (also in `bind:jr:constraintMsg`).
    let single_colon;
    let header = match header.split_once(':') {
        Some((base, rest))
            if !header.contains("::")
                && (TRANSLATABLE.contains(&base.trim().to_lowercase().as_str())
                    || GROUPS.contains(&base.trim().to_lowercase().as_str())) =>
        {
            single_colon = match rest.split_once(':') {
                Some((name, lang)) if !name.trim().eq_ignore_ascii_case("jr") => {
                    format!("{base}::{name}::{lang}")
                }
                _ => format!("{base}::{rest}"),
            };
            single_colon.as_str()
        }
        _ => header,
    };
    let parts: Vec<&str> = header.split("::").map(str::trim).collect();
    let (base, lang_parts): (String, &[&str]) = match parts.as_slice() {
        [prefix, name, rest @ ..] if GROUPS.contains(&prefix.to_lowercase().as_str()) => {
            (name.to_lowercase(), rest)
        }
        [name, rest @ ..] => (name.to_lowercase(), rest),
        [] => (String::new(), &[]),
    };
    let key = match base.as_str() {
        "list name" => "list_name",
        "value" => "name",
        "constraint message" | "jr:constraintmsg" | "constraint_message" => "constraint_message",
        "required message" | "jr:requiredmsg" | "required_message" => "required_message",
        "readonly" | "read only" | "read_only" => "read_only",
        "calculate" | "calculation" => "calculation",
        "count" | "jr:count" | "repeat count" | "repeat_count" => "repeat_count",
        "choice filter" | "choice_filter" => "choice_filter",
        "guidance hint" | "guidance_hint" => "guidance_hint",
        "relevance" | "relevant" => "relevant",
        "caption" => "label",
        "big image" | "big-image" => "big-image",
        "form id" => "form_id",
        "title" | "form title" => "form_title",
        "default language" => "default_language",
        "instance name" => "instance_name",
        other => other,
    }
    .to_owned();
    let lang = if lang_parts.is_empty() {
        None
    } else {
        Some(lang_parts.join("::"))
    };
    (key, lang)
}

/// The property of a survey item (group, repeat, field, consent) a survey column
/// fills; `None` for a column that fills none.
pub(crate) fn survey_property(key: &str) -> Option<&str> {
    Some(match key {
        "guidance_hint" => "guidance",
        "repeat_count" => "count",
        "list_name" => return None,
        "image" | "audio" | "video" => "media",
        "consent_version" => "text_version",
        "selection_roster" | "selection_eligible" | "selection_method" => "selection",
        "referral_area" | "referral_needs" => "referral",
        other => other,
    })
}

/// The property of a choice a choices column fills: its own name for the reserved
/// columns, the header as written for a choice property; `None` for `list_name`.
pub(crate) fn choice_property(key: &str, header: &str) -> Option<String> {
    Some(match key {
        "list_name" => return None,
        "name" | "label" => key.to_owned(),
        "image" | "audio" | "video" => "media".to_owned(),
        _ => header.to_owned(),
    })
}

/// The property of the form a settings column fills.
pub(crate) fn settings_property(key: &str) -> &str {
    match key {
        "form_id" => "id",
        "form_title" => "title",
        "safe_exit_title" | "safe_exit_message" | "safe_exit_decoy_group" => "safe_exit",
        other => other,
    }
}

/// A yes/no cell (`required`, `pii`, flags in `parameters`…), as pyxform reads it.
pub(crate) fn yes_no(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "yes" | "true" | "true()" | "1" | "y" => Some(true),
        "no" | "false" | "false()" | "0" | "n" => Some(false),
        _ => None,
    }
}

/// Whether a `default` cell is an expression (evaluated) rather than literal text.
/// Follows pyxform: references, function calls and arithmetic make it dynamic.
pub(crate) fn default_is_dynamic(text: &str) -> bool {
    if text.contains("${") {
        return true;
    }
    let bytes: Vec<char> = text.chars().collect();
    // A function call: a name directly followed by `(`.
    for (i, c) in bytes.iter().enumerate() {
        if *c == '(' && i > 0 && (bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_') {
            return true;
        }
    }
    let padded = format!(" {text} ");
    [
        " + ", " - ", " * ", " div ", " mod ", " = ", " != ", " and ", " or ",
    ]
    .iter()
    .any(|op| padded.contains(op))
}

/// A literal default as a Voices expression: numbers stay numbers, text is quoted.
pub(crate) fn quote_literal(text: &str) -> String {
    let is_number = !text.is_empty()
        && text
            .trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
        && text.chars().filter(|c| *c == '.').count() <= 1
        && text
            .trim_start_matches('-')
            .starts_with(|c: char| c.is_ascii_digit());
    if is_number {
        text.to_owned()
    } else if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// The `default` cell that imports back to `expression`: a literal written bare when
/// the importer would quote it the same way, otherwise the expression itself.
pub(crate) fn default_cell(expression: &str) -> String {
    let imports_as = |cell: &str| {
        if default_is_dynamic(cell) {
            cell.trim().to_owned()
        } else {
            quote_literal(cell)
        }
    };
    let unquoted = ['\'', '"'].iter().find_map(|q| {
        expression
            .strip_prefix(*q)
            .and_then(|s| s.strip_suffix(*q))
            .filter(|inner| !inner.contains(*q))
    });
    if let Some(inner) = unquoted {
        if imports_as(inner) == expression {
            return inner.to_owned();
        }
    }
    expression.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_literal_unless_they_compute() {
        assert!(!default_is_dynamic("hello world"));
        assert!(!default_is_dynamic("2020-01-01"));
        assert!(default_is_dynamic("today()"));
        assert!(default_is_dynamic("${a} + 1"));
        assert!(default_is_dynamic("1 + 2"));
        assert_eq!(quote_literal("none"), "'none'");
        assert_eq!(quote_literal("12"), "12");
        assert_eq!(quote_literal("-1.5"), "-1.5");
        assert_eq!(quote_literal("it's"), "\"it's\"");
        assert_eq!(quote_literal("2020-01-01"), "'2020-01-01'");
    }

    #[test]
    fn literal_defaults_are_written_bare() {
        assert_eq!(default_cell("'none'"), "none");
        assert_eq!(default_cell("12"), "12");
        assert_eq!(default_cell("today()"), "today()");
        assert_eq!(default_cell("\"it's\""), "it's");
        // Bare `5` would come back as the number 5, not the text '5'.
        assert_eq!(default_cell("'5'"), "'5'");
    }

    #[test]
    fn single_colon_headers_are_read_as_pyxform_reads_them() {
        let key = |h: &str| split_header(h);
        assert_eq!(key("bind:relevant"), ("relevant".to_owned(), None));
        assert_eq!(key("bind:constraint"), ("constraint".to_owned(), None));
        assert_eq!(
            key("bind:jr:constraintMsg"),
            ("constraint_message".to_owned(), None)
        );
        assert_eq!(
            key("label:English (en)"),
            ("label".to_owned(), Some("English (en)".to_owned()))
        );
        assert_eq!(
            key("media:image:French"),
            ("image".to_owned(), Some("French".to_owned()))
        );
        assert_eq!(
            key("jr:constraintMsg"),
            ("constraint_message".to_owned(), None)
        );
    }

    #[test]
    fn listed_columns_are_canonical_keys() {
        // Headers are matched by their canonical key, so a listed name that is itself
        // an alias would never match a column.
        let listed = [
            SURVEY,
            SURVEY_READ_ONLY,
            CHOICES,
            CHOICES_RESERVED,
            SETTINGS,
            ENTITIES,
        ];
        for column in listed.concat() {
            assert_eq!(split_header(column).0, column, "{column} is canonical");
        }
    }
}
