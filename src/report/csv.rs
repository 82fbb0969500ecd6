//! Locust-compatible CSV reports: the stats, stats-history, failures and exceptions files,
//! with Locust's exact header lines so existing scripts and spreadsheets keep working.
//!
//! Formatting: times are milliseconds with 3 decimals (`10.183`); percentiles are `N/A` for an
//! entry without requests while its median/average/min/max are `0`; sizes and rates have at
//! most 3 decimals without trailing zeros; fields containing commas, quotes or newlines are
//! quoted; lines end with `\r\n` like Python's `csv` module (what Locust uses). The writers
//! are generic over [`Write`] so files and HTTP downloads share them; [`CsvFiles`] manages the
//! `PREFIX_*.csv` files of a headless run.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use ::csv::{QuoteStyle, Terminator, Writer, WriterBuilder};

use super::format::{iso_utc, ms3_or_na, ms3_or_zero, num, unix_whole};
use crate::stats::health::Cause;
use crate::stats::{EntrySnapshot, Snapshot};

/// Header of `PREFIX_stats.csv`, exactly as Locust writes it.
pub const STATS_HEADER: &str = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%";
/// Header of `PREFIX_stats_history.csv`: Locust's columns exactly, then Surge's `Phase`
/// (`running`, or `stopping` for the seconds in which users had been told to stop and only
/// in-flight requests finished; their current figures stay those from before the stop).
pub const HISTORY_HEADER: &str = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size,Phase";
/// Header of `PREFIX_failures.csv`, exactly as Locust writes it.
pub const FAILURES_HEADER: &str = "Method,Name,Error,Occurrences,First Seen,Last Seen";
/// Header of `PREFIX_exceptions.csv`, exactly as Locust writes it.
pub const EXCEPTIONS_HEADER: &str = "Count,Message,Traceback,Nodes";

fn writer<W: Write>(w: W) -> Writer<W> {
    WriterBuilder::new()
        .has_headers(false)
        .flexible(true)
        .quote_style(QuoteStyle::Necessary)
        .terminator(Terminator::CRLF)
        .from_writer(w)
}

fn header<W: Write>(out: &mut Writer<W>, line: &str) -> io::Result<()> {
    out.write_record(line.split(',')).map_err(io::Error::from)
}

fn finish<W: Write>(mut out: Writer<W>) -> io::Result<()> {
    out.flush()
}

/// One stats row; Aggregated's empty method gives Locust's empty `Type`.
fn stats_row(e: &EntrySnapshot) -> Vec<String> {
    let mut row = vec![
        e.method.clone(),
        e.name.clone(),
        e.num_requests.to_string(),
        e.num_failures.to_string(),
        ms3_or_zero(e.percentile(0.5)),
        ms3_or_zero(e.avg_ms),
        ms3_or_zero(e.min_ms),
        ms3_or_zero(e.max_ms),
        num(e.avg_size),
        num(e.total_rps),
        num(e.total_fail_per_sec),
    ];
    row.extend(percentile_cells(&e.percentiles));
    row
}

/// One cell per Locust percentile column (`N/A` where missing).
fn percentile_cells(values: &[Option<f64>]) -> Vec<String> {
    (0..crate::stats::PERCENTILES.len())
        .map(|i| ms3_or_na(values.get(i).copied().flatten()))
        .collect()
}

/// Write the whole `PREFIX_stats.csv` content: one row per entry (in snapshot order), then
/// the Aggregated row.
pub fn write_stats<W: Write>(w: W, snap: &Snapshot) -> io::Result<()> {
    let mut out = writer(w);
    header(&mut out, STATS_HEADER)?;
    for e in snap.entries.iter().chain([&snap.total]) {
        out.write_record(stats_row(e))?;
    }
    finish(out)
}

/// Write the whole `PREFIX_failures.csv` content, one row per failure group.
pub fn write_failures<W: Write>(w: W, snap: &Snapshot) -> io::Result<()> {
    let mut out = writer(w);
    header(&mut out, FAILURES_HEADER)?;
    for f in &snap.failures {
        out.write_record([
            f.method.clone(),
            f.name.clone(),
            f.message.clone(),
            f.occurrences.to_string(),
            iso_utc(f.first_seen),
            iso_utc(f.last_seen),
        ])?;
    }
    finish(out)
}

