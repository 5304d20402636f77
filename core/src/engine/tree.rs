//! The form body flattened in document order, without recursion.

use crate::collections::Map;
use crate::form::{answer_key, Form, Item, PrivacyRequirement};

/// One item of the body with where it sits.
#[derive(Debug, Clone)]
pub(crate) struct Flat<'a> {
    pub item: &'a Item,
    /// JSON pointer of the item (`/body/2/body/0`).
    pub pointer: String,
    /// Index (in the flat list) of the enclosing group or repeat.
    pub parent: Option<usize>,
    /// Index of the nearest enclosing repeat: the scope an answer key is unique in.
    pub scope: Option<usize>,
    /// Where the item's answer is in an instance of its scope: its name, or for a name
    /// used in two groups of the scope its groups and name (`grp_a/name`, see
    /// [`crate::form::answer_key`]).
    pub key: String,
    /// 0 for top-level items.
    pub depth: usize,
    /// The item or an enclosing group/repeat is marked `sensitive`.
    pub sensitive: bool,
    /// Index of the nearest enclosing privacy-checked group or repeat.
    pub privacy_ancestor: Option<usize>,
}

/// Every item of the form, parents before children, in document order.
pub(crate) fn flatten(form: &Form) -> Vec<Flat<'_>> {
    let mut out: Vec<Flat<'_>> = Vec::new();
    // (items, base pointer, parent index); children are pushed in reverse so they pop in order.
    let mut stack: Vec<(&Item, String, Option<usize>)> = form
        .body
        .iter()
        .enumerate()
        .rev()
        .map(|(i, item)| (item, format!("/body/{i}"), None))
        .collect();
    while let Some((item, pointer, parent)) = stack.pop() {
        let parent_flat = parent.map(|p| &out[p]);
        let scope = parent.and_then(|p| {
            if matches!(out[p].item, Item::Repeat(_)) {
                Some(p)
            } else {
                out[p].scope
            }
        });
        let inherited_sensitive = parent_flat.is_some_and(|p| p.sensitive);
        let own_sensitive = match item {
            Item::Field(f) => f.sensitive,
            Item::Group(g) => g.sensitive,
            Item::Repeat(r) => r.sensitive,
            Item::Consent(_) => false,
        };
        let privacy_ancestor = parent.and_then(|p| {
            if has_privacy_check(out[p].item) {
                Some(p)
            } else {
                out[p].privacy_ancestor
            }
        });
        let depth = parent_flat.map_or(0, |p| p.depth + 1);
        let index = out.len();
        out.push(Flat {
            item,
            pointer: pointer.clone(),
            parent,
            scope,
            key: String::new(),
            depth,
            sensitive: inherited_sensitive || own_sensitive,
            privacy_ancestor,
        });
        let body = match item {
            Item::Group(g) => &g.body,
            Item::Repeat(r) => &r.body,
            Item::Field(_) | Item::Consent(_) => continue,
        };
        for (i, child) in body.iter().enumerate().rev() {
            stack.push((child, format!("{pointer}/body/{i}"), Some(index)));
        }
    }
    set_keys(&mut out);
    out
}

/// Give every item its answer key (parents come before their children).
fn set_keys(flat: &mut [Flat<'_>]) {
    let mut uses: Map<(Option<usize>, &str), usize> = Map::default();
    for f in flat.iter() {
        *uses.entry((f.scope, f.item.name())).or_default() += 1;
    }
    for i in 0..flat.len() {
        let name = flat[i].item.name();
        let repeated = uses.get(&(flat[i].scope, name)).is_some_and(|&n| n > 1);
        let mut groups = Vec::new();
        if repeated {
            let mut up = flat[i].parent;
            while let Some(p) = up.filter(|&p| Some(p) != flat[i].scope) {
                groups.push(flat[p].item.name());
                up = flat[p].parent;
            }
            groups.reverse();
        }
        flat[i].key = answer_key(&groups, name, repeated);
    }
}

pub(crate) fn has_privacy_check(item: &Item) -> bool {
    match item {
        Item::Group(g) => g.privacy == Some(PrivacyRequirement::Required),
        Item::Repeat(r) => r.privacy == Some(PrivacyRequirement::Required),
        Item::Field(_) | Item::Consent(_) => false,
    }
}
