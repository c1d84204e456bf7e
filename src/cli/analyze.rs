//! `rhetor analyze`: one article, shown on a terminal or written as JSON, PTC rows or HTML.

use super::ModelArg;
use anyhow::{Context, Result};
use rhetor::{render, Document};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Output formats of `rhetor analyze`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Highlighted text, legend and counts (colour on a terminal, plain when piped).
    Text,
    /// The analysis as JSON (schema in docs/analysis-json.md).
    Json,
    /// PTC rows: ID<TAB>technique<TAB>start<TAB>end.
    Ptc,
    /// One self-contained HTML page.
    Html,
}

/// When to colour text output.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Flags of `rhetor analyze`.
#[derive(clap::Args, Debug)]
pub struct AnalyzeArgs {
    /// The article: a UTF-8 text file, or `-` (or nothing) for standard input.
    #[arg(value_name = "FILE|-")]
    pub input: Option<PathBuf>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Colour for `--format text`.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    /// Article id written in `--format ptc` rows (default: N of articleN.txt, else the file stem).
    #[arg(long)]
    pub id: Option<String>,
    /// Largest input accepted, in bytes.
    #[arg(long, default_value_t = rhetor::text::DEFAULT_MAX_BYTES)]
    pub max_bytes: usize,
    #[command(flatten)]
    pub model: ModelArg,
    #[command(flatten)]
    pub confidence: super::ConfidenceArg,
}

pub fn run(args: &AnalyzeArgs) -> Result<ExitCode> {
    let analyzer = args
        .model
        .load()?
        .with_max_bytes(args.max_bytes)
        .with_min_confidence(args.confidence.min_confidence);
    let (doc, id) = match args.input.as_deref() {
        None => (read_stdin(args.max_bytes)?, "stdin".to_string()),
        Some(p) if p.as_os_str() == "-" => (read_stdin(args.max_bytes)?, "stdin".to_string()),
        Some(p) => {
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let id = stem.strip_prefix("article").unwrap_or(&stem).to_string();
            (Document::read(p, args.max_bytes)?, id)
        }
    };
    let id = args.id.clone().unwrap_or(id);
    let analysis = analyzer.analyze_document(&doc)?;
    let out = match args.format {
        Format::Json => serde_json::to_string_pretty(&analysis)? + "\n",
        Format::Html => render::html(&analysis),
        Format::Ptc => analysis
            .spans
            .iter()
            .map(|s| format!("{id}\t{}\t{}\t{}\n", s.technique, s.start, s.end))
            .collect(),
        Format::Text => {
            let color = match args.color {
                ColorWhen::Always => true,
                ColorWhen::Never => false,
                ColorWhen::Auto => {
                    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            };
            render::terminal(&analysis, color)
        }
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e).context("writing the output"),
    }
}

fn read_stdin(max_bytes: usize) -> Result<Document> {
    let mut buf = Vec::new();
    // Read one byte past the limit so an oversize input is refused without reading all of it.
    std::io::stdin()
        .lock()
        .take(max_bytes as u64 + 1)
        .read_to_end(&mut buf)
        .context("reading standard input")?;
    Ok(Document::from_bytes(buf, "<stdin>", max_bytes)?)
}
