//! The `parameters` column: `key=value` pairs, the keys each type accepts, and the
//! values pyxform would reject.

use std::collections::BTreeMap;

use voices_core::form::{FieldType, RangeParams};

use super::expressions::references_in;
use super::table::Table;
use super::Importer;
use crate::columns::yes_no;
use crate::diag::{CellRef, Diagnostic};
use crate::workbook::SheetRow;

/// Parse a `parameters` cell: `key=value` pairs separated by spaces, `,` or `;`.
pub(super) fn parse_parameters(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut normalized = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '=' {
            while normalized.ends_with(' ') {
                normalized.pop();
            }
            normalized.push('=');
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        } else if c == ',' || c == ';' || c.is_whitespace() {
            normalized.push(' ');
        } else {
            normalized.push(c);
        }
    }
    let mut out = BTreeMap::new();
    for pair in normalized.split_whitespace() {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(format!("parameter '{pair}' is not of the form key=value"));
        };
        if k.is_empty() {
            return Err(format!("parameter '{pair}' has no name"));
        }
        out.insert(k.to_lowercase(), v.to_owned());
    }
    Ok(out)
}

/// Parameters each type accepts (pyxform rejects others for these types).
fn accepted_parameters(kind: FieldType) -> Option<&'static [&'static str]> {
    match kind {
        FieldType::Range => Some(&[
            "start",
            "end",
            "step",
            "tick_interval",
            "placeholder",
            "tick_labelset",
        ]),
        FieldType::Image => Some(&["max-pixels", "app"]),
        FieldType::Audio => Some(&["quality"]),
        FieldType::Video => Some(&["quality"]),
        FieldType::Geopoint => Some(&[
            "capture-accuracy",
            "warning-accuracy",
            "allow-mock-accuracy",
        ]),
        FieldType::Geotrace | FieldType::Geoshape => Some(&["allow-mock-accuracy", "incremental"]),
        FieldType::SelectOne | FieldType::SelectMultiple | FieldType::Rank => {
            Some(&["randomize", "seed", "value", "label"])
        }
        _ => None,
    }
}

/// A range's `tick_labelset`, checked once the choices are known: every choice must
/// be a number on the scale (only its ends with `no-ticks`).
pub(super) struct TickCheck {
    pub(super) list: String,
    pub(super) start: f64,
    pub(super) end: f64,
    pub(super) no_ticks: bool,
    pub(super) at: CellRef,
}

impl Importer<'_> {
    /// A field's `parameters` cell, checked for `kind`; a range's start, end and step
    /// are taken out of it into its [`RangeParams`].
    pub(super) fn parameters(
        &mut self,
        table: &Table,
        row: &SheetRow,
        kind: FieldType,
    ) -> (BTreeMap<String, String>, Option<RangeParams>) {
        let mut parameters = BTreeMap::new();
        let cell = table.get(row, "parameters");
        if let Some(cell) = &cell {
            match parse_parameters(cell.text) {
                Ok(p) => parameters = p,
                Err(e) => self.error(Some(cell.at.clone()), "bad-parameters", e),
            }
            if let Some(accepted) = accepted_parameters(kind) {
                let bad: Vec<&String> = parameters
                    .keys()
                    .filter(|k| !accepted.contains(&k.as_str()))
                    .collect();
                if !bad.is_empty() {
                    let bad: Vec<&str> = bad.iter().map(|s| s.as_str()).collect();
                    self.error(
                        Some(cell.at.clone()),
                        "bad-parameters",
                        format!(
                            "{} does not accept the parameter(s) {}; accepted: {}",
                            kind.as_str(),
                            bad.join(", "),
                            accepted.join(", ")
                        ),
                    );
                }
            }
            self.check_parameter_values(kind, &parameters, &cell.at);
        }
        let at = cell.map(|c| c.at);
        if let (Some(list), Some(at)) = (parameters.get("tick_labelset"), &at) {
            self.list_uses.push((list.clone(), at.clone()));
        }
        let range = (kind == FieldType::Range).then(|| self.range(&mut parameters, table, row, at));
        (parameters, range)
    }

    /// A range's start, end and step (taken out of `parameters`; pyxform's defaults
    /// when absent), and its `tick_labelset` to check once the choices are known.
    fn range(
        &mut self,
        parameters: &mut BTreeMap<String, String>,
        table: &Table,
        row: &SheetRow,
        at: Option<CellRef>,
    ) -> RangeParams {
        let no_ticks = table
            .get(row, "appearance")
            .is_some_and(|c| c.text.split_whitespace().any(|a| a == "no-ticks"));
        let tick_labelset = parameters.get("tick_labelset").cloned();
        let mut number = |key: &str, fallback: f64| -> f64 {
            match parameters.remove(key) {
                None => fallback,
                Some(v) => match v.parse::<f64>() {
                    Ok(n) if n.is_finite() => n,
                    _ => {
                        self.diagnostics.push(Diagnostic::error(
                            at.clone(),
                            "bad-parameters",
                            format!("range {key} must be a number, not '{v}'"),
                        ));
                        fallback
                    }
                },
            }
        };
        let start = number("start", 1.0);
        let end = number("end", 10.0);
        let step = number("step", 1.0);
        if step == 0.0 {
            self.error(at.clone(), "bad-parameters", "range step must not be 0");
        }
        if let (Some(list), Some(at)) = (tick_labelset, at) {
            self.tick_checks.push(TickCheck {
                list,
                start,
                end,
                no_ticks,
                at,
            });
        }
        RangeParams { start, end, step }
    }

    fn check_parameter_values(
        &mut self,
        kind: FieldType,
        parameters: &BTreeMap<String, String>,
        at: &CellRef,
    ) {
        for (key, value) in parameters {
            let problem = match (kind, key.as_str()) {
                (FieldType::Image, "max-pixels")
                    if value.parse::<u32>().map_or(true, |n| n == 0) =>
                {
                    Some("max-pixels must be a whole number greater than 0")
                }
                (_, "capture-accuracy" | "warning-accuracy")
                    if value.parse::<f64>().map_or(true, |n| n < 0.0) =>
                {
                    Some("accuracy must be a positive number")
                }
                (_, "allow-mock-accuracy") if yes_no(value).is_none() => {
                    Some("allow-mock-accuracy must be true or false")
                }
                (_, "randomize") if yes_no(value).is_none() => {
                    Some("randomize must be true or false")
                }
                (_, "seed")
                    if value.parse::<f64>().is_err()
                        && !(value.starts_with("${")
                            && value.ends_with('}')
                            && references_in(value).len() == 1) =>
                {
                    Some("seed must be a number or a reference to another field such as ${seed}")
                }
                (_, "seed") if !parameters.contains_key("randomize") => {
                    Some("seed needs randomize=true")
                }
                (FieldType::Audio | FieldType::Video, "quality")
                    if !["voice-only", "low", "normal", "external"].contains(&value.as_str()) =>
                {
                    Some("quality must be voice-only, low, normal or external")
                }
                _ => None,
            };
            if let Some(p) = problem {
                self.error(
                    Some(at.clone()),
                    "bad-parameters",
                    format!("{p} (got '{value}')"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_accept_pyxform_separators() {
        let p = parse_parameters("start=1 end = 10;step=2").unwrap();
        assert_eq!(p["start"], "1");
        assert_eq!(p["end"], "10");
        assert_eq!(p["step"], "2");
        assert!(parse_parameters("start").is_err());
    }
}
