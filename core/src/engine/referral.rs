//! Referral steps in a session: the respondent's area and needs, evaluated where the
//! step stands, for the shell to match against the project's directory
//! (`crate::referral::Directory::matching`), which the core never holds.

use crate::diagnostic::{Code, Diagnostic};
use crate::expr::{self, Expr};
use crate::form::{FieldType, Item};

use super::compile::NodeIdx;
use super::session::{InstId, Session};
use super::tree::Flat;
use super::view::{FrozenEnvironment, ReferralView};

/// A referral step as compiled: its area and needs expressions, and the choice list
/// that names the needs when `needs` is one select question's answer.
#[derive(Debug)]
pub(crate) struct CompiledReferral {
    pub area: Option<Expr>,
    pub needs: Option<Expr>,
    pub needs_list: Option<usize>,
}

impl Session {
    /// The area and needs of the referral step `node` in instance `inst`, as they are
    /// now. An expression that cannot be evaluated gives no area (so only services
    /// serving everywhere match) or no needs (every kind).
    pub(crate) fn referral_view(
        &self,
        inst: InstId,
        node: NodeIdx,
        lang: &str,
    ) -> Option<ReferralView> {
        let referral = self.form.referrals.get(&node)?;
        let eval = |e: &Expr| {
            expr::evaluate_string(e, &self.context(inst, node), &mut FrozenEnvironment)
                .unwrap_or_default()
        };
        let area = referral.area.as_ref().map(eval).unwrap_or_default();
        let needs: Vec<String> = referral
            .needs
            .as_ref()
            .map(eval)
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let default_lang = &self.form.form().default_language;
        let need_labels = referral
            .needs_list
            .map(|l| {
                self.form.lists[l]
                    .choices
                    .iter()
                    .map(|c| (c.name.clone(), c.label.get(lang, default_lang).to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Some(ReferralView {
            area: area.trim().to_owned(),
            needs,
            need_labels,
        })
    }
}

/// A referral step declares its area, has nothing computed in its place, and
/// `referral` parameters sit only on a referral step.
pub(super) fn check(flat: &[Flat<'_>], out: &mut Vec<Diagnostic>) {
    for f in flat {
        let Item::Field(field) = f.item else { continue };
        let ptr = &f.pointer;
        let is_referral = field.kind == FieldType::Referral;
        match (&field.referral, is_referral) {
            (None, true) => out.push(Diagnostic::error(
                Code::ReferralWithoutParams,
                ptr.clone(),
                format!(
                    "referral step `{}` needs \"referral\": {{\"area\": \"${{<area question>}}\"}}",
                    field.name
                ),
            )),
            (Some(_), false) => out.push(Diagnostic::warning(
                Code::ReferralWithoutParams,
                format!("{ptr}/referral"),
                format!(
                    "referral parameters only apply to `referral` steps; on a {} they are ignored",
                    field.kind.as_str()
                ),
            )),
            (Some(params), true) if params.area.trim().is_empty() => out.push(Diagnostic::error(
                Code::ReferralWithoutParams,
                format!("{ptr}/referral/area"),
                format!(
                    "referral step `{}` needs the respondent's area (e.g. \"${{district}}\")",
                    field.name
                ),
            )),
            _ => {}
        }
        if !is_referral {
            continue;
        }
        for (key, present) in [
            ("calculation", field.calculation.is_some()),
            ("default", field.default.is_some()),
            ("choices", field.choices.is_some()),
        ] {
            if present {
                out.push(Diagnostic::error(
                    Code::ReferralCalculated,
                    format!("{ptr}/{key}"),
                    format!(
                        "the answer of referral step `{}` is what the respondent chose among the services listed; remove its {key}",
                        field.name
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::super::{CompiledForm, ItemView, ReferralView, Session, ViolationCode};
    use crate::answer::AnswerPath;
    use crate::diagnostic::Code;
    use crate::env::FixedEnvironment;
    use crate::form::Form;
    use crate::referral::Directory;
    use crate::response::Response;

    fn form_json(referral: serde_json::Value) -> serde_json::Value {
        json!({
            "id": "ref", "version": "1", "title": "Services",
            "languages": [{"code": "en", "name": "English"}, {"code": "es", "name": "Español"}],
            "default_language": "en",
            "body": [
                {"type": "select_one", "name": "district", "choices": "districts", "label": "District"},
                {"type": "select_multiple", "name": "needs", "choices": "kinds", "label": "Needs"},
                {"type": "referral", "name": "referral", "required": true, "label": "Services",
                 "referral": referral}
            ],
            "choices": {
                "districts": [{"name": "north", "label": "North"}, {"name": "south", "label": "South"}],
                "kinds": [{"name": "health", "label": {"en": "Health care", "es": "Salud"}},
                          {"name": "gbv", "label": {"en": "Support", "es": "Apoyo"}}]
            }
        })
    }

    fn compile(
        form: serde_json::Value,
    ) -> Result<Arc<CompiledForm>, Vec<crate::diagnostic::Diagnostic>> {
        let form: Form = serde_json::from_value(form).unwrap();
        CompiledForm::compile(form).map(Arc::new)
    }

    fn session(form: Arc<CompiledForm>) -> (Session, FixedEnvironment) {
        let mut env = FixedEnvironment::new(
            chrono::DateTime::parse_from_rfc3339("2026-12-07T10:00:00+02:00").unwrap(),
            1,
        );
        let response = Response {
            id: "0193a0c4-0000-7000-8000-000000000001".into(),
            form_id: "ref".into(),
            form_version: "1".into(),
            answers: Default::default(),
            consent: None,
            privacy: Default::default(),
            selections: Default::default(),
            outcome: None,
        };
        (Session::new(form, response, &mut env).unwrap(), env)
    }

    fn p(text: &str) -> AnswerPath {
        text.parse().unwrap()
    }

    fn referral_view(s: &Session, lang: &str) -> ReferralView {
        s.view(lang)
            .pages
            .iter()
            .flat_map(|page| &page.items)
            .find_map(|i| match i {
                ItemView::Field(f) if f.name == "referral" => f.referral.clone(),
                _ => None,
            })
            .expect("the referral step's view")
    }

    #[test]
    fn the_step_reads_the_area_and_needs_and_lists_the_matching_services() {
        let form = compile(form_json(
            json!({"area": "${district}", "needs": "${needs}"}),
        ))
        .unwrap();
        let (mut s, mut env) = session(form);
        let before = referral_view(&s, "en");
        assert_eq!((before.area.as_str(), before.needs.len()), ("", 0));
        s.set_answer(&p("/district"), Some("north".into()), &mut env)
            .unwrap();
        s.set_answer(&p("/needs"), Some("health gbv".into()), &mut env)
            .unwrap();
        let view = referral_view(&s, "es");
        assert_eq!(view.area, "north");
        assert_eq!(view.needs, ["health", "gbv"]);
        assert_eq!(
            view.need_labels,
            [
                ("health".into(), "Salud".into()),
                ("gbv".into(), "Apoyo".into())
            ]
        );
        let directory = Directory::from_json(
            r#"{"services": [
              {"id": "hotline", "name": "Hotline", "kind": "gbv", "phone": "1190"},
              {"id": "south_clinic", "name": "South clinic", "kind": "health", "phone": "2", "areas": ["south"]},
              {"id": "north_clinic", "name": "North clinic", "kind": "health", "phone": "3", "areas": ["north"]},
              {"id": "north_legal", "name": "Legal aid", "kind": "legal", "phone": "4", "areas": ["north"]}
            ]}"#,
        )
        .unwrap();
        let needs: Vec<&str> = view.needs.iter().map(String::as_str).collect();
        let found: Vec<&str> = directory
            .matching(&view.area, &needs)
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(found, ["hotline", "north_clinic"]);

        // The choice is the answer: checked, then valid.
        assert!(s
            .validate("en")
            .iter()
            .any(|v| v.code == ViolationCode::Required));
        s.set_answer(&p("/referral"), Some("accepted".into()), &mut env)
            .unwrap();
        assert!(s
            .validate("en")
            .iter()
            .any(|v| v.code == ViolationCode::Type && v.message.contains("accepted or declined")));
        s.set_answer(
            &p("/referral"),
            Some("accepted hotline north_clinic".into()),
            &mut env,
        )
        .unwrap();
        assert!(s.validate("en").is_empty(), "{:?}", s.validate("en"));
        s.set_answer(&p("/referral"), Some("no_service".into()), &mut env)
            .unwrap();
        assert!(s.validate("en").is_empty());
    }

    #[test]
    fn needs_from_any_expression_have_no_labels_and_no_needs_means_every_kind() {
        let form = compile(form_json(json!({
            "area": "${district}",
            "needs": "if(selected(${needs}, 'gbv'), 'gbv legal', 'health')"
        })))
        .unwrap();
        let (mut s, mut env) = session(form);
        s.set_answer(&p("/needs"), Some("gbv".into()), &mut env)
            .unwrap();
        let view = referral_view(&s, "en");
        assert_eq!(view.needs, ["gbv", "legal"]);
        assert!(view.need_labels.is_empty());

        let form = compile(form_json(json!({"area": "'south'"}))).unwrap();
        let (s, _) = session(form);
        let view = referral_view(&s, "en");
        assert_eq!((view.area.as_str(), view.needs.len()), ("south", 0));
    }

    #[test]
    fn the_checker_names_what_a_referral_step_lacks() {
        let codes = |form: serde_json::Value| -> Vec<(Code, String)> {
            compile(form)
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|d| (d.code, d.pointer))
                .collect()
        };
        let mut missing = form_json(json!(null));
        missing["body"][2]
            .as_object_mut()
            .unwrap()
            .remove("referral");
        assert_eq!(
            codes(missing),
            [(Code::ReferralWithoutParams, "/body/2".to_owned())]
        );
        let mut computed = form_json(json!({"area": "${district}"}));
        computed["body"][2]["calculation"] = json!("'declined'");
        assert_eq!(
            codes(computed),
            [(Code::ReferralCalculated, "/body/2/calculation".to_owned())]
        );
        let unknown = form_json(json!({"area": "${distrct}", "needs": "${needs"}));
        let found = codes(unknown);
        assert!(
            found.contains(&(Code::UnknownReference, "/body/2/referral/area".to_owned())),
            "{found:?}"
        );
        assert!(
            found.iter().any(|(_, at)| at == "/body/2/referral/needs"),
            "{found:?}"
        );
        let empty = form_json(json!({"area": " "}));
        assert_eq!(
            codes(empty),
            [(
                Code::ReferralWithoutParams,
                "/body/2/referral/area".to_owned()
            )]
        );
    }
}
