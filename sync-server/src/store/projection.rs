//! What the console's queries read instead of the stored states: per response, a row of
//! filterable columns and its search text; per form, counts that the dashboard sums.
//!
//! Both backends write them at ingest, in the transaction that writes the response, from
//! the merged state and its form version, so the table, search and dashboard never parse
//! states in bulk. Counts are kept as deltas: what the response contributed before the
//! ingest is taken away and what it contributes after is added, so a count is always the
//! sum over the current states.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use voices_core::collections::Set;
use voices_core::form::{
    age_band, answer_key, repeated_names, Disaggregation, FieldType, Form, Item, Text,
};
use voices_core::sync::merge::{Register, Value};
use voices_core::sync::{ResponseState, ResponseStatus};

use crate::Result;

/// What a form version says about its answers, by normalized path (`/member/age` for
/// `/member[2]/age`: repeat instance numbers removed).
#[derive(Debug, Clone)]
pub struct FormIndex {
    pub default_language: String,
    fields: HashMap<String, FieldInfo>,
    /// Choice questions (`select_one`, `select_multiple`), normalized paths in form order.
    pub questions: Vec<String>,
    /// Disaggregation marks: (normalized repeat path, `""` at the top level, kind) → the
    /// field's answer key (its name, or `group/name` for a name used twice in the scope).
    marks: HashMap<(String, Disaggregation), String>,
    /// The first top-level geopoint field: the map's point.
    pub geopoint: Option<String>,
    /// Paths of the consent answers (`yes`/`no`: not pii).
    consents: Vec<String>,
}

/// One field of a form version.
#[derive(Debug, Clone)]
pub struct FieldInfo {
    pub path: String,
    pub name: String,
    pub kind: FieldType,
    pub label: Option<Text>,
    pub pii: bool,
    pub sensitive: bool,
    pub disaggregation: Option<Disaggregation>,
    /// Normalized path of the nearest group around it (display only), if any.
    pub group: Option<String>,
    /// Normalized path of the innermost repeat around it, if any.
    pub repeat: Option<String>,
    pub choices: Option<String>,
}

/// Answer keys while walking a form: the names used twice in the current repeat scope
/// and the groups opened since it began (see `voices_core::form::answer_key`), so a
/// name in two groups of one scope is indexed as `/grp_a/name`, the path its answers have.
struct KeyScope<'f> {
    repeated: Set<&'f str>,
    groups: Vec<&'f str>,
}

