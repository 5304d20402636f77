//! A response's violations ([`Violation`]): unknown answers, required questions,
//! values of the wrong type or filtered out of their choices, broken
//! constraints, repeat counts; the consent and privacy ones are in `consent_privacy`.

use crate::answer::AnswerPath;
use crate::form::FieldType;
use crate::response::Answer;

use super::super::compile::{ItemData, NodeIdx, NodeKind};
use super::super::messages::{self, Msg};
use super::super::values;
use super::{InstId, Session};

/// One problem with a response, with where it is and a message in the asked language.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Violation {
    pub path: AnswerPath,
    pub code: ViolationCode,
    pub message: String,
    /// The message without the answer it quotes (`“maize” is not one of the choices`
    /// becomes `The answer is not one of the choices`), for records other people read:
    /// the server's quarantine reasons never carry answers. `None` when `message` quotes
    /// no answer. Not part of the serialized violation.
    #[serde(skip)]
    pub without_answer: Option<String>,
}

impl Violation {
    /// [`Violation::message`], or the message without the answer where it quotes one.
    pub fn message_without_answer(&self) -> &str {
        self.without_answer.as_deref().unwrap_or(&self.message)
    }
}

/// What kind of problem a [`Violation`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationCode {
    /// A required question is unanswered.
    Required,
    /// The answer breaks the field's constraint (or the constraint could not be evaluated).
    Constraint,
    /// The answer is not a value of the field's type (or not in its choice list).
    Type,
    /// An answer to a field the form does not have, or of the wrong shape.
    UnknownField,
    /// A repeat has fewer or more instances than allowed.
    RepeatCount,
    /// The consent answer or its record is missing, or records another text version.
    Consent,
    /// A privacy-checked section has no outcome, or was interrupted.
    PrivacyCheck,
    /// A respondent selection's answer no recorded draw gives, or a drawn person no
    /// longer on the roster.
    Selection,
    /// A section with a `match` rule was reached without a record (matched, handed over
    /// or skipped).
    Matching,
}

impl Session {
    /// Every violation of the response as it stands, messages in `lang`.
    pub fn validate(&self, lang: &str) -> Vec<Violation> {
        let mut out = Vec::new();
        let form = &self.form;
        for inst in self.all_instances() {
            let base = self.instance_path(inst);
            for (name, answer) in &self.instances[inst].extras {
                // A name no path can hold (from a document) is reported at its scope.
                let path = base.try_keyed(name, None).unwrap_or_else(|_| base.clone());
                let msg = match (
                    form.scope_names
                        .get(&(self.instances[inst].scope, name.clone())),
                    answer,
                ) {
                    (Some(&n), Answer::Repeat(_)) if form.node(n).kind != NodeKind::Repeat => {
                        Msg::NotAValue
                    }
                    (Some(&n), Answer::Value(_)) if form.node(n).kind == NodeKind::Repeat => {
                        Msg::NotARepeat
                    }
                    _ => Msg::UnknownField,
                };
                out.push(Violation {
                    path,
                    code: ViolationCode::UnknownField,
                    message: messages::text(msg, lang, &[("name", name)]),
                    without_answer: None,
                });
            }
            let scope = self.instances[inst].scope;
            for &node in &form.scope_locals[scope] {
                let n = form.node(node);
                match n.kind {
                    NodeKind::Field(_) => out.extend(self.field_violations(inst, node, lang)),
                    NodeKind::Repeat => {
                        if let Some(v) = self.repeat_violation(inst, node, lang) {
                            out.push(v);
                        }
                    }
                    NodeKind::Consent => out.extend(self.consent_violations(inst, node, lang)),
                    NodeKind::Group | NodeKind::Root => {}
                }
                if n.privacy_check {
                    if let Some(v) = self.privacy_violation(inst, node, lang) {
                        out.push(v);
                    }
                }
                if let Some(v) = self.matching_violation(inst, node, lang) {
                    out.push(v);
                }
            }
        }
        out.retain(|v| !self.excused_by_outcome(v));
        out
    }

