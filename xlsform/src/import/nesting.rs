//! Groups, repeats and pyxform's loops: `begin`/`end` rows opened and closed, a
//! repeat's own name scope, and a loop expanded into one group per choice.

use voices_core::form::{Group, Item, PrivacyRequirement, Repeat, Text};

use super::table::Table;
use super::types::RowType;
use super::{Importer, Origin};
use crate::columns::yes_no;
use crate::diag::CellRef;
use crate::workbook::SheetRow;

/// Deepest nesting of groups and repeats; deeper is an error (and keeps every recursive
/// walk of the form far from the stack limit).
const MAX_NESTING: usize = 64;

/// The body being read: the top-level items so far and the groups and repeats still
/// open, innermost last.
#[derive(Default)]
pub(super) struct Body {
    open: Vec<Open>,
    top: Vec<Item>,
}

impl Body {
    /// The JSON pointer the next item will have (`/body/2/body/0`).
    pub(super) fn next_pointer(&self) -> String {
        match self.open.last() {
            Some(o) => format!("{}/body/{}", o.origin_ptr, o.items.len()),
            None => format!("/body/{}", self.top.len()),
        }
    }

    /// Add an item to the innermost open group or repeat (or the top level).
    pub(super) fn push(&mut self, item: Item) {
        match self.open.last_mut() {
            Some(parent) => parent.items.push(item),
            None => self.top.push(item),
        }
    }
}

/// An open `begin group` / `begin repeat` waiting for its `end`.
struct Open {
    container: Container,
    items: Vec<Item>,
    row: u32,
    origin_ptr: String,
}

enum Container {
    /// pyxform's `begin loop over list`: expanded into one group per choice when closed.
    Loop(Group, String),
    Group(Group),
    Repeat(Repeat),
}

impl Container {
    fn word(&self) -> &'static str {
        match self {
            Container::Group(_) => "group",
            Container::Repeat(_) => "repeat",
            Container::Loop(..) => "loop",
        }
    }
}