impl<'f> KeyScope<'f> {
    fn of(body: &'f [Item]) -> KeyScope<'f> {
        KeyScope {
            repeated: repeated_names(body),
            groups: Vec::new(),
        }
    }

    fn key(&self, name: &str) -> String {
        answer_key(&self.groups, name, self.repeated.contains(name))
    }

    fn enter(&self, group: &'f str) -> KeyScope<'f> {
        let mut groups = self.groups.clone();
        groups.push(group);
        KeyScope {
            repeated: self.repeated.clone(),
            groups,
        }
    }
}

impl FormIndex {
    pub fn new(form: &Form) -> FormIndex {
        let mut index = FormIndex {
            default_language: form.default_language.clone(),
            fields: HashMap::new(),
            questions: Vec::new(),
            marks: HashMap::new(),
            geopoint: None,
            consents: Vec::new(),
        };
        let mut order = Vec::new();
        index.walk(
            &form.body,
            "",
            &KeyScope::of(&form.body),
            None,
            false,
            &mut order,
        );
        index.questions = order
            .into_iter()
            .filter(|p| {
                index.fields.get(p).is_some_and(|f| {
                    matches!(f.kind, FieldType::SelectOne | FieldType::SelectMultiple)
                })
            })
            .collect();
        index
    }

    fn walk<'f>(
        &mut self,
        items: &'f [Item],
        scope: &str,
        keys: &KeyScope<'f>,
        group: Option<&str>,
        sensitive: bool,
        order: &mut Vec<String>,
    ) {
        for item in items {
            match item {
                Item::Field(f) => {
                    let path = format!("{scope}/{}", keys.key(&f.name));
                    if f.kind == FieldType::Geopoint && scope.is_empty() && self.geopoint.is_none()
                    {
                        self.geopoint = Some(path.clone());
                    }
                    if let Some(mark) = f.disaggregation {
                        self.marks
                            .entry((scope.to_owned(), mark))
                            .or_insert_with(|| keys.key(&f.name));
                    }
                    order.push(path.clone());
                    self.fields.insert(
                        path.clone(),
                        FieldInfo {
                            path,
                            name: f.name.clone(),
                            kind: f.kind,
                            label: f.label.clone(),
                            pii: f.pii,
                            sensitive: f.sensitive || sensitive,
                            disaggregation: f.disaggregation,
                            group: group.map(str::to_owned),
                            repeat: (!scope.is_empty()).then(|| scope.to_owned()),
                            choices: f.choices.clone(),
                        },
                    );
                }
                Item::Group(g) => {
                    let at = format!("{scope}/{}", keys.key(&g.name));
                    let inner = keys.enter(&g.name);
                    let sensitive = sensitive || g.sensitive;
                    self.walk(&g.body, scope, &inner, Some(&at), sensitive, order);
                }
                Item::Repeat(r) => {
                    let inner = format!("{scope}/{}", keys.key(&r.name));
                    let body = KeyScope::of(&r.body);
                    let sensitive = sensitive || r.sensitive;
                    self.walk(&r.body, &inner, &body, None, sensitive, order);
                }
                Item::Consent(c) => self.consents.push(format!("{scope}/{}", keys.key(&c.name))),
            }
        }
    }

    /// Fields in form order (notes included; the caller picks).
    pub fn fields_in_order<'a>(&'a self, form: &Form) -> Vec<&'a FieldInfo> {
        let mut out = Vec::new();
        fn go<'a, 'f>(
            index: &'a FormIndex,
            items: &'f [Item],
            scope: &str,
            keys: &KeyScope<'f>,
            out: &mut Vec<&'a FieldInfo>,
        ) {
            for item in items {
                match item {
                    Item::Field(f) => {
                        let path = format!("{scope}/{}", keys.key(&f.name));
                        if let Some(info) = index.fields.get(&path) {
                            out.push(info);
                        }
                    }
                    Item::Group(g) => go(index, &g.body, scope, &keys.enter(&g.name), out),
                    Item::Repeat(r) => {
                        let inner = format!("{scope}/{}", keys.key(&r.name));
                        go(index, &r.body, &inner, &KeyScope::of(&r.body), out)
                    }
                    Item::Consent(_) => {}
                }
            }
        }
        go(self, &form.body, "", &KeyScope::of(&form.body), &mut out);
        out
    }

    pub fn field(&self, normalized: &str) -> Option<&FieldInfo> {
        self.fields.get(normalized)
    }

    /// Whether the answer at this flat path is pii. Paths the form does not know (a
    /// response on an unpublished version, a field removed) count as pii: nothing unknown
    /// is shown without the permission.
    pub fn is_pii(&self, flat_path: &str) -> bool {
        self.is_pii_normalized(&normalize(flat_path))
    }

    /// [`FormIndex::is_pii`] of a path already normalized.
    fn is_pii_normalized(&self, path: &str) -> bool {
        if self.consents.iter().any(|c| c == path) {
            return false;
        }
        self.fields.get(path).is_none_or(|f| f.pii)
    }

    /// The field marked for `mark` in scope `scope` (normalized repeat path), if any.
    pub fn mark(&self, scope: &str, mark: Disaggregation) -> Option<&str> {
        self.marks
            .get(&(scope.to_owned(), mark))
            .map(String::as_str)
    }
}

/// Whether a flat path is pii when the form version is not known at all.
pub fn is_pii_without_form(_flat_path: &str) -> bool {
    true
}

/// `/member[2]/age` → `/member/age`; `/member[]` (an instance count) stays as it is.
pub fn normalize(flat_path: &str) -> String {
    let mut out = String::with_capacity(flat_path.len());
    let mut skipping = false;
    let mut chars = flat_path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' if chars.peek() != Some(&']') => skipping = true,
            ']' if skipping => skipping = false,
            _ if skipping => {}
            _ => out.push(c),
        }
    }
    out
}

/// The instance prefix of a flat path (`/a[1]/b[2]/c` → `/a[1]/b[2]`; `/c` → ``).
fn instance_prefix(flat_path: &str) -> &str {
    flat_path.rfind('/').map_or("", |i| &flat_path[..i])
}

/// The question under which interview outcomes are tallied (beside the form's choice
/// questions, which the dashboard lists; the overview sums this one). No field can be
/// named so.
pub const OUTCOME_QUESTION: &str = "@outcome";

