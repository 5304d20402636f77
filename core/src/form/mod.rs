//! The form document: what a designer writes, as it appears in JSON.
//!
//! These types mirror `schemas/form.schema.json` one to one (a test checks that
//! every example form passes the schema and parses here). They hold expressions
//! as source text; compiling a form (parsing expressions, resolving references,
//! building the dependency graph) happens in the engine, which reports every
//! problem at once with a JSON pointer.

mod disaggregation;
mod field_type;
mod keys;
mod raw_item;
mod retired;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use disaggregation::{age_band, Disaggregation, AGE_BANDS};
pub use field_type::FieldType;
pub use keys::{answer_key, repeated_names};
use raw_item::RawItem;

pub use crate::selection::SelectionMethod;

/// A complete form version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Form {
    /// Editor hint pointing at the JSON Schema; ignored by Voices.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Stable identifier of the form across versions (`[A-Za-z_][A-Za-z0-9_.-]*`).
    pub id: String,
    /// Version string; must change whenever anything in the form changes.
    pub version: String,
    /// Title shown in form lists. Must be neutral for sensitive surveys.
    pub title: Text,
    /// Optional longer description for designers and coordinators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// Languages the form is written in, in the order offered to enumerators.
    pub languages: Vec<Language>,
    /// Code of the language used when a text has no translation in the chosen one.
    pub default_language: String,
    /// Expression naming a response in draft lists (e.g. `concat(${village}, ' ', ${hh_id})`).
    /// Must not reference `pii` or `sensitive` fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
    /// What the app shows when the enumerator triggers a safe exit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safe_exit: Option<SafeExit>,
    /// Fields, groups, repeats and the consent block, in order.
    pub body: Vec<Item>,
    /// Choice lists by name, referenced by select fields.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub choices: BTreeMap<String, Vec<Choice>>,
    /// ODK entity lists the answers create or update (XLSForm's `entities` sheet), with
    /// the fields' `save_to`. Voices keeps them so a form imported from XLSForm exports
    /// back whole and its entities mean the same to ODK; it does not create entities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<Entity>,
}

/// One entity list of ODK's entities: the row of the `entities` sheet, expressions as
/// written (they are checked like any other).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    /// The entity list (ODK's dataset) the entity belongs to.
    pub list_name: String,
    /// Expression of the entity's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// When an entity is created (an expression; always when neither condition is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_if: Option<String>,
    /// When an existing entity is updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_if: Option<String>,
    /// Expression of the id of the entity to update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
}

/// Text in one or more languages. A plain string is in the form's default language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Text {
    Plain(String),
    Translated(BTreeMap<String, String>),
}

impl Text {
    /// The text in `lang`, falling back to `default_lang`, then to any translation.
    pub fn get<'a>(&'a self, lang: &str, default_lang: &str) -> &'a str {
        match self {
            Text::Plain(s) => s,
            Text::Translated(map) => map
                .get(lang)
                .or_else(|| map.get(default_lang))
                .or_else(|| map.values().next())
                .map(String::as_str)
                .unwrap_or(""),
        }
    }

    /// Language codes this text is given in (`None` for a plain string).
    pub fn languages(&self) -> Option<impl Iterator<Item = &str>> {
        match self {
            Text::Plain(_) => None,
            Text::Translated(map) => Some(map.keys().map(String::as_str)),
        }
    }
}

/// A language a form is written in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Language {
    /// BCP 47 code, e.g. `en`, `ar`, `uk`, `es`, `prs` (Dari), `ps` (Pashto).
    pub code: String,
    /// Name shown in the language switch, in that language (e.g. `العربية`).
    pub name: String,
    /// Writing direction; `rtl` mirrors the whole interface.
    #[serde(default)]
    pub direction: Direction,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[default]
    Ltr,
    Rtl,
}

/// What the app shows instead of the interview when the enumerator triggers a safe exit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafeExit {
    /// Neutral title shown on the decoy screen (and in the window title).
    pub title: Text,
    /// Neutral text shown on the decoy screen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Text>,
    /// Name of a top-level group with innocuous questions to show as the decoy.
    /// It must contain no `pii` or `sensitive` fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoy_group: Option<String>,
}

/// One entry of a body: a field, a group, a repeat, or the consent block.
///
/// In JSON every item is an object with a `type`; `group`, `repeat` and `consent`
/// are containers/constructs, every other type is a field.
// Fields are the common case and live in `Vec<Item>`s; boxing them would add an
// allocation per field to save space only on the rarer containers.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "RawItem", into = "RawItem")]
pub enum Item {
    Field(Field),
    Group(Group),
    Repeat(Repeat),
    Consent(Consent),
}

