//! The target's scraped metrics in the console: each built-in view's peak, mean and last
//! value per source (the end of a headless run, `surge runs show`), and the peaks of two
//! runs side by side (`surge runs compare`, a headless run with `--baseline`).

use std::io::{self, Write};

use super::format::{decimal, pad_left, pad_right};
use crate::scrape::{SourceData, ViewData};
use crate::stats::Snapshot;

/// (peak, mean, last) of a line's points.
fn figures(points: &[crate::scrape::Point]) -> Option<(f64, f64, f64)> {
    let last = points.last()?.value;
    let peak = points.iter().map(|p| p.value).fold(f64::MIN, f64::max);
    let mean = points.iter().map(|p| p.value).sum::<f64>() / points.len() as f64;
    Some((peak, mean, last))
}

/// A value with its unit and sensible decimals.
fn value(v: f64, unit: &str) -> String {
    let decimals = if v.fract() == 0.0 || v.abs() >= 100.0 {
        0
    } else if v.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{} {unit}", decimal(v, decimals))
}

fn header(s: &SourceData) -> String {
    let failed = if s.failed_scrapes > 0 {
        format!(", {} failed", s.failed_scrapes)
    } else {
        String::new()
    };
    format!(
        "Server (scraped from {} every {} s: {} scrape{}{failed}): {}",
        s.url,
        decimal(s.every_s, 0),
        s.scrapes,
        if s.scrapes == 1 { "" } else { "s" },
        s.source
    )
}

/// Each source's views: `Connections in use   peak 18   mean 9.2   last 3 connections`.
pub fn write_server<W: Write>(w: &mut W, snap: &Snapshot) -> io::Result<()> {
    for s in snap.server_views() {
        writeln!(w, "{}", header(&s))?;
        if s.views.is_empty() {
            writeln!(
                w,
                "  (none of the series Surge charts by itself were exposed)"
            )?;
        }
        for v in &s.views {
            for line in &v.lines {
                let Some((peak, mean, last)) = figures(line.points.as_slice()) else {
                    continue;
                };
                writeln!(
                    w,
                    "  {} peak {}  mean {}  last {}",
                    pad_right(&format!("{} ({})", v.title, line.label), 30),
                    pad_left(&value(peak, &v.unit), 16),
                    pad_left(&value(mean, &v.unit), 16),
                    pad_left(&value(last, &v.unit), 16),
                )?;
            }
        }
        writeln!(w)?;
    }
    Ok(())
}

fn peaks(views: &[ViewData]) -> Vec<(String, String, f64)> {
    views
        .iter()
        .flat_map(|v| {
            v.lines.iter().filter_map(move |l| {
                let (peak, _, _) = figures(l.points.as_slice())?;
                Some((format!("{} ({})", v.title, l.label), v.unit.clone(), peak))
            })
        })
        .collect()
}

/// One view's peak in two runs (`surge runs compare`, the dashboard's Compare tab, a
/// report with a baseline).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PeakRow {
    /// `Connections (in use) · api`.
    pub name: String,
    pub unit: String,
    pub before: f64,
    pub after: f64,
    /// `None` when the peak before was 0.
    pub change_pct: Option<f64>,
}

/// The views both runs have, by source name: each one's peak before and after.
pub fn peak_rows(before: &Snapshot, after: &Snapshot) -> Vec<PeakRow> {
    let (b, a) = (before.server_views(), after.server_views());
    let mut rows = Vec::new();
    for src in &a {
        let Some(old) = b.iter().find(|x| x.source == src.source) else {
            continue;
        };
        let old = peaks(&old.views);
        for (name, unit, peak) in peaks(&src.views) {
            if let Some((_, _, was)) = old.iter().find(|(n, _, _)| *n == name) {
                rows.push(PeakRow {
                    name: format!("{name} · {}", src.source),
                    unit,
                    before: *was,
                    after: peak,
                    change_pct: (*was != 0.0).then(|| 100.0 * (peak - was) / was),
                });
            }
        }
    }
    rows
}

/// [`peak_rows`] as text, after a blank line (nothing when the runs have no view in
/// common).
pub fn write_server_comparison<W: Write>(
    w: &mut W,
    before: &Snapshot,
    after: &Snapshot,
) -> io::Result<()> {
    let rows = peak_rows(before, after);
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(w)?;
    writeln!(w, "Server peaks (the target's /metrics)")?;
    for r in rows {
        let change = r
            .change_pct
            .map_or_else(|| "–".to_string(), |c| format!("{c:+.1} %"));
        writeln!(
            w,
            "  {} {} → {}  {}",
            pad_right(&r.name, 40),
            pad_left(&value(r.before, &r.unit), 16),
            pad_left(&value(r.after, &r.unit), 16),
            change
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scrape::{parse::parse, Board, ServerBoard, Source};
    use std::sync::Arc;

    fn run_with(used: &[f64]) -> Snapshot {
        let src = Source::new("http://api:8000/metrics", Some("api"), None, vec![]).unwrap();
        let board = Board::new(&[src]);
        for (i, u) in used.iter().enumerate() {
            let text = format!(
                "# TYPE db_connections_in_use gauge\ndb_connections_in_use {u}\n\
                 # TYPE db_connections_max gauge\ndb_connections_max 20\n"
            );
            board.record(0, 100.0 + i as f64, &parse(&text));
        }
        let mut s = crate::thresholds::tests::snap(vec![], crate::thresholds::tests::snap_total());
        s.server = Some(ServerBoard(Arc::new(board)));
        s
    }

    #[test]
    fn peaks_of_two_runs_side_by_side() {
        let (before, after) = (run_with(&[3.0, 18.0, 7.0]), run_with(&[2.0, 6.0]));
        let rows = peak_rows(&before, &after);
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            ["Connections (in use) · api", "Connections (max) · api"]
        );
        assert_eq!((rows[0].before, rows[0].after), (18.0, 6.0));
        assert!((rows[0].change_pct.unwrap() + 66.666).abs() < 0.01);
        let mut out = Vec::new();
        write_server_comparison(&mut out, &before, &after).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("\nServer peaks (the target's /metrics)\n"),
            "{text}"
        );
        assert!(text.contains("18 connections →"), "{text}");
        // A run without server metrics: nothing to compare, nothing written.
        let mut bare = after.clone();
        bare.server = None;
        assert!(peak_rows(&before, &bare).is_empty());
        let mut out = Vec::new();
        write_server_comparison(&mut out, &before, &bare).unwrap();
        assert!(out.is_empty());
    }
}
