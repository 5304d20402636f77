//! Answer paths (`/members[2]/age`) and the flattening of a response's answers
//! into one stored row per answer, so autosave writes a single row.

use std::fmt;

use voices_core::response::{Answer, Answers};

use crate::error::{Error, Result};

/// One step of a path: a field or repeat name, with a 1-based instance index for repeats.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Step {
    pub name: String,
    pub index: Option<usize>,
}

/// Where an answer lives: `/age`, `/members[2]/age`, or an instance `/members[2]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AnswerPath {
    pub steps: Vec<Step>,
}

impl AnswerPath {
    pub fn parse(text: &str) -> Result<AnswerPath> {
        let bad = |why: &str| Error::InvalidInput(format!("answer path `{text}`: {why}"));
        let rest = text
            .strip_prefix('/')
            .ok_or_else(|| bad("must start with `/`"))?;
        if rest.is_empty() {
            return Err(bad("names no field"));
        }
        let mut steps = Vec::new();
        for part in rest.split('/') {
            let (name, index) = match part.find('[') {
                Some(open) => {
                    let close = part
                        .strip_suffix(']')
                        .ok_or_else(|| bad("an instance index must end with `]`"))?;
                    let digits = &close[open + 1..];
                    let index: usize = digits
                        .parse()
                        .map_err(|_| bad("an instance index is a whole number"))?;
                    if index == 0 {
                        return Err(bad("instance indexes start at 1"));
                    }
                    (&part[..open], Some(index))
                }
                None => (part, None),
            };
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if !valid {
                return Err(bad(&format!("`{name}` is not a field name")));
            }
            steps.push(Step {
                name: name.to_owned(),
                index,
            });
        }
        Ok(AnswerPath { steps })
    }

    /// The last step's name.
    pub fn leaf(&self) -> &str {
        self.steps.last().map(|s| s.name.as_str()).unwrap_or("")
    }

    /// The path of the enclosing repeat instance (`/members[2]` for `/members[2]/age`).
    pub fn parent(&self) -> Option<AnswerPath> {
        if self.steps.len() < 2 {
            return None;
        }
        Some(AnswerPath {
            steps: self.steps[..self.steps.len() - 1].to_vec(),
        })
    }

    pub fn child(&self, name: &str, index: Option<usize>) -> AnswerPath {
        let mut steps = self.steps.clone();
        steps.push(Step {
            name: name.to_owned(),
            index,
        });
        AnswerPath { steps }
    }

    pub fn root() -> AnswerPath {
        AnswerPath { steps: Vec::new() }
    }
}

impl fmt::Display for AnswerPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            write!(f, "/{}", step.name)?;
            if let Some(i) = step.index {
                write!(f, "[{i}]")?;
            }
        }
        Ok(())
    }
}

/// Flatten answers into `(path, value)` rows; a repeat instance is a row with no value
/// so that empty instances survive a reload.
pub fn to_rows(answers: &Answers) -> Vec<(String, Option<String>)> {
    fn go(answers: &Answers, base: &AnswerPath, out: &mut Vec<(String, Option<String>)>) {
        for (name, answer) in &answers.0 {
            match answer {
                Answer::Value(v) => out.push((base.child(name, None).to_string(), Some(v.clone()))),
                Answer::Repeat(instances) => {
                    for (i, inst) in instances.iter().enumerate() {
                        let path = base.child(name, Some(i + 1));
                        out.push((path.to_string(), None));
                        go(inst, &path, out);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    go(answers, &AnswerPath::root(), &mut out);
    out
}

/// Rebuild answers from stored rows (any order).
pub fn from_rows(rows: &[(String, Option<String>)]) -> Result<Answers> {
    let mut answers = Answers::default();
    for (path, value) in rows {
        let path = AnswerPath::parse(path)
            .map_err(|e| Error::Corrupt(format!("stored answer path: {e}")))?;
        let scope = instance_scope(&mut answers, &path.steps[..path.steps.len() - 1])?;
        let leaf = &path.steps[path.steps.len() - 1];
        match (leaf.index, value) {
            (None, Some(v)) => {
                scope.0.insert(leaf.name.clone(), Answer::Value(v.clone()));
            }
            (Some(_), None) => {
                instance_scope(scope, std::slice::from_ref(leaf))?;
            }
            _ => {
                return Err(Error::Corrupt(format!(
                    "stored row `{path}` mixes an instance and a value"
                )))
            }
        }
    }
    Ok(answers)
}

/// The answers of the instance named by `steps` (every step indexed), created when missing.
pub fn instance_scope<'a>(answers: &'a mut Answers, steps: &[Step]) -> Result<&'a mut Answers> {
    let mut scope = answers;
    for step in steps {
        let index = step.index.ok_or_else(|| {
            Error::InvalidInput(format!("`{}` is not a repeat instance", step.name))
        })?;
        let entry = scope
            .0
            .entry(step.name.clone())
            .or_insert_with(|| Answer::Repeat(Vec::new()));
        let Answer::Repeat(instances) = entry else {
            return Err(Error::InvalidInput(format!(
                "`{}` holds a value, not repeat instances",
                step.name
            )));
        };
        while instances.len() < index {
            instances.push(Answers::default());
        }
        scope = &mut instances[index - 1];
    }
    Ok(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_display_the_same() {
        for text in ["/age", "/members[2]/age", "/members[12]", "/a[1]/b[3]/c"] {
            assert_eq!(AnswerPath::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn bad_paths_say_why() {
        for (text, why) in [
            ("age", "start with"),
            ("/", "names no field"),
            ("/m[0]/a", "start at 1"),
            ("/m[x]", "whole number"),
            ("/m[2", "end with"),
            ("/9a", "not a field name"),
        ] {
            let err = AnswerPath::parse(text).unwrap_err().to_string();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn rows_round_trip_including_empty_instances() {
        let answers: Answers = serde_json::from_str(
            r#"{"hh":"7","members":[{"age":"30","name":"A"},{},{"age":"4"}]}"#,
        )
        .unwrap();
        let rows = to_rows(&answers);
        assert!(rows.contains(&("/members[2]".to_owned(), None)));
        let mut shuffled = rows.clone();
        shuffled.reverse();
        assert_eq!(from_rows(&shuffled).unwrap(), answers);
    }
}
