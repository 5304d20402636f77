//! The form format's three descriptions agree: the JSON Schema, the Rust types and
//! the example forms designers copy from. One test binary: `forms` checks the
//! example forms, `schema_and_types` the schema against the Rust types,
//! `human_security` the human-security example's constructs and rules.

mod forms;
mod human_security;
mod schema_and_types;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use voices_core::form::{
    Choice, Condition, Consent, Direction, Disaggregation, Entity, Field, FieldType, Form, Group,
    Item, Language, Media, PrivacyRequirement, RangeParams, ReferralParams, Repeat, SafeExit,
    SelectionMethod, SelectionParams, Text,
};

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn schema() -> Value {
    let path = repo_path("schemas/form.schema.json");
    serde_json::from_str(&read(&path))
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&schema())
        .unwrap_or_else(|e| panic!("schemas/form.schema.json is not a valid 2020-12 schema: {e}"))
}

/// Every problem the schema finds in `doc`, as `pointer: message`.
fn schema_errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect()
}

fn example_paths() -> Vec<PathBuf> {
    let dir = repo_path("schemas/forms");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
}
