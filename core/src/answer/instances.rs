//! How many repeat instances a response's flat keys imply, all repeats together.
//!
//! [`MAX_INSTANCES`] bounds one repeat, but repeats nest: `/a[k]/b[1000]/x` for every
//! `k` up to 1,000 names a million instances with paths that are each within bounds.
//! [`MAX_RESPONSE_INSTANCES`] bounds the whole response; the server refuses a revision
//! that would pass it, and [`super::tree_from`] never builds more.

use std::collections::BTreeMap;

use super::flat::parse_count;
use super::path::{AnswerPath, MAX_INSTANCES};

/// Most repeat instances one response may hold, every repeat and every nesting level
/// together.
pub const MAX_RESPONSE_INSTANCES: usize = 10_000;

/// Per repeat within its enclosing instance (`/a[3]/b` for `/a[3]/b[7]/x`), the highest
/// instance number any key names or any count value sets: what building the tree
/// allocates for it. Counts above [`MAX_INSTANCES`] count as that many.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceTally {
    highest: BTreeMap<String, usize>,
    total: usize,
}

impl InstanceTally {
    pub fn new() -> InstanceTally {
        InstanceTally::default()
    }

    /// The tally of these keys with their values (`None`: a cleared value).
    pub fn of<'a>(
        keys: impl IntoIterator<Item = (&'a AnswerPath, Option<&'a str>)>,
    ) -> InstanceTally {
        let mut tally = InstanceTally::new();
        tally.add(keys);
        tally
    }

    /// The instances implied.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Count these keys too.
    pub fn add<'a>(&mut self, keys: impl IntoIterator<Item = (&'a AnswerPath, Option<&'a str>)>) {
        for (path, value) in keys {
            for (repeat, n) in claims(path.as_str(), value) {
                let highest = self.highest.entry(repeat.to_owned()).or_insert(0);
                if n > *highest {
                    self.total = self.total.saturating_add(n - *highest);
                    *highest = n;
                }
            }
        }
    }

    /// The total these keys would make, without counting them.
    pub fn total_with<'a>(
        &self,
        keys: impl IntoIterator<Item = (&'a AnswerPath, Option<&'a str>)>,
    ) -> usize {
        let mut raised: BTreeMap<&str, usize> = BTreeMap::new();
        for (path, value) in keys {
            for (repeat, n) in claims(path.as_str(), value) {
                let known = self.highest.get(repeat).copied().unwrap_or(0);
                let highest = raised.entry(repeat).or_insert(known);
                *highest = (*highest).max(n);
            }
        }
        raised.into_iter().fold(self.total, |total, (repeat, n)| {
            let known = self.highest.get(repeat).copied().unwrap_or(0);
            total.saturating_add(n.saturating_sub(known))
        })
    }
}

/// The (repeat, instance number) pairs one key implies: each instance step, and for a
/// count key its value.
fn claims<'p>(path: &'p str, value: Option<&str>) -> impl Iterator<Item = (&'p str, usize)> + 'p {
    let count = value.and_then(parse_count).map(|n| n.min(MAX_INSTANCES));
    path.match_indices('[').filter_map(move |(open, _)| {
        let rest = &path[open + 1..];
        let close = rest.find(']')?;
        let repeat = &path[..open];
        match &rest[..close] {
            "" => count.filter(|&n| n > 0).map(|n| (repeat, n)),
            digits => digits.parse().ok().map(|n| (repeat, n)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> AnswerPath {
        AnswerPath::parse(text).unwrap()
    }

    #[test]
    fn nested_instances_add_up_per_enclosing_instance() {
        let keys = [
            (p("/a[3]/b[7]/x"), Some("1")),
            (p("/a[2]/b[4]/x"), Some("1")),
            (p("/a[]"), Some("2")),
            (p("/a[3]/b[]"), Some("9")),
            (p("/c[]"), None),
            (p("/name"), Some("x")),
        ];
        let tally = InstanceTally::of(keys.iter().map(|(k, v)| (k, *v)));
        // /a: 3; /a[3]/b: 9; /a[2]/b: 4.
        assert_eq!(tally.total(), 16);
    }

    #[test]
    fn total_with_does_not_count_and_add_does() {
        let mut tally = InstanceTally::of([(&p("/a[2]/x"), Some("1"))]);
        let more = [(p("/a[5]/x"), Some("1")), (p("/a[4]/b[3]/y"), Some("1"))];
        let with = tally.total_with(more.iter().map(|(k, v)| (k, *v)));
        assert_eq!(with, 5 + 3);
        assert_eq!(tally.total(), 2);
        tally.add(more.iter().map(|(k, v)| (k, *v)));
        assert_eq!(tally.total(), with);
    }

    #[test]
    fn a_million_nested_instances_are_counted_not_made() {
        let keys: Vec<AnswerPath> = (1..=1_000)
            .map(|k| p(&format!("/a[{k}]/b[1000]/x")))
            .collect();
        let tally = InstanceTally::of(keys.iter().map(|k| (k, Some("1"))));
        assert_eq!(tally.total(), 1_000 + 1_000 * 1_000);
        assert!(tally.total() > MAX_RESPONSE_INSTANCES);
    }

    #[test]
    fn counts_past_the_limit_count_as_the_limit() {
        let tally = InstanceTally::of([(&p("/a[]"), Some("999999999"))]);
        assert_eq!(tally.total(), MAX_INSTANCES);
    }
}
