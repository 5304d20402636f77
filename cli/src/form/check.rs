//! `voices form check FILE…`: every problem in every form, as `file:line:col: pointer: message`.
//!
//! Errors are listed first, then warnings, then one summary line. The exit status is
//! 1 when any form has an error or cannot be read, so the command fits CI pipelines.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use voices_core::check::{check_source, Diagnostic, Severity};

#[derive(clap::Args)]
pub struct Args {
    /// Form files, or directories whose `*.json` files are checked.
    #[arg(required = true, value_name = "FILE")]
    paths: Vec<PathBuf>,
    /// Print the diagnostics as JSON (one entry per file) instead of text.
    #[arg(long)]
    json: bool,
    /// Leave warnings out of the listing (they are still counted in the summary).
    #[arg(long)]
    no_warnings: bool,
}

/// Larger files are refused before reading: no real form comes close, and reading
/// gigabytes into memory would take the machine down rather than report a problem.
pub const MAX_FORM_BYTES: u64 = 256 * 1024 * 1024;

/// The outcome of checking one file.
struct FileReport {
    file: String,
    /// Why the file could not be checked at all (missing, too large, not UTF-8…).
    unreadable: Option<String>,
    diagnostics: Vec<Diagnostic>,
}

impl FileReport {
    fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
            + usize::from(self.unreadable.is_some())
    }

    fn warnings(&self) -> usize {
        self.diagnostics.iter().filter(|d| !d.is_error()).count()
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut reports = Vec::new();
    for path in &args.paths {
        match expand(path) {
            Ok(files) => reports.extend(files.iter().map(|file| check_file(file))),
            Err(problem) => reports.push(FileReport {
                file: path.display().to_string(),
                unreadable: Some(problem),
                diagnostics: Vec::new(),
            }),
        }
    }
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if args.json {
        write_json(&mut out, &reports)?;
    } else {
        write_text(&mut out, &reports, !args.no_warnings)?;
    }
    out.flush().context("cannot write to standard output")?;
    let failed = reports.iter().any(|r| r.errors() > 0);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The files named by `path`: itself, or the `*.json` files of a directory, sorted.
fn expand(path: &Path) -> Result<Vec<PathBuf>, String> {
    let metadata =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !metadata.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| format!("cannot list directory {}: {e}", path.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list directory {}: {e}", path.display()))?;
        let file = entry.path();
        let is_json = file
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
        if is_json && !file.is_dir() {
            files.push(file);
        }
    }
    if files.is_empty() {
        return Err(format!("directory {} holds no .json files", path.display()));
    }
    files.sort();
    Ok(files)
}

fn check_file(path: &Path) -> FileReport {
    let file = path.display().to_string();
    match read_form_text(path) {
        Ok(text) => FileReport {
            file,
            unreadable: None,
            diagnostics: check_source(&text).diagnostics,
        },
        Err(problem) => FileReport {
            file,
            unreadable: Some(problem),
            diagnostics: Vec::new(),
        },
    }
}

/// The file's text, or a sentence saying why it cannot be checked.
pub fn read_form_text(path: &Path) -> Result<String, String> {
    let metadata =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if metadata.len() > MAX_FORM_BYTES {
        return Err(format!(
            "{} is {} MB; forms larger than {} MB are not read",
            path.display(),
            metadata.len() / (1024 * 1024),
            MAX_FORM_BYTES / (1024 * 1024)
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{} is not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// `file:line:col: pointer: severity[code]: message`.
fn line(file: &str, d: &Diagnostic) -> String {
    let position = match (d.line, d.column) {
        (Some(line), Some(column)) => format!("{line}:{column}:"),
        _ => String::new(),
    };
    let pointer = if d.pointer.is_empty() {
        "/"
    } else {
        &d.pointer
    };
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let separator = if position.is_empty() { "" } else { " " };
    format!(
        "{file}:{position}{separator}{pointer}: {severity}[{}]: {}",
        d.code, d.message
    )
}

fn write_text(out: &mut impl Write, reports: &[FileReport], warnings: bool) -> anyhow::Result<()> {
    let mut write =
        |text: String| writeln!(out, "{text}").context("cannot write to standard output");
    for report in reports {
        if let Some(problem) = &report.unreadable {
            write(format!("{}: error: {problem}", report.file))?;
        }
        for d in report.diagnostics.iter().filter(|d| d.is_error()) {
            write(line(&report.file, d))?;
        }
    }
    let warning_count: usize = reports.iter().map(FileReport::warnings).sum();
    if warnings && warning_count > 0 {
        write(String::new())?;
        for report in reports {
            for d in report.diagnostics.iter().filter(|d| !d.is_error()) {
                write(line(&report.file, d))?;
            }
        }
    }
    write(summary(reports))
}

fn summary(reports: &[FileReport]) -> String {
    let errors: usize = reports.iter().map(FileReport::errors).sum();
    let warnings: usize = reports.iter().map(FileReport::warnings).sum();
    let failed = reports.iter().filter(|r| r.errors() > 0).count();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut text = format!(
        "checked {}: {}, {}",
        plural(reports.len(), "form", "forms"),
        plural(errors, "error", "errors"),
        plural(warnings, "warning", "warnings"),
    );
    if failed > 0 {
        text.push_str(&format!(
            "; {} with errors",
            plural(failed, "form", "forms")
        ));
    }
    text
}

fn write_json(out: &mut impl Write, reports: &[FileReport]) -> anyhow::Result<()> {
    let entries: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            serde_json::json!({
                "file": r.file,
                "unreadable": r.unreadable,
                "errors": r.errors(),
                "warnings": r.warnings(),
                "diagnostics": r.diagnostics,
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &entries).context("cannot write to standard output")?;
    writeln!(out).context("cannot write to standard output")
}