/// The group name used when a respondent's group is not answered.
pub const UNKNOWN_GROUP: &str = "unknown";

/// One count of the dashboard's choice tallies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TallyKey {
    pub form: String,
    pub version: String,
    /// Normalized path of the question.
    pub question: String,
    pub choice: String,
    pub sex: String,
    pub age_band: String,
    pub disability: String,
}

/// One count of responses by day received and enumerator.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountKey {
    pub form: String,
    pub version: String,
    /// UTC day received (`2026-11-26`).
    pub day: String,
    pub enumerator: String,
}

/// A response's row in the console's table index.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub form: String,
    pub version: String,
    pub status: Option<&'static str>,
    /// Registers holding a conflict.
    pub conflicts: i64,
    pub quarantined: bool,
    /// Answer text of fields that are not pii, for search.
    pub open_text: String,
    /// Answer text of pii fields (and of fields the form does not know).
    pub pii_text: String,
    /// The form's first top-level geopoint: (latitude, longitude).
    pub point: Option<(f64, f64)>,
    pub tallies: Vec<TallyKey>,
}

pub fn status_text(status: Option<ResponseStatus>) -> Option<&'static str> {
    status.map(|s| match s {
        ResponseStatus::Draft => "draft",
        ResponseStatus::Finalized => "finalized",
    })
}

/// Most characters of search text kept per response and kind: a long text answer is
/// searchable by its beginning, and one response cannot bloat the index.
const MAX_SEARCH_TEXT: usize = 16 * 1024;

/// The projection of a merged state, with its form version's index when it is published.
pub fn project(state: &ResponseState, index: Option<&FormIndex>, quarantined: bool) -> Projection {
    let version = state.form_version().unwrap_or_default().to_owned();
    let mut open_text = String::new();
    let mut pii_text = String::new();
    let mut point = None;
    let mut tallies = Vec::new();
    let mut groups_by_instance: HashMap<(&str, &str), [String; 3]> = HashMap::new();
    let text_of = |key: &str| match state.answer(key) {
        Some(Value::Text(Some(v))) => Some(v.as_str()),
        _ => None,
    };
    for register in state.registers.keys() {
        let Register::Answer(path) = register else {
            continue;
        };
        let key = path.as_str();
        if key.ends_with("[]") {
            continue;
        }
        let Some(Value::Text(Some(value))) = state.current(register) else {
            continue;
        };
        let normalized = normalize(key);
        let field = index.and_then(|i| i.field(&normalized));
        let target = if index.is_none_or(|i| i.is_pii_normalized(&normalized)) {
            &mut pii_text
        } else {
            &mut open_text
        };
        if target.len() < MAX_SEARCH_TEXT {
            if !target.is_empty() {
                target.push(' ');
            }
            let room = MAX_SEARCH_TEXT - target.len();
            target.push_str(truncate(value, room));
        }
        let (Some(index), Some(field)) = (index, field) else {
            continue;
        };
        if index.geopoint.as_deref() == Some(normalized.as_str()) {
            point = parse_point(value);
        }
        let choices: Vec<&str> = match field.kind {
            FieldType::SelectOne => vec![value.trim()],
            FieldType::SelectMultiple => value.split_whitespace().collect(),
            _ => continue,
        };
        // The groups depend only on the answer's instance and repeat: the answers of one
        // instance (every top-level answer, each member's) share them.
        let scope = field.repeat.as_deref().unwrap_or("");
        let groups = groups_by_instance
            .entry((instance_of(key), scope))
            .or_insert_with(|| groups_of(index, key, scope, &text_of));
        for choice in choices.into_iter().filter(|c| !c.is_empty()) {
            tallies.push(TallyKey {
                form: state.form.clone(),
                version: version.clone(),
                question: normalized.clone(),
                choice: choice.to_owned(),
                sex: groups[0].clone(),
                age_band: groups[1].clone(),
                disability: groups[2].clone(),
            });
        }
    }
    if let Some(outcome) = state.outcome() {
        // How the interview ended, by the respondent's own groups.
        let groups = index.map_or_else(
            || [(); 3].map(|_| UNKNOWN_GROUP.to_owned()),
            |index| groups_of(index, OUTCOME_QUESTION, "", &text_of),
        );
        let [sex, age_band, disability] = groups;
        tallies.push(TallyKey {
            form: state.form.clone(),
            version: version.clone(),
            question: OUTCOME_QUESTION.to_owned(),
            choice: outcome.outcome.as_str().to_owned(),
            sex,
            age_band,
            disability,
        });
    }
    Projection {
        form: state.form.clone(),
        version,
        status: status_text(state.status()),
        conflicts: state.conflicts().len() as i64,
        quarantined,
        open_text,
        pii_text,
        point,
        tallies,
    }
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The answer's own instance: its flat path up to its last instance step (groups may
/// follow it, `/m[2]/grp_a/name` → `/m[2]`; `` at the top level).
fn instance_of(flat_path: &str) -> &str {
    flat_path.rfind(']').map_or("", |i| &flat_path[..=i])
}

/// Sex, age band and disability of the person an answer is about: the marked field of the
/// answer's own repeat instance, else of the enclosing instances, else of the form level.
fn groups_of<'a>(
    index: &FormIndex,
    flat_path: &str,
    scope: &str,
    text_of: &impl Fn(&str) -> Option<&'a str>,
) -> [String; 3] {
    Disaggregation::ALL.map(|mark| {
        let mut prefix = instance_of(flat_path);
        let mut scope = scope.to_owned();
        loop {
            if let Some(name) = index.mark(&scope, mark) {
                let answer = text_of(&format!("{prefix}/{name}"));
                let group = match (mark, answer) {
                    (_, None) => None,
                    (Disaggregation::Age, Some(a)) => age_band(a).map(str::to_owned),
                    (_, Some(a)) => Some(a.trim().to_owned()).filter(|a| !a.is_empty()),
                };
                return group.unwrap_or_else(|| UNKNOWN_GROUP.to_owned());
            }
            if scope.is_empty() {
                return UNKNOWN_GROUP.to_owned();
            }
            scope = instance_prefix(&scope).to_owned();
            prefix = instance_prefix(prefix);
        }
    })
}

