//! A page of the responses table as JSON: the index row's columns and the flat answers
//! of its state, pii masked unless asked.

use serde_json::{json, Value};
use voices_core::sync::Register;

use super::mask;
use super::response::index_of;
use crate::store::console::{review_wire, TableQuery};
use crate::store::projection::IndexCache;
use crate::store::{decode_state, Store};
use crate::Result;

pub fn page_json(
    store: &dyn Store,
    indexes: &IndexCache,
    project: &str,
    query: &TableQuery,
) -> Result<Value> {
    let page = store.table(project, query)?;
    let mut rows = Vec::with_capacity(page.rows.len());
    for row in &page.rows {
        let index = index_of(store, indexes, project, &row.form, &row.version)?;
        let state = decode_state(&row.state)?;
        let mut answers = serde_json::Map::new();
        for key in state.registers.keys() {
            let Register::Answer(path) = key else {
                continue;
            };
            if let Some(voices_core::sync::merge::Value::Sealed(sealed)) = state.current(key) {
                answers.insert(
                    path.to_string(),
                    mask::sealed_value(index.as_deref(), path.as_str(), sealed, query.pii),
                );
            } else if let Some(text) = state.current(key).and_then(mask::register_text) {
                answers.insert(
                    path.to_string(),
                    mask::flat_value(index.as_deref(), path.as_str(), text, query.pii),
                );
            }
        }
        rows.push(json!({
            "id": row.id,
            "form": row.form,
            "version": row.version,
            "enumerator": row.enumerator,
            "device": row.device,
            "received_at": row.received_at,
            "updated_at": row.updated_at,
            "status": (!row.status.is_empty()).then_some(&row.status),
            "review": review_wire(&row.review),
            "conflicts": row.conflicts,
            "quarantined": row.quarantined,
            "answers": answers,
        }));
    }
    let next = if page.more {
        page.rows
            .last()
            .map(|r| r.cursor(query.sort, query.descending).encode())
    } else {
        None
    };
    Ok(json!({
        "total": page.total,
        "total_capped": page.capped,
        "rows": rows,
        "next": next,
    }))
}