    pub(crate) fn field_violations(
        &self,
        inst: InstId,
        node: NodeIdx,
        lang: &str,
    ) -> Vec<Violation> {
        let form = &self.form;
        let n = form.node(node);
        let slot = &self.instances[inst].slots[n.slot];
        let NodeKind::Field(kind) = n.kind else {
            return Vec::new();
        };
        if !slot.relevant || self.privacy_pending(inst, node) || self.matching_pending(inst, node) {
            return Vec::new();
        }
        let Some(field) = form.field(node) else {
            return Vec::new();
        };
        let path = || self.path_of(inst, node);
        let default_lang = &form.form().default_language;
        let mut out = Vec::new();
        if kind == FieldType::RespondentSelection {
            out.extend(self.selection_violation(inst, node, lang));
        }
        match &slot.value {
            None => {
                if slot.required && kind.is_shown_question() && kind != FieldType::Note {
                    let message = field
                        .required_message
                        .as_ref()
                        .map(|t| t.get(lang, default_lang).to_owned())
                        .unwrap_or_else(|| messages::text(Msg::Required, lang, &[]));
                    out.push(Violation {
                        path: path(),
                        code: ViolationCode::Required,
                        message,
                        without_answer: None,
                    });
                }
            }
            Some(value) => {
                let list = n.list.map(|l| &form.lists[l]);
                if let Some((msg, args)) =
                    values::check_value(kind, value, list, field.range.as_ref())
                {
                    let args: Vec<(&str, &str)> =
                        args.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    out.push(Violation {
                        path: path(),
                        code: ViolationCode::Type,
                        message: messages::text(msg, lang, &args),
                        without_answer: messages::without_answer(msg)
                            .map(|plain| messages::text(plain, lang, &[])),
                    });
                } else if let Some(chosen) = self
                    .filtered_out_choice(inst, node, value)
                    .or_else(|| self.unoffered_repeat_choice(inst, node, value))
                {
                    // Kept, not cleared: the enumerator sees it and chooses again.
                    out.push(Violation {
                        path: path(),
                        code: ViolationCode::Type,
                        message: messages::text(Msg::FilteredOut, lang, &[("value", chosen)]),
                        without_answer: Some(messages::text(Msg::AnswerFilteredOut, lang, &[])),
                    });
                }
                match &slot.constraint {
                    Ok(true) => {}
                    Ok(false) => out.push(Violation {
                        path: path(),
                        code: ViolationCode::Constraint,
                        message: field
                            .constraint_message
                            .as_ref()
                            .map(|t| t.get(lang, default_lang).to_owned())
                            .unwrap_or_else(|| messages::text(Msg::Constraint, lang, &[])),
                        without_answer: None,
                    }),
                    Err(error) => out.push(Violation {
                        path: path(),
                        code: ViolationCode::Constraint,
                        message: messages::text(Msg::ConstraintError, lang, &[("error", error)]),
                        // An evaluation error may quote the values it could not use.
                        without_answer: Some(messages::text(Msg::ConstraintUnchecked, lang, &[])),
                    }),
                }
            }
        }
        out
    }

    /// The first chosen value that the field's choice filter no longer offers: answered
    /// earlier, then an answer the filter reads changed (country → region).
    fn filtered_out_choice<'v>(
        &self,
        inst: InstId,
        node: NodeIdx,
        value: &'v str,
    ) -> Option<&'v str> {
        let kept = self.choices_kept(inst, node)?;
        let list = &self.form.lists[self.form.node(node).list?];
        let filtered_out = |part: &&str| {
            list.by_name
                .get(*part)
                .is_some_and(|&i| !kept.get(i).copied().unwrap_or(true))
        };
        // A select_one answer is one choice name, which may hold spaces.
        if self
            .form
            .field(node)
            .is_some_and(|f| f.kind == FieldType::SelectOne)
        {
            return Some(value).filter(filtered_out);
        }
        value.split_whitespace().find(filtered_out)
    }

    /// For a select with `choices_from`: the first chosen value no instance of the repeat
    /// offers now (renamed or removed since it was chosen, or filtered out).
    fn unoffered_repeat_choice<'v>(
        &self,
        inst: InstId,
        node: NodeIdx,
        value: &'v str,
    ) -> Option<&'v str> {
        let offered = self.repeat_choice_values(inst, node)?;
        let unoffered = |part: &&str| !offered.iter().any(|o| o == part);
        if self
            .form
            .field(node)
            .is_some_and(|f| f.kind == FieldType::SelectOne)
        {
            return Some(value).filter(unoffered);
        }
        value.split_whitespace().find(unoffered)
    }

    fn repeat_violation(&self, inst: InstId, node: NodeIdx, lang: &str) -> Option<Violation> {
        let n = self.form.node(node);
        let slot = &self.instances[inst].slots[n.slot];
        let ItemData::Repeat(repeat) = &n.item else {
            return None;
        };
        if !slot.relevant
            || n.count.is_some()
            || self.privacy_pending(inst, node)
            || self.matching_pending(inst, node)
        {
            return None;
        }
        let count = slot.instances.len();
        let count_text = count.to_string();
        let (msg, args) = match (repeat.min, repeat.max) {
            (Some(min), _) if count < min as usize => {
                (Msg::TooFewInstances, vec![("min", min.to_string())])
            }
            (_, Some(max)) if count > max as usize => {
                (Msg::TooManyInstances, vec![("max", max.to_string())])
            }
            _ => return None,
        };
        let mut args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        args.push(("count", &count_text));
        Some(Violation {
            path: self.path_of(inst, node),
            code: ViolationCode::RepeatCount,
            message: messages::text(msg, lang, &args),
            without_answer: None,
        })
    }
}
