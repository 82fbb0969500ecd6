//! Reports rendered from hand-built snapshots: Locust's exact CSV headers, row formatting,
//! quoting, history rows, the CSV files on disk, console blocks and the JSON shape.

use surge::report::{self, CsvFiles, HistoryCsv};
use surge::stats::{
    EntrySnapshot, ExceptionSnapshot, FailureSnapshot, OpenModelSnapshot, RunState, Snapshot,
};

const STATS_HEADER: &str = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%";
const HISTORY_HEADER: &str = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size,Phase";
const FAILURES_HEADER: &str = "Method,Name,Error,Occurrences,First Seen,Last Seen";
const EXCEPTIONS_HEADER: &str = "Count,Message,Traceback,Nodes";

/// 2026-11-22T21:49:53Z
const T0: f64 = 1_795_384_193.0;

fn entry(method: &str, name: &str, reqs: u64, fails: u64, base: f64) -> EntrySnapshot {
    let has = reqs > 0;
    let pcts: Vec<Option<f64>> = (0..11).map(|i| has.then_some(base + i as f64)).collect();
    EntrySnapshot {
        method: method.into(),
        name: name.into(),
        num_requests: reqs,
        num_failures: fails,
        avg_ms: has.then_some(base + 0.1834),
        min_ms: has.then_some(base - 5.0),
        max_ms: has.then_some(base + 10.0),
        avg_size: if has { 1234.5 } else { 0.0 },
        total_rps: reqs as f64 / 60.0,
        total_fail_per_sec: fails as f64 / 60.0,
        current_rps: 2.5,
        current_fail_per_sec: 0.5,
        percentiles: pcts.clone(),
        current_percentiles: pcts.iter().map(|p| p.map(|v| v + 100.0)).collect(),
    }
}

fn snapshot() -> Snapshot {
    Snapshot {
        seq: 7,
        time: T0 + 60.4,
        state: RunState::Stopped,
        user_count: 50,
        run: 1,
        host: "http://127.0.0.1:8080".into(),
        stats_start: Some(T0),
        // stopped at T0 + 60 s, read 0.4 s later: durations end at the stop
        stats_end: Some(T0 + 60.0),
        drain_start: None,
        entries: vec![
            entry("GET", "/api/stores/[id]/stock", 1200, 30, 10.0),
            entry("POST", "/search?q=a,b \"quoted\"", 3, 0, 200.0),
            entry("GET", "/unused", 0, 0, 0.0),
        ],
        total: entry("", "Aggregated", 1203, 30, 10.0),
        failures: vec![FailureSnapshot {
            method: "GET".into(),
            name: "/api/stores/[id]/stock".into(),
            message: "HTTP 404: {\"detail\": \"store 77 not found\"}".into(),
            occurrences: 30,
            first_seen: T0 + 0.123,
            last_seen: T0 + 59.5,
        }],
        exceptions: vec![ExceptionSnapshot {
            message: "undefined variable \"token\"".into(),
            origin: "scenario \"shopper\", task \"stock\", step 1".into(),
            count: 4,
        }],
        open_model: None,
        warnings: vec![],
        generator: Default::default(),
        first_failure: None,
        last_second: None,
        threshold_crossings: Vec::new(),
        server: None,
        marks: Vec::new(),
    }
}

fn text(f: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut buf = Vec::new();
    f(&mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

#[test]
fn stats_csv_matches_locust() {
    let out = text(|w| report::write_stats(w, &snapshot()));
    let lines: Vec<&str> = out.split("\r\n").collect();
    assert_eq!(lines[0], STATS_HEADER);
    assert_eq!(
        lines[1],
        "GET,/api/stores/[id]/stock,1200,30,10.000,10.183,5.000,20.000,1234.5,20,0.5,\
         10.000,11.000,12.000,13.000,14.000,15.000,16.000,17.000,18.000,19.000,20.000"
    );
    assert!(
        lines[2].starts_with("POST,\"/search?q=a,b \"\"quoted\"\"\",3,0,200.000,"),
        "{}",
        lines[2]
    );
    assert_eq!(
        lines[3],
        "GET,/unused,0,0,0,0,0,0,0,0,0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A"
    );
    assert!(lines[4].starts_with(",Aggregated,1203,30,"), "{}", lines[4]);
    assert_eq!(lines[5], "");
    assert_eq!(lines.len(), 6);
}

#[test]
fn failures_and_exceptions_csv() {
    let out = text(|w| report::write_failures(w, &snapshot()));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], FAILURES_HEADER);
    assert_eq!(
        lines[1],
        "GET,/api/stores/[id]/stock,\"HTTP 404: {\"\"detail\"\": \"\"store 77 not found\"\"}\",30,\
         2026-11-22T21:49:53.123Z,2026-11-22T21:50:52.500Z"
    );
    let out = text(|w| report::write_exceptions(w, &snapshot()));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], EXCEPTIONS_HEADER);
    assert_eq!(
        lines[1],
        "4,\"undefined variable \"\"token\"\"\",\"scenario \"\"shopper\"\", task \"\"stock\"\", step 1\",local"
    );
}

