//! What the UI shows: a form cut into pages, each field with its label in the chosen
//! language, its current value and what is wrong with it. Built from the form and
//! the response; nothing here touches the store.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use voices_core::form::{Direction, Field, FieldType, Form, Item, PrivacyRequirement, Text};
use voices_core::response::{Answer, Answers, PrivacyOutcome, Response};

use crate::paths::AnswerPath;

/// A language the form offers.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct LanguageView {
    pub code: String,
    pub name: String,
    pub rtl: bool,
}

pub fn languages(form: &Form) -> Vec<LanguageView> {
    form.languages
        .iter()
        .map(|l| LanguageView {
            code: l.code.clone(),
            name: l.name.clone(),
            rtl: l.direction == Direction::Rtl,
        })
        .collect()
}

/// A page of the interview.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PageView {
    /// Position in the page list (0-based).
    pub index: u32,
    /// Stable key of the page: the group's or repeat's name, `consent`, or `intro-N`.
    pub key: String,
    pub title: String,
    pub kind: PageKind,
    /// Whether the page applies now (its group's relevance).
    pub relevant: bool,
    /// Set for the consent page.
    pub consent: Option<ConsentView>,
    /// Set for a `privacy: required` group.
    pub privacy: Option<PrivacyView>,
    /// Set for a repeat page.
    pub repeat: Option<RepeatView>,
    /// The fields of a question page (repeat pages list theirs per instance).
    pub fields: Vec<FieldView>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PageKind {
    Consent,
    Questions,
    Repeat,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ConsentView {
    pub name: String,
    pub heading: String,
    pub text: String,
    pub question: String,
    pub agree_label: String,
    pub decline_label: String,
    pub decline_message: String,
    pub text_version: String,
    /// `Some(true)` given, `Some(false)` declined, `None` not yet asked.
    pub given: Option<bool>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PrivacyView {
    /// Key of the check in the response (`/group`).
    pub group_path: String,
    pub prompt: String,
    /// `private`, `not_private`, `interrupted`, or null when not yet asked.
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct RepeatView {
    pub path: String,
    pub add_label: String,
    pub count: u32,
    pub min: Option<u32>,
    pub max: Option<u32>,
    /// The count comes from an expression: the enumerator cannot add or remove.
    pub fixed_count: bool,
    pub instances: Vec<InstanceView>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct InstanceView {
    pub path: String,
    pub number: u32,
    pub fields: Vec<FieldView>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ChoiceView {
    pub name: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct RangeView {
    pub start: f64,
    pub end: f64,
    pub step: f64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct FieldView {
    pub path: String,
    pub name: String,
    /// The field type as written in the form (`select_one`, `geopoint`, …).
    pub kind: String,
    pub label: String,
    pub hint: String,
    pub guidance: String,
    pub required: bool,
    pub read_only: bool,
    pub relevant: bool,
    pub value: Option<String>,
    pub choices: Vec<ChoiceView>,
    pub appearance: String,
    pub range: Option<RangeView>,
    pub sensitive: bool,
    pub pii: bool,
    /// What is wrong with the current value, in the form's language.
    pub problem: Option<String>,
    /// Heading of the inline (non-page) group this field sits in, if any.
    pub group_label: Option<String>,
}

/// One field that stops a response from being finalized.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Issue {
    pub path: String,
    pub page_index: u32,
    /// The question's label, or a neutral placeholder for a sensitive question.
    pub label: String,
    pub message: String,
}

/// Where expressions get their answers: the engine when it is linked in.
///
/// Implementations see the response and a field path and say whether a condition
/// holds. The built-in [`StaticRules`] reads only literal `true`/`false`.
pub trait Rules {
    fn relevant(&self, expr: &str, scope: &AnswerPath) -> bool;
    fn condition(&self, expr: &str, scope: &AnswerPath) -> bool;
    /// `None` when the constraint holds, else whether it failed.
    fn constraint_holds(&self, expr: &str, field: &AnswerPath) -> bool;
}

/// Rules without an expression engine: expressions count as satisfied.
pub struct StaticRules;

impl Rules for StaticRules {
    fn relevant(&self, expr: &str, _scope: &AnswerPath) -> bool {
        expr.trim() != "false()"
    }
    fn condition(&self, expr: &str, _scope: &AnswerPath) -> bool {
        matches!(expr.trim(), "true()" | "true")
    }
    fn constraint_holds(&self, _expr: &str, _field: &AnswerPath) -> bool {
        true
    }
}

/// Words the app itself says, per language (the form provides everything else).
fn ui_text(lang: &str, key: &str) -> &'static str {
    let ar = lang == "ar" || lang.starts_with("ar-");
    match (key, ar) {
        ("required", false) => "This question needs an answer.",
        ("required", true) => "هذا السؤال يحتاج إلى إجابة.",
        ("integer", false) => "Enter a whole number.",
        ("integer", true) => "أدخل عدداً صحيحاً.",
        ("decimal", false) => "Enter a number.",
        ("decimal", true) => "أدخل رقماً.",
        ("constraint", false) => "This answer is not allowed.",
        ("constraint", true) => "هذه الإجابة غير مقبولة.",
        ("choice", false) => "Pick one of the listed options.",
        ("choice", true) => "اختر أحد الخيارات المدرجة.",
        ("sensitive", false) => "A confidential question",
        ("sensitive", true) => "سؤال سري",
        ("add", false) => "Add",
        ("add", true) => "إضافة",
        ("consent", false) => "Consent",
        ("consent", true) => "الموافقة",
        ("privacy", false) => "Can the respondent answer the next questions in private?",
        ("privacy", true) => "هل يمكن للمستجيب الإجابة على الأسئلة التالية بمفرده؟",
        ("questions", false) => "Questions",
        ("questions", true) => "أسئلة",
        (_, _) => "",
    }
}

pub fn text(t: &Option<Text>, lang: &str, default: &str) -> String {
    t.as_ref()
        .map(|t| t.get(lang, default).to_owned())
        .unwrap_or_default()
}

/// A top-level cut of the form into pages (same order for every response).
#[derive(Debug, Clone)]
pub enum PagePlan<'f> {
    Consent(&'f voices_core::form::Consent),
    /// Loose top-level items (fields and non-page groups) between pages.
    Loose(Vec<&'f Item>),
    Group(&'f voices_core::form::Group),
    Repeat(&'f voices_core::form::Repeat),
}

pub fn plan(form: &Form) -> Vec<PagePlan<'_>> {
    let mut pages = Vec::new();
    let mut loose: Vec<&Item> = Vec::new();
    for item in &form.body {
        let page = match item {
            Item::Consent(c) => Some(PagePlan::Consent(c)),
            Item::Group(g) if g.page || g.privacy.is_some() => Some(PagePlan::Group(g)),
            Item::Repeat(r) => Some(PagePlan::Repeat(r)),
            Item::Field(f) if !f.kind.is_shown_question() => None,
            _ => {
                loose.push(item);
                None
            }
        };
        if let Some(page) = page {
            if !loose.is_empty() {
                pages.push(PagePlan::Loose(std::mem::take(&mut loose)));
            }
            pages.push(page);
        }
    }
    if !loose.is_empty() {
        pages.push(PagePlan::Loose(loose));
    }
    pages
}

pub struct ViewBuilder<'a> {
    pub form: &'a Form,
    pub response: &'a Response,
    pub lang: &'a str,
    pub rules: &'a dyn Rules,
}

impl<'a> ViewBuilder<'a> {
    fn t(&self, t: &Option<Text>) -> String {
        text(t, self.lang, &self.form.default_language)
    }

    pub fn page_count(&self) -> usize {
        plan(self.form).len()
    }

    /// Title of every page, for the jump-to-section list and the progress bar.
    pub fn outline(&self) -> Vec<(String, bool)> {
        plan(self.form)
            .iter()
            .enumerate()
            .map(|(i, p)| (self.page_title(p, i), self.page_relevant(p)))
            .collect()
    }

    fn page_title(&self, page: &PagePlan<'_>, index: usize) -> String {
        let titled = match page {
            PagePlan::Consent(c) => self.t(&c.label),
            PagePlan::Group(g) => self.t(&g.label),
            PagePlan::Repeat(r) => self.t(&r.label),
            PagePlan::Loose(_) => String::new(),
        };
        if !titled.is_empty() {
            return titled;
        }
        match page {
            PagePlan::Consent(_) => ui_text(self.lang, "consent").to_owned(),
            _ => format!("{} {}", ui_text(self.lang, "questions"), index + 1),
        }
    }

    fn page_relevant(&self, page: &PagePlan<'_>) -> bool {
        let root = AnswerPath::root();
        let expr = match page {
            PagePlan::Consent(c) => c.relevant.as_deref(),
            PagePlan::Group(g) => g.relevant.as_deref(),
            PagePlan::Repeat(r) => r.relevant.as_deref(),
            PagePlan::Loose(_) => None,
        };
        expr.is_none_or(|e| self.rules.relevant(e, &root))
    }

    pub fn page(&self, index: usize) -> Option<PageView> {
        let pages = plan(self.form);
        let page = pages.get(index)?;
        let root = AnswerPath::root();
        let mut view = PageView {
            index: index as u32,
            key: String::new(),
            title: self.page_title(page, index),
            kind: PageKind::Questions,
            relevant: self.page_relevant(page),
            consent: None,
            privacy: None,
            repeat: None,
            fields: Vec::new(),
        };
        match page {
            PagePlan::Consent(c) => {
                view.key = "consent".to_owned();
                view.kind = PageKind::Consent;
                view.consent = Some(ConsentView {
                    name: c.name.clone(),
                    heading: view.title.clone(),
                    text: c
                        .text
                        .get(self.lang, &self.form.default_language)
                        .to_owned(),
                    question: self.t(&c.question),
                    agree_label: self.t(&c.agree_label),
                    decline_label: self.t(&c.decline_label),
                    decline_message: self.t(&c.decline_message),
                    text_version: c.text_version.clone(),
                    given: self.response.consent.as_ref().map(|r| r.given),
                });
            }
            PagePlan::Loose(items) => {
                view.key = format!("intro-{index}");
                for item in items {
                    self.items(
                        std::slice::from_ref(*item),
                        &root,
                        &self.response.answers,
                        false,
                        None,
                        &mut view.fields,
                    );
                }
            }
            PagePlan::Group(g) => {
                view.key = g.name.clone();
                if g.privacy == Some(PrivacyRequirement::Required) {
                    let group_path = root.child(&g.name, None).to_string();
                    let outcome = self.response.privacy.get(&group_path).map(|p| {
                        match p.outcome {
                            PrivacyOutcome::Private => "private",
                            PrivacyOutcome::NotPrivate => "not_private",
                            PrivacyOutcome::Interrupted => "interrupted",
                        }
                        .to_owned()
                    });
                    let prompt = self.t(&g.privacy_prompt);
                    view.privacy = Some(PrivacyView {
                        group_path,
                        prompt: if prompt.is_empty() {
                            ui_text(self.lang, "privacy").to_owned()
                        } else {
                            prompt
                        },
                        outcome,
                    });
                }
                self.items(
                    &g.body,
                    &root,
                    &self.response.answers,
                    g.sensitive,
                    None,
                    &mut view.fields,
                );
            }
            PagePlan::Repeat(r) => {
                view.key = r.name.clone();
                view.kind = PageKind::Repeat;
                let instances = match self.response.answers.0.get(&r.name) {
                    Some(Answer::Repeat(list)) => list.as_slice(),
                    _ => &[],
                };
                let mut repeat = RepeatView {
                    path: root.child(&r.name, None).to_string(),
                    add_label: {
                        let l = self.t(&r.add_label);
                        if l.is_empty() {
                            ui_text(self.lang, "add").to_owned()
                        } else {
                            l
                        }
                    },
                    count: instances.len() as u32,
                    min: r.min,
                    max: r.max,
                    fixed_count: r.count.is_some(),
                    instances: Vec::new(),
                };
                for (i, answers) in instances.iter().enumerate() {
                    let path = root.child(&r.name, Some(i + 1));
                    let mut fields = Vec::new();
                    self.items(&r.body, &path, answers, r.sensitive, None, &mut fields);
                    repeat.instances.push(InstanceView {
                        path: path.to_string(),
                        number: (i + 1) as u32,
                        fields,
                    });
                }
                view.repeat = Some(repeat);
            }
        }
        Some(view)
    }

    fn items(
        &self,
        items: &[Item],
        scope: &AnswerPath,
        answers: &Answers,
        sensitive: bool,
        group_label: Option<&str>,
        out: &mut Vec<FieldView>,
    ) {
        for item in items {
            match item {
                Item::Field(f) if f.kind.is_shown_question() => {
                    out.push(self.field(f, scope, answers, sensitive, group_label));
                }
                Item::Field(_) | Item::Consent(_) => {}
                Item::Group(g) => {
                    let relevant = g
                        .relevant
                        .as_deref()
                        .is_none_or(|e| self.rules.relevant(e, scope));
                    if !relevant {
                        continue;
                    }
                    let label = self.t(&g.label);
                    let label = if label.is_empty() {
                        group_label.map(str::to_owned)
                    } else {
                        Some(label)
                    };
                    self.items(
                        &g.body,
                        scope,
                        answers,
                        sensitive || g.sensitive,
                        label.as_deref(),
                        out,
                    );
                }
                // Nested repeats are shown flattened under their first instance path.
                Item::Repeat(r) => {
                    if let Some(Answer::Repeat(list)) = answers.0.get(&r.name) {
                        for (i, inst) in list.iter().enumerate() {
                            let path = scope.child(&r.name, Some(i + 1));
                            self.items(
                                &r.body,
                                &path,
                                inst,
                                sensitive || r.sensitive,
                                group_label,
                                out,
                            );
                        }
                    }
                }
            }
        }
    }

    fn field(
        &self,
        f: &Field,
        scope: &AnswerPath,
        answers: &Answers,
        sensitive: bool,
        group_label: Option<&str>,
    ) -> FieldView {
        let path = scope.child(&f.name, None);
        let value = match answers.0.get(&f.name) {
            Some(Answer::Value(v)) if !v.is_empty() => Some(v.clone()),
            _ => None,
        };
        let relevant = f
            .relevant
            .as_deref()
            .is_none_or(|e| self.rules.relevant(e, &path));
        let required = match &f.required {
            Some(voices_core::form::Condition::Always(b)) => *b,
            Some(voices_core::form::Condition::Expression(e)) => self.rules.condition(e, &path),
            None => false,
        };
        let read_only = match &f.read_only {
            Some(voices_core::form::Condition::Always(b)) => *b,
            Some(voices_core::form::Condition::Expression(e)) => self.rules.condition(e, &path),
            None => f.kind == FieldType::Note,
        };
        let choices: Vec<ChoiceView> = f
            .choices
            .as_ref()
            .and_then(|name| self.form.choices.get(name))
            .map(|list| {
                list.iter()
                    .map(|c| ChoiceView {
                        name: c.name.clone(),
                        label: c
                            .label
                            .get(self.lang, &self.form.default_language)
                            .to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut view = FieldView {
            path: path.to_string(),
            name: f.name.clone(),
            kind: f.kind.as_str().to_owned(),
            label: self.t(&f.label),
            hint: self.t(&f.hint),
            guidance: self.t(&f.guidance),
            required,
            read_only,
            relevant,
            value,
            choices,
            appearance: f.appearance.clone().unwrap_or_default(),
            range: f.range.as_ref().map(|r| RangeView {
                start: r.start,
                end: r.end,
                step: r.step,
            }),
            sensitive: sensitive || f.sensitive,
            pii: f.pii,
            problem: None,
            group_label: group_label.map(str::to_owned),
        };
        if relevant {
            view.problem = self.problem(f, &view, &path);
        }
        view
    }

    fn problem(&self, f: &Field, view: &FieldView, path: &AnswerPath) -> Option<String> {
        let Some(value) = view.value.as_deref() else {
            if view.required && f.kind != FieldType::Note {
                let msg = self.t(&f.required_message);
                return Some(if msg.is_empty() {
                    ui_text(self.lang, "required").to_owned()
                } else {
                    msg
                });
            }
            return None;
        };
        let type_problem = match f.kind {
            FieldType::Integer if value.trim().parse::<i64>().is_err() => Some("integer"),
            FieldType::Decimal | FieldType::Range if value.trim().parse::<f64>().is_err() => {
                Some("decimal")
            }
            FieldType::SelectOne if !view.choices.iter().any(|c| c.name == value) => Some("choice"),
            FieldType::SelectMultiple | FieldType::Rank
                if !value
                    .split_whitespace()
                    .all(|v| view.choices.iter().any(|c| c.name == v)) =>
            {
                Some("choice")
            }
            _ => None,
        };
        if let Some(key) = type_problem {
            return Some(ui_text(self.lang, key).to_owned());
        }
        if let Some(c) = &f.constraint {
            if !self.rules.constraint_holds(c, path) {
                let msg = self.t(&f.constraint_message);
                return Some(if msg.is_empty() {
                    ui_text(self.lang, "constraint").to_owned()
                } else {
                    msg
                });
            }
        }
        None
    }

    /// Every field that stops finalizing, in page order; sensitive labels withheld.
    pub fn issues(&self) -> Vec<Issue> {
        let mut out = Vec::new();
        for index in 0..self.page_count() {
            let Some(page) = self.page(index) else {
                continue;
            };
            if !page.relevant {
                continue;
            }
            if let Some(c) = &page.consent {
                if c.given.is_none() {
                    out.push(Issue {
                        path: "consent".to_owned(),
                        page_index: index as u32,
                        label: c.heading.clone(),
                        message: ui_text(self.lang, "required").to_owned(),
                    });
                }
                continue;
            }
            if let Some(p) = &page.privacy {
                match p.outcome.as_deref() {
                    Some("private") => {}
                    Some("not_private") => continue,
                    _ => {
                        out.push(Issue {
                            path: p.group_path.clone(),
                            page_index: index as u32,
                            label: page.title.clone(),
                            message: p.prompt.clone(),
                        });
                        continue;
                    }
                }
            }
            let fields = page.fields.iter().chain(
                page.repeat
                    .iter()
                    .flat_map(|r| r.instances.iter().flat_map(|i| i.fields.iter())),
            );
            for f in fields {
                if let (true, Some(message)) = (f.relevant, &f.problem) {
                    out.push(Issue {
                        path: f.path.clone(),
                        page_index: index as u32,
                        label: if f.sensitive {
                            ui_text(self.lang, "sensitive").to_owned()
                        } else {
                            f.label.clone()
                        },
                        message: message.clone(),
                    });
                }
            }
        }
        out
    }
}

/// Find the field definition an answer path names (through groups and repeats).
pub fn field_at<'f>(form: &'f Form, path: &AnswerPath) -> Option<&'f Field> {
    fn find<'f>(items: &'f [Item], steps: &[crate::paths::Step]) -> Option<&'f Field> {
        let (step, rest) = steps.split_first()?;
        for item in items {
            match item {
                Item::Field(f)
                    if rest.is_empty() && step.index.is_none() && f.name == step.name =>
                {
                    return Some(f)
                }
                Item::Group(g) => {
                    if let Some(f) = find(&g.body, steps) {
                        return Some(f);
                    }
                }
                Item::Repeat(r) if r.name == step.name && step.index.is_some() => {
                    return find(&r.body, rest);
                }
                _ => {}
            }
        }
        None
    }
    find(&form.body, &path.steps)
}

/// Find a repeat definition by its path without index (`/members`, `/plots[1]/trees`).
pub fn repeat_at<'f>(form: &'f Form, path: &AnswerPath) -> Option<&'f voices_core::form::Repeat> {
    fn find<'f>(
        items: &'f [Item],
        steps: &[crate::paths::Step],
    ) -> Option<&'f voices_core::form::Repeat> {
        let (step, rest) = steps.split_first()?;
        for item in items {
            match item {
                Item::Group(g) => {
                    if let Some(r) = find(&g.body, steps) {
                        return Some(r);
                    }
                }
                Item::Repeat(r) if r.name == step.name => {
                    return if rest.is_empty() {
                        Some(r)
                    } else {
                        find(&r.body, rest)
                    };
                }
                _ => {}
            }
        }
        None
    }
    find(&form.body, &path.steps)
}
