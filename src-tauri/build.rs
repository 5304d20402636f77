use std::fmt::Write as _;
use std::path::Path;

fn main() {
    embed_example_forms();
    tauri_build::build();
}

/// Embed every `schemas/forms/*.json` so the example forms are there on first start.
fn embed_example_forms() {
    // The directory of this run, not of the build script's compilation (`env!`): a target
    // directory shared between checkouts may run a build script compiled in another one.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("../schemas/forms");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading the example forms in {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    // An app without its example forms would start empty: never build one silently.
    assert!(
        !files.is_empty(),
        "no example forms (*.json) in {}",
        dir.display()
    );
    files.sort();
    let mut out = String::from("&[\n");
    for file in files {
        println!("cargo:rerun-if-changed={}", file.display());
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        let abs = file.canonicalize().unwrap_or(file.clone());
        writeln!(out, "    ({name:?}, include_str!({:?})),", abs.display()).ok();
    }
    out.push(']');
    let out_dir = std::env::var("OUT_DIR").unwrap_or_default();
    std::fs::write(Path::new(&out_dir).join("examples.rs"), out)
        .unwrap_or_else(|e| panic!("writing the example form list into {out_dir}: {e}"));
}