#[test]
fn history_rows_aggregated_only_or_full() {
    let snap = snapshot();
    let out = text(|w| {
        let mut h = HistoryCsv::new(w);
        h.write_header()?;
        h.append(&snap, false)?;
        h.append(&snap, true)?;
        h.flush()
    });
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], HISTORY_HEADER);
    assert_eq!(
        lines[1],
        "1795384253,50,,Aggregated,2.5,0.5,110.000,111.000,112.000,113.000,114.000,115.000,\
         116.000,117.000,118.000,119.000,120.000,1203,30,10.000,10.183,5.000,20.000,1234.5,running"
    );
    // full: the three entries, then Aggregated last.
    assert_eq!(lines.len(), 6);
    assert!(lines[2].starts_with("1795384253,50,GET,/api/stores/[id]/stock,2.5,0.5,110.000,"));
    assert!(lines[4].contains(",GET,/unused,2.5,0.5,N/A,"));
    assert!(lines[5].starts_with("1795384253,50,,Aggregated,"));
    // Rows taken after the users were told to stop, until it stopped, are the drain's.
    let mut draining = snapshot();
    draining.drain_start = Some(draining.time - 2.0);
    draining.stats_end = None;
    let out = text(|w| {
        let mut h = HistoryCsv::new(w);
        h.append(&draining, false)?;
        draining.stats_end = Some(draining.time - 1.0);
        h.append(&draining, false)?;
        h.flush()
    });
    let phases: Vec<&str> = out.lines().map(|l| l.rsplit(',').next().unwrap()).collect();
    assert_eq!(phases, ["stopping", "running"]);
}

#[test]
fn csv_files_are_created_and_finished() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("run");
    let mut files = CsvFiles::create(&prefix, false).unwrap();
    for suffix in [
        "_stats.csv",
        "_stats_history.csv",
        "_failures.csv",
        "_exceptions.csv",
    ] {
        assert!(files.path(suffix).exists(), "{suffix} created");
    }
    let snap = snapshot();
    files.history(&snap).unwrap();
    files.history(&snap).unwrap();
    files.finish(&snap).unwrap();
    let read = |s: &str| std::fs::read_to_string(dir.path().join(format!("run{s}"))).unwrap();
    let history = read("_stats_history.csv");
    assert_eq!(history.lines().count(), 3);
    assert_eq!(history.lines().next(), Some(HISTORY_HEADER));
    assert_eq!(read("_stats.csv"), text(|w| report::write_stats(w, &snap)));
    assert_eq!(read("_failures.csv").lines().count(), 2);
    assert_eq!(read("_exceptions.csv").lines().count(), 2);
    let leftovers = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("tmp".as_ref()))
        .count();
    assert_eq!(leftovers, 0);

    let err = CsvFiles::create(dir.path().join("missing/dir/run"), false)
        .err()
        .expect("missing folder is an error");
    assert!(err.to_string().contains("run_stats_history.csv"), "{err}");
}

