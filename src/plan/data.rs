//! CSV data files: each user takes the next row when it starts.
//!
//! Owns reading the file (header row required, at least one data row) and handing rows out
//! in order across all users, wrapping or stopping at the end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// One row, by column header.
pub type DataRow = BTreeMap<String, String>;

/// What happens when every row has been handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnEnd {
    /// Start again from the first row (default).
    Wrap,
    /// Later users get no row: each raises a "data file exhausted" exception and stops.
    Stop,
}

/// Why a data file cannot be used. The plan's error adds the key and file position.
#[derive(Debug, thiserror::Error)]
pub enum DataFileError {
    /// Missing or unreadable.
    #[error("cannot read data file \"{}\": {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Not CSV with one value per column on every line.
    #[error("data file \"{}\": {source}", path.display())]
    Csv { path: PathBuf, source: csv::Error },
    #[error(
        "data file \"{}\" is empty (expected a header row, then one row per user)",
        path.display()
    )]
    Empty { path: PathBuf },
    #[error("data file \"{}\" has a header but no data rows", path.display())]
    NoRows { path: PathBuf },
}

/// The rows of a data file, handed out in order across all users.
#[derive(Debug)]
pub struct DataFile {
    pub rows: Vec<Arc<DataRow>>,
    pub on_end: OnEnd,
    next: AtomicUsize,
}

impl DataFile {
    /// Rows built in code (tests, generated data).
    pub fn new(rows: Vec<DataRow>, on_end: OnEnd) -> DataFile {
        DataFile {
            rows: rows.into_iter().map(Arc::new).collect(),
            on_end,
            next: Default::default(),
        }
    }

    /// Read a CSV file whose first line names the columns. The error says what is wrong
    /// (missing, unreadable, malformed, no data rows) without the file name, which the caller
    /// adds with the plan location.
    pub fn load(path: &Path, on_end: OnEnd) -> Result<DataFile, DataFileError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_path(path)
            .map_err(|e| describe(path, e))?;
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| describe(path, e))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        if headers.iter().all(|h| h.is_empty()) {
            return Err(DataFileError::Empty {
                path: path.to_path_buf(),
            });
        }
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| describe(path, e))?;
            let row: DataRow = headers
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_string))
                .collect();
            rows.push(row);
        }
        if rows.is_empty() {
            return Err(DataFileError::NoRows {
                path: path.to_path_buf(),
            });
        }
        Ok(DataFile::new(rows, on_end))
    }

    /// The next row, or `None` when the file is exhausted and `on_end` is `Stop`.
    pub fn next_row(&self) -> Option<Arc<DataRow>> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        if self.rows.is_empty() {
            return None;
        }
        match self.on_end {
            OnEnd::Wrap => Some(self.rows[i % self.rows.len()].clone()),
            OnEnd::Stop => self.rows.get(i).cloned(),
        }
    }
}

fn describe(path: &Path, e: csv::Error) -> DataFileError {
    let path = path.to_path_buf();
    if !e.is_io_error() {
        return DataFileError::Csv { path, source: e };
    }
    match e.into_kind() {
        csv::ErrorKind::Io(source) => DataFileError::Read { path, source },
        _ => unreachable!("an I/O error's kind is Io"),
    }
}
