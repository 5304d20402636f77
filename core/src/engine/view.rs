//! What the app renders: pages of visible questions with localized texts,
//! current values, filtered choices and violations, plus progress and a jump list.

use serde::Serialize;

use crate::env::Environment;
use crate::expr::{self, EvalContext, Value};
use crate::form::{ConsentRole, Direction, FieldType, Media, RangeParams, Text};
use crate::matching::MatchingOutcome;
use crate::response::PrivacyOutcome;
use crate::selection::SelectionMethod;

use super::compile::{ItemData, NodeIdx, NodeKind};
use super::session::{response_node, InstId, Session, Violation, ROOT_INST};
use crate::answer::AnswerPath;

/// The whole form as it stands, in one language.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormView {
    pub language: String,
    pub direction: Direction,
    pub title: String,
    pub pages: Vec<PageView>,
    pub progress: Progress,
    /// One entry per page, for the "go to" list.
    pub jump_list: Vec<JumpEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PageKind {
    /// Questions (a group page, a run of top-level questions, or one repeat instance).
    Questions,
    /// The informed-consent statement and question.
    Consent,
    /// Before a privacy-checked group: ask whether the respondent can answer privately.
    PrivacyCheck,
    /// Before a group with a `match` rule that has no record opening it: the shell
    /// checks the rule (`Session::check_matching`); when it is not met, the enumerator
    /// hands the section over (`Session::hand_over`) or skips it (`Session::skip_matching`).
    MatchCheck,
    /// After a repeat's instances: add or remove instances.
    RepeatControls,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageView {
    pub kind: PageKind,
    pub title: Option<String>,
    pub hint: Option<String>,
    /// The group, repeat or repeat instance the page belongs to (`None`: top level).
    pub path: Option<AnswerPath>,
    /// The page (or an enclosing group) is a sensitive topic: hide it from summaries.
    pub sensitive: bool,
    pub items: Vec<ItemView>,
    /// For [`PageKind::PrivacyCheck`]: what to ask the enumerator.
    pub privacy_prompt: Option<String>,
    /// For [`PageKind::PrivacyCheck`]: `interrupted` when resuming.
    pub privacy_outcome: Option<PrivacyOutcome>,
    /// For [`PageKind::MatchCheck`]: `skipped` when the section was skipped,
    /// `hand_over_refused` when the last colleague offered it did not meet the rule.
    pub matching_outcome: Option<MatchingOutcome>,
    /// For [`PageKind::MatchCheck`]: what the rule reads of an enumerator (`sex`,
    /// `languages`, `area`), so a hand-over asks the colleague for those.
    pub matching_keys: Vec<&'static str>,
    pub consent: Option<ConsentView>,
    pub repeat: Option<RepeatControls>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "item", rename_all = "snake_case")]
