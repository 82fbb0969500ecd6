//! Console output of a headless run: the periodic statistics table and the final summary,
//! laid out like Locust's but with exact figures.
//!
//! Formatting: milliseconds with 2 decimals below 100 ms (`10.18`) and whole numbers from
//! 100 ms on (`1,234`); `-` when an entry has no data; counts and rates with thousands
//! separators; rates with 2 decimals. Names longer than the Name column are cut with `…`, and
//! control characters in names and messages become spaces, so the table stays aligned.
//! The periodic table shows current (windowed) rates; the final summary shows whole-run rates.

use std::io::{self, Write};

use super::format::{
    console_ms, console_rate, decimal, one_line, pad_left, pad_right, thousands, truncate,
};
use crate::stats::health::{BUSY_CPU_SHARE, LAG_MS, LATE_START_SHARE};
use crate::stats::{EntrySnapshot, Snapshot, PERCENTILE_LABELS};

const TYPE_W: usize = 8;
const NAME_W: usize = 48;
const REQS_W: usize = 9;
const FAILS_W: usize = 17;
const MS_W: usize = 8;
const RATE_W: usize = 9;
const FRATE_W: usize = 11;

/// Title of the percentile block (says what makes Surge's percentiles trustworthy).
pub const PERCENTILES_TITLE: &str =
    "Response time percentiles (exact, HdrHistogram 3 significant digits)";

/// Which request rates a table shows.
#[derive(Clone, Copy)]
enum Rates {
    /// Over the recent window (live table).
    Current,
    /// Over the whole run (final summary).
    Total,
}

fn type_name(e: &EntrySnapshot) -> String {
    format!(
        "{} {}",
        pad_right(&truncate(&one_line(&e.method), TYPE_W), TYPE_W),
        pad_right(&truncate(&one_line(&e.name), NAME_W), NAME_W)
    )
}

fn stats_header() -> String {
    format!(
        "{} {} {} {} | {} {} {} {} | {} {}",
        pad_right("Type", TYPE_W),
        pad_right("Name", NAME_W),
        pad_left("# reqs", REQS_W),
        pad_left("# fails (%)", FAILS_W),
        pad_left("Avg", MS_W),
        pad_left("Min", MS_W),
        pad_left("Max", MS_W),
        pad_left("Med", MS_W),
        pad_left("req/s", RATE_W),
        pad_left("failures/s", FRATE_W),
    )
}

fn stats_row(e: &EntrySnapshot, rates: Rates) -> String {
    let fails = format!(
        "{}({:.2}%)",
        thousands(e.num_failures),
        e.fail_ratio() * 100.0
    );
    let (rps, fps) = match rates {
        Rates::Current => (e.current_rps, e.current_fail_per_sec),
        Rates::Total => (e.total_rps, e.total_fail_per_sec),
    };
    format!(
        "{} {} {} | {} {} {} {} | {} {}",
        type_name(e),
        pad_left(&thousands(e.num_requests), REQS_W),
        pad_left(&fails, FAILS_W),
        pad_left(&console_ms(e.avg_ms), MS_W),
        pad_left(&console_ms(e.min_ms), MS_W),
        pad_left(&console_ms(e.max_ms), MS_W),
        pad_left(&console_ms(e.percentile(0.5)), MS_W),
        pad_left(&console_rate(rps), RATE_W),
        pad_left(&console_rate(fps), FRATE_W),
    )
}

/// Write a header, a rule, the rows, a rule, and the Aggregated row.
fn table<W: Write>(
    w: &mut W,
    header: String,
    snap: &Snapshot,
    row: impl Fn(&EntrySnapshot) -> String,
) -> io::Result<()> {
    let rule = "-".repeat(header.chars().count());
    writeln!(w, "{header}")?;
    writeln!(w, "{rule}")?;
    for e in &snap.entries {
        writeln!(w, "{}", row(e))?;
    }
    writeln!(w, "{rule}")?;
    writeln!(w, "{}", row(&snap.total))
}

fn stats_table<W: Write>(w: &mut W, snap: &Snapshot, rates: Rates) -> io::Result<()> {
    table(w, stats_header(), snap, |e| stats_row(e, rates))
}

