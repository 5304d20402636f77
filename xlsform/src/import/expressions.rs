//! Expression cells: `${name}` references collected for checking, constructs Voices
//! writes differently translated, and every expression parsed by the engine's parser
//! so a mistake is reported at its cell and character.

use voices_core::expr;
use voices_core::form::Condition;

use super::table::{Cell, Table};
use super::Importer;
use crate::columns::yes_no;
use crate::diag::CellRef;
use crate::workbook::SheetRow;

/// `${name}` references in an expression.
pub(super) fn references_in(expr: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push(after[..end].trim());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// An expression as pyxform and ODK read it: typographic quotes `‘ ’ “ ”` (which
/// spreadsheet programs put in for `'` and `"`) become plain ones, as pyxform turns them
/// in every cell, and a no-break or other Unicode space outside string literals is a
/// plain space (XPath separates tokens by any white space; a literal keeps its own).
pub(super) fn normalise_expression(text: &str) -> String {
    // Nearly every expression is plain ASCII, with nothing to change.
    if text.is_ascii() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut quote = None;
    for c in text.chars() {
        let c = plain_quote(c);
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c.is_whitespace() && !c.is_ascii() => {
                out.push(' ');
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}

/// `‘ ’` as `'` and `“ ”` as `"`, as pyxform reads every cell.
pub(super) fn plain_quote(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' => '\'',
        '\u{201c}' | '\u{201d}' => '"',
        other => other,
    }
}

impl Importer<'_> {
    /// An expression cell, translated where Voices writes a construct differently.
    /// A `relevant`, `constraint` or `calculation` cell: as pyxform (its
    /// `BINDING_CONVERSIONS`), a lone `yes`/`true` is `true()` and `no`/`false` is
    /// `false()` there, where an expression would read them as element names.
    pub(super) fn bind_expression(&mut self, cell: &Cell) -> String {
        match cell.text.trim() {
            "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" => "true()".to_owned(),
            "no" | "No" | "NO" | "false" | "False" | "FALSE" => "false()".to_owned(),
            _ => self.expression(cell),
        }
    }

    pub(super) fn expression(&mut self, cell: &Cell) -> String {
        let mut text = normalise_expression(cell.text.trim());
        let mut last_saved = Vec::new();
        for r in references_in(&text) {
            match r.strip_prefix("last-saved#") {
                Some(name) => {
                    self.references.push((name.to_owned(), cell.at.clone()));
                    last_saved.push(r.to_owned());
                }
                None => self.references.push((r.to_owned(), cell.at.clone())),
            }
        }
        if !last_saved.is_empty() && self.last_saved_at.is_none() {
            self.last_saved_at = Some(cell.at.clone());
        }
        for r in last_saved {
            // ODK fills this from the previous saved submission on the device; Voices does
            // not carry answers from one interview to the next (a privacy choice).
            text = text.replace(&format!("${{{r}}}"), "''");
            self.warn(
                Some(cell.at.clone()),
                "unsupported-last-saved",
                format!(
                    "${{{r}}} (the answer saved in the previous interview) is not available in \
                     Voices and is replaced by ''"
                ),
            );
        }
        self.pulldata_instances(&text, &cell.at);
        self.check_expression(&text, &cell.at);
        text
    }

    /// Parse with the engine's parser; report syntax errors, unknown functions and wrong
    /// argument counts with the character position inside the cell.
    fn check_expression(&mut self, text: &str, at: &CellRef) {
        let position = |byte: usize| text.get(..byte).map_or(byte, |t| t.chars().count()) + 1;
        let parsed = match expr::parse(text) {
            Ok(parsed) => parsed,
            Err(e) => {
                self.error(
                    Some(at.clone()),
                    "bad-expression",
                    format!(
                        "{} (character {} of '{text}')",
                        e.message,
                        position(e.span.start)
                    ),
                );
                return;
            }
        };
        for site in parsed.calls() {
            let call = site.call;
            let Some(function) = call.function else {
                self.error(
                    Some(at.clone()),
                    "unknown-function",
                    format!(
                        "Voices has no function {}() (character {} of '{text}')",
                        call.name,
                        position(call.name_span.start)
                    ),
                );
                continue;
            };
            let signature = function.signature();
            let n = call.args.len();
            let too_few = n < signature.min_args;
            let too_many = signature.max_args.is_some_and(|max| n > max);
            if too_few || too_many {
                let expected = match signature.max_args {
                    Some(max) if max == signature.min_args => format!("{max}"),
                    Some(max) => format!("{} to {max}", signature.min_args),
                    None => format!("at least {}", signature.min_args),
                };
                self.error(
                    Some(at.clone()),
                    "bad-arguments",
                    format!(
                        "{}() takes {expected} argument(s), not {n} (character {} of '{text}')",
                        call.name,
                        position(call.name_span.start)
                    ),
                );
            }
        }
    }

    pub(super) fn condition(&mut self, cell: &Cell) -> Condition {
        match yes_no(cell.text) {
            Some(b) => Condition::Always(b),
            None => Condition::Expression(self.expression(cell)),
        }
    }

    pub(super) fn flag(&mut self, table: &Table, row: &SheetRow, key: &str) -> bool {
        let Some(cell) = table.get(row, key) else {
            return false;
        };
        match yes_no(cell.text) {
            Some(b) => b,
            None => {
                self.error(
                    Some(cell.at),
                    "bad-flag",
                    format!("'{key}' must be yes or no, not '{}'", cell.text),
                );
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::normalise_expression;

    #[test]
    fn typographic_quotes_and_unicode_spaces_are_read_as_pyxform_reads_them() {
        assert_eq!(
            normalise_expression("${a}!=\u{2019}x\u{2019} and ${b} = \u{201c}y\u{201d}"),
            "${a}!='x' and ${b} = \"y\""
        );
        assert_eq!(
            normalise_expression("selected(${a},\u{a0}'b')"),
            "selected(${a}, 'b')"
        );
        // Inside a literal a no-break space is part of the text.
        assert_eq!(
            normalise_expression("${a} = 'x\u{a0}y'"),
            "${a} = 'x\u{a0}y'"
        );
    }
}