/// Write the whole `PREFIX_exceptions.csv` content; `Traceback` holds the plan location and
/// `Nodes` is `local` (no distributed workers yet).
pub fn write_exceptions<W: Write>(w: W, snap: &Snapshot) -> io::Result<()> {
    let mut out = writer(w);
    header(&mut out, EXCEPTIONS_HEADER)?;
    for x in &snap.exceptions {
        out.write_record([
            x.count.to_string(),
            x.message.clone(),
            x.origin.clone(),
            "local".to_string(),
        ])?;
    }
    finish(out)
}

/// Header of `PREFIX_generator.csv` (Surge's own file: Locust has no such report).
pub const GENERATOR_HEADER: &str = "Start,End,Duration (s),Cause,Peak worker CPU %,Peak scheduling lag (ms),Late starts,Dropped starts,Other processes (cores),Surge (cores),Cores,Warning";

/// Write `PREFIX_generator.csv`: one row per time range in which Surge itself (cause
/// `generator`) or the machine it ran on (`host`) was the bottleneck (header only when
/// neither ever was).
pub fn write_generator<W: Write>(w: W, snap: &Snapshot) -> io::Result<()> {
    let mut out = writer(w);
    header(&mut out, GENERATOR_HEADER)?;
    for r in &snap.generator.ranges {
        out.write_record([
            iso_utc(r.start),
            iso_utc(r.end),
            format!("{:.0}", r.duration()),
            match r.cause {
                Cause::Generator => "generator".to_string(),
                Cause::Host => "host".to_string(),
            },
            r.peak_cpu_percent
                .map_or_else(String::new, |c| format!("{c:.0}")),
            format!("{:.1}", r.peak_lag_ms),
            r.late_starts.to_string(),
            r.dropped_starts.to_string(),
            r.host
                .map_or_else(String::new, |h| format!("{:.2}", h.others_cores())),
            r.host
                .map_or_else(String::new, |h| format!("{:.2}", h.surge_cores)),
            r.host.map_or_else(String::new, |h| h.cores.to_string()),
            r.message.clone(),
        ])?;
    }
    finish(out)
}

/// The stats-history CSV, appended to once per second during a run.
pub struct HistoryCsv<W: Write> {
    out: Writer<W>,
}

impl<W: Write> HistoryCsv<W> {
    /// Wrap a sink; nothing is written until [`HistoryCsv::write_header`] or `append`.
    pub fn new(w: W) -> Self {
        HistoryCsv { out: writer(w) }
    }

    /// Write the header line.
    pub fn write_header(&mut self) -> io::Result<()> {
        header(&mut self.out, HISTORY_HEADER)
    }

    /// Append the rows for one snapshot: every entry first when `full` (Locust's
    /// `--csv-full-history`), then always the Aggregated row. Rates and percentiles are the
    /// current (windowed) ones; `Total*` columns are whole-run figures.
    pub fn append(&mut self, snap: &Snapshot, full: bool) -> io::Result<()> {
        let entries: &[EntrySnapshot] = if full { &snap.entries } else { &[] };
        let timestamp = unix_whole(snap.time).to_string();
        let phase = if snap.in_drain() {
            "stopping"
        } else {
            "running"
        };
        for e in entries.iter().chain([&snap.total]) {
            let mut row = vec![
                timestamp.clone(),
                snap.user_count.to_string(),
                e.method.clone(),
                e.name.clone(),
                num(e.current_rps),
                num(e.current_fail_per_sec),
            ];
            row.extend(percentile_cells(&e.current_percentiles));
            row.extend([
                e.num_requests.to_string(),
                e.num_failures.to_string(),
                ms3_or_zero(e.percentile(0.5)),
                ms3_or_zero(e.avg_ms),
                ms3_or_zero(e.min_ms),
                ms3_or_zero(e.max_ms),
                num(e.avg_size),
                phase.to_string(),
            ]);
            self.out.write_record(row)?;
        }
        Ok(())
    }