/// The live table printed every few seconds: one row per entry, then Aggregated, with
/// current (windowed) rates.
pub fn print_table<W: Write>(mut w: W, snap: &Snapshot) -> io::Result<()> {
    stats_table(&mut w, snap, Rates::Current)?;
    let g = &snap.generator;
    if g.overloaded {
        let cpu = g
            .cpu_percent
            .map_or_else(String::new, |c| format!("worker CPU {c:.0}%, "));
        writeln!(
            w,
            "WARNING: Surge itself is the bottleneck right now ({cpu}scheduling lag {:.0} ms): \
             these figures measure the generator, not the target",
            g.lag_ms
        )?;
    }
    writeln!(w)
}

fn percentile_cells(values: &[Option<f64>]) -> String {
    (0..PERCENTILE_LABELS.len())
        .map(|i| pad_left(&console_ms(values.get(i).copied().flatten()), MS_W))
        .collect::<Vec<_>>()
        .join(" ")
}

fn percentile_header(first: &str) -> String {
    let labels: Vec<String> = PERCENTILE_LABELS
        .iter()
        .map(|l| pad_left(l, MS_W))
        .collect();
    format!(
        "{} {} | {} | {}",
        pad_right("Type", TYPE_W),
        pad_right(first, NAME_W),
        labels.join(" "),
        pad_left("# reqs", REQS_W)
    )
}

fn percentile_row(e: &EntrySnapshot) -> String {
    format!(
        "{} | {} | {}",
        type_name(e),
        percentile_cells(&e.percentiles),
        pad_left(&thousands(e.num_requests), REQS_W)
    )
}

/// The final summary: statistics with whole-run rates, percentiles, the error report, and
/// when present exceptions, open-model figures and warnings.
pub fn print_summary<W: Write>(mut w: W, snap: &Snapshot) -> io::Result<()> {
    let w = &mut w;
    stats_table(w, snap, Rates::Total)?;
    if let Some(line) = run_time_line(snap) {
        writeln!(w, "{line}")?;
    }
    if let Some(line) = first_failure_line(snap) {
        writeln!(w, "{line}")?;
    }
    for c in &snap.threshold_crossings {
        let into = c.time - snap.stats_start.unwrap_or(c.time);
        writeln!(
            w,
            "Threshold \"{}\" first failed at {} into the test, with {} users, on that second's figures: {}",
            c.threshold,
            crate::stats::health::offset(into.max(0.0)),
            c.users,
            c.message
        )?;
    }
    writeln!(w)?;
    writeln!(w, "{PERCENTILES_TITLE}")?;
    table(w, percentile_header("Name"), snap, percentile_row)?;
    writeln!(w)?;
    error_report(w, snap)?;
    if !snap.exceptions.is_empty() {
        exceptions(w, snap)?;
    }
    if snap.open_model.is_some() {
        open_model(w, snap)?;
    }
    generator(w, snap)?;
    super::server::write_server(w, snap)?;
    if !snap.warnings.is_empty() {
        writeln!(w, "Warnings")?;
        for warning in &snap.warnings {
            writeln!(w, "- {}", one_line(warning))?;
        }
        writeln!(w)?;
    }
    Ok(())
}

/// Where the run started to break: `First failure at 0:38 into the test, with 46 users:
/// POST /orders: 500 Internal Server Error: ...`.
pub fn first_failure_line(snap: &Snapshot) -> Option<String> {
    let f = snap.first_failure.as_ref()?;
    let into = f.time - snap.stats_start.unwrap_or(f.time);
    let rate = f.rate.map_or(String::new(), |r| {
        format!(" at {} starts/s", super::format::num(r))
    });
    Some(format!(
        "First failure at {} into the test, with {} users{rate}: {} {}: {}",
        crate::stats::health::offset(into),
        f.users,
        f.method,
        f.name,
        one_line(&f.message)
    ))
}

/// What the whole-run rates are over: `Users ran 30.0 s (req/s over that time); then 7.1 s
/// for in-flight requests to finish (counted in the figures above)`.
pub fn run_time_line(snap: &Snapshot) -> Option<String> {
    let start = snap.stats_start?;
    let stop = snap.drain_start?;
    let end = snap.stats_end.unwrap_or(snap.time);
    Some(format!(
        "Users ran {:.1} s (req/s are over that time); then {:.1} s for in-flight requests to \
         finish (counted in the figures above)",
        (stop - start).max(0.0),
        (end - stop).max(0.0)
    ))
}

