//! Languages as XLSForm column suffixes name them: `English (en)`, `Arabic (ar)`, or a
//! bare name such as `French` whose code Voices derives.

use voices_core::form::{Direction, Language};

/// Codes of languages written right to left (BCP 47 primary subtags).
const RTL_CODES: &[&str] = &[
    "ar", "arc", "ckb", "dv", "fa", "he", "iw", "ji", "ks", "ku-arab", "lrc", "mzn", "nqo", "pnb",
    "prs", "ps", "sd", "syr", "ug", "ur", "yi", "bal", "bqi", "glk", "haz", "azb",
];

/// Common language names (English and endonyms) to codes, for suffixes without `(code)`.
const NAME_CODES: &[(&str, &str)] = &[
    ("english", "en"),
    ("french", "fr"),
    ("français", "fr"),
    ("francais", "fr"),
    ("spanish", "es"),
    ("español", "es"),
    ("espanol", "es"),
    ("portuguese", "pt"),
    ("português", "pt"),
    ("arabic", "ar"),
    ("العربية", "ar"),
    ("russian", "ru"),
    ("ukrainian", "uk"),
    ("українська", "uk"),
    ("swahili", "sw"),
    ("kiswahili", "sw"),
    ("hausa", "ha"),
    ("somali", "so"),
    ("amharic", "am"),
    ("tigrinya", "ti"),
    ("tigrigna", "ti"),
    ("tigirigna", "ti"),
    ("oromo", "om"),
    ("oromiffa", "om"),
    ("afaan oromo", "om"),
    ("dari", "prs"),
    ("pashto", "ps"),
    ("persian", "fa"),
    ("farsi", "fa"),
    ("urdu", "ur"),
    ("hindi", "hi"),
    ("bengali", "bn"),
    ("bangla", "bn"),
    ("nepali", "ne"),
    ("burmese", "my"),
    ("myanmar", "my"),
    ("kurdish", "ku"),
    ("sorani", "ckb"),
    ("kurmanji", "kmr"),
    ("turkish", "tr"),
    ("hebrew", "he"),
    ("german", "de"),
    ("italian", "it"),
    ("dutch", "nl"),
    ("indonesian", "id"),
    ("bahasa indonesia", "id"),
    ("tagalog", "tl"),
    ("filipino", "fil"),
    ("chinese", "zh"),
    ("japanese", "ja"),
    ("korean", "ko"),
    ("vietnamese", "vi"),
    ("thai", "th"),
    ("khmer", "km"),
    ("lingala", "ln"),
    ("kinyarwanda", "rw"),
    ("kirundi", "rn"),
    ("luganda", "lg"),
    ("yoruba", "yo"),
    ("igbo", "ig"),
    ("fulfulde", "ff"),
    ("fula", "ff"),
    ("wolof", "wo"),
    ("bambara", "bm"),
    ("sango", "sg"),
    ("kanuri", "kr"),
    ("haitian creole", "ht"),
    ("creole", "ht"),
    ("romanian", "ro"),
    ("polish", "pl"),
    ("georgian", "ka"),
    ("armenian", "hy"),
    ("azerbaijani", "az"),
    ("tajik", "tg"),
    ("uzbek", "uz"),
    ("kazakh", "kk"),
    ("kyrgyz", "ky"),
    ("tamil", "ta"),
    ("sinhala", "si"),
    ("malay", "ms"),
    ("sindhi", "sd"),
    ("yiddish", "yi"),
    ("dhivehi", "dv"),
    ("uyghur", "ug"),
];

/// Writing direction of a language code.
pub fn direction_of(code: &str) -> Direction {
    let lower = code.to_ascii_lowercase();
    let primary = lower.split(['-', '_']).next().unwrap_or("");
    let rtl_script = lower.contains("-arab") || lower.contains("-hebr") || lower.contains("-thaa");
    if rtl_script || RTL_CODES.contains(&lower.as_str()) || RTL_CODES.contains(&primary) {
        Direction::Rtl
    } else {
        Direction::Ltr
    }
}

/// Parse a language suffix: `Arabic (ar)` → (`ar`, `Arabic`); `French` → (`fr`, `French`);
/// `ar` → (`ar`, `ar`); an unknown name becomes a lowercase slug of itself.
pub fn parse_language(suffix: &str) -> Language {
    let suffix = suffix.trim();
    if let Some(open) = suffix.rfind('(') {
        if let Some(inner) = suffix[open + 1..].strip_suffix(')') {
            let code = inner.trim();
            let name = suffix[..open].trim();
            let code_like = !code.is_empty()
                && code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if code_like {
                return Language {
                    code: code.to_owned(),
                    name: if name.is_empty() { code } else { name }.to_owned(),
                    direction: direction_of(code),
                };
            }
        }
    }
    let lower = suffix.to_lowercase();
    let code = NAME_CODES
        .iter()
        .find(|(name, _)| *name == lower)
        .map(|(_, code)| (*code).to_owned())
        .unwrap_or_else(|| {
            if is_language_code(suffix) {
                suffix.to_owned()
            } else {
                slug(&lower)
            }
        });
    Language {
        direction: direction_of(&code),
        name: suffix.to_owned(),
        code,
    }
}

/// A plausible BCP 47 tag: 2–3 letter primary subtag, then alphanumeric subtags.
fn is_language_code(s: &str) -> bool {
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        "und".to_owned()
    } else {
        out
    }
}

/// The suffix written in exported column headers: `Name (code)`.
pub fn language_suffix(language: &Language) -> String {
    format!("{} ({})", language.name, language.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_name_and_code() {
        let ar = parse_language("Arabic (ar)");
        assert_eq!((ar.code.as_str(), ar.name.as_str()), ("ar", "Arabic"));
        assert_eq!(ar.direction, Direction::Rtl);
        let fr = parse_language("French");
        assert_eq!((fr.code.as_str(), fr.direction), ("fr", Direction::Ltr));
        assert_eq!(parse_language("Dari (prs)").direction, Direction::Rtl);
        assert_eq!(parse_language("Sorani (ckb)").direction, Direction::Rtl);
        assert_eq!(parse_language("Oromiffa").code, "om");
        assert_eq!(parse_language("Klingon Dialect").code, "klingon-dialect");
        assert_eq!(parse_language("uk").code, "uk");
        let back = parse_language(&language_suffix(&ar));
        assert_eq!(back, ar);
    }
}
