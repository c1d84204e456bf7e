//! `rhetor eval`: SI, FLC and TC scores of predictions against gold labels.

use anyhow::{bail, Result};
use rhetor::corpus;
use rhetor::score::{self, Prf};
use rhetor::Technique;
use std::collections::BTreeMap;
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
    /// Print the scores as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &EvalArgs) -> Result<ExitCode> {
    if args.pred.is_none() && args.tc.is_none() {
        bail!("nothing to score: give --pred FILE (SI, FLC) and/or --tc FILE (TC)");
    }
    let gold = corpus::read_labels(&args.gold)?;
    let articles = match &args.articles {
        Some(dir) => Some(corpus::read_articles(dir)?),
        None => None,
    };
    if let Some(a) = &articles {
        corpus::check_labels(&gold, &args.gold, a)?;
    }
    let mut json = serde_json::Map::new();
    let mut flc_per = None;
    if let Some(p) = &args.pred {
        let pred = corpus::read_labels(p)?;
        if let Some(a) = &articles {
            corpus::check_labels(&pred, p, a)?;
        }
        let si = score::si(&gold, &pred);
        let (flc, per) = score::flc(&gold, &pred);
        if !args.json {
            println!(
                "SI   P {:.4}  R {:.4}  F1 {:.4}   ({} predicted, {} gold spans after merging)",
                si.precision, si.recall, si.f1, si.n_pred, si.n_gold
            );
            println!(
                "FLC  P {:.4}  R {:.4}  F1 {:.4}",
                flc.precision, flc.recall, flc.f1
            );
        }
        json.insert("si".into(), prf_json(&si));
        json.insert("flc".into(), prf_json(&flc));
        json.insert("flc_per_technique".into(), per_json(&per));
        flc_per = Some(per);
    }
    let mut tc_per = None;
    if let Some(p) = &args.tc {
        let pred = corpus::read_labels(p)?;
        if pred.iter().any(|r| r.technique.is_none()) {
            bail!(
                "{}: TC predictions must name a technique on every row",
                p.display()
            );
        }
        let (tc, per) = score::tc(&gold, &pred);
        if !args.json {
            println!(
                "TC   micro-F1 {:.4}   ({} rows predicted, {} gold)",
                tc.f1, tc.n_pred, tc.n_gold
            );
        }
        json.insert("tc".into(), prf_json(&tc));
        json.insert("tc_per_technique".into(), per_json(&per));
        tc_per = Some(per);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        println!();
        match (&flc_per, &tc_per) {
            (Some(f), t) => print_table(f, t.as_ref()),
            (None, Some(t)) => print_tc_table(t),
            (None, None) => {}
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn prf_json(p: &Prf) -> serde_json::Value {
    serde_json::to_value(p).expect("plain numbers serialise")
}

fn per_json(per: &BTreeMap<Technique, Prf>) -> serde_json::Value {
    per.iter()
        .map(|(t, p)| (t.name().to_string(), prf_json(p)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The per-technique table: FLC P/R/F1 and, when given, TC P/R/F1.
pub fn print_table(flc: &BTreeMap<Technique, Prf>, tc: Option<&BTreeMap<Technique, Prf>>) {
    print!(
        "{:<36} {:>6} {:>6} {:>6} {:>6}",
        "technique", "gold", "FLC P", "FLC R", "FLC F1"
    );
    if tc.is_some() {
        print!(" {:>6} {:>6} {:>6}", "TC P", "TC R", "TC F1");
    }
    println!();
    for (t, p) in flc {
        print!(
            "{:<36} {:>6} {:>6.3} {:>6.3} {:>6.3}",
            t.name(),
            p.n_gold,
            p.precision,
            p.recall,
            p.f1
        );
        if let Some(q) = tc.and_then(|m| m.get(t)) {
            print!(" {:>6.3} {:>6.3} {:>6.3}", q.precision, q.recall, q.f1);
        }
        println!();
    }
}

fn print_tc_table(tc: &BTreeMap<Technique, Prf>) {
    println!(
        "{:<36} {:>6} {:>6} {:>6} {:>6}",
        "technique", "gold", "TC P", "TC R", "TC F1"
    );
    for (t, p) in tc {
        println!(
            "{:<36} {:>6} {:>6.3} {:>6.3} {:>6.3}",
            t.name(),
            p.n_gold,
            p.precision,
            p.recall,
            p.f1
        );
    }
}