/// Whether Surge itself was the bottleneck, and when.
fn generator<W: Write>(w: &mut W, snap: &Snapshot) -> io::Result<()> {
    let ranges = &snap.generator.ranges;
    if ranges.is_empty() {
        writeln!(
            w,
            "Generator health: Surge was not the bottleneck (busiest worker below {:.0}% CPU, \
             scheduling lag below {:.0} ms, late starts below {:.0}%)",
            BUSY_CPU_SHARE * 100.0,
            LAG_MS,
            LATE_START_SHARE * 100.0
        )?;
        return writeln!(w);
    }
    writeln!(w, "Generator health")?;
    for r in ranges {
        writeln!(w, "- WARNING: {}", one_line(&r.message))?;
    }
    writeln!(w)
}

fn error_report<W: Write>(w: &mut W, snap: &Snapshot) -> io::Result<()> {
    let header = format!("{} | Error", pad_left("# occurrences", 14));
    writeln!(w, "Error report")?;
    writeln!(w, "{header}")?;
    writeln!(w, "{}", "-".repeat(header.chars().count().max(40)))?;
    for f in &snap.failures {
        let what = one_line(&format!("{} {}: {}", f.method, f.name, f.message));
        writeln!(w, "{} | {what}", pad_left(&thousands(f.occurrences), 14))?;
    }
    writeln!(w)
}

fn exceptions<W: Write>(w: &mut W, snap: &Snapshot) -> io::Result<()> {
    let header = format!("{} | Message (origin)", pad_left("# occurrences", 14));
    writeln!(w, "Exceptions")?;
    writeln!(w, "{header}")?;
    writeln!(w, "{}", "-".repeat(header.chars().count().max(40)))?;
    for x in &snap.exceptions {
        let what = one_line(&format!("{} ({})", x.message, x.origin));
        writeln!(w, "{} | {what}", pad_left(&thousands(x.count), 14))?;
    }
    writeln!(w)
}

fn open_model<W: Write>(w: &mut W, snap: &Snapshot) -> io::Result<()> {
    let Some(om) = &snap.open_model else {
        return Ok(());
    };
    let late_pct = if om.scheduled == 0 {
        0.0
    } else {
        om.late_starts as f64 / om.scheduled as f64 * 100.0
    };
    writeln!(w, "Open model (arrival rate)")?;
    writeln!(
        w,
        "  Target rate:      {} starts/s",
        decimal(om.target_rate, 2)
    )?;
    writeln!(w, "  Scheduled starts: {}", thousands(om.scheduled))?;
    writeln!(
        w,
        "  Late starts:      {} ({late_pct:.2}%, started more than 1 ms late)",
        thousands(om.late_starts)
    )?;
    writeln!(
        w,
        "  Dropped starts:   {} (no user free and the backlog full)",
        thousands(om.dropped_starts)
    )?;
    writeln!(
        w,
        "  Max start lag:    {} ms",
        console_ms(Some(om.max_start_lag_ms))
    )?;
    writeln!(
        w,
        "Aggregated percentiles: corrected for coordinated omission (from the due time when the start waited for a busy user) vs uncorrected (from actual send)"
    )?;
    let header = percentile_header("Measured");
    writeln!(w, "{header}")?;
    writeln!(w, "{}", "-".repeat(header.chars().count()))?;
    let reqs = pad_left(&thousands(snap.total.num_requests), REQS_W);
    for (label, values) in [
        ("corrected", &snap.total.percentiles),
        ("uncorrected", &om.uncorrected_percentiles),
    ] {
        writeln!(
            w,
            "{} {} | {} | {reqs}",
            " ".repeat(TYPE_W),
            pad_right(label, NAME_W),
            percentile_cells(values)
        )?;
    }
    writeln!(w)
}

/// The thresholds block of the console (at the end of a headless run, and `surge runs show`).
pub fn write_thresholds<W: Write>(
    out: &mut W,
    results: &[crate::thresholds::ThresholdResult],
) -> io::Result<()> {
    if results.is_empty() {
        return Ok(());
    }
    writeln!(out, "Thresholds")?;
    for r in results {
        let mark = match r.passed {
            Some(true) => "PASS",
            Some(false) => "FAIL",
            None => "----",
        };
        writeln!(out, "  {mark}  {}  ({})", r.threshold, r.message)?;
    }
    Ok(())
}