/// `lat lon [alt [accuracy]]` → (lat, lon) when both are in range.
pub fn parse_point(value: &str) -> Option<(f64, f64)> {
    let mut parts = value.split_whitespace();
    let lat: f64 = parts.next()?.parse().ok()?;
    let lon: f64 = parts.next()?.parse().ok()?;
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
}

/// A count's key and how much it changes by.
pub type Change<K> = (K, i64);

/// Net changes of the counts an ingest makes, summed over its responses.
#[derive(Debug, Default)]
pub struct Deltas {
    pub counts: BTreeMap<CountKey, i64>,
    pub tallies: BTreeMap<TallyKey, i64>,
    /// The same tallies by the response's starting device (`device_choice_counts`, which
    /// a coordinator limited to teams reads).
    pub device_tallies: BTreeMap<(String, TallyKey), i64>,
}

/// The count changes of [`Deltas::nonzero`]: by day and enumerator, choice tallies, and
/// choice tallies by device.
pub type NonZero = (
    Vec<Change<CountKey>>,
    Vec<Change<TallyKey>>,
    Vec<Change<(String, TallyKey)>>,
);

impl Deltas {
    /// Count a response (`sign` 1) or take it away (`sign` -1); `device` is the device
    /// that started it.
    pub fn add(
        &mut self,
        projection: &Projection,
        enumerator: &str,
        device: &str,
        received_at: &str,
        sign: i64,
    ) {
        let key = CountKey {
            form: projection.form.clone(),
            version: projection.version.clone(),
            day: received_at.get(..10).unwrap_or(received_at).to_owned(),
            enumerator: enumerator.to_owned(),
        };
        *self.counts.entry(key).or_default() += sign;
        for tally in &projection.tallies {
            *self.tallies.entry(tally.clone()).or_default() += sign;
            *self
                .device_tallies
                .entry((device.to_owned(), tally.clone()))
                .or_default() += sign;
        }
    }

    /// Only the keys whose count changes, in key order (the order rows are locked in).
    pub fn nonzero(self) -> NonZero {
        (
            self.counts.into_iter().filter(|(_, n)| *n != 0).collect(),
            self.tallies.into_iter().filter(|(_, n)| *n != 0).collect(),
            self.device_tallies
                .into_iter()
                .filter(|(_, n)| *n != 0)
                .collect(),
        )
    }
}

