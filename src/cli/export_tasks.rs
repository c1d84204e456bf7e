//! `rhetor export-tasks`: a model's predictions as pre-annotations to correct, for Label Studio or
//! brat (the formats live in `rhetor::annotate`).

use super::{progress, report_failures, ModelArg};
use anyhow::{bail, Context, Result};
use rhetor::annotate::{self, brat, label_studio, Task};
use rhetor::batch;
use rhetor::corpus;
use rhetor::Document;
use rhetor_store::ListFilter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The annotation tool to export for.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Format {
    /// A JSON list of tasks to import into Label Studio, with the labelling config beside it.
    LabelStudio,
    /// A folder of brat `.txt`/`.ann` pairs with `annotation.conf` and `visual.conf`.
    Brat,
}

/// The order of the tasks.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Order {
    /// The articles the model is least sure of first (mean entropy of its span decisions).
    Uncertainty,
}

/// Flags of `rhetor export-tasks`.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["articles", "db"])))]
pub struct ExportTasksArgs {
    /// The annotation tool.
    #[arg(long, value_enum)]
    pub format: Format,
    /// Folder of articleN.txt files to analyse.
    #[arg(long, value_name = "DIR")]
    pub articles: Option<PathBuf>,
    /// Archive of `rhetor serve` or `rhetor watch` (a SQLite path or a `postgres://` URL): its
    /// saved analyses are exported as they were made.
    #[arg(long, value_name = "DB")]
    pub db: Option<String>,
    /// With --db: only this outlet's articles.
    #[arg(long, value_name = "NAME", requires = "db")]
    pub outlet: Option<String>,
    /// Label Studio: the tasks JSON file (the config goes beside it as NAME.label-config.xml);
    /// brat: the folder to write.
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    /// Order of the tasks (default: by id, or newest first from an archive).
    #[arg(long, value_enum)]
    pub order: Option<Order>,
    #[command(flatten)]
    pub model: ModelArg,
}

pub fn run(args: &ExportTasksArgs) -> Result<ExitCode> {
    let (mut tasks, model, failed) = match (&args.articles, &args.db) {
        (Some(dir), _) => from_articles(dir, &args.model)?,
        (None, Some(db)) => from_archive(db, args.outlet.as_deref())?,
        (None, None) => bail!("give --articles DIR or --db DB"),
    };
    if tasks.is_empty() {
        bail!("no articles to export");
    }
    if let Some(Order::Uncertainty) = args.order {
        annotate::order_by_uncertainty(&mut tasks);
    }
    let spans: usize = tasks.iter().map(|t| t.detections.len()).sum();
    match args.format {
        Format::LabelStudio => {
            let config = config_path(&args.out);
            corpus::write_atomic(
                &args.out,
                label_studio::tasks_json(&tasks, &model).as_bytes(),
            )?;
            corpus::write_atomic(&config, label_studio::labeling_config().as_bytes())?;
            eprintln!(
                "{} tasks, {spans} predicted spans -> {}; labelling config -> {}",
                tasks.len(),
                args.out.display(),
                config.display()
            );
        }
        Format::Brat => {
            brat::write_tasks(&args.out, &tasks, args.order.is_some())?;
            eprintln!(
                "{} articles, {spans} predicted spans -> {}/ (with annotation.conf, visual.conf)",
                tasks.len(),
                args.out.display()
            );
        }
    }
    if failed > 0 {
        eprintln!("rhetor: {failed} articles failed (skipped)");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// `tasks.json` → `tasks.label-config.xml`.
fn config_path(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map_or("tasks".into(), |s| s.to_string_lossy());
    out.with_file_name(format!("{stem}.label-config.xml"))
}

fn from_articles(dir: &Path, model: &ModelArg) -> Result<(Vec<Task>, String, usize)> {
    let analyzer = model.load()?;
    let list = corpus::list_articles(dir)?;
    if list.is_empty() {
        bail!("{}: no article*.txt files", dir.display());
    }
    let pb = progress(list.len(), "export");
    let results = batch::pipe(
        &list,
        &|n| pb.set_position(n as u64),
        |(id, path)| -> Result<Task, rhetor::Error> {
            let doc = Document::read(path, analyzer.max_bytes())?;
            let dets = analyzer.detect(&doc)?;
            Ok(Task::new(id.clone(), doc, dets))
        },
    );
    pb.finish_and_clear();
    let (tasks, errors) = batch::split(results);
    let failed = report_failures(&errors);
    let m = analyzer.manifest();
    Ok((tasks, format!("{}@{}", m.name, m.rhetor_version), failed))
}

fn from_archive(db: &str, outlet: Option<&str>) -> Result<(Vec<Task>, String, usize)> {
    // Opening creates a missing SQLite file: an export must not invent an empty archive.
    if !rhetor_store::is_postgres_url(db) && !Path::new(db).is_file() {
        bail!("{db}: no such archive");
    }
    let archive = rhetor_store::open(db)?;
    let mut tasks = Vec::new();
    let mut model = String::new();
    for page in 1.. {
        let filter = ListFilter {
            source: outlet.map(str::to_string),
            page,
            per_page: 100,
            ..ListFilter::default()
        };
        let listed = archive.list(&filter)?;
        for summary in &listed.articles {
            let Some(record) = archive.get(summary.id)? else {
                continue; // deleted meanwhile
            };
            let analysis: rhetor::Analysis = serde_json::from_value(record.analysis)
                .with_context(|| format!("{db}: article {}", summary.id))?;
            if model.is_empty() {
                model = analysis.model.clone();
            }
            tasks.push(Task::from_analysis(summary.id.to_string(), &analysis)?);
        }
        if listed.articles.is_empty() || (page as i64) * 100 >= listed.total {
            break;
        }
    }
    Ok((tasks, model, 0))
}
