//! `surge find-limit`: the breaking-point search from the command line, once its flags are
//! checked (`cli::limit`): the search, its answer on the console, `--json` and `--html`,
//! the run saved in the history, and the exit code (0 a limit found, 3 even the first step
//! failed, 4 inconclusive).

use std::future::Future;
use std::io::Write;

use crate::config::Settings;
use crate::limit::{self, output, LimitSpec};
use crate::report::html::{self, ReportInput};
use crate::store;

/// Run the search `spec` with `settings`, printing to `out`; returns the exit code.
pub async fn run<W: Write>(
    settings: Settings,
    spec: LimitSpec,
    out: &mut W,
    interrupt: impl Future<Output = ()>,
) -> Result<i32, Box<dyn std::error::Error>> {
    for w in &settings.plan.warnings {
        eprintln!("surge: warning: {w}");
    }
    let result = limit::run(&settings, &spec, out, interrupt).await?;
    output::write_result(out, &result)?;
    if let Some(path) = &settings.json {
        output::write_json_file(path, &result)?;
    }
    if let Some(path) = &settings.html {
        let label = match result.limit {
            Some(l) => format!("find-limit: limit {}", spec.model.level(l)),
            None => "find-limit: no limit found".to_string(),
        };
        html::write_file(
            path,
            &ReportInput {
                snapshot: &result.snapshot,
                history: &result.history,
                label: &label,
                thresholds: &[],
                baseline: None,
            },
        )?;
    }
    save(&settings, &spec, &result, out).await?;
    Ok(result.exit_code())
}

/// Save the search in the run history as one run of kind `limit` (its answer and steps in
/// the record's `limit`, the last step's statistics, the whole series).
async fn save<W: Write>(
    settings: &Settings,
    spec: &LimitSpec,
    result: &limit::LimitResult,
    out: &mut W,
) -> std::io::Result<()> {
    let Some(dir) = settings.data_dir.clone().or_else(store::default_data_dir) else {
        eprintln!(
            "surge: warning: no home directory, so this search is not saved (set --data-dir)"
        );
        return Ok(());
    };
    let store = match store::open_for_run(Some(dir)).await {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(()),
        Err(e) => {
            eprintln!("surge: warning: {e}");
            return Ok(());
        }
    };
    let record = limit::record(spec, result, settings.label.clone(), &settings.plan);
    match store::save(store, record).await {
        Ok(id) => writeln!(out, "Saved as run #{id} (surge runs show {id})"),
        Err(e) => {
            eprintln!("surge: warning: the search could not be saved to the history: {e}");
            Ok(())
        }
    }
}