impl Importer<'_> {
    /// A `begin group`, `begin repeat` or `begin loop` row (`row_type`) at `ptr`: the
    /// container is opened; the rows up to its `end` go inside.
    pub(super) fn open_container(
        &mut self,
        body: &mut Body,
        table: &Table,
        row: &SheetRow,
        row_type: &RowType,
        at: &CellRef,
        ptr: String,
    ) {
        let repeat = *row_type == RowType::BeginRepeat;
        if body.open.len() >= MAX_NESTING {
            self.error(
                Some(at.clone()),
                "too-deep",
                format!("groups and repeats are nested more than {MAX_NESTING} deep"),
            );
            return;
        }
        let in_loop = body
            .open
            .iter()
            .any(|o| matches!(o.container, Container::Loop(..)));
        if repeat && in_loop {
            self.error(
                Some(at.clone()),
                "repeat-in-loop",
                "a repeat cannot be inside a loop",
            );
        }
        let container = self.begin(table, row, repeat).map(|c| match (c, row_type) {
            (Container::Group(g), RowType::BeginLoop(list)) => Container::Loop(g, list.clone()),
            (c, _) => c,
        });
        let Some(container) = container else {
            return;
        };
        self.record_origin(table, row, &ptr);
        let name = match &container {
            Container::Group(g) | Container::Loop(g, _) => g.name.clone(),
            Container::Repeat(r) => r.name.clone(),
        };
        self.parents.push((self.next_parent_id, name));
        self.parent_repeats.push(repeat);
        self.next_parent_id += 1;
        body.open.push(Open {
            container,
            items: Vec::new(),
            row: row.number,
            origin_ptr: ptr,
        });
    }

    /// An `end group`, `end repeat` or `end loop` row: the innermost container is
    /// closed (with an error when it is not of the kind the row ends).
    pub(super) fn end_container(&mut self, body: &mut Body, row_type: &RowType, at: &CellRef) {
        let word = match row_type {
            RowType::EndGroup => "group",
            RowType::EndRepeat => "repeat",
            _ => "loop",
        };
        let Some(open) = body.open.pop() else {
            self.error(
                Some(at.clone()),
                "unbalanced",
                format!("'end {word}' without a matching 'begin {word}'"),
            );
            return;
        };
        if open.container.word() != word {
            self.error(
                Some(at.clone()),
                "unbalanced",
                format!(
                    "'end {word}' closes the 'begin {}' at row {}",
                    open.container.word(),
                    open.row
                ),
            );
        }
        let item = self.close(open);
        body.push(item);
    }

    /// The finished body: containers left open at the end of `sheet` are errors, and
    /// closed there.
    pub(super) fn finish_body(&mut self, mut body: Body, sheet: &str) -> Vec<Item> {
        while let Some(open) = body.open.pop() {
            self.error(
                Some(CellRef::row(sheet, open.row)),
                "unbalanced",
                format!(
                    "'begin {}' at row {} has no matching 'end {}'",
                    open.container.word(),
                    open.row,
                    open.container.word()
                ),
            );
            let item = self.close(open);
            body.push(item);
        }
        body.top
    }

    fn begin(&mut self, table: &Table, row: &SheetRow, repeat: bool) -> Option<Container> {
        let what = if repeat { "repeat" } else { "group" };
        let (name, at) = self.name(table, row, what)?;
        if repeat {
            let count = table.get(row, "repeat_count");
            self.check_repeat_name(&name, &at, count.as_ref());
        }
        let relevant = table.get(row, "relevant").map(|c| self.bind_expression(&c));
        if repeat {
            if let Some(c) = table.get(row, "match") {
                self.error(
                    Some(c.at),
                    "ignored-cell",
                    "'match' is a rule on a group; put the repeat inside a group that has it",
                );
            }
        }
        let privacy = match table.get(row, "privacy") {
            None => None,
            Some(c) if c.text.eq_ignore_ascii_case("required") => {
                Some(PrivacyRequirement::Required)
            }
            Some(c) if yes_no(c.text) == Some(false) => None,
            Some(c) => {
                self.error(
                    Some(c.at),
                    "bad-privacy",
                    format!("'privacy' must be 'required' or empty, not '{}'", c.text),
                );
                None
            }
        };
        let sensitive = self.flag(table, row, "sensitive");
        let label = self.text(table, row, "label");
        let hint = self.text(table, row, "hint");
        let appearance = table.get(row, "appearance").map(|c| c.text.to_owned());
        let privacy_prompt = self.text(table, row, "privacy_prompt");
        for key in [
            "calculation",
            "constraint",
            "required",
            "default",
            "choice_filter",
        ] {
            if let Some(c) = table.get(row, key) {
                self.warn(
                    Some(c.at),
                    "ignored-cell",
                    format!("'{key}' has no meaning on a begin {what} row and is ignored"),
                );
            }
        }
        if repeat {
            let count = table.get(row, "repeat_count").map(|c| self.expression(&c));
            let min = self.count_column(table, row, "repeat_min");
            let max = self.count_column(table, row, "repeat_max");
            Some(Container::Repeat(Repeat {
                name,
                label,
                hint,
                relevant,
                appearance,
                count,
                min,
                max,
                add_label: self.text(table, row, "add_label"),
                privacy,
                privacy_prompt,
                sensitive,
                body: Vec::new(),
            }))
        } else {
            if let Some(c) = table.get(row, "repeat_count") {
                self.error(
                    Some(c.at),
                    "ignored-cell",
                    "repeat_count on a group: did you mean 'begin repeat'?",
                );
            }
            let page = match table.get(row, "page") {
                None => true,
                Some(c) => match yes_no(c.text) {
                    Some(b) => b,
                    None => {
                        self.error(
                            Some(c.at),
                            "bad-flag",
                            format!("'page' must be yes or no, not '{}'", c.text),
                        );
                        true
                    }
                },
            };
            let match_rule = table.get(row, "match").map(|c| self.bind_expression(&c));
            Some(Container::Group(Group {
                name,
                label,
                hint,
                relevant,
                appearance,
                page,
                privacy,
                privacy_prompt,
                match_rule,
                sensitive,
                body: Vec::new(),
            }))
        }
    }

    fn count_column(&mut self, table: &Table, row: &SheetRow, key: &str) -> Option<u32> {
        let cell = table.get(row, key)?;
        match cell.text.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                self.error(
                    Some(cell.at),
                    "bad-number",
                    format!("'{key}' must be a whole number, not '{}'", cell.text),
                );
                None
            }
        }
    }

    fn close(&mut self, open: Open) -> Item {
        self.parents.pop();
        self.parent_repeats.pop();
        match open.container {
            Container::Loop(g, list) => {
                self.expand_loop(g, &list, open.items, &open.origin_ptr, open.row)
            }
            Container::Group(mut g) => {
                g.body = open.items;
                Item::Group(g)
            }
            Container::Repeat(mut r) => {
                r.body = open.items;
                Item::Repeat(r)
            }
        }
    }

    /// pyxform's loop: the body repeated once per choice of `list` (but a choice named
    /// `none`, as pyxform), each copy in a group named after the choice and labelled
    /// with its label, `%(label)s` and `%(name)s` in its texts replaced by the choice's.
    /// The copies keep their names (unique within their group), so references into the
    /// body are ambiguous.
    fn expand_loop(
        &mut self,
        mut group: Group,
        list: &str,
        items: Vec<Item>,
        ptr: &str,
        row: u32,
    ) -> Item {
        let Some(choices) = self.choices.get(list).cloned() else {
            self.error(
                Some(CellRef::row("survey", row)),
                "missing-choice-list",
                format!("loop over '{list}': the list is not defined on the choices sheet"),
            );
            group.body = items;
            return Item::Group(group);
        };
        let choices: Vec<_> = choices.into_iter().filter(|c| c.name != "none").collect();
        let mut names = Vec::new();
        collect_names(&items, &mut names);
        self.warn(
            Some(CellRef::row("survey", row)),
            "loop-expanded",
            format!(
                "loop '{}' is expanded into one group per choice of '{list}', as pyxform does \
                 (e.g. '{}/{}')",
                group.name,
                choices.first().map_or("choice", |c| c.name.as_str()),
                names.first().map_or("question", String::as_str)
            ),
        );
        if choices.len() > 1 {
            let at = CellRef::row("survey", row);
            for name in names {
                self.loop_names.insert(name, at.clone());
            }
        }
        let prefix = format!("{ptr}/body/");
        let inner: Vec<(String, Origin)> = self
            .origins
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, v)| (k[prefix.len()..].to_owned(), v.clone()))
            .collect();
        for (suffix, _) in &inner {
            self.origins.remove(&format!("{prefix}{suffix}"));
        }
        let loop_origin = self.origins.get(ptr).cloned();
        let default_lang = self.default_lang.clone();
        for (index, choice) in choices.iter().enumerate() {
            let mut body = items.clone();
            let substitute = |text: &Text| -> Text {
                let label_in = |lang: &str| choice.label.get(lang, &default_lang).to_owned();
                match text {
                    Text::Plain(s) => Text::Plain(
                        s.replace("%(label)s", &label_in(&default_lang))
                            .replace("%(name)s", &choice.name),
                    ),
                    Text::Translated(m) => Text::Translated(
                        m.iter()
                            .map(|(lang, s)| {
                                (
                                    lang.clone(),
                                    s.replace("%(label)s", &label_in(lang))
                                        .replace("%(name)s", &choice.name),
                                )
                            })
                            .collect(),
                    ),
                }
            };
            rewrite_texts(&mut body, &substitute);
            let label = choice.label.get(&default_lang, &default_lang).to_owned();
            substitute_expressions(&mut body, &choice.name, &label);
            let copy_ptr = format!("{prefix}{index}");
            if let Some(origin) = &loop_origin {
                self.origins.insert(copy_ptr.clone(), origin.clone());
            }
            for (suffix, origin) in &inner {
                self.origins
                    .insert(format!("{copy_ptr}/body/{suffix}"), origin.clone());
            }
            let at = CellRef::row("survey", row);
            self.all_names.insert(choice.name.clone());
            self.declared
                .entry(choice.name.clone())
                .or_default()
                .push(at);
            group.body.push(Item::Group(Group {
                name: choice.name.clone(),
                label: Some(choice.label.clone()),
                hint: None,
                relevant: None,
                appearance: None,
                page: true,
                privacy: None,
                privacy_prompt: None,
                match_rule: None,
                sensitive: false,
                body,
            }));
        }
        Item::Group(group)
    }
}

