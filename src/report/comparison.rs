//! Console rendering of comparisons and series (`surge runs compare`, the end of a
//! headless run with `--baseline`), and their CSV form (`--csv`).

use std::io::{self, Write};

use super::format::{pad_left, pad_right, truncate};
use crate::compare::series::SeriesRow;
use crate::compare::{Change, Comparison, Delta, EndpointComparison, MetricKind};

fn num(kind: MetricKind, v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) => match kind {
            MetricKind::Rps => format!("{v:.1}"),
            MetricKind::FailPct => format!("{v:.2}"),
            _ if v >= 100.0 => format!("{v:.0}"),
            _ => format!("{v:.2}"),
        },
    }
}

fn signed(kind: MetricKind, v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) => {
            let s = num(kind, Some(v.abs()));
            if v < 0.0 {
                format!("-{s}")
            } else {
                format!("+{s}")
            }
        }
    }
}

fn pct(d: &Delta) -> String {
    match (d.delta_pct, d.change) {
        (_, Change::Unknown) => "–".into(),
        (Some(p), _) => format!("{p:+.1}%"),
        (None, _) if d.delta == Some(0.0) => "0.0%".into(),
        (None, _) => "new".into(),
    }
}

fn mark(c: Change) -> &'static str {
    match c {
        Change::Better => " ✓",
        Change::Worse => " ✗",
        _ => "  ",
    }
}

/// The comparison as a text table: per endpoint and metric, before, after, Δ and Δ% (✓ better,
/// ✗ worse beyond the noise threshold), then the counts, what the runs were asked to do
/// differently (`runs differ: users 80 → 30`, see [`crate::compare::differences`]) and the verdict.
pub fn write_comparison<W: Write>(
    mut w: W,
    c: &Comparison,
    before: &str,
    after: &str,
    differences: &[String],
) -> io::Result<()> {
    writeln!(
        w,
        "Comparing {before} (before) with {after} (after); noise threshold ±{} %",
        c.noise_pct
    )?;
    writeln!(
        w,
        "Times in ms; ✓ better, ✗ worse beyond the noise threshold."
    )?;
    writeln!(w)?;
    let head = format!(
        "{} {} {} {} {} {}",
        pad_right("Endpoint / metric", 34),
        pad_left("before", 11),
        pad_left("after", 11),
        pad_left("Δ", 11),
        pad_left("Δ%", 10),
        "",
    );
    writeln!(w, "{}", head.trim_end())?;
    writeln!(w, "{}", "-".repeat(82))?;
    for e in c.endpoints.iter().chain(std::iter::once(&c.total)) {
        write_endpoint(&mut w, e)?;
    }
    writeln!(w)?;
    let k = &c.counts;
    writeln!(
        w,
        "Endpoints: {} better, {} worse, {} mixed, {} unchanged, {} only before, {} only after",
        k.better, k.worse, k.mixed, k.unchanged, k.only_before, k.only_after
    )?;
    if let Some(line) = crate::compare::differences::line(differences) {
        writeln!(w, "{line}")?;
    }
    writeln!(
        w,
        "Verdict: {}: {}",
        c.verdict.as_str().to_uppercase(),
        c.reason
    )
}

fn write_endpoint<W: Write>(w: &mut W, e: &EndpointComparison) -> io::Result<()> {
    let title = if e.method.is_empty() {
        e.name.clone()
    } else {
        format!("{} {}", e.method, e.name)
    };
    writeln!(
        w,
        "{}  → {}: {}",
        truncate(&title, 50),
        e.verdict.as_str(),
        e.reason
    )?;
    for k in MetricKind::ALL {
        let d = e.delta(k);
        let line = format!(
            "  {} {} {} {} {}{}",
            pad_right(k.label(), 32),
            pad_left(&num(k, d.before), 11),
            pad_left(&num(k, d.after), 11),
            pad_left(&signed(k, d.delta), 11),
            pad_left(&pct(d), 10),
            mark(d.change),
        );
        writeln!(w, "{}", line.trim_end())?;
    }
    Ok(())
}

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{v}"))
}

/// The comparison as CSV: one row per endpoint and metric.
pub fn write_comparison_csv<W: Write>(w: W, c: &Comparison) -> io::Result<()> {
    let mut out = ::csv::Writer::from_writer(w);
    out.write_record([
        "Method", "Name", "Metric", "Before", "After", "Delta", "Delta %", "Change", "Verdict",
    ])?;
    for e in c.endpoints.iter().chain(std::iter::once(&c.total)) {
        for k in MetricKind::ALL {
            let d = e.delta(k);
            let change = serde_json::to_value(d.change)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            out.write_record([
                e.method.clone(),
                e.name.clone(),
                k.label().to_string(),
                opt(d.before),
                opt(d.after),
                opt(d.delta),
                opt(d.delta_pct),
                change,
                e.verdict.as_str().to_string(),
            ])?;
        }
    }
    out.flush()
}

