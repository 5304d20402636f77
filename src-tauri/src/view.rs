//! What the UI shows: the engine's pages (`voices_core::engine::FormView`) in the
//! shape the Svelte screens use, with TypeScript types generated from these structs.
//! Nothing here touches the store.
//!
//! Also compiled into `voices-wasm` (`wasm/src/lib.rs`), whose `screens.rs` answers the
//! console's preview in these very shapes: this file may use only `voices_core`, `serde`,
//! `ts_rs` and `crate::commands::PrivacyChoice`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use voices_core::engine::{self, ItemView, ViolationCode};
use voices_core::form::{Direction, FieldType, Form};
use voices_core::response::PrivacyOutcome;

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
    /// Position in the page list (0-based). Pages come and go with skip logic and repeats.
    pub index: u32,
    /// Stable key of the page: its group, repeat or instance path, or `page-N`.
    pub key: String,
    pub title: String,
    pub hint: String,
    pub kind: PageKind,
    /// The page is about a sensitive topic.
    pub sensitive: bool,
    /// Set for the consent page.
    pub consent: Option<ConsentView>,
    /// Set for the privacy check before a `privacy: required` group.
    pub privacy: Option<PrivacyView>,
    /// Set for the matching check before a group with a `match` rule.
    pub matching: Option<MatchingView>,
    /// Set for the add/remove page after a repeat's instances.
    pub repeat: Option<RepeatView>,
    /// Set when the page is one instance of a repeat.
    pub instance: Option<InstanceView>,
    /// The privacy-checked group this page is inside (the interview may be marked
    /// interrupted from here).
    pub privacy_group: Option<String>,
    pub fields: Vec<FieldView>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PageKind {
    Consent,
    Questions,
    PrivacyCheck,
    MatchCheck,
    RepeatControls,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ConsentView {
    pub heading: String,
    pub text: String,
    pub question: String,
    pub agree_label: String,
    pub decline_label: String,
    pub decline_message: String,
    pub text_version: String,
    /// `Some(true)` given, `Some(false)` declined, `None` not yet asked.
    pub given: Option<bool>,
    /// A minor's assent after the guardian's consent (answered with `record_assent`).
    pub assent: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PrivacyView {
    /// Path of the checked group (`/experiences`).
    pub group_path: String,
    pub prompt: String,
    /// `interrupted` when the interview was stopped inside the group; null when not yet asked.
    #[ts(as = "Option<crate::commands::PrivacyChoice>")]
    pub outcome: Option<PrivacyOutcome>,
}

/// The matching check before a group with a `match` rule: the app checks the rule
/// (`check_matching`); when it is not met the enumerator offers the section to a colleague
/// (`hand_over`, checked against the same rule) or skips it (`skip_matching`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct MatchingView {
    /// Path of the group (`/experiences`).
    pub group_path: String,
    /// `skipped` when the section was skipped, `hand_over_refused` when the last
    /// colleague offered it did not meet the rule; null when nothing opens it yet.
    #[ts(as = "Option<crate::commands::MatchingChoice>")]
    pub outcome: Option<voices_core::matching::MatchingOutcome>,
    /// What the rule reads of an enumerator (`sex`, `languages`, `area`): what a
    /// hand-over asks the colleague.
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct RepeatView {
    pub path: String,
    pub label: String,
    pub add_label: String,
    pub count: u32,
    pub min: Option<u32>,
    pub max: Option<u32>,
    pub can_add: bool,
    pub can_remove: bool,
}

/// The repeat instance a page belongs to.
#[derive(Debug, Clone, Serialize, TS)]
pub struct InstanceView {
    pub path: String,
    /// 1-based.
    pub number: u32,
    /// How many instances the repeat has now ("member 2 of 3").
    pub count: u32,
    pub can_remove: bool,
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

/// A respondent selection: the roster before the draw, the person after it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SelectionView {
    /// `uniform` or `kish`.
    pub method: String,
    pub roster_size: u32,
    pub eligible: u32,
    /// The drawn member's number on the roster (`None`: not drawn yet).
    pub selected: Option<u32>,
    /// The drawn member's roster instance (`/members[3]`).
    pub selected_path: Option<String>,
    pub kish_table: Option<String>,
}

/// A referral step: the services of the project's directory that match the
/// respondent's area and needs, listed offline.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ReferralView {
    /// The device holds the project's directory (false: no sync has brought one yet).
    pub directory: bool,
    /// The respondent's area as the step reads it (empty: not answered).
    pub area: String,
    /// The kinds of service needed (none: every kind).
    pub needs: Vec<String>,
    /// The services matching, in directory order.
    pub services: Vec<ServiceView>,
}

/// One service as the enumerator reads it to the respondent.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ServiceView {
    pub id: String,
    pub name: String,
    pub kind: String,
    /// The kind in the interview's language when the form names it (its needs question's
    /// choice label), else the kind as the directory writes it.
    pub kind_label: String,
    pub phone: String,
    pub hours: String,
    pub languages: Vec<String>,
    /// The service can be reached in the interview's language.
    pub in_language: bool,
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
    pub value: Option<String>,
    pub choices: Vec<ChoiceView>,
    pub appearance: String,
    pub range: Option<RangeView>,
    pub sensitive: bool,
    pub pii: bool,
    /// What is wrong with the answer given (constraint or type), in the form's language.
    pub problem: Option<String>,
    /// The question is required and still unanswered (shown as a problem in the review).
    pub missing: bool,
    /// Heading of the inline group this field sits in, if any.
    pub group_label: Option<String>,
    /// For a `respondent_selection`.
    pub selection: Option<SelectionView>,
    /// For a `referral` step (its services filled by [`list_services`]).
    pub referral: Option<ReferralView>,
}

