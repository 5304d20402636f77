//! `voices form import` and `voices form export`: XLSForm spreadsheets to Voices forms and back.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use voices_core::form::Form;
use voices_xlsform::{export_xlsx, import_file, ImportOptions};

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The XLSForm to read: `.xlsx`, `.xls` or pyxform markdown (`.md`).
    pub file: PathBuf,
    /// Where to write the form JSON (default: standard output).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Import problems pyxform rejects but Voices can recover from (duplicate choice
    /// names) with a warning instead of an error.
    #[arg(long)]
    pub lenient: bool,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The Voices form JSON to write as an XLSForm.
    pub file: PathBuf,
    /// The `.xlsx` to write (default: the form's file name with `.xlsx`).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn run_import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let options = ImportOptions {
        source_name: String::new(),
        lenient: args.lenient,
    };
    let report = import_file(&args.file, &options)?;
    let shown = args.file.display().to_string();
    for diagnostic in &report.diagnostics {
        eprintln!("{}", diagnostic.render(&shown));
    }
    let errors = report.errors().count();
    let warnings = report.warnings().count();
    let Some(form) = report.form else {
        eprintln!("{shown}: {errors} error(s), {warnings} warning(s); no form written");
        return Ok(ExitCode::from(1));
    };
    let json = serde_json::to_string_pretty(&form)? + "\n";
    match &args.output {
        Some(path) => {
            std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "{shown}: imported {} ({warnings} warning(s)) → {}",
                form.id,
                path.display()
            );
        }
        None => print!("{json}"),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let form = Form::from_json(&text).with_context(|| format!("{}", args.file.display()))?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| default_output(&args.file));
    let bytes = export_xlsx(&form)?;
    std::fs::write(&output, bytes).with_context(|| format!("writing {}", output.display()))?;
    eprintln!("{}: exported → {}", args.file.display(), output.display());
    Ok(ExitCode::SUCCESS)
}

fn default_output(input: &Path) -> PathBuf {
    input.with_extension("xlsx")
}
