//! `rhetor eval`: SI, FLC and TC scores of predictions against gold labels.

use super::{print_table, JsonArg};
use anyhow::{bail, Result};
use rhetor::eval::evaluate;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `rhetor eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// Gold labels (ID, technique, start, end).
    #[arg(long, value_name = "FILE")]
    pub gold: PathBuf,
    /// End-to-end predictions (ID, technique, start, end) for SI and FLC.
    #[arg(long, value_name = "FILE")]
    pub pred: Option<PathBuf>,
    /// Technique predictions over the gold spans (output of `rhetor classify`) for TC.
    #[arg(long, value_name = "FILE")]
    pub tc: Option<PathBuf>,
    /// Check that every row's span lies inside its article in this folder.
    #[arg(long, value_name = "DIR")]
    pub articles: Option<PathBuf>,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run(args: &EvalArgs) -> Result<ExitCode> {
    if args.pred.is_none() && args.tc.is_none() {
        bail!("nothing to score: give --pred FILE (SI, FLC) and/or --tc FILE (TC)");
    }
    let report = evaluate(
        &args.gold,
        args.pred.as_deref(),
        args.tc.as_deref(),
        args.articles.as_deref(),
    )?;
    if args.json.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(s) = &report.spans {
        let si = &s.si;
        println!(
            "SI   P {:.4}  R {:.4}  F1 {:.4}   ({} predicted, {} gold spans after merging)",
            si.precision, si.recall, si.f1, si.n_pred, si.n_gold
        );
        println!(
            "FLC  P {:.4}  R {:.4}  F1 {:.4}",
            s.flc.precision, s.flc.recall, s.flc.f1
        );
    }
    if let Some((tc, _)) = &report.techniques {
        println!(
            "TC   micro-F1 {:.4}   ({} rows predicted, {} gold)",
            tc.f1, tc.n_pred, tc.n_gold
        );
    }
    println!();
    print_table(&report.table());
    Ok(ExitCode::SUCCESS)
}