/// One entry of the jump-to-section list.
#[derive(Debug, Clone, Serialize, TS)]
pub struct OutlineEntry {
    pub index: u32,
    pub title: String,
    pub kind: PageKind,
    pub questions: u32,
    pub answered: u32,
    pub invalid: u32,
}

/// One thing that stops a response from being finalized.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Issue {
    pub path: String,
    pub page_index: u32,
    /// The question's label, or a neutral placeholder for a sensitive question.
    pub label: String,
    pub message: String,
}

/// Words the app itself says, per language (the form provides everything else).
pub fn ui_text(lang: &str, key: &str) -> &'static str {
    let column = match lang.split('-').next().unwrap_or(lang) {
        "ar" => 1,
        "uk" => 2,
        "es" => 3,
        _ => 0,
    };
    UI_TEXTS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("", |(_, words)| words[column])
}

/// The languages [`ui_text`] speaks, as the app's own wording does (`ui/src/lib/i18n.ts`).
pub const UI_LANGUAGES: [&str; 4] = ["en", "ar", "uk", "es"];

/// Words the engine's view needs when the form gives none: English, Arabic, Ukrainian, Spanish.
const UI_TEXTS: &[(&str, [&str; 4])] = &[
    (
        "sensitive",
        [
            "A confidential question",
            "سؤال سري",
            "Конфіденційне питання",
            "Una pregunta confidencial",
        ],
    ),
    (
        "consent",
        ["Consent", "الموافقة", "Згода", "Consentimiento"],
    ),
    (
        "assent",
        [
            "The young person's agreement",
            "موافقة القاصر",
            "Згода дитини",
            "Asentimiento de la persona menor",
        ],
    ),
    (
        "privacy",
        [
            "Can the respondent answer the next questions in private?",
            "هل يمكن للمستجيب الإجابة على الأسئلة التالية بمفرده؟",
            "Чи може респондент відповісти на наступні питання наодинці?",
            "¿Puede la persona entrevistada responder en privado a las siguientes preguntas?",
        ],
    ),
    ("questions", ["Questions", "أسئلة", "Питання", "Preguntas"]),
    ("add", ["Add", "إضافة", "Додати", "Añadir"]),
    ("notes", ["Notes", "ملاحظات", "Нотатки", "Notas"]),
];

fn opt(s: Option<String>) -> String {
    s.unwrap_or_default()
}

pub fn field(f: &engine::FieldView, group_label: Option<&str>) -> FieldView {
    let problem = f
        .violations
        .iter()
        .find(|v| v.code != ViolationCode::Required)
        .map(|v| v.message.clone());
    FieldView {
        path: f.path.to_string(),
        name: f.name.clone(),
        kind: f.kind.as_str().to_owned(),
        label: opt(f.label.clone()),
        hint: opt(f.hint.clone()),
        guidance: opt(f.guidance.clone()),
        required: f.required,
        read_only: f.read_only
            || matches!(f.kind, FieldType::Note | FieldType::RespondentSelection),
        value: f.value.clone(),
        choices: f
            .choices
            .iter()
            .flatten()
            .map(|c| ChoiceView {
                name: c.name.clone(),
                label: c.label.clone(),
            })
            .collect(),
        appearance: opt(f.appearance.clone()),
        range: f.range.as_ref().map(|r| RangeView {
            start: r.start,
            end: r.end,
            step: r.step,
        }),
        sensitive: f.sensitive,
        pii: f.pii,
        problem,
        missing: f
            .violations
            .iter()
            .any(|v| v.code == ViolationCode::Required),
        group_label: group_label.map(str::to_owned),
        selection: f.selection.as_ref().map(|s| SelectionView {
            method: s.method.as_str().to_owned(),
            roster_size: s.roster_size,
            eligible: s.eligible,
            selected: s.selected,
            selected_path: s.selected_path.as_ref().map(|p| p.to_string()),
            kish_table: s.kish_table.clone(),
        }),
        referral: f.referral.as_ref().map(|r| ReferralView {
            directory: false,
            area: r.area.clone(),
            needs: r.needs.clone(),
            services: Vec::new(),
        }),
    }
}