impl Item {
    pub fn name(&self) -> &str {
        match self {
            Item::Field(f) => &f.name,
            Item::Group(g) => &g.name,
            Item::Repeat(r) => &r.name,
            Item::Consent(c) => &c.name,
        }
    }
}

/// A question, note, calculation or metadata field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The field's type; in JSON this is the item's `type`.
    #[serde(skip, default = "default_field_type")]
    pub kind: FieldType,
    /// Name used in `${name}` references and in exported data.
    pub name: String,
    /// The question as read to the respondent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Text>,
    /// Extra help shown under the label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Text>,
    /// Longer guidance for the enumerator (shown on request, never read out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guidance: Option<Text>,
    /// `true`, `false` or an expression; a required field must be answered when relevant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<Condition>,
    /// Message shown when a required field is left empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_message: Option<Text>,
    /// Expression; when false the field is hidden and its answer cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant: Option<String>,
    /// Expression over `.` (the answer) that must be true for the answer to be accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    /// Message shown when the constraint is violated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint_message: Option<Text>,
    /// Expression whose value becomes the field's value (calculate, hidden and read-only fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calculation: Option<String>,
    /// Expression evaluated once, when the field (or its repeat instance) is created.
    /// Literal text must be quoted: `'none'`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// `true`, `false` or an expression; a read-only field cannot be edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<Condition>,
    /// Display variant, space-separated (XLSForm appearances such as `minimal`, `multiline`, `likert`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appearance: Option<String>,
    /// Name of the choice list for `select_one`, `select_multiple` and `rank`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<String>,
    /// External file the choices come from (XLSForm `select_one_from_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices_file: Option<String>,
    /// A field inside a repeat whose answers are the choices (XLSForm `select_one ${name}`):
    /// one choice per instance answering it, in instance order, the answer being both the
    /// choice's name and its label. The `choice_filter` then runs on each instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices_from: Option<String>,
    /// Expression evaluated per choice; choice properties are available by bare name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice_filter: Option<String>,
    /// Bounds of a `range` field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<RangeParams>,
    /// The roster, eligibility and method of a `respondent_selection` field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<SelectionParams>,
    /// The respondent's area and needs of a `referral` step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral: Option<ReferralParams>,
    /// Other widget parameters (XLSForm `parameters` column), e.g. `max-pixels`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
    /// Media shown with the label, per language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
    /// The answer identifies a person (name, phone, exact location…): left out of exports unless
    /// pii is asked for, and sealed on the device when the project has keys.
    #[serde(default, skip_serializing_if = "is_false")]
    pub pii: bool,
    /// The topic can endanger the respondent: never shown in lists or summaries, and sealed
    /// on the device when the project has keys.
    #[serde(default, skip_serializing_if = "is_false")]
    pub sensitive: bool,
    /// The answer groups respondents in the coordinators' dashboard: every choice question's
    /// counts are broken down by it (sex, age band, disability).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disaggregation: Option<Disaggregation>,
    /// The entity property this answer is saved to (`property`, or `list#property` when
    /// the form declares several entity lists), as XLSForm's `save_to` column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_to: Option<String>,
}

fn default_field_type() -> FieldType {
    FieldType::Text
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_true(b: &bool) -> bool {
    *b
}

fn default_true() -> bool {
    true
}

/// `true`, `false` or an expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Condition {
    Always(bool),
    Expression(String),
}

/// Bounds of a range field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeParams {
    pub start: f64,
    pub end: f64,
    #[serde(default = "default_step")]
    pub step: f64,
}

fn default_step() -> f64 {
    1.0
}

/// How a `respondent_selection` field draws one member of a roster.
///
/// The answer is the selected member's instance number in the roster, so later labels
/// name the person through a calculation such as
/// `indexed-repeat(${member_name}, ${members}, ${selected})`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectionParams {
    /// Name of the roster: a repeat in the same scope as the selection field.
    pub roster: String,
    /// Expression evaluated in each roster member's instance (e.g.
    /// `${member_sex} = 'female' and ${member_age} >= 15 and ${member_age} <= 49`);
    /// members for whom it is false are not drawn. Without it every member is eligible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eligible: Option<String>,
    /// `uniform` (the default) or `kish`.
    #[serde(default)]
    pub method: SelectionMethod,
}

/// What a `referral` step matches the project's referral directory with
/// (`voices_core::referral::Directory::matching`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralParams {
    /// Expression of the respondent's area: the area code services list (`${district}`).
    pub area: String,
    /// Expression of the kinds of service needed, separated by spaces (`${needs}` of a
    /// `select_multiple`, or `if(${hurt} = 'yes', 'health gbv', 'gbv')`). Without it every
    /// service of the area is listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<String>,
}

/// Media attached to a label, each per language (a file name or path inside the form's media).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Media {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<Text>,
}

