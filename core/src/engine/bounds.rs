//! The instance numbers a form allows: a repeat with a fixed count (`"count": "3"`) has
//! exactly that many instances, one the enumerator fills has at most its `max`. A path
//! naming an instance beyond either, or a count above it, cannot come from this form:
//! the server refuses such a revision rather than keep what no session could have made.

use super::compile::{CompiledForm, ItemData, NodeKind, ROOT};
use crate::answer::{parse_count, AnswerPath, Step};

/// A path past a repeat's bound in the form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{path}`: repeat `{repeat}` has at most {limit} instances in this form version ({why}), not {claimed}")]
pub struct RepeatBoundError {
    /// The path as given (its first 200 characters).
    pub path: String,
    pub repeat: String,
    pub limit: usize,
    pub claimed: usize,
    /// `its max` or `a fixed count`.
    pub why: &'static str,
}

impl CompiledForm {
    /// Whether the flat key `path` (with its value, for a count key) stays within the
    /// instance bounds of the repeats it names. Steps the form does not know are not
    /// judged here (validation reports unknown fields).
    pub fn check_repeat_bounds(
        &self,
        path: &AnswerPath,
        value: Option<&str>,
    ) -> Result<(), RepeatBoundError> {
        let mut scope = ROOT;
        for step in path.steps() {
            let (name, claimed) = match step {
                Step::Instance(name, n) => (name, n),
                Step::Count(name) => match value.and_then(parse_count) {
                    Some(n) => (name, n),
                    None => return Ok(()),
                },
                Step::Name(_) => return Ok(()),
            };
            let Some(&node) = self.scope_names.get(&(scope, name.to_owned())) else {
                return Ok(());
            };
            if self.node(node).kind != NodeKind::Repeat {
                return Ok(());
            }
            if let Some((limit, why)) = self.repeat_bound(node) {
                if claimed > limit {
                    return Err(RepeatBoundError {
                        path: path.as_str().chars().take(200).collect(),
                        repeat: name.to_owned(),
                        limit,
                        claimed,
                        why,
                    });
                }
            }
            scope = node;
        }
        Ok(())
    }

    /// The most instances a repeat node may have, and why, if the form bounds it.
    fn repeat_bound(&self, node: usize) -> Option<(usize, &'static str)> {
        let ItemData::Repeat(repeat) = &self.node(node).item else {
            return None;
        };
        match &repeat.count {
            Some(count) => parse_count(count).map(|n| (n, "a fixed count")),
            // `max` bounds only the repeats the enumerator fills.
            None => repeat.max.map(|max| (max as usize, "its `max`")),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::Form;

    fn form() -> Arc<CompiledForm> {
        let form = Form::from_json(
            r#"{"id":"f","version":"1","title":"T","languages":[{"code":"en","name":"E"}],
            "default_language":"en","body":[
            {"type":"integer","name":"n"},
            {"type":"repeat","name":"kids","max":4,"body":[
              {"type":"text","name":"kid"},
              {"type":"repeat","name":"visits","count":"2","body":[{"type":"date","name":"on"}]}]},
            {"type":"repeat","name":"free","body":[{"type":"text","name":"what"}]},
            {"type":"repeat","name":"counted","count":"${n}","max":3,"body":[{"type":"text","name":"c"}]}]}"#,
        )
        .unwrap();
        Arc::new(CompiledForm::compile(form).unwrap())
    }

    fn check(path: &str, value: Option<&str>) -> Result<(), RepeatBoundError> {
        form().check_repeat_bounds(&AnswerPath::parse(path).unwrap(), value)
    }

    #[test]
    fn instances_past_max_or_a_fixed_count_are_refused() {
        check("/kids[4]/kid", Some("x")).unwrap();
        let err = check("/kids[5]/kid", Some("x")).unwrap_err();
        assert_eq!(
            (err.repeat.as_str(), err.limit, err.claimed),
            ("kids", 4, 5)
        );
        assert!(err.to_string().contains("its `max`"), "{err}");
        check("/kids[2]/visits[2]/on", Some("2026-01-01")).unwrap();
        let err = check("/kids[2]/visits[3]/on", Some("2026-01-01")).unwrap_err();
        assert_eq!((err.repeat.as_str(), err.limit), ("visits", 2));
        assert!(err.to_string().contains("a fixed count"), "{err}");
        assert!(check("/kids[]", Some("9")).is_err());
        check("/kids[]", Some("4")).unwrap();
        check("/kids[]", None).unwrap();
    }

    #[test]
    fn unbounded_and_computed_repeats_and_unknown_steps_are_not_judged_here() {
        check("/free[1000]/what", Some("x")).unwrap();
        // A count expression decides, not `max` (validation reports a count past it).
        check("/counted[7]/c", Some("x")).unwrap();
        check("/unknown[99]/x", Some("x")).unwrap();
        check("/n", Some("3")).unwrap();
    }
}