/// List, on each referral step of `page`, the services of `directory` matching the
/// step's area and needs (`None`: the device holds no directory), kinds named in `lang`.
pub fn list_services(
    page: &mut PageView,
    v: &engine::FormView,
    directory: Option<&voices_core::referral::Directory>,
) {
    let lang = v.language.as_str();
    for field in &mut page.fields {
        let Some(referral) = field.referral.as_mut() else {
            continue;
        };
        let Some(directory) = directory else { continue };
        referral.directory = true;
        // The engine's view of the same step, for the needs' labels.
        let labels: Vec<(String, String)> = v
            .pages
            .iter()
            .flat_map(|p| &p.items)
            .find_map(|i| match i {
                ItemView::Field(f) if f.path.as_str() == field.path => {
                    f.referral.as_ref().map(|r| r.need_labels.clone())
                }
                _ => None,
            })
            .unwrap_or_default();
        let needs: Vec<&str> = referral.needs.iter().map(String::as_str).collect();
        let primary = lang.split(['-', '_']).next().unwrap_or(lang);
        referral.services = directory
            .matching(&referral.area, &needs)
            .into_iter()
            .map(|s| ServiceView {
                id: s.id.clone(),
                name: s.name.clone(),
                kind: s.kind.clone(),
                kind_label: labels
                    .iter()
                    .find(|(k, _)| *k == s.kind)
                    .map_or_else(|| s.kind.clone(), |(_, l)| l.clone()),
                phone: s.phone.clone(),
                hours: s.hours.clone(),
                languages: s.languages.clone(),
                in_language: s
                    .languages
                    .iter()
                    .any(|l| l.split(['-', '_']).next() == Some(primary)),
            })
            .collect();
    }
}

/// Title of a page, never empty: untitled pages are numbered.
fn title(page: &engine::PageView, index: usize, lang: &str) -> String {
    if let Some(t) = page.title.as_ref().filter(|t| !t.is_empty()) {
        return t.clone();
    }
    match page.kind {
        engine::PageKind::Consent => {
            let assent = page.consent.as_ref().is_some_and(|c| c.assent);
            ui_text(lang, if assent { "assent" } else { "consent" }).to_owned()
        }
        _ => format!("{} {}", ui_text(lang, "questions"), index + 1),
    }
}

/// The UI's view of page `index` of the engine's form view.
pub fn page(view: &engine::FormView, index: usize) -> Option<PageView> {
    let p = view.pages.get(index)?;
    let lang = view.language.as_str();
    let path = p.path.as_ref().map(|p| p.to_string());
    let mut out = PageView {
        index: index as u32,
        key: path.clone().unwrap_or_else(|| format!("page-{index}")),
        title: title(p, index, lang),
        hint: opt(p.hint.clone()),
        kind: match p.kind {
            engine::PageKind::Consent => PageKind::Consent,
            engine::PageKind::Questions => PageKind::Questions,
            engine::PageKind::PrivacyCheck => PageKind::PrivacyCheck,
            engine::PageKind::MatchCheck => PageKind::MatchCheck,
            engine::PageKind::RepeatControls => PageKind::RepeatControls,
        },
        sensitive: p.sensitive,
        consent: p.consent.as_ref().map(|c| ConsentView {
            heading: c.label.clone().unwrap_or_else(|| {
                ui_text(lang, if c.assent { "assent" } else { "consent" }).to_owned()
            }),
            text: c.text.clone(),
            question: opt(c.question.clone()),
            agree_label: opt(c.agree_label.clone()),
            decline_label: opt(c.decline_label.clone()),
            decline_message: opt(c.decline_message.clone()),
            text_version: c.text_version.clone(),
            given: c.value.as_deref().map(|v| v == "yes"),
            assent: c.assent,
        }),
        privacy: None,
        matching: (p.kind == engine::PageKind::MatchCheck).then(|| MatchingView {
            group_path: path.clone().unwrap_or_default(),
            outcome: p.matching_outcome,
            keys: p.matching_keys.iter().map(|k| (*k).to_owned()).collect(),
        }),
        repeat: p.repeat.as_ref().map(|r| RepeatView {
            path: r.path.to_string(),
            label: opt(r.label.clone()),
            add_label: r
                .add_label
                .clone()
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| ui_text(lang, "add").to_owned()),
            count: r.count as u32,
            min: r.min,
            max: r.max,
            can_add: r.can_add,
            can_remove: r.can_remove,
        }),
        instance: None,
        privacy_group: None,
        fields: Vec::new(),
    };
    if p.kind == engine::PageKind::PrivacyCheck {
        out.privacy = Some(PrivacyView {
            group_path: path.clone().unwrap_or_default(),
            prompt: p
                .privacy_prompt
                .clone()
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| ui_text(lang, "privacy").to_owned()),
            outcome: p.privacy_outcome,
        });
    }
    if let Some(last) = p.path.as_ref().and_then(|p| p.last()) {
        if let Some(number) = last.instance() {
            // An instance page: it can be removed when its repeat's controls allow it.
            let repeat_path = path
                .as_deref()
                .and_then(|p| p.rsplit_once('['))
                .map(|(base, _)| base.to_owned())
                .unwrap_or_default();
            let can_remove = view.pages.iter().any(|q| {
                q.repeat
                    .as_ref()
                    .is_some_and(|r| r.path.to_string() == repeat_path && r.can_remove)
            });
            let prefix = format!("{repeat_path}[");
            let count = view
                .pages
                .iter()
                .filter_map(|q| {
                    q.path
                        .as_ref()?
                        .to_string()
                        .strip_prefix(&prefix)?
                        .split_once(']')?
                        .0
                        .parse::<u32>()
                        .ok()
                })
                .max()
                .unwrap_or(number as u32);
            out.instance = Some(InstanceView {
                path: path.clone().unwrap_or_default(),
                number: number as u32,
                count,
                can_remove,
            });
        }
    }
    let mut heading: Option<String> = None;
    for item in &p.items {
        match item {
            ItemView::Heading { label, .. } => heading = label.clone(),
            ItemView::Field(f) => out.fields.push(field(f, heading.as_deref())),
        }
    }
    Some(out)
}

