//! Referral steps compiled: their area and needs expressions, checked as read from
//! the step (`engine/referral.rs` evaluates them).

use crate::collections::Map;
use crate::form::{FieldType, Item};

use super::super::referral::CompiledReferral;
use super::super::tree::Flat;
use super::build::Builder;
use super::{ChoiceList, NodeIdx};

/// Each referral step's expressions, checked as read from the step. A missing
/// `referral` is the structural check's to report.
pub(super) fn compile_referrals(
    b: &mut Builder,
    flat: &[Flat<'_>],
    by_name: &Map<String, Vec<NodeIdx>>,
    lists: &[ChoiceList],
) -> Map<NodeIdx, CompiledReferral> {
    let mut out = Map::default();
    for (i, f) in flat.iter().enumerate() {
        let Item::Field(field) = f.item else { continue };
        if field.kind != FieldType::Referral {
            continue;
        }
        let Some(params) = &field.referral else {
            continue;
        };
        let idx = i + 1;
        let compile = |b: &mut Builder, key: &str, src: &str| {
            if src.trim().is_empty() {
                return None; // the structural check says what is missing
            }
            let pointer = format!("{}/referral/{key}", f.pointer);
            let e = b.parse_at(&pointer, src)?;
            let read = b.check_expr(&pointer, &e, idx, by_name, lists);
            Some((e, read))
        };
        let area = compile(b, "area", &params.area).map(|(e, _)| e);
        let (needs, needs_list) = match params.needs.as_deref() {
            None => (None, None),
            Some(src) => match compile(b, "needs", src) {
                None => (None, None),
                Some((e, read)) => {
                    // `${needs}` alone: the kinds are that select's choices, named by
                    // their labels in the interview's language.
                    let list = match read.as_slice() {
                        [(node, _)] if src.trim() == format!("${{{}}}", b.nodes[*node].name) => {
                            b.nodes[*node].list
                        }
                        _ => None,
                    };
                    (Some(e), list)
                }
            },
        };
        out.insert(
            idx,
            CompiledReferral {
                area,
                needs,
                needs_list,
            },
        );
    }
    out
}