    /// Push buffered rows to the sink.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The four `PREFIX_*.csv` files of a run (Locust's `--csv PREFIX`).
pub struct CsvFiles {
    prefix: PathBuf,
    full_history: bool,
    history_path: PathBuf,
    history: HistoryCsv<BufWriter<File>>,
}

/// Attach the file name to an I/O error so the user knows which file failed.
fn named(path: &Path) -> impl FnOnce(io::Error) -> io::Error + '_ {
    move |e| io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

impl CsvFiles {
    /// Create `PREFIX_stats.csv`, `PREFIX_stats_history.csv`, `PREFIX_failures.csv`,
    /// `PREFIX_exceptions.csv` and `PREFIX_generator.csv` (header lines only for now);
    /// `full_history` adds every entry, not only Aggregated, to the history.
    pub fn create(prefix: impl AsRef<Path>, full_history: bool) -> io::Result<Self> {
        let prefix = prefix.as_ref().to_path_buf();
        let history_path = suffixed(&prefix, "_stats_history.csv");
        let file = File::create(&history_path).map_err(named(&history_path))?;
        let mut history = HistoryCsv::new(BufWriter::new(file));
        history
            .write_header()
            .and_then(|_| history.flush())
            .map_err(named(&history_path))?;
        let files = CsvFiles {
            prefix,
            full_history,
            history_path,
            history,
        };
        files.write_final(&empty_snapshot_like())?;
        Ok(files)
    }

    /// Path of one of the files, e.g. `path("_stats.csv")`.
    pub fn path(&self, suffix: &str) -> PathBuf {
        suffixed(&self.prefix, suffix)
    }

    /// Append this second's rows to the history file and flush them.
    pub fn history(&mut self, snap: &Snapshot) -> io::Result<()> {
        let full = self.full_history;
        self.history
            .append(snap, full)
            .and_then(|_| self.history.flush())
            .map_err(named(&self.history_path))
    }

    /// Rewrite the stats, failures and exceptions files with the final figures (each through a
    /// temporary file renamed into place, so a reader never sees a half-written file) and
    /// flush the history.
    pub fn finish(&mut self, snap: &Snapshot) -> io::Result<()> {
        self.history.flush().map_err(named(&self.history_path))?;
        self.write_final(snap)
    }

    fn write_final(&self, snap: &Snapshot) -> io::Result<()> {
        atomic_write(&self.path("_stats.csv"), |w| write_stats(w, snap))?;
        atomic_write(&self.path("_failures.csv"), |w| write_failures(w, snap))?;
        atomic_write(&self.path("_exceptions.csv"), |w| write_exceptions(w, snap))?;
        atomic_write(&self.path("_generator.csv"), |w| write_generator(w, snap))
    }
}

fn suffixed(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Write `path` through `path.tmp` and a rename.
fn atomic_write(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    let tmp = suffixed(path, ".tmp");
    let result = File::create(&tmp).and_then(|file| {
        let mut w = BufWriter::new(file);
        fill(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    });
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(named(path)(e));
    }
    std::fs::rename(&tmp, path).map_err(named(path))
}

/// A snapshot with no data, used to give the final files their header lines at creation.
fn empty_snapshot_like() -> Snapshot {
    let none = vec![None; crate::stats::PERCENTILES.len()];
    let total = EntrySnapshot {
        method: String::new(),
        name: "Aggregated".to_string(),
        num_requests: 0,
        num_failures: 0,
        avg_ms: None,
        min_ms: None,
        max_ms: None,
        avg_size: 0.0,
        total_rps: 0.0,
        total_fail_per_sec: 0.0,
        current_rps: 0.0,
        current_fail_per_sec: 0.0,
        percentiles: none.clone(),
        current_percentiles: none,
    };
    Snapshot {
        seq: 0,
        time: 0.0,
        state: crate::stats::RunState::Ready,
        user_count: 0,
        run: 0,
        host: String::new(),
        stats_start: None,
        stats_end: None,
        drain_start: None,
        entries: Vec::new(),
        total,
        failures: Vec::new(),
        exceptions: Vec::new(),
        open_model: None,
        warnings: Vec::new(),
        generator: Default::default(),
        first_failure: None,
        last_second: None,
        threshold_crossings: Vec::new(),
        server: None,
        marks: Vec::new(),
    }
}

/// The per-second series of a saved run as CSV
/// (`Timestamp,Seconds,User Count,Requests/s,Failures/s,50%,95%`).
pub fn write_run_history<W: Write>(w: W, run: &crate::store::RunRecord) -> io::Result<()> {
    let mut out = Writer::from_writer(w);
    out.write_record([
        "Timestamp",
        "Seconds",
        "User Count",
        "Requests/s",
        "Failures/s",
        "50%",
        "95%",
    ])?;
    let start = run.started_at().floor() as u64;
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v}"));
    for p in &run.history {
        out.write_record([
            p.time.to_string(),
            p.time.saturating_sub(start).to_string(),
            p.user_count.to_string(),
            format!("{}", p.current_rps),
            format!("{}", p.current_fail_per_sec),
            opt(p.current_p50_ms),
            opt(p.current_p95_ms),
        ])?;
    }
    out.flush()
}