pub fn outline(view: &engine::FormView) -> Vec<OutlineEntry> {
    view.jump_list
        .iter()
        .map(|j| OutlineEntry {
            index: j.page as u32,
            title: view
                .pages
                .get(j.page)
                .map(|p| title(p, j.page, &view.language))
                .unwrap_or_default(),
            kind: match j.kind {
                engine::PageKind::Consent => PageKind::Consent,
                engine::PageKind::Questions => PageKind::Questions,
                engine::PageKind::PrivacyCheck => PageKind::PrivacyCheck,
                engine::PageKind::MatchCheck => PageKind::MatchCheck,
                engine::PageKind::RepeatControls => PageKind::RepeatControls,
            },
            questions: j.questions as u32,
            answered: j.answered as u32,
            invalid: j.invalid as u32,
        })
        .collect()
}

/// Where each violation is, with a label that never reveals a sensitive question.
pub fn issues(view: &engine::FormView, violations: &[engine::Violation]) -> Vec<Issue> {
    violations
        .iter()
        .map(|v| {
            let path = v.path.to_string();
            let mut page_index = 0;
            let mut label = String::new();
            'pages: for (i, p) in view.pages.iter().enumerate() {
                if p.path.as_ref().is_some_and(|pp| pp.to_string() == path) {
                    page_index = i;
                    label = title(p, i, &view.language);
                    break;
                }
                if let Some(c) = &p.consent {
                    if c.path.to_string() == path {
                        page_index = i;
                        label = title(p, i, &view.language);
                        break;
                    }
                }
                for item in &p.items {
                    if let ItemView::Field(f) = item {
                        if f.path.to_string() == path {
                            page_index = i;
                            label = if f.sensitive || p.sensitive {
                                ui_text(&view.language, "sensitive").to_owned()
                            } else {
                                opt(f.label.clone())
                            };
                            break 'pages;
                        }
                    }
                }
            }
            Issue {
                path,
                page_index: page_index as u32,
                label,
                message: v.message.clone(),
            }
        })
        .collect()
}

/// The short neutral label lists show for a response: "#3f2a9c" (no answer text).
pub fn neutral_label(response_id: &str) -> String {
    let start = response_id
        .char_indices()
        .rev()
        .nth(5)
        .map_or(0, |(i, _)| i);
    format!("#{}", &response_id[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_words_come_in_every_app_language() {
        for (key, words) in UI_TEXTS {
            for (lang, word) in UI_LANGUAGES.iter().zip(words) {
                assert!(!word.is_empty(), "{key} in {lang}");
                assert_eq!(ui_text(lang, key), *word);
            }
            // Each language has its own words, not a copy of the English.
            for word in &words[1..] {
                assert_ne!(*word, words[0], "{key}");
            }
        }
        assert_eq!(ui_text("es-MX", "add"), "Añadir");
        assert_eq!(ui_text("uk", "consent"), "Згода");
        assert_eq!(
            ui_text("sw", "consent"),
            "Consent",
            "English for other languages"
        );
        assert_eq!(ui_text("en", "no such key"), "");
    }
}
