//! The `--csv` and `--json` files of a front end: the history CSV gets a row per snapshot
//! while a test is active, and the final files are written as soon as a test stops, so an
//! interrupted or killed process has already written everything it measured.

use std::path::PathBuf;

use crate::config::Settings;
use crate::report::{self, CsvFiles};
use crate::stats::Snapshot;

/// The files a run writes (none when neither `--csv` nor `--json` was given).
pub struct RunFiles {
    csv: Option<CsvFiles>,
    json: Option<PathBuf>,
}

impl RunFiles {
    /// No files (tests, a dashboard without `--csv`/`--json`).
    pub fn none() -> RunFiles {
        RunFiles {
            csv: None,
            json: None,
        }
    }

    /// Create the CSV files (header lines) now, so a path that cannot be written is
    /// reported before any load is sent.
    pub fn create(settings: &Settings) -> std::io::Result<RunFiles> {
        let csv = match &settings.csv {
            Some(prefix) => Some(CsvFiles::create(prefix, settings.csv_full_history)?),
            None => None,
        };
        Ok(RunFiles {
            csv,
            json: settings.json.clone(),
        })
    }

    /// Whether anything is written at all.
    pub fn any(&self) -> bool {
        self.csv.is_some() || self.json.is_some()
    }

    /// The history CSV's row for an active test's snapshot.
    pub fn row(&mut self, snap: &Snapshot) -> std::io::Result<()> {
        match self.csv.as_mut() {
            Some(csv) => csv.history(snap),
            None => Ok(()),
        }
    }

    /// The final files for `snap` (the history gets its last row first).
    pub fn write_final(&mut self, snap: &Snapshot) -> std::io::Result<()> {
        if let Some(csv) = self.csv.as_mut() {
            csv.history(snap)?;
            csv.finish(snap)?;
        }
        if let Some(path) = &self.json {
            report::write_json_file(path, snap)?;
        }
        Ok(())
    }
}