/// Every name declared by `items`, depth first.
fn collect_names(items: &[Item], out: &mut Vec<String>) {
    for item in items {
        out.push(item.name().to_owned());
        match item {
            Item::Group(g) => collect_names(&g.body, out),
            Item::Repeat(r) => collect_names(&r.body, out),
            Item::Field(_) | Item::Consent(_) => {}
        }
    }
}

/// pyxform substitutes `%(name)s` and `%(label)s` in every cell of a loop's rows, not
/// only in texts: the expressions (`selected(${x}, '%(name)s')`) get the choice's name
/// and its label in the default language. Texts are done before, per language.
fn substitute_expressions(items: &mut Vec<Item>, name: &str, label: &str) {
    fn walk(value: &mut serde_json::Value, name: &str, label: &str) {
        match value {
            serde_json::Value::String(s) if s.contains("%(") => {
                *s = s.replace("%(name)s", name).replace("%(label)s", label);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| walk(v, name, label)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| walk(v, name, label)),
            _ => {}
        }
    }
    let Ok(mut value) = serde_json::to_value(&*items) else {
        return;
    };
    walk(&mut value, name, label);
    // The same items with other strings: they read back (or stay as they were).
    if let Ok(substituted) = serde_json::from_value(value) {
        *items = substituted;
    }
}

/// Rewrite every text of `items` with `substitute`.
fn rewrite_texts(items: &mut [Item], substitute: &dyn Fn(&Text) -> Text) {
    let sub = |t: &mut Option<Text>| {
        if let Some(text) = t {
            *text = substitute(text);
        }
    };
    for item in items {
        match item {
            Item::Field(f) => {
                sub(&mut f.label);
                sub(&mut f.hint);
                sub(&mut f.guidance);
                sub(&mut f.constraint_message);
                sub(&mut f.required_message);
            }
            Item::Group(g) => {
                sub(&mut g.label);
                sub(&mut g.hint);
                rewrite_texts(&mut g.body, substitute);
            }
            Item::Repeat(r) => {
                sub(&mut r.label);
                sub(&mut r.hint);
                rewrite_texts(&mut r.body, substitute);
            }
            Item::Consent(c) => {
                c.text = substitute(&c.text);
                sub(&mut c.label);
            }
        }
    }
}
