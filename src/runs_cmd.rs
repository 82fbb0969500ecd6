//! `surge runs list|show|compare|export|delete`: the run history from the command line.
//!
//! Runs are named by id (`12`), `last` (the newest) or `last~N` (N before the newest).
//! `--json` prints, for `list`, an array of [`RunSummary`]; for `show`, the run
//! (`{"id", "label", "source", "interrupted", "plan_text", "params", "snapshot",
//! "history", "thresholds", "surge_version"}`, the snapshot as in the dashboard's events);
//! for `compare`, `{"before": RunSummary, "after": RunSummary, "differences": ["users 80 →
//! 30", ...], "comparison": Comparison}` (with more than two runs: `{"series": [SeriesRow]}`).
//! Keys are only ever added.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::compare::differences::{differences, RunSettings};
use crate::compare::{self, series, DEFAULT_NOISE_PCT};
use crate::report::comparison as text;
use crate::report::{self, format::iso_utc};
use crate::store::{self, ListFilter, RunRecord, Store, StoreError};

/// `surge runs ...`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub command: RunsCommand,
}

/// Options every subcommand has.
#[derive(Debug, Args, Clone)]
pub struct StoreArgs {
    /// Directory of the run history database (default: the user's data directory).
    #[arg(long, value_name = "DIR", env = "SURGE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Saved runs, newest first.
    List {
        /// Only runs whose host contains TEXT.
        #[arg(long, value_name = "TEXT")]
        host: Option<String>,
        /// Only runs whose label contains TEXT.
        #[arg(long, value_name = "TEXT")]
        label: Option<String>,
        /// At most N runs.
        #[arg(short = 'n', long, value_name = "N")]
        limit: Option<usize>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// One run's statistics, percentiles, failures and thresholds.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Compare two runs (before, after) with deltas and a verdict; with more runs, a series.
    Compare {
        #[arg(required = true, num_args = 2..)]
        ids: Vec<String>,
        /// Noise threshold in percent: smaller changes count as no change.
        #[arg(long, value_name = "PCT", default_value_t = DEFAULT_NOISE_PCT)]
        noise: f64,
        /// Print CSV instead of the text table.
        #[arg(long)]
        csv: bool,
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Write a run's Locust CSV files: PREFIX_stats.csv, PREFIX_failures.csv,
    /// PREFIX_exceptions.csv, and its per-second series as PREFIX_history.csv.
    Export {
        id: String,
        #[arg(long, value_name = "PREFIX", required = true)]
        csv: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Delete a run.
    Delete {
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Why a `runs` command failed (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum RunsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Invalid(String),
}

fn open(args: &StoreArgs) -> Result<Store, RunsError> {
    let dir = args
        .data_dir
        .clone()
        .or_else(store::default_data_dir)
        .ok_or_else(|| {
            RunsError::Invalid("no data directory: set --data-dir or SURGE_DATA_DIR".into())
        })?;
    Ok(Store::open(&dir)?)
}

/// Run a `surge runs` command, printing to `out`.
pub fn run<W: Write>(args: RunsArgs, out: &mut W) -> Result<(), RunsError> {
    match args.command {
        RunsCommand::List {
            host,
            label,
            limit,
            json,
            store,
        } => {
            let runs = open(&store)?.list(&ListFilter { host, label, limit })?;
            if json {
                serde_json::to_writer_pretty(&mut *out, &runs).map_err(std::io::Error::from)?;
                writeln!(out)?;
            } else {
                write_list(out, &runs)?;
            }
        }
        RunsCommand::Show { id, json, store } => {
            let s = open(&store)?;
            let run = s.load(s.resolve(&id)?)?;
            if json {
                let mut v = serde_json::to_value(&run).map_err(std::io::Error::from)?;
                v["server_metrics"] = serde_json::to_value(run.snapshot.server_metrics())
                    .map_err(std::io::Error::from)?;
                serde_json::to_writer_pretty(&mut *out, &v).map_err(std::io::Error::from)?;
                writeln!(out)?;
            } else {
                write_show(out, &run)?;
            }
        }
        RunsCommand::Compare {
            ids,
            noise,
            csv,
            json,
            store,
        } => {
            if !(noise.is_finite() && noise >= 0.0) {
                return Err(RunsError::Invalid(format!(
                    "--noise must be a percentage of 0 or more, got {noise}"
                )));
            }
            let s = open(&store)?;
            let runs = ids
                .iter()
                .map(|id| s.resolve(id).and_then(|id| s.load(id)))
                .collect::<Result<Vec<_>, _>>()?;
            if runs.len() > 2 {
                let input: Vec<_> = runs
                    .iter()
                    .map(|r| (r.id, r.label.clone(), r.snapshot.total.clone()))
                    .collect();
                let rows = series::series(&input, noise);
                if json {
                    serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "series": rows }))
                        .map_err(std::io::Error::from)?;
                    writeln!(out)?;
                } else {
                    text::write_series(&mut *out, &rows, noise)?;
                }
                return Ok(());
            }
            let (a, b) = (&runs[0], &runs[1]);
            let c = compare::compare(&a.snapshot, &b.snapshot, noise);
            let differ = differences(&RunSettings::of(a), &RunSettings::of(b));
            // Two breaking-point searches: how the limit moved, before the figures of their
            // last steps.
            let moved = a
                .limit
                .as_ref()
                .zip(b.limit.as_ref())
                .and_then(|(x, y)| crate::limit::output::limit_change(x, y));
            if json {
                let v = serde_json::json!({
                    "before": a.summary(),
                    "after": b.summary(),
                    "limit": moved,
                    "differences": differ,
                    "comparison": c,
                });
                serde_json::to_writer_pretty(&mut *out, &v).map_err(std::io::Error::from)?;
                writeln!(out)?;
            } else if csv {
                text::write_comparison_csv(&mut *out, &c)?;
            } else {
                if let Some(line) = &moved {
                    writeln!(out, "Search: {line}")?;
                    writeln!(
                        out,
                        "(the figures below are those of each search's last step)"
                    )?;
                    writeln!(out)?;
                }
                text::write_comparison(&mut *out, &c, &a.title(), &b.title(), &differ)?;
                report::server::write_server_comparison(&mut *out, &a.snapshot, &b.snapshot)?;
            }
        }
        RunsCommand::Export { id, csv, store } => {
            let s = open(&store)?;
            let run = s.load(s.resolve(&id)?)?;
            let written = export(&run, &csv)?;
            for p in written {
                writeln!(out, "{}", p.display())?;
            }
        }
        RunsCommand::Delete { id, store } => {
            let s = open(&store)?;
            let id = s.resolve(&id)?;
            s.delete(id)?;
            writeln!(out, "Deleted run #{id}")?;
        }
    }
    Ok(())
}

fn local_time(t: f64) -> String {
    // UTC, to the second: the same text on every machine.
    let iso = iso_utc(t);
    format!("{} {}", &iso[..10], &iso[11..19])
}

fn write_list<W: Write>(out: &mut W, runs: &[store::RunSummary]) -> std::io::Result<()> {
    use crate::report::format::{pad_left, pad_right, truncate};
    if runs.is_empty() {
        return writeln!(out, "No saved runs yet.");
    }
    writeln!(
        out,
        "{} {} {} {} {} {} {} {} {}",
        pad_left("id", 5),
        pad_right("started (UTC)", 19),
        pad_right("label", 18),
        pad_right("host", 28),
        pad_left("users/rate", 12),
        pad_left("duration", 9),
        pad_left("req/s", 9),
        pad_left("p95 ms", 8),
        pad_left("fail %", 7),
    )?;
    for r in runs {
        let load = match r.rate {
            Some(rate) => format!("{rate}/s"),
            None => r.users.to_string(),
        };
        let mut flags = String::new();
        if r.interrupted {
            flags.push_str(" (interrupted)");
        }
        match r.thresholds_passed {
            Some(true) => flags.push_str(" thresholds ok"),
            Some(false) => flags.push_str(" THRESHOLDS FAILED"),
            None => {}
        }
        writeln!(
            out,
            "{} {} {} {} {} {} {} {} {}{}",
            pad_left(&r.id.to_string(), 5),
            local_time(r.started_at),
            pad_right(&truncate(&r.label, 18), 18),
            pad_right(&truncate(&r.host, 28), 28),
            pad_left(&load, 12),
            pad_left(&format!("{:.0}s", r.duration_s), 9),
            pad_left(&format!("{:.1}", r.rps), 9),
            pad_left(&r.p95_ms.map_or("–".into(), |v| format!("{v:.0}")), 8),
            pad_left(&format!("{:.2}", r.fail_ratio * 100.0), 7),
            flags,
        )?;
    }
    Ok(())
}

fn write_show<W: Write>(out: &mut W, run: &RunRecord) -> std::io::Result<()> {
    writeln!(
        out,
        "Run {} ({}, {})",
        run.title(),
        run.source.as_str(),
        run.params.description
    )?;
    writeln!(
        out,
        "Host {}; {} → {} UTC{}",
        run.snapshot.host,
        local_time(run.started_at()),
        local_time(run.ended_at()),
        if run.interrupted {
            " (interrupted)"
        } else {
            ""
        }
    )?;
    if let Some(p) = &run.params.plan_path {
        writeln!(out, "Plan {p}")?;
    }
    writeln!(out)?;
    report::print_summary(&mut *out, &run.snapshot)?;
    report::write_thresholds(out, &run.thresholds)
}

/// Write `PREFIX_stats.csv`, `_failures.csv`, `_exceptions.csv` (Locust's formats) and
/// `_history.csv` (`Timestamp,Seconds,User Count,Requests/s,Failures/s,50%,95%`).
pub fn export(run: &RunRecord, prefix: &std::path::Path) -> std::io::Result<Vec<PathBuf>> {
    let path = |suffix: &str| {
        let mut p = prefix.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    };
    let create = |p: &PathBuf| {
        std::fs::File::create(p)
            .map(std::io::BufWriter::new)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", p.display())))
    };
    let files = [
        path("_stats.csv"),
        path("_failures.csv"),
        path("_exceptions.csv"),
        path("_history.csv"),
    ];
    report::write_stats(create(&files[0])?, &run.snapshot)?;
    report::write_failures(create(&files[1])?, &run.snapshot)?;
    report::write_exceptions(create(&files[2])?, &run.snapshot)?;
    report::write_run_history(create(&files[3])?, run)?;
    Ok(files.to_vec())
}
