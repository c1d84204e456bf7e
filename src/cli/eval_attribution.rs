//! `rhetor eval-attribution`: scores predicted attributions (`NAME.ann`) against gold ones with the
//! metric of issue 5 — content partial-overlap P/R/F1 and speaker (source) P/R/F1.

use anyhow::Result;
use rhetor_attribution::eval;
use std::path::PathBuf;

/// Flags of `rhetor eval-attribution`.
#[derive(clap::Args, Debug)]
pub struct EvalAttributionArgs {
    /// Folder of gold `NAME.ann` files (e.g. PolNeAR's `attributions/`).
    #[arg(long, value_name = "DIR")]
    pub gold: PathBuf,
    /// Folder of predicted `NAME.ann` files (from `rhetor attribute`); a missing file counts as an
    /// article with no attributions.
    #[arg(long, value_name = "DIR")]
    pub pred: PathBuf,
    #[command(flatten)]
    pub json: super::JsonArg,
}

pub fn run(args: &EvalAttributionArgs) -> Result<()> {
    let report = eval::evaluate_dirs(&args.gold, &args.pred)?;
    if args.json.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(())
}
