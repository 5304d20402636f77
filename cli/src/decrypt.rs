//! `voices decrypt`: an export (CSV zip, JSON, GeoJSON) or a pull page, with its sealed
//! answers opened by an identity, written as the same kind of file in clear; or a sealed
//! file (the file of a sealed file answer, `sealed-….age`, as the server serves it, alone
//! or inside a zip), written as its clear bytes.
//!
//! Sealed answers are found by what they are, in the one place each format keeps them:
//! in JSON the object `{"sealed": "…"}` where an answer would be; in a CSV cell the
//! base64 of an age file (its header line `age-encryption.org/v1`). A sealed answer the
//! identity cannot open (sealed to other keys only) is left as it was and counted.

use std::io::{Cursor, Read, Write};
use std::path::PathBuf;

use anyhow::{bail, Context};
use base64::Engine;
use serde_json::Value;

use crate::identity;

/// How every age file begins.
const AGE_HEADER: &[u8] = b"age-encryption.org/v1\n";

#[derive(clap::Args)]
pub struct Args {
    /// The identity file (from `voices keygen`, or `age-keygen`'s).
    #[arg(long)]
    identity: PathBuf,
    /// The export or pull to open: a CSV zip, or JSON; or a sealed file (`sealed-….age`).
    input: PathBuf,
    /// Where to write the clear version (refused if it exists).
    #[arg(long, short)]
    output: PathBuf,
}

#[derive(Default)]
struct Counts {
    opened: u64,
    not_opened: u64,
}

pub fn run(args: Args) -> anyhow::Result<std::process::ExitCode> {
    if args.output.exists() {
        bail!(
            "{} exists already; choose a new file",
            args.output.display()
        );
    }
    let identities = identity::read(&args.identity)?;
    let input = std::fs::read(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let mut counts = Counts::default();
    let clear = if input.starts_with(AGE_HEADER) {
        // A sealed file (a photo of a sensitive question, as the server serves it):
        // its clear bytes.
        match open_file(&input, &identities) {
            Some(clear) => {
                counts.opened += 1;
                clear
            }
            None => bail!(
                "{} is a sealed file this identity does not open (sealed to other keys only)",
                args.input.display()
            ),
        }
    } else if input.starts_with(b"PK") {
        open_zip(&input, &identities, &mut counts)?
    } else {
        let mut json: Value = serde_json::from_slice(&input)
            .with_context(|| format!("{} is neither a CSV zip nor JSON", args.input.display()))?;
        open_json(&mut json, &identities, &mut counts);
        let mut text = serde_json::to_vec_pretty(&json)?;
        text.push(b'\n');
        text
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    file.write_all(&clear)?;
    file.sync_all()?;
    eprintln!(
        "voices: {} sealed answers opened{}; written to {}",
        counts.opened,
        if counts.not_opened > 0 {
            format!(
                ", {} left sealed (sealed to other keys only)",
                counts.not_opened
            )
        } else {
            String::new()
        },
        args.output.display()
    );
    Ok(if counts.not_opened > 0 {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    })
}

/// The clear bytes of an age file, if one of the identities opens it.
fn open_file(bytes: &[u8], identities: &[age::x25519::Identity]) -> Option<Vec<u8>> {
    let decryptor = age::Decryptor::new_buffered(bytes).ok()?;
    let mut reader = decryptor
        .decrypt(identities.iter().map(|i| i as &dyn age::Identity))
        .ok()?;
    let mut clear = Vec::new();
    reader.read_to_end(&mut clear).ok()?;
    Some(clear)
}

/// The clear text of a sealed answer (the base64 of an age file), if one of the
/// identities opens it; `None` when it is not a sealed answer at all.
fn open(text: &str, identities: &[age::x25519::Identity], counts: &mut Counts) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()?;
    if !bytes.starts_with(AGE_HEADER) {
        return None;
    }
    let clear = age::Decryptor::new_buffered(&bytes[..])
        .ok()
        .and_then(|d| {
            d.decrypt(identities.iter().map(|i| i as &dyn age::Identity))
                .ok()
        })
        .and_then(|mut reader| {
            let mut clear = String::new();
            reader.read_to_string(&mut clear).ok()?;
            Some(clear)
        });
    match clear {
        Some(clear) => {
            counts.opened += 1;
            Some(clear)
        }
        None => {
            counts.not_opened += 1;
            None
        }
    }
}

/// Replace every `{"sealed": "…"}` the identities open by its clear text.
fn open_json(value: &mut Value, identities: &[age::x25519::Identity], counts: &mut Counts) {
    match value {
        Value::Object(map) => {
            if map.len() == 1 {
                if let Some(Value::String(sealed)) = map.get("sealed") {
                    if let Some(clear) = open(sealed, identities, counts) {
                        *value = Value::String(clear);
                    }
                    return;
                }
            }
            for inner in map.values_mut() {
                open_json(inner, identities, counts);
            }
        }
        Value::Array(items) => {
            for inner in items {
                open_json(inner, identities, counts);
            }
        }
        _ => {}
    }
}

/// Every CSV file of the zip with its sealed cells opened; other files as they are.
fn open_zip(
    bytes: &[u8],
    identities: &[age::x25519::Identity],
    counts: &mut Counts,
) -> anyhow::Result<Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).context("not a readable zip")?;
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..archive.len() {
        let mut file = archive.by_index(i)?;
        let name = file.name().to_owned();
        let mut content = Vec::new();
        file.read_to_end(&mut content)?;
        if content.starts_with(AGE_HEADER) {
            // A sealed file kept in the zip (`….age`): written opened, without `.age`.
            if let Some(clear) = open_file(&content, identities) {
                counts.opened += 1;
                out.start_file(name.strip_suffix(".age").unwrap_or(&name), options)?;
                out.write_all(&clear)?;
                continue;
            }
            counts.not_opened += 1;
        }
        out.start_file(name.as_str(), options)?;
        if !name.ends_with(".csv") {
            out.write_all(&content)?;
            continue;
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&content[..]);
        let mut writer = csv::Writer::from_writer(Vec::new());
        for record in reader.records() {
            let record = record.with_context(|| format!("{name}: not CSV"))?;
            let cells: Vec<String> = record
                .iter()
                .map(|cell| open(cell, identities, counts).unwrap_or_else(|| cell.to_owned()))
                .collect();
            writer.write_record(&cells)?;
        }
        out.write_all(
            &writer
                .into_inner()
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?,
        )?;
    }
    Ok(out.finish()?.into_inner())
}
