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
    let Some(board) = &snap.server else {
        return Ok(());
    };
    for s in board.views() {
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

/// The views both runs have, by source name: each one's peak before and after, after a
/// blank line (nothing when the runs have no view in common).
pub fn write_server_comparison<W: Write>(
    w: &mut W,
    before: &Snapshot,
    after: &Snapshot,
) -> io::Result<()> {
    let (Some(b), Some(a)) = (&before.server, &after.server) else {
        return Ok(());
    };
    let (b, a) = (b.views(), a.views());
    let mut rows = Vec::new();
    for src in &a {
        let Some(old) = b.iter().find(|x| x.source == src.source) else {
            continue;
        };
        let old = peaks(&old.views);
        for (name, unit, peak) in peaks(&src.views) {
            if let Some((_, _, was)) = old.iter().find(|(n, _, _)| *n == name) {
                rows.push((format!("{name} · {}", src.source), unit, *was, peak));
            }
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(w)?;
    writeln!(w, "Server peaks (the target's /metrics)")?;
    for (name, unit, was, now) in rows {
        let change = if was != 0.0 {
            format!("{:+.1} %", 100.0 * (now - was) / was)
        } else {
            "–".to_string()
        };
        writeln!(
            w,
            "  {} {} → {}  {}",
            pad_right(&name, 40),
            pad_left(&value(was, &unit), 16),
            pad_left(&value(now, &unit), 16),
            change
        )?;
    }
    Ok(())
}
