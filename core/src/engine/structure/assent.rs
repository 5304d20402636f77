//! The rules of a minor's assent block (`type: assent`): it comes after the consent
//! block (a guardian's yes), once, at the top level, says in `minor` when it applies
//! and asks it only of what is known by then. The engine's side (recording the answer,
//! what stays closed after a refusal) is in `session/consent_privacy.rs`.

use crate::diagnostic::{Code, Diagnostic};
use crate::expr;
use crate::form::{ConsentRole, Item};

use super::super::tree::Flat;

pub(crate) fn check(flat: &[Flat<'_>], out: &mut Vec<Diagnostic>) {
    let consent = flat.iter().position(|f| {
        f.depth == 0 && matches!(f.item, Item::Consent(c) if c.role == ConsentRole::Consent)
    });
    let mut first: Option<usize> = None;
    for (i, f) in flat.iter().enumerate() {
        let Item::Consent(c) = f.item else { continue };
        let ptr = &f.pointer;
        match c.role {
            ConsentRole::Consent => {
                if c.minor.is_some() {
                    out.push(Diagnostic::error(
                        Code::MinorOnConsent,
                        format!("{ptr}/minor"),
                        "`minor` belongs on an assent block (type `assent`), which asks a minor after the guardian's consent; the consent block is asked of everyone",
                    ));
                }
                continue;
            }
            ConsentRole::Assent => {}
        }
        if f.depth > 0 {
            out.push(Diagnostic::error(
                Code::ConsentNotTopLevel,
                ptr.clone(),
                "the assent block must be at the top level of the body, not inside a group or repeat",
            ));
            continue;
        }
        if let Some(first) = first {
            out.push(Diagnostic::error(
                Code::MultipleAssent,
                ptr.clone(),
                format!(
                    "a form has at most one assent block (the first is at {})",
                    flat[first].pointer
                ),
            ));
            continue;
        }
        first = Some(i);
        match consent {
            None => out.push(Diagnostic::error(
                Code::AssentWithoutConsent,
                ptr.clone(),
                "assent is asked of a minor after a parent's or guardian's consent, but this form has no consent block: add one (type `consent`) before it",
            )),
            Some(c) if c > i => out.push(Diagnostic::error(
                Code::AssentWithoutConsent,
                ptr.clone(),
                format!(
                    "assent must come after the guardian's consent, but the consent block is at {}, later in the form",
                    flat[c].pointer
                ),
            )),
            Some(_) => {}
        }
        if c.relevant.is_some() {
            out.push(Diagnostic::error(
                Code::RelevantOnAssent,
                format!("{ptr}/relevant"),
                "an assent block is asked when its `minor` expression is true; put the condition there instead of in `relevant`",
            ));
        }
        let Some(minor) = &c.minor else {
            out.push(Diagnostic::error(
                Code::AssentWithoutMinor,
                ptr.clone(),
                "an assent block needs `minor`: the expression that says the respondent is a minor (e.g. `${age} < 18`)",
            ));
            continue;
        };
        // What `minor` reads must be asked before the assent: answers after it are
        // closed until the minor assents. Syntax errors are the compiler's to report.
        let Ok(parsed) = expr::parse(minor) else {
            continue;
        };
        for site in parsed.references() {
            let later = flat
                .iter()
                .enumerate()
                .skip(i + 1)
                .find(|(_, g)| g.item.name() == site.name);
            if let Some((_, g)) = later {
                out.push(Diagnostic::error(
                    Code::MinorAskedLater,
                    format!("{ptr}/minor"),
                    format!(
                        "`minor` reads `${{{}}}` ({}), which is asked after the assent; ask what tells a minor apart (e.g. the age) before the assent block",
                        site.name, g.pointer
                    ),
                ));
            }
        }
    }
}