/// Form indexes by (project, form, version). Published versions never change, so an
/// index stays valid for the life of the process; a version not (yet) published is not
/// remembered.
#[derive(Default)]
pub struct IndexCache {
    map: RwLock<HashMap<(String, String, String), Arc<FormIndex>>>,
}

impl IndexCache {
    /// The index of a form version, reading its document with `load` on a miss.
    pub fn get(
        &self,
        project: &str,
        form: &str,
        version: &str,
        load: impl FnOnce() -> Result<Option<String>>,
    ) -> Result<Option<Arc<FormIndex>>> {
        let key = (project.to_owned(), form.to_owned(), version.to_owned());
        if let Some(found) = self
            .map
            .read()
            .map_err(|_| crate::Error::Poisoned)?
            .get(&key)
        {
            return Ok(Some(found.clone()));
        }
        let Some(document) = load()? else {
            return Ok(None);
        };
        let Ok(form) = Form::from_json(&document) else {
            return Ok(None);
        };
        let index = Arc::new(FormIndex::new(&form));
        self.map
            .write()
            .map_err(|_| crate::Error::Poisoned)?
            .insert(key, index.clone());
        Ok(Some(index))
    }
}

/// Search text as both backends index it: lower case, accents removed, so `Ségou`
/// is found by `segou` on PostgreSQL as on SQLite (whose FTS5 tokenizer folds the same way).
pub fn fold(text: &str) -> String {
    use unicode_normalization::char::is_combining_mark;
    // ASCII has nothing to decompose: lower case is all folding does to it.
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    use unicode_normalization::UnicodeNormalization;
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Answer text as both backends index it: folded, and every character that is not a
/// letter or digit a space, so both tokenizers see the same words (`+254 712` is the
/// words `254` and `712` on SQLite and PostgreSQL alike).
pub fn index_text(text: &str) -> String {
    fold(text)
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect()
}

/// Search words this long or longer match as prefixes (`achi` finds `Achieng`); shorter
/// ones match whole words only, since a one- or two-letter prefix (`1`, `17`) matches a
/// large part of every index and says little about what is sought.
pub const PREFIX_FROM: usize = 3;

pub fn is_prefix(word: &str) -> bool {
    word.chars().count() >= PREFIX_FROM
}

/// The words of a search, folded; at most 8 words of at most 64 characters, each made of
/// letters and digits only (the rest separates words, as the indexes' tokenizers do).
pub fn search_words(query: &str) -> Vec<String> {
    fold(query)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(64).collect())
        .take(8)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use voices_core::sync::{Hlc, Revision, VersionVector};

    fn form() -> Form {
        Form::from_json(
            r#"{"id":"hh","version":"1","title":"T","languages":[{"code":"en","name":"English"}],
            "default_language":"en","body":[
              {"type":"geopoint","name":"gps","pii":true},
              {"type":"text","name":"name","pii":true},
              {"type":"select_one","name":"sex","choices":"sex","disaggregation":"sex"},
              {"type":"integer","name":"age","disaggregation":"age"},
              {"type":"group","name":"g","body":[
                {"type":"select_multiple","name":"assets","choices":"assets"}]},
              {"type":"repeat","name":"member","body":[
                {"type":"select_one","name":"member_sex","choices":"sex","disaggregation":"sex"},
                {"type":"select_one","name":"school","choices":"yn"}]}
            ],
            "choices":{"sex":[{"name":"f","label":"F"},{"name":"m","label":"M"}],
              "yn":[{"name":"yes","label":"Y"},{"name":"no","label":"N"}],
              "assets":[{"name":"radio","label":"R"},{"name":"bike","label":"B"}]}}"#,
        )
        .unwrap()
    }

    fn state(set: &[(&str, &str)]) -> ResponseState {
        let revision = Revision {
            id: "r1".into(),
            response: "resp".into(),
            form: "hh".into(),
            version: "1".into(),
            actor: "dev".into(),
            seq: 1,
            validated: false,
            files: Default::default(),
            hlc: Hlc::new(1, 0),
            seen: VersionVector::default(),
            set: set
                .iter()
                .map(|(k, v)| (k.to_string(), Some((*v).into())))
                .collect(),
            consent: None,
            privacy: BTreeMap::new(),
            selections: BTreeMap::new(),
            matching: BTreeMap::new(),
            outcome: None,
            status: Some(ResponseStatus::Finalized),
        };
        let mut state = ResponseState::for_revision(&revision);
        state.apply(&revision).unwrap();
        state
    }

    #[test]
    fn paths_normalize_without_instance_numbers() {
        assert_eq!(normalize("/member[12]/age"), "/member/age");
        assert_eq!(normalize("/a[1]/b[2]/c"), "/a/b/c");
        assert_eq!(normalize("/member[]"), "/member[]");
        assert_eq!(normalize("/name"), "/name");
    }

    #[test]
    fn tallies_carry_the_groups_of_the_person_answering() {
        let index = FormIndex::new(&form());
        assert_eq!(
            index.questions,
            ["/sex", "/assets", "/member/member_sex", "/member/school"]
        );
        let s = state(&[
            ("/gps", "-1.5 36.8 1700 5"),
            ("/name", "Achieng Otieno"),
            ("/sex", "f"),
            ("/age", "16"),
            ("/assets", "radio bike"),
            ("/member[]", "2"),
            ("/member[1]/member_sex", "m"),
            ("/member[1]/school", "yes"),
            ("/member[2]/school", "no"),
        ]);
        let p = project(&s, Some(&index), false);
        assert_eq!(p.status, Some("finalized"));
        assert_eq!(p.point, Some((-1.5, 36.8)));
        assert!(p.pii_text.contains("Achieng Otieno"), "{}", p.pii_text);
        assert!(!p.open_text.contains("Achieng"), "{}", p.open_text);
        let t: Vec<(&str, &str, &str, &str)> = p
            .tallies
            .iter()
            .map(|t| {
                (
                    t.question.as_str(),
                    t.choice.as_str(),
                    t.sex.as_str(),
                    t.age_band.as_str(),
                )
            })
            .collect();
        assert_eq!(
            t,
            [
                ("/assets", "radio", "f", "15-17"),
                ("/assets", "bike", "f", "15-17"),
                // The member's own sex; the member has no age mark, so the form level's.
                ("/member/member_sex", "m", "m", "15-17"),
                ("/member/school", "yes", "m", "15-17"),
                ("/member/school", "no", "unknown", "15-17"),
                ("/sex", "f", "f", "15-17"),
            ]
        );
        assert!(p.tallies.iter().all(|t| t.disability == UNKNOWN_GROUP));
    }

    #[test]
    fn unknown_forms_keep_every_answer_in_the_pii_text() {
        let s = state(&[("/village", "Kijiji"), ("/sex", "f")]);
        let p = project(&s, None, true);
        assert!(p.open_text.is_empty());
        assert!(p.pii_text.contains("Kijiji"));
        assert!(p.tallies.is_empty());
        assert!(p.quarantined);
    }

    #[test]
    fn deltas_cancel_out() {
        let index = FormIndex::new(&form());
        let before = project(&state(&[("/sex", "f")]), Some(&index), false);
        let after = project(&state(&[("/sex", "m")]), Some(&index), false);
        let mut d = Deltas::default();
        d.add(&before, "Ana", "tab-1", "2026-11-26T04:00:00.000Z", -1);
        d.add(&after, "Ana", "tab-1", "2026-11-26T04:00:00.000Z", 1);
        let (counts, tallies, by_device) = d.nonzero();
        assert!(counts.is_empty());
        let changed: Vec<(&str, i64)> = tallies
            .iter()
            .map(|(k, n)| (k.choice.as_str(), *n))
            .collect();
        assert_eq!(changed, [("f", -1), ("m", 1)]);
        // By device, the same changes under the starting device.
        let changed: Vec<(&str, &str, i64)> = by_device
            .iter()
            .map(|((device, k), n)| (device.as_str(), k.choice.as_str(), *n))
            .collect();
        assert_eq!(changed, [("tab-1", "f", -1), ("tab-1", "m", 1)]);
    }

    #[test]
    fn search_words_are_folded_and_bounded() {
        assert_eq!(search_words("  Ségou, KIBERA!! "), ["segou", "kibera"]);
        assert_eq!(fold("Ünïcödé"), "unicode");
        // ASCII takes a shorter way to the same folding.
        assert_eq!(fold("Kibera +254 MUD"), "kibera +254 mud");
        assert_eq!(index_text("Kibera +254-712 Ségou"), "kibera  254 712 segou");
        assert_eq!(search_words("\"a\" OR b*"), ["a", "or", "b"]);
        assert_eq!(search_words(&"x ".repeat(20)).len(), 8);
        assert!(search_words("-- ;").is_empty());
    }
}