pub enum ItemView {
    Field(Box<FieldView>),
    /// The heading of a group shown inline (`page: false`).
    Heading {
        path: AnswerPath,
        label: Option<String>,
        hint: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldView {
    pub path: AnswerPath,
    pub name: String,
    pub kind: FieldType,
    pub label: Option<String>,
    pub hint: Option<String>,
    pub guidance: Option<String>,
    pub required: bool,
    pub read_only: bool,
    pub value: Option<String>,
    /// For selects: the choices left after the filter, labels localized.
    pub choices: Option<Vec<ChoiceView>>,
    pub appearance: Option<String>,
    pub range: Option<RangeParams>,
    pub media: Option<MediaView>,
    pub pii: bool,
    pub sensitive: bool,
    pub violations: Vec<Violation>,
    /// For a `respondent_selection`: the roster now, and the draw once made.
    pub selection: Option<SelectionView>,
    /// For a `referral` step: the respondent's area and needs now.
    pub referral: Option<ReferralView>,
}

/// What a referral step matches the directory with, evaluated where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferralView {
    /// The respondent's area (trimmed; empty when the area question is unanswered).
    pub area: String,
    /// The kinds of service needed (none: every kind).
    pub needs: Vec<String>,
    /// Each kind's label in the interview's language, when `needs` is one select's answer.
    pub need_labels: Vec<(String, String)>,
}

/// A respondent selection as the enumerator sees it: how many are on the roster and
/// eligible before the draw, who was drawn after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SelectionView {
    pub method: SelectionMethod,
    /// Members on the roster now.
    pub roster_size: u32,
    /// Members eligible now.
    pub eligible: u32,
    /// The drawn member's instance number (`None`: not drawn yet).
    pub selected: Option<u32>,
    /// The roster instance of the drawn member (`/members[3]`).
    pub selected_path: Option<AnswerPath>,
    /// The Kish table that was drawn (`kish` only).
    pub kish_table: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChoiceView {
    pub name: String,
    pub label: String,
    pub media: Option<MediaView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaView {
    pub image: Option<String>,
    pub audio: Option<String>,
    pub video: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentView {
    pub path: AnswerPath,
    pub label: Option<String>,
    pub text: String,
    pub question: Option<String>,
    pub agree_label: Option<String>,
    pub decline_label: Option<String>,
    pub decline_message: Option<String>,
    pub text_version: String,
    /// `yes`, `no` or unanswered.
    pub value: Option<String>,
    /// A minor's assent (after the guardian's consent) rather than the consent itself.
    pub assent: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepeatControls {
    pub path: AnswerPath,
    pub label: Option<String>,
    pub add_label: Option<String>,
    pub count: usize,
    pub min: Option<u32>,
    pub max: Option<u32>,
    pub can_add: bool,
    pub can_remove: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Progress {
    /// Visible questions (notes and calculated fields excluded).
    pub questions: usize,
    pub answered: usize,
    pub required: usize,
    pub required_answered: usize,
    /// Answered visible questions whose answer has a violation (type or constraint).
    pub invalid: usize,
    /// `answered / questions` in 0..=1 (1 when there are none).
    pub fraction: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JumpEntry {
    pub page: usize,
    pub kind: PageKind,
    pub title: Option<String>,
    pub sensitive: bool,
    pub questions: usize,
    pub answered: usize,
    pub invalid: usize,
}

struct Builder<'a> {
    s: &'a Session,
    lang: &'a str,
    default_lang: &'a str,
    pages: Vec<PageView>,
}

fn empty_page(kind: PageKind) -> PageView {
    PageView {
        kind,
        title: None,
        hint: None,
        path: None,
        sensitive: false,
        items: Vec::new(),
        privacy_prompt: None,
        privacy_outcome: None,
        matching_outcome: None,
        matching_keys: Vec::new(),
        consent: None,
        repeat: None,
    }
}

/// Template for pages that hold loose questions of one container.
#[derive(Clone)]
struct Container {
    title: Option<String>,
    hint: Option<String>,
    path: Option<AnswerPath>,
    sensitive: bool,
}

impl Session {
    /// The visible form in `lang`, page by page.
    pub fn view(&self, lang: &str) -> FormView {
        let form = self.form.form();
        let mut b = Builder {
            s: self,
            lang,
            default_lang: &form.default_language,
            pages: Vec::new(),
        };
        let top = Container {
            title: None,
            hint: None,
            path: None,
            sensitive: false,
        };
        let mut loose = None;
        b.walk(ROOT_INST, super::compile::ROOT, &top, &mut loose);
        b.flush(&mut loose);
        let pages = b.pages;
        let mut progress = Progress {
            questions: 0,
            answered: 0,
            required: 0,
            required_answered: 0,
            invalid: 0,
            fraction: 1.0,
        };
        let mut jump_list = Vec::with_capacity(pages.len());
        for (i, page) in pages.iter().enumerate() {
            let (mut questions, mut answered, mut invalid) = (0, 0, 0);
            for item in &page.items {
                let ItemView::Field(f) = item else { continue };
                if matches!(f.kind, FieldType::Note) {
                    continue;
                }
                questions += 1;
                answered += usize::from(f.value.is_some());
                invalid += usize::from(f.value.is_some() && !f.violations.is_empty());
                if f.required {
                    progress.required += 1;
                    progress.required_answered += usize::from(f.value.is_some());
                }
            }
            progress.questions += questions;
            progress.answered += answered;
            progress.invalid += invalid;
            jump_list.push(JumpEntry {
                page: i,
                kind: page.kind,
                title: page.title.clone(),
                sensitive: page.sensitive,
                questions,
                answered,
                invalid,
            });
        }
        if progress.questions > 0 {
            progress.fraction = progress.answered as f64 / progress.questions as f64;
        }
        FormView {
            language: lang.to_owned(),
            direction: form
                .language(lang)
                .or_else(|| form.language(&form.default_language))
                .map_or(Direction::Ltr, |l| l.direction),
            title: form.title.get(lang, &form.default_language).to_owned(),
            pages,
            progress,
            jump_list,
        }
    }

    /// `text` in `lang` with `${name}` replaced by answers seen from the node.
    pub(crate) fn localize(&self, text: &Text, lang: &str, inst: InstId, node: NodeIdx) -> String {
        let raw = text.get(lang, &self.form.form().default_language);
        if !raw.contains("${") {
            return raw.to_owned();
        }
        let ctx = self.context(inst, node);
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = &after[..end];
            let mut nodes = Vec::new();
            if ctx.resolve_reference(name, ctx.context_node(), &mut nodes) {
                let values: Vec<String> = nodes
                    .iter()
                    .map(|&n| ctx.value(n).into_owned())
                    .filter(|v| !v.is_empty())
                    .collect();
                out.push_str(&values.join(", "));
            } else {
                out.push_str(&rest[start..start + 3 + end]);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    /// Which choices of a select field's list its filter keeps (`None`: no filter).
    pub(crate) fn choices_kept(&self, inst: InstId, node: NodeIdx) -> Option<Vec<bool>> {
        let form = &self.form;
        let n = form.node(node);
        let list = &form.lists[n.list?];
        let filter = n.choice_filter.as_ref()?;
        // The filter reads answers only; a private throwaway environment suffices,
        // since randomness or the clock in a filter would make choices flicker.
        let mut env = FrozenEnvironment;
        let ctx = self.context(inst, node);
        Some(match expr::evaluate(filter, &ctx, &mut env) {
            Ok(Value::Nodes(items)) => {
                let mut keep = vec![false; list.choices.len()];
                for item in items {
                    if let Some(pos) = ctx.position(item) {
                        if let Some(k) = keep.get_mut(pos - 1) {
                            *k = true;
                        }
                    }
                }
                keep
            }
            _ => vec![true; list.choices.len()],
        })
    }

    /// For a select with `choices_from`: the answers its repeat's instances offer (those
    /// the filter keeps, in instance order, each once; unanswered instances offer none).
    pub(crate) fn repeat_choice_values(&self, inst: InstId, node: NodeIdx) -> Option<Vec<String>> {
        let form = &self.form;
        let source = form.node(node).repeat_choices.as_ref()?;
        let field = form.node(source.field);
        let mut env = FrozenEnvironment;
        let ctx = self.context(inst, node);
        let Ok(Value::Nodes(instances)) = expr::evaluate(&source.itemset, &ctx, &mut env) else {
            return Some(Vec::new());
        };
        let mut seen = crate::collections::Set::default();
        let mut values = Vec::new();
        for id in instances {
            let Some((j, _)) = response_node(id) else {
                continue;
            };
            let Some(instance) = self.instances.get(j).filter(|i| i.scope == field.scope) else {
                continue;
            };
            if let Some(value) = instance.slots[field.slot].value.as_deref() {
                if seen.insert(value) {
                    values.push(value.to_owned());
                }
            }
        }
        Some(values)
    }

    /// The choices of a select field left by its filter.
    fn visible_choices(&self, inst: InstId, node: NodeIdx, lang: &str) -> Option<Vec<ChoiceView>> {
        if let Some(values) = self.repeat_choice_values(inst, node) {
            return Some(
                values
                    .into_iter()
                    .map(|value| ChoiceView {
                        label: value.clone(),
                        name: value,
                        media: None,
                    })
                    .collect(),
            );
        }
        let form = &self.form;
        let n = form.node(node);
        let list = &form.lists[n.list?];
        let default_lang = &form.form().default_language;
        let keep = self.choices_kept(inst, node);
        Some(
            list.choices
                .iter()
                .enumerate()
                .filter(|(i, _)| keep.as_ref().is_none_or(|k| k[*i]))
                .map(|(_, c)| ChoiceView {
                    name: c.name.clone(),
                    label: c.label.get(lang, default_lang).to_owned(),
                    media: media_view(c.media.as_ref(), lang, default_lang),
                })
                .collect(),
        )
    }
}

fn media_view(media: Option<&Media>, lang: &str, default_lang: &str) -> Option<MediaView> {
    let m = media?;
    let get = |t: &Option<Text>| t.as_ref().map(|t| t.get(lang, default_lang).to_owned());
    Some(MediaView {
        image: get(&m.image),
        audio: get(&m.audio),
        video: get(&m.video),
    })
}

/// An environment for view-time evaluation (choice filters): the epoch and no randomness.
pub(crate) struct FrozenEnvironment;

impl Environment for FrozenEnvironment {
    fn now(&self) -> chrono::DateTime<chrono::FixedOffset> {
        chrono::DateTime::UNIX_EPOCH.fixed_offset()
    }
    fn random(&mut self) -> f64 {
        0.0
    }
    fn random_bytes(&mut self) -> [u8; 16] {
        [0; 16]
    }
}

impl Builder<'_> {
    fn text(&self, t: &Option<Text>, inst: InstId, node: NodeIdx) -> Option<String> {
        t.as_ref()
            .map(|t| self.s.localize(t, self.lang, inst, node))
    }

    fn flush(&mut self, loose: &mut Option<PageView>) {
        if let Some(page) = loose.take() {
            if !page.items.is_empty() {
                self.pages.push(page);
            }
        }
    }

    fn loose_page<'p>(loose: &'p mut Option<PageView>, container: &Container) -> &'p mut PageView {
        loose.get_or_insert_with(|| PageView {
            title: container.title.clone(),
            hint: container.hint.clone(),
            path: container.path.clone(),
            sensitive: container.sensitive,
            ..empty_page(PageKind::Questions)
        })
    }

    fn walk(
        &mut self,
        inst: InstId,
        parent: NodeIdx,
        container: &Container,
        loose: &mut Option<PageView>,
    ) {
        let s = self.s;
        let form = &s.form;
        for &c in &form.node(parent).children {
            let n = form.node(c);
            let slot = s.slot(inst, c);
            if !slot.relevant {
                continue;
            }
            match (&n.item, n.kind) {
                (ItemData::Field(_), NodeKind::Field(kind)) => {
                    if !kind.is_shown_question() {
                        continue;
                    }
                    let Some(field) = form.field(c) else { continue };
                    let view = FieldView {
                        path: s.path_of(inst, c),
                        name: n.name.clone(),
                        kind,
                        label: self.text(&field.label, inst, c),
                        hint: self.text(&field.hint, inst, c),
                        guidance: self.text(&field.guidance, inst, c),
                        required: slot.required,
                        read_only: slot.read_only || field.calculation.is_some(),
                        value: slot.value.clone(),
                        choices: s.visible_choices(inst, c, self.lang),
                        appearance: field.appearance.clone(),
                        range: field.range.clone(),
                        media: media_view(field.media.as_ref(), self.lang, self.default_lang),
                        pii: field.pii,
                        sensitive: n.sensitive,
                        violations: s.field_violations(inst, c, self.lang),
                        selection: s.selection_view(inst, c),
                        referral: s.referral_view(inst, c, self.lang),
                    };
                    Self::loose_page(loose, container)
                        .items
                        .push(ItemView::Field(Box::new(view)));
                }
                (ItemData::Consent(block), _) => {
                    self.flush(loose);
                    let path = s.path_of(inst, c);
                    self.pages.push(PageView {
                        title: self.text(&block.label, inst, c),
                        path: Some(path.clone()),
                        consent: Some(ConsentView {
                            path,
                            label: self.text(&block.label, inst, c),
                            text: s.localize(&block.text, self.lang, inst, c),
                            question: self.text(&block.question, inst, c),
                            agree_label: self.text(&block.agree_label, inst, c),
                            decline_label: self.text(&block.decline_label, inst, c),
                            decline_message: self.text(&block.decline_message, inst, c),
                            text_version: block.text_version.clone(),
                            value: slot.value.clone(),
                            assent: block.role == ConsentRole::Assent,
                        }),
                        ..empty_page(PageKind::Consent)
                    });
                }
                (ItemData::Group(group), _) => {
                    let path = s.path_of(inst, c);
                    let inner = Container {
                        title: self.text(&group.label, inst, c),
                        hint: self.text(&group.hint, inst, c),
                        path: Some(path.clone()),
                        sensitive: n.sensitive,
                    };
                    // Who interviews comes first: the privacy check is the matched
                    // enumerator's.
                    if n.match_rule.is_some() && !self.matching_ready(&path, &inner, loose) {
                        continue;
                    }
                    if n.privacy_check
                        && !self.privacy_ready(
                            &path,
                            group.privacy_prompt.as_ref(),
                            inst,
                            c,
                            &inner,
                            loose,
                        )
                    {
                        continue;
                    }
                    if n.page || n.privacy_check || n.match_rule.is_some() {
                        self.flush(loose);
                        let mut own = None;
                        self.walk(inst, c, &inner, &mut own);
                        self.flush(&mut own);
                    } else {
                        Self::loose_page(loose, container)
                            .items
                            .push(ItemView::Heading {
                                path,
                                label: inner.title.clone(),
                                hint: inner.hint.clone(),
                            });
                        self.walk(inst, c, container, loose);
                    }
                }
                (ItemData::Repeat(repeat), _) => {
                    let path = s.path_of(inst, c);
                    let label = self.text(&repeat.label, inst, c);
                    let probe = Container {
                        title: label.clone(),
                        hint: self.text(&repeat.hint, inst, c),
                        path: Some(path.clone()),
                        sensitive: n.sensitive,
                    };
                    if n.privacy_check
                        && !self.privacy_ready(
                            &path,
                            repeat.privacy_prompt.as_ref(),
                            inst,
                            c,
                            &probe,
                            loose,
                        )
                    {
                        continue;
                    }
                    self.flush(loose);
                    let instances = slot.instances.clone();
                    for (k, &j) in instances.iter().enumerate() {
                        let inner = Container {
                            title: Some(match &label {
                                Some(l) => format!("{l} ({})", k + 1),
                                None => format!("{} ({})", n.name, k + 1),
                            }),
                            hint: probe.hint.clone(),
                            path: Some(s.instance_path(j)),
                            sensitive: n.sensitive,
                        };
                        let mut own = None;
                        self.walk(j, c, &inner, &mut own);
                        self.flush(&mut own);
                    }
                    if n.count.is_none() {
                        let count = instances.len();
                        self.pages.push(PageView {
                            title: label.clone(),
                            path: Some(path.clone()),
                            sensitive: n.sensitive,
                            repeat: Some(RepeatControls {
                                path,
                                label,
                                add_label: self.text(&repeat.add_label, inst, c),
                                count,
                                min: repeat.min,
                                max: repeat.max,
                                can_add: repeat.max.is_none_or(|m| count < m as usize),
                                can_remove: count > repeat.min.unwrap_or(0) as usize,
                            }),
                            ..empty_page(PageKind::RepeatControls)
                        });
                    }
                }
                _ => {}
            }
        }
    }

    /// For a group with a `match` rule: push the check page unless a record opens it.
    fn matching_ready(
        &mut self,
        path: &AnswerPath,
        inner: &Container,
        loose: &mut Option<PageView>,
    ) -> bool {
        let outcome = self.s.matching_record(path).map(|r| r.outcome);
        if outcome.is_some_and(MatchingOutcome::opens) {
            return true;
        }
        self.flush(loose);
        self.pages.push(PageView {
            title: inner.title.clone(),
            path: Some(path.clone()),
            sensitive: inner.sensitive,
            matching_outcome: outcome,
            matching_keys: self.s.matching_keys(path).unwrap_or_default(),
            ..empty_page(PageKind::MatchCheck)
        });
        false
    }

    /// For a privacy-checked group: push the check page unless the outcome is `private`.
    fn privacy_ready(
        &mut self,
        path: &AnswerPath,
        prompt: Option<&Text>,
        inst: InstId,
        node: NodeIdx,
        inner: &Container,
        loose: &mut Option<PageView>,
    ) -> bool {
        let outcome = self.s.privacy_outcome(path);
        if outcome == Some(PrivacyOutcome::Private) {
            return true;
        }
        self.flush(loose);
        self.pages.push(PageView {
            title: inner.title.clone(),
            path: Some(path.clone()),
            sensitive: inner.sensitive,
            privacy_prompt: Some(match prompt {
                Some(t) => self.s.localize(t, self.lang, inst, node),
                None => default_privacy_prompt(self.lang).to_owned(),
            }),
            privacy_outcome: outcome,
            ..empty_page(PageKind::PrivacyCheck)
        });
        false
    }
}

fn default_privacy_prompt(lang: &str) -> &'static str {
    match lang.split(['-', '_']).next().unwrap_or("") {
        "ar" => "هل يمكن للمستجيب الإجابة على انفراد الآن، دون أن يسمعه أحد؟",
        "uk" => "Чи може респондент зараз відповідати наодинці, так щоб ніхто не чув?",
        "es" => "¿Puede la persona responder ahora en privado, sin que nadie la oiga?",
        _ => "Can the respondent answer in private now, with no one else listening?",
    }
}