#[test]
fn console_table_is_aligned_and_exact() {
    let mut snap = snapshot();
    snap.entries[1].name = "/a/very/long/name/".repeat(10);
    let out = text(|w| report::print_table(w, &snap));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("Type     Name"));
    for needle in [
        "# reqs",
        "# fails (%)",
        "Avg",
        "Min",
        "Max",
        "Med",
        "req/s",
        "failures/s",
    ] {
        assert!(lines[0].contains(needle), "{needle}");
    }
    let widths: Vec<usize> = lines
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| l.chars().count())
        .collect();
    assert!(
        widths.iter().all(|w| *w == widths[0]),
        "aligned: {widths:?}\n{out}"
    );
    assert!(out.contains('…'));
    let stock = lines
        .iter()
        .find(|l| l.contains("/api/stores/[id]/stock"))
        .unwrap();
    assert!(stock.contains("1,200"), "{stock}");
    assert!(stock.contains("30(2.50%)"), "{stock}");
    assert!(stock.contains("10.18"), "{stock}");
    assert!(stock.contains("2.50"), "current rps: {stock}");
    let unused = lines.iter().find(|l| l.contains("/unused")).unwrap();
    assert!(unused.contains(" - "), "{unused}");
    assert!(lines
        .iter()
        .rev()
        .find(|l| !l.is_empty())
        .unwrap()
        .contains("Aggregated"));
}

#[test]
fn console_summary_has_all_blocks() {
    let mut snap = snapshot();
    snap.warnings.push("name cap reached".into());
    snap.open_model = Some(OpenModelSnapshot {
        target_rate: 200.0,
        scheduled: 12_000,
        late_starts: 34,
        dropped_starts: 2,
        max_start_lag_ms: 12.345,
        uncorrected_percentiles: vec![Some(9.5); 11],
    });
    let out = text(|w| report::print_summary(w, &snap));
    for needle in [
        "Dropped starts:   2",
        "Response time percentiles (exact, HdrHistogram 3 significant digits)",
        "99.99%",
        "Error report",
        "# occurrences",
        "GET /api/stores/[id]/stock: HTTP 404: {\"detail\": \"store 77 not found\"}",
        "Exceptions",
        "undefined variable \"token\"",
        "Open model",
        "200.00 starts/s",
        "12,000",
        "12.35 ms",
        "uncorrected",
        "9.50",
        "Warnings",
        "- name cap reached",
        "20.00", // total rps of the stock entry (1200 / 60 s)
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    let pct = out.find("Response time percentiles").unwrap();
    let err = out.find("Error report").unwrap();
    assert!(pct < err);
}

#[test]
fn json_has_documented_shape() {
    let snap = snapshot();
    let out = text(|w| report::write_json(w, &snap));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v, report::to_json(&snap));
    for key in [
        "surge_version",
        "state",
        "run",
        "host",
        "started_at",
        "time",
        "ended_at",
        "duration_s",
        "user_count",
        "stats",
        "total",
        "failures",
        "exceptions",
        "open_model",
        "warnings",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["state"], "stopped");
    assert_eq!(v["started_at"], "2026-11-22T21:49:53.000Z");
    assert_eq!(v["ended_at"], "2026-11-22T21:50:53.000Z");
    assert_ne!(v["ended_at"], v["time"]);
    assert!((v["duration_s"].as_f64().unwrap() - 60.0).abs() < 1e-6);
    assert_eq!(v["stats"].as_array().unwrap().len(), 3);
    let stock = &v["stats"][0];
    assert_eq!(stock["method"], "GET");
    assert_eq!(stock["num_requests"], 1200);
    assert_eq!(stock["percentiles"]["50"], 10.0);
    assert_eq!(stock["percentiles"]["99.9"], 18.0);
    assert_eq!(stock["percentiles"]["100"], 20.0);
    assert!(v["stats"][2]["avg_ms"].is_null());
    assert!(v["stats"][2]["percentiles"]["50"].is_null());
    assert_eq!(v["total"]["name"], "Aggregated");
    assert_eq!(v["failures"][0]["first_seen"], "2026-11-22T21:49:53.123Z");
    assert_eq!(v["exceptions"][0]["count"], 4);
    assert!(v["open_model"].is_null());
}

#[test]
fn odd_figures_never_panic() {
    let mut snap = snapshot();
    snap.time = f64::NAN;
    snap.total.avg_ms = Some(f64::INFINITY);
    snap.total.percentiles = vec![];
    snap.entries[0].total_rps = f64::NAN;
    snap.failures[0].first_seen = -1e300;
    let mut sink = Vec::new();
    report::write_stats(&mut sink, &snap).unwrap();
    report::write_failures(&mut sink, &snap).unwrap();
    report::print_table(&mut sink, &snap).unwrap();
    report::print_summary(&mut sink, &snap).unwrap();
    report::write_json(&mut sink, &snap).unwrap();
    let mut h = HistoryCsv::new(&mut sink);
    h.append(&snap, true).unwrap();
}
