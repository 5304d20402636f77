//! Respondent selection in a session: who on the roster is eligible, the draw (once,
//! from a seed the shell supplies), and the checks a response's draws must pass.

use crate::env::Environment;
use crate::expr;
use crate::form::FieldType;
use crate::response::SelectionRecord;
use crate::selection::{self as draws, SelectionMethod};

use super::compile::{NodeIdx, NodeKind};
use super::messages::{self, Msg};
use super::session::{Changes, InstId, Session, Violation, ViolationCode};
use super::view::{FrozenEnvironment, SelectionView};
use super::{EngineError, Result};
use crate::answer::AnswerPath;

/// A selection field as compiled: its roster and eligibility.
#[derive(Debug)]
pub(crate) struct CompiledSelection {
    pub roster: NodeIdx,
    /// Evaluated in each roster instance; `None`: everyone is eligible.
    pub eligible: Option<expr::Expr>,
    pub method: SelectionMethod,
}

/// Who could be drawn now, as the view shows it before the draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidates {
    pub roster_size: u32,
    /// Instance numbers (1-based) of the eligible members, in roster order.
    pub eligible: Vec<u32>,
}

impl Session {
    /// The roster of the selection field `node` in instance `inst`, and who on it is
    /// eligible now. A member is eligible when the expression is true in their instance
    /// (an expression that cannot be evaluated there makes nobody eligible rather than
    /// everybody).
    pub(crate) fn selection_candidates(&self, inst: InstId, node: NodeIdx) -> Option<Candidates> {
        let selection = self.form.selection(node)?;
        let roster = self.form.node(selection.roster);
        let members = &self.instances[inst].slots[roster.slot].instances;
        // Expressions about a member are read from inside the member's instance, so
        // `${member_age}` is that member's age.
        let context = roster.children.first().copied();
        let mut eligible = Vec::new();
        for (i, &member) in members.iter().enumerate() {
            let keep = match (&selection.eligible, context) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(e), Some(at)) => {
                    expr::evaluate_boolean(e, &self.context(member, at), &mut FrozenEnvironment)
                        .unwrap_or(false)
                }
            };
            if keep {
                eligible.push(i as u32 + 1);
            }
        }
        Some(Candidates {
            roster_size: members.len() as u32,
            eligible,
        })
    }

    /// Draw the respondent of the selection field at `path` from `seed` (the shell's
    /// random source) and record the draw with what is needed to repeat it. Refused
    /// once a draw is recorded: the person shown is the person interviewed.
    pub fn draw_selection(
        &mut self,
        path: &AnswerPath,
        seed: u64,
        env: &mut dyn Environment,
    ) -> Result<Changes> {
        let (inst, node) = self.locate(path)?;
        let n = self.form.node(node);
        if n.kind != NodeKind::Field(FieldType::RespondentSelection) {
            return Err(EngineError::NotASelection(path.to_string()));
        }
        let key = self.path_of(inst, node);
        if self.selections.contains_key(&key) || self.slot(inst, node).value.is_some() {
            return Err(EngineError::AlreadyDrawn(path.to_string()));
        }
        if !self.slot(inst, node).relevant {
            return Err(EngineError::NotRelevant(path.to_string()));
        }
        let (Some(selection), Some(candidates)) = (
            self.form.selection(node),
            self.selection_candidates(inst, node),
        ) else {
            return Err(EngineError::NotASelection(path.to_string()));
        };
        let method = selection.method;
        let Some(drawn) = draws::draw(method, seed, &candidates.eligible) else {
            return Err(EngineError::NobodyEligible(path.to_string()));
        };
        self.selections.insert(
            key,
            SelectionRecord {
                method,
                seed: draws::seed_text(seed),
                roster_size: candidates.roster_size,
                eligible: candidates.eligible,
                selected: drawn.selected,
                kish_table: drawn.kish_table,
                at: env.now().to_rfc3339(),
            },
        );
        self.response.take();
        self.assign(inst, node, Some(drawn.selected.to_string()), env)
    }

    /// The view of the selection field `node` in `inst` (`None` for other fields).
    pub(crate) fn selection_view(&self, inst: InstId, node: NodeIdx) -> Option<SelectionView> {
        let selection = self.form.selection(node)?;
        let candidates = self.selection_candidates(inst, node)?;
        let record = self.selections.get(&self.path_of(inst, node));
        let instance_path = self.instance_path(inst);
        let roster = &self.form.node(selection.roster).name;
        Some(SelectionView {
            method: selection.method,
            roster_size: candidates.roster_size,
            eligible: candidates.eligible.len() as u32,
            selected: record.map(|r| r.selected),
            selected_path: record.map(|r| instance_path.child(roster, Some(r.selected as usize))),
            kish_table: record
                .and_then(|r| r.kish_table)
                .map(|t| t.as_str().to_owned()),
        })
    }

    /// Whether a respondent was drawn from `roster` as held by instance `holder`.
    pub(crate) fn roster_drawn(&self, holder: InstId, roster: NodeIdx) -> bool {
        self.form.selections.iter().any(|(&field, s)| {
            s.roster == roster && self.selections.contains_key(&self.path_of(holder, field))
        })
    }

    /// The draw recorded for a selection field (`/selected`).
    pub fn selection(&self, path: &AnswerPath) -> Option<&SelectionRecord> {
        self.selections.get(path)
    }

    /// What is wrong with a drawn selection field: an answer no recorded draw gives,
    /// or a person drawn who is no longer on the roster.
    pub(crate) fn selection_violation(
        &self,
        inst: InstId,
        node: NodeIdx,
        lang: &str,
    ) -> Option<Violation> {
        let slot = self.slot(inst, node);
        let value = slot.value.as_deref().filter(|_| slot.relevant)?;
        let path = self.path_of(inst, node);
        let violation = |msg, args: &[(&str, &str)]| Violation {
            path: path.clone(),
            code: ViolationCode::Selection,
            message: messages::text(msg, lang, args),
            // The only value quoted is a roster number, never an answer of the respondent.
            without_answer: None,
        };
        let record = self.selections.get(&path);
        let drawn = record.filter(|r| r.reproduces() && r.selected.to_string() == value);
        let Some(record) = drawn else {
            return Some(violation(Msg::SelectionUnrecorded, &[]));
        };
        let roster_size = self
            .selection_candidates(inst, node)
            .map_or(0, |c| c.roster_size);
        (record.selected > roster_size).then(|| {
            violation(
                Msg::SelectionGone,
                &[("number", &record.selected.to_string())],
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::super::{validate_response, CompiledForm, EngineError, Session, ViolationCode};
    use crate::answer::AnswerPath;
    use crate::diagnostic::Code;
    use crate::env::FixedEnvironment;
    use crate::form::Form;
    use crate::response::Response;
    use crate::selection::SelectionMethod;

    fn form_json(method: &str, eligible: &str) -> serde_json::Value {
        json!({
            "id": "roster", "version": "1", "title": "Household",
            "languages": [{"code": "en", "name": "English"}], "default_language": "en",
            "body": [
                {"type": "repeat", "name": "members", "label": "Member", "body": [
                    {"type": "text", "name": "member_name", "pii": true, "label": "Name"},
                    {"type": "select_one", "name": "member_sex", "choices": "sex", "label": "Sex"},
                    {"type": "integer", "name": "member_age", "label": "Age"}
                ]},
                {"type": "respondent_selection", "name": "selected", "required": true, "label": "Draw",
                 "selection": {"roster": "members", "method": method, "eligible": eligible}},
                {"type": "calculate", "name": "selected_name",
                 "calculation": "indexed-repeat(${member_name}, ${members}, ${selected})"},
                {"type": "note", "name": "ask", "label": "Ask for ${selected_name} alone."}
            ],
            "choices": {"sex": [{"name": "female", "label": "Female"}, {"name": "male", "label": "Male"}]}
        })
    }

    fn compile(form: serde_json::Value) -> Arc<CompiledForm> {
        let form: Form = serde_json::from_value(form).unwrap();
        Arc::new(CompiledForm::compile(form).unwrap_or_else(|d| panic!("{d:#?}")))
    }

    fn env() -> FixedEnvironment {
        FixedEnvironment::new(
            chrono::DateTime::parse_from_rfc3339("2026-12-07T10:00:00+02:00").unwrap(),
            1,
        )
    }

    fn p(text: &str) -> AnswerPath {
        text.parse().unwrap()
    }

    /// A household of Ana (f, 30), Ben (m, 40), Cleo (f, 12), Dina (f, 45).
    fn household(method: &str) -> (Session, FixedEnvironment) {
        let form = compile(form_json(
            method,
            "${member_sex} = 'female' and ${member_age} >= 15 and ${member_age} <= 49",
        ));
        let mut env = env();
        let response = Response {
            id: "0193a0c4-0000-7000-8000-000000000001".into(),
            form_id: "roster".into(),
            form_version: "1".into(),
            answers: Default::default(),
            consent: None,
            privacy: Default::default(),
            selections: Default::default(),
            matching: Default::default(),
            outcome: None,
        };
        let mut s = Session::new(form, response, &mut env).unwrap();
        let people = [
            ("Ana", "female", "30"),
            ("Ben", "male", "40"),
            ("Cleo", "female", "12"),
            ("Dina", "female", "45"),
        ];
        for (i, (name, sex, age)) in people.iter().enumerate() {
            s.add_repeat_instance(&p("/members"), &mut env).unwrap();
            let at = |field: &str| p(&format!("/members[{}]/{field}", i + 1));
            s.set_answer(&at("member_name"), Some((*name).into()), &mut env)
                .unwrap();
            s.set_answer(&at("member_sex"), Some((*sex).into()), &mut env)
                .unwrap();
            s.set_answer(&at("member_age"), Some((*age).into()), &mut env)
                .unwrap();
        }
        (s, env)
    }

    #[test]
    fn the_draw_picks_an_eligible_member_records_it_and_later_labels_name_them() {
        let (mut s, mut env) = household("uniform");
        let field = p("/selected");
        let view = s.view("en");
        let before = view
            .pages
            .iter()
            .flat_map(|page| &page.items)
            .find_map(|i| match i {
                super::super::ItemView::Field(f) if f.name == "selected" => f.selection.clone(),
                _ => None,
            })
            .expect("the selection's view");
        assert_eq!(
            (before.roster_size, before.eligible, before.selected),
            (4, 2, None)
        );

        s.draw_selection(&field, 0xfeed, &mut env).unwrap();
        let record = s.selection(&field).unwrap().clone();
        assert_eq!(record.method, SelectionMethod::Uniform);
        assert_eq!(record.seed, "000000000000feed");
        assert_eq!(record.roster_size, 4);
        assert_eq!(
            record.eligible,
            vec![1, 4],
            "Ana and Dina; not Ben, not Cleo"
        );
        assert!(record.reproduces());
        let selected = record.selected.to_string();
        let response = s.response().clone();
        assert_eq!(
            response.answers.0.get("selected"),
            Some(&crate::response::Answer::Value(selected.clone()))
        );
        assert_eq!(response.selections.get(&field), Some(&record));
        let name = if record.selected == 1 { "Ana" } else { "Dina" };
        let text = serde_json::to_string(&s.view("en")).unwrap();
        assert!(text.contains(&format!("Ask for {name} alone.")), "{text}");
        assert!(s.validate("en").is_empty(), "{:?}", s.validate("en"));
        // The server's check of the whole response passes too.
        let mut env2 = env.clone();
        assert!(validate_response(s.form(), &response, "en", &mut env2).is_empty());
    }

    #[test]
    fn a_draw_cannot_be_made_again_typed_or_undone_by_editing_the_roster() {
        let (mut s, mut env) = household("uniform");
        let field = p("/selected");
        s.draw_selection(&field, 7, &mut env).unwrap();
        let first = s.selection(&field).cloned();
        assert_eq!(
            s.draw_selection(&field, 8, &mut env),
            Err(EngineError::AlreadyDrawn("/selected".into()))
        );
        assert!(matches!(
            s.set_answer(&field, Some("2".into()), &mut env),
            Err(EngineError::NotAnswerable { .. })
        ));
        assert!(matches!(
            s.remove_repeat_instance(&p("/members[1]"), &mut env),
            Err(EngineError::RosterDrawn(_))
        ));
        assert_eq!(s.selection(&field).cloned(), first);
    }

    #[test]
    fn answers_no_recorded_draw_gives_are_violations() {
        let (mut s, mut env) = household("uniform");
        let field = p("/selected");
        s.draw_selection(&field, 7, &mut env).unwrap();
        let good = s.response().clone();
        let selected = good.selections[&field].selected;
        let other = if selected == 1 { 4 } else { 1 };

        let mut typed = good.clone();
        typed.selections.clear();
        let mut tampered = good.clone();
        tampered.answers.0.insert(
            "selected".into(),
            crate::response::Answer::Value(other.to_string()),
        );
        let mut reseeded = good.clone();
        reseeded.selections.get_mut(&field).unwrap().selected = other;
        reseeded.answers.0.insert(
            "selected".into(),
            crate::response::Answer::Value(other.to_string()),
        );
        for bad in [typed, tampered, reseeded] {
            let violations = validate_response(s.form(), &bad, "en", &mut env);
            assert!(
                violations
                    .iter()
                    .any(|v| v.code == ViolationCode::Selection && v.path == field),
                "{violations:?}"
            );
        }
    }

    #[test]
    fn nobody_eligible_means_no_draw_and_kish_records_its_table() {
        let form = compile(form_json("kish", "${member_age} >= 100"));
        let mut env = env();
        let response = Response {
            id: "0193a0c4-0000-7000-8000-000000000002".into(),
            form_id: "roster".into(),
            form_version: "1".into(),
            answers: Default::default(),
            consent: None,
            privacy: Default::default(),
            selections: Default::default(),
            matching: Default::default(),
            outcome: None,
        };
        let mut s = Session::new(form, response, &mut env).unwrap();
        s.add_repeat_instance(&p("/members"), &mut env).unwrap();
        assert_eq!(
            s.draw_selection(&p("/selected"), 1, &mut env),
            Err(EngineError::NobodyEligible("/selected".into()))
        );
        assert!(s.selection(&p("/selected")).is_none());

        let (mut s, mut env) = household("kish");
        s.draw_selection(&p("/selected"), 99, &mut env).unwrap();
        let record = s.selection(&p("/selected")).unwrap();
        let table = record.kish_table.expect("a Kish table");
        let person = table.person(2).unwrap();
        assert_eq!(record.selected, [1, 4][person - 1]);
    }

    #[test]
    fn a_bad_roster_or_eligibility_is_reported_where_it_is_written() {
        let mut form = form_json("uniform", "${member_agee} >= 15");
        let diagnostics =
            CompiledForm::compile(serde_json::from_value(form.clone()).unwrap()).unwrap_err();
        assert!(
            diagnostics
                .iter()
                .any(|d| d.code == Code::UnknownReference
                    && d.pointer == "/body/1/selection/eligible"),
            "{diagnostics:#?}"
        );
        form["body"][1]["selection"]["roster"] = json!("member");
        form["body"][1]["calculation"] = json!("1");
        let diagnostics = CompiledForm::compile(serde_json::from_value(form).unwrap()).unwrap_err();
        assert!(
            diagnostics
                .iter()
                .any(|d| d.code == Code::InvalidRoster && d.message.contains("members")),
            "{diagnostics:#?}"
        );
        assert!(
            diagnostics
                .iter()
                .any(|d| d.code == Code::SelectionCalculated && d.pointer == "/body/1/calculation"),
            "{diagnostics:#?}"
        );
    }
}