/// A set of items shown together (a page, unless `page` is false).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Text>,
    /// Expression; when false the whole group is skipped and its answers cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appearance: Option<String>,
    /// Whether the group is shown as a page of its own (default `true`). A group
    /// that is not a page is shown inline in its parent's page.
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub page: bool,
    /// `required`: the enumerator confirms the respondent can answer privately before
    /// the group; if not, the group is skipped and the outcome recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<PrivacyRequirement>,
    /// What the enumerator is asked before a privacy-checked group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_prompt: Option<Text>,
    /// Enumerator–respondent matching: an expression, which may read the device's
    /// enumerator profile with `enumerator('sex' | 'languages' | 'area')`, that must be
    /// true before the group is asked; otherwise another enumerator takes it over or it
    /// is skipped, and the response records which.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub match_rule: Option<String>,
    /// The whole group is a sensitive topic (every field in it counts as `sensitive`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub sensitive: bool,
    pub body: Vec<Item>,
}

/// Privacy requirement of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrivacyRequirement {
    Required,
}

/// A set of items answered several times (household members, plots, incidents).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Repeat {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appearance: Option<String>,
    /// Expression giving the number of instances (a number for a fixed count, or e.g.
    /// `${hh_size}`). Without it the enumerator adds and removes instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<String>,
    /// Fewest instances the enumerator may leave (enumerator-controlled repeats).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u32>,
    /// Most instances the enumerator may add (enumerator-controlled repeats).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
    /// Label of the "add another" control.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_label: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<PrivacyRequirement>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_prompt: Option<Text>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub sensitive: bool,
    pub body: Vec<Item>,
}

/// The informed-consent block (`type: consent`): nothing after it is asked unless
/// consent is given; or a minor's assent (`type: assent`), asked after a guardian's
/// consent when `minor` is true, whose refusal ends the interview all the same.
///
/// Its answer (`yes` / `no`) is available as `${name}`; the response records the
/// answer, when it was given and `text_version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// Consent or assent; in JSON this is the item's `type`.
    #[serde(skip, default)]
    pub role: ConsentRole,
    /// Name of the answer (default `consent`, or `assent` for an assent block).
    #[serde(default)]
    pub name: String,
    /// Version of the consent text, recorded with the answer (change it when the text changes).
    pub text_version: String,
    /// Heading of the consent screen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Text>,
    /// The consent statement read to the respondent.
    pub text: Text,
    /// The question asked after the statement (e.g. "Do you agree to take part?").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<Text>,
    /// Label of the agree choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agree_label: Option<Text>,
    /// Label of the decline choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_label: Option<Text>,
    /// Shown when consent is declined, before the interview ends politely.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_message: Option<Text>,
    /// Expression; when false the consent block is skipped (not allowed on an assent block,
    /// which `minor` decides).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant: Option<String>,
    /// Assent only: expression true when the respondent is a minor, who is then asked
    /// for assent after the guardian's consent (e.g. `${age} < 18`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minor: Option<String>,
}

/// Whose agreement a [`Consent`] block records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentRole {
    /// The respondent's informed consent (a guardian's, for a minor).
    #[default]
    Consent,
    /// A minor's own assent, after the guardian consented; a refusal overrides the consent.
    Assent,
}

impl ConsentRole {
    /// The item's `type` in JSON, and the default answer name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentRole::Consent => "consent",
            ConsentRole::Assent => "assent",
        }
    }
}

/// A choice in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Value stored in the answer.
    pub name: String,
    pub label: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
    /// Any other property, usable by bare name in a field's `choice_filter`
    /// (e.g. `"province": "kabul"` with filter `province = ${province}`).
    #[serde(flatten)]
    pub properties: BTreeMap<String, String>,
}

impl Form {
    /// Parse a form from JSON text. Structural errors only; use the checker for the rest.
    pub fn from_json(text: &str) -> Result<Form, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The language entry for `code`.
    pub fn language(&self, code: &str) -> Option<&Language> {
        self.languages.iter().find(|l| l.code == code)
    }

    /// Visit every item depth-first, with the JSON pointer of each.
    pub fn walk<'a>(&'a self, mut visit: impl FnMut(&'a Item, &str)) {
        fn go<'a>(items: &'a [Item], base: &str, visit: &mut impl FnMut(&'a Item, &str)) {
            for (i, item) in items.iter().enumerate() {
                let ptr = format!("{base}/{i}");
                visit(item, &ptr);
                match item {
                    Item::Group(g) => go(&g.body, &format!("{ptr}/body"), visit),
                    Item::Repeat(r) => go(&r.body, &format!("{ptr}/body"), visit),
                    Item::Field(_) | Item::Consent(_) => {}
                }
            }
        }
        go(&self.body, "/body", &mut visit);
    }
}