/// A series as a text table (one row per run, Δ% against the first).
pub fn write_series<W: Write>(mut w: W, rows: &[SeriesRow], noise_pct: f64) -> io::Result<()> {
    writeln!(
        w,
        "Series of {} runs; Δ% against the first; noise threshold ±{noise_pct} %",
        rows.len()
    )?;
    writeln!(
        w,
        "{} {} {} {} {} {} {} {}  verdict",
        pad_left("id", 5),
        pad_right("label", 24),
        pad_left("req/s", 10),
        pad_left("Δ%", 8),
        pad_left("fail %", 8),
        pad_left("p50 ms", 9),
        pad_left("p95 ms", 9),
        pad_left("Δ%", 8),
    )?;
    for r in rows {
        writeln!(
            w,
            "{} {} {} {} {} {} {} {}  {}",
            pad_left(&r.id.to_string(), 5),
            pad_right(&truncate(&r.label, 24), 24),
            pad_left(&num(MetricKind::Rps, r.rps), 10),
            pad_left(&pct(&r.rps_vs_first), 8),
            pad_left(&num(MetricKind::FailPct, r.fail_pct), 8),
            pad_left(&num(MetricKind::P50, r.p50), 9),
            pad_left(&num(MetricKind::P95, r.p95), 9),
            pad_left(&pct(&r.p95_vs_first), 8),
            r.verdict_vs_first.as_str(),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::compare;
    use crate::compare::tests::{entry, snap};

    #[test]
    fn text_and_csv_show_deltas_and_the_verdict() {
        let a = snap(
            vec![],
            entry("", "Aggregated", 500, 0, 50.0, [10.0, 200.0, 300.0, 400.0]),
        );
        let b = snap(
            vec![],
            entry("", "Aggregated", 500, 0, 50.0, [10.0, 150.0, 300.0, 400.0]),
        );
        let c = compare(&a, &b, 5.0);
        let mut out = Vec::new();
        write_comparison(&mut out, &c, "#1 pool=5", "#2 pool=40", &[]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with(
                "Endpoints: 0 better, 0 worse, 0 mixed, 0 unchanged, 0 only before, 0 only after\n\
                 Verdict: BETTER: p95 -25.0 % (200 ms → 150 ms)\n"
            ),
            "{text}"
        );
        assert!(
            text.lines().any(|l| l.contains("p95")
                && l.contains("-50.00")
                && l.contains("-25.0%")
                && l.ends_with('✓')),
            "{text}"
        );
        let mut csv = Vec::new();
        write_comparison_csv(&mut csv, &c).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert!(
            csv.contains(",Aggregated,p95,200,150,-50,-25,better,better"),
            "{csv}"
        );
    }

    #[test]
    fn a_trade_off_is_mixed_under_the_runs_differences() {
        let a = snap(
            vec![],
            entry(
                "",
                "Aggregated",
                1000,
                296,
                100.0,
                [191.0, 3000.0, 3500.0, 4000.0],
            ),
        );
        let b = snap(
            vec![],
            entry(
                "",
                "Aggregated",
                730,
                0,
                73.0,
                [2660.0, 3000.0, 3500.0, 4000.0],
            ),
        );
        let c = compare(&a, &b, 5.0);
        let mut out = Vec::new();
        let differ = ["users 80 → 30".to_string()];
        write_comparison(&mut out, &c, "#1 no pool", "#2 pool=5", &differ).unwrap();
        let text = String::from_utf8(out).unwrap();
        let tail: Vec<&str> = text.lines().rev().take(3).collect();
        assert_eq!(
            tail,
            [
                "Verdict: MIXED: fail % -100.0 % (29.60 % → 0.00 %), but req/s -27.0 %, p50 +1292.7 %",
                "runs differ: users 80 → 30",
                "Endpoints: 0 better, 0 worse, 0 mixed, 0 unchanged, 0 only before, 0 only after",
            ],
            "{text}"
        );
        assert!(
            text.contains("Aggregated  → mixed: fail % -100.0 % (29.60 % → 0.00 %), but"),
            "{text}"
        );
        let mut csv = Vec::new();
        write_comparison_csv(&mut csv, &c).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert!(csv.contains(",Aggregated,p50,191,2660,2469,"), "{csv}");
        assert!(csv.lines().nth(1).unwrap().ends_with(",mixed"), "{csv}");
    }
}
