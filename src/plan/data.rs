//! CSV data files: each user takes the next row when it starts.

use std::collections::BTreeMap;
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

/// The rows of a data file, handed out in order across all users.
#[derive(Debug)]
pub struct DataFile {
    pub rows: Vec<Arc<DataRow>>,
    pub on_end: OnEnd,
    next: std::sync::atomic::AtomicUsize,
}

impl DataFile {
    pub fn new(rows: Vec<DataRow>, on_end: OnEnd) -> DataFile {
        DataFile {
            rows: rows.into_iter().map(Arc::new).collect(),
            on_end,
            next: Default::default(),
        }
    }

    /// The next row, or `None` when the file is exhausted and `on_end` is `Stop`.
    pub fn next_row(&self) -> Option<Arc<DataRow>> {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if self.rows.is_empty() {
            return None;
        }
        match self.on_end {
            OnEnd::Wrap => Some(self.rows[i % self.rows.len()].clone()),
            OnEnd::Stop => self.rows.get(i).cloned(),
        }
    }
}
