//! The parser's example tests: the Python client's and OpenMetrics' output, escapes and
//! special values, and every kind of bad line (the property tests are in `properties`).

use super::*;

/// A sample with its value as bits, so that NaN and -0.0 compare exactly.
pub(super) type FlatSample = (String, Vec<(String, String)>, u64);

/// Families as comparable tuples (values by bits).
pub(super) fn flat(families: &[Family]) -> Vec<(String, Kind, Vec<FlatSample>)> {
    families
        .iter()
        .map(|f| {
            let samples = f.samples.iter();
            let samples = samples.map(|s| (s.name.clone(), s.labels.clone(), s.value.to_bits()));
            (f.name.clone(), f.kind, samples.collect())
        })
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|&(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn parse_clean(text: &str) -> Exposition {
    let parsed = parse(text);
    assert!(parsed.skipped.is_empty(), "{:?}", parsed.skipped);
    parsed
}

fn shape(parsed: &Exposition) -> Vec<(&str, Kind, usize)> {
    let families = parsed.families.iter();
    families
        .map(|f| (f.name.as_str(), f.kind, f.samples.len()))
        .collect()
}

fn only_value(text: &str) -> f64 {
    let parsed = parse_clean(text);
    assert_eq!(parsed.sample_count(), 1, "{text}");
    parsed.families[0].samples[0].value
}

fn only_error(text: &str) -> String {
    let parsed = parse(text);
    assert_eq!(parsed.skipped.len(), 1, "{text}: {:?}", parsed.skipped);
    parsed.skipped[0].reason.clone()
}

const PYTHON_CLIENT: &str = r#"# HELP python_gc_objects_collected_total Objects collected during gc
# TYPE python_gc_objects_collected_total counter
python_gc_objects_collected_total{generation="0"} 382.0
python_gc_objects_collected_total{generation="1"} 25.0
# HELP requests_total Requests served
# TYPE requests_total counter
requests_total{method="get",code="200"} 1027.0
# HELP requests_created Requests served
# TYPE requests_created gauge
requests_created{method="get",code="200"} 1.7076136e+09
# HELP in_flight Requests in flight
# TYPE in_flight gauge
in_flight 3.0
# HELP latency_seconds Request latency
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.005"} 1.0
latency_seconds_bucket{le="0.1"} 2.0
latency_seconds_bucket{le="+Inf"} 3.0
latency_seconds_count 3.0
latency_seconds_sum 0.42
# HELP latency_seconds_created Request latency
# TYPE latency_seconds_created gauge
latency_seconds_created 1.7076136e+09
# HELP rpc_seconds RPC duration
# TYPE rpc_seconds summary
rpc_seconds{quantile="0.5"} 0.012
rpc_seconds{quantile="0.99"} 0.3
rpc_seconds_sum 12.5
rpc_seconds_count 1000.0
"#;

#[test]
fn python_client_output() {
    let parsed = parse_clean(PYTHON_CLIENT);
    use Kind::*;
    let expected = vec![
        ("python_gc_objects_collected_total", Counter, 2),
        ("requests_total", Counter, 1),
        ("requests_created", Gauge, 1),
        ("in_flight", Gauge, 1),
        ("latency_seconds", Histogram, 5),
        ("latency_seconds_created", Gauge, 1),
        ("rpc_seconds", Summary, 4),
    ];
    assert_eq!(shape(&parsed), expected);
    assert_eq!(parsed.sample_count(), 15);
    let requests = &parsed.families[1].samples[0];
    assert_eq!(
        requests.labels,
        labels(&[("method", "get"), ("code", "200")])
    );
    assert_eq!(requests.value, 1027.0);
    assert_eq!(parsed.families[2].samples[0].value, 1.7076136e9);
    let hist = &parsed.families[4].samples;
    let names: Vec<&str> = hist.iter().map(|s| s.name.as_str()).collect();
    let bucket = "latency_seconds_bucket";
    let tail = ["latency_seconds_count", "latency_seconds_sum"];
    assert_eq!(names, [bucket, bucket, bucket, tail[0], tail[1]]);
    assert_eq!(hist[2].labels, labels(&[("le", "+Inf")]));
    assert_eq!((hist[2].value, hist[4].value), (3.0, 0.42));
    let summary = &parsed.families[6].samples;
    assert_eq!(summary[1].labels, labels(&[("quantile", "0.99")]));
    assert_eq!(summary[3].value, 1000.0);
    assert_eq!(Kind::Histogram.as_str(), "histogram");
}

const OPENMETRICS: &str = r#"# TYPE acme_request_seconds summary
# UNIT acme_request_seconds seconds
# HELP acme_request_seconds Latency through ACME's router.
acme_request_seconds_sum{path="/api/v1",method="GET"} 9036.32
acme_request_seconds_count{path="/api/v1",method="GET"} 807283.0
acme_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0
# TYPE requests counter
# HELP requests Requests served.
requests_total{code="200"} 17.0 1520879607.789 # {id="counter-test"} 5
requests_created{code="200"} 1520872607.123
# TYPE lat histogram
lat_bucket{le="0.01"} 0 # {trace_id="a#b}c"} 0.005 1520879607.1
lat_bucket{le="+Inf"} 2
lat_count 2
lat_sum 0.3
lat_created 1520872607.123
# TYPE queue gaugehistogram
queue_bucket{le="1"} 1
queue_gcount 1
queue_gsum 0.5
# TYPE build info
build_info{version="1.2"} 1
# TYPE state stateset
state{state="a"} 1
state{state="b"} 0
# TYPE other unknown
other 3
# EOF
this is not read {
"#;

#[test]
fn openmetrics_text() {
    let parsed = parse_clean(OPENMETRICS);
    use Kind::*;
    let expected = vec![
        ("acme_request_seconds", Summary, 3),
        ("requests", Counter, 2),
        ("lat", Histogram, 5),
        ("queue", Histogram, 3),
        ("build", Gauge, 1),
        ("state", Gauge, 2),
        ("other", Untyped, 1),
    ];
    assert_eq!(shape(&parsed), expected);
    let requests = &parsed.families[1].samples;
    assert_eq!(requests[0].name, "requests_total");
    assert_eq!(requests[0].value, 17.0);
    assert_eq!(requests[1].name, "requests_created");
    assert_eq!(
        parsed.families[2].samples[0].labels,
        labels(&[("le", "0.01")])
    );
    assert_eq!(parsed.families[4].samples[0].name, "build_info");
}

#[test]
fn label_escapes() {
    let text = r##"m{a="back\\slash",b="quo\"te",c="new\nline",d="#}{,= ",e="日本🦀",f=""} 1"##;
    let parsed = parse_clean(text);
    let expected = labels(&[
        ("a", "back\\slash"),
        ("b", "quo\"te"),
        ("c", "new\nline"),
        ("d", "#}{,= "),
        ("e", "日本🦀"),
        ("f", ""),
    ]);
    assert_eq!(parsed.families[0].samples[0].labels, expected);
    let spaced = parse_clean("m { a = \"1\" , b=\"2\", } 7\nn{} 8\no{ } 9\n");
    let first = &parsed.families[0].samples[0];
    assert_eq!(first.name, "m");
    let spaced_labels = &spaced.families[0].samples[0].labels;
    assert_eq!(spaced_labels, &labels(&[("a", "1"), ("b", "2")]));
    assert_eq!(spaced.sample_count(), 3);
    assert!(only_error(r#"m{a="\t"} 1"#).starts_with(r#"bad escape "\\t""#));
}

#[test]
fn special_values() {
    assert!(only_value("m NaN").is_nan());
    assert!(only_value("m nan").is_nan());
    for inf in ["+Inf", "Inf", "inf", "+INF"] {
        assert_eq!(only_value(&format!("m {inf}")), f64::INFINITY, "{inf}");
    }
    assert_eq!(only_value("m -Inf"), f64::NEG_INFINITY);
    assert_eq!(only_value("m -inf"), f64::NEG_INFINITY);
    assert_eq!(only_value("m 1e+06"), 1e6);
    assert_eq!(only_value("m -1.5E-3"), -1.5e-3);
    assert_eq!(only_value("m 42"), 42.0);
    assert_eq!(only_value("m .5"), 0.5);
    assert_eq!(only_value("m -0"), 0.0);
    assert_eq!(only_value("m 123456789012345678"), 123456789012345678.0);
    for bad in ["infinity", "0x10", "1_000", "+NaN", "1,5", "--1", "e5"] {
        let reason = only_error(&format!("m {bad}"));
        assert_eq!(reason, format!("bad value \"{bad}\""));
    }
}

#[test]
fn timestamps_are_ignored() {
    let text = "m 1 1395066363000\nm{a=\"b\"} 2 -5\nm 3 1520879607.789\nm 4 0  \n";
    let parsed = parse_clean(text);
    let values: Vec<f64> = parsed.families[0].samples.iter().map(|s| s.value).collect();
    assert_eq!(values, [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(only_error("m 1 abc"), "bad timestamp \"abc\"");
    assert!(only_error("m 1 2 3").starts_with("text after the timestamp"));
}

#[test]
fn crlf_line_endings() {
    let text = PYTHON_CLIENT.replace('\n', "\r\n");
    let parsed = parse_clean(&text);
    assert_eq!(flat(&parsed.families), flat(&parse(PYTHON_CLIENT).families));
    let parsed = parse_clean("# TYPE a gauge\r\na{x=\"y\"} 1\r\n# EOF\r\njunk\r\n");
    assert_eq!(parsed.families[0].samples[0].labels, labels(&[("x", "y")]));
}

#[test]
fn html_gives_no_samples() {
    let text = "<!DOCTYPE html>\n<html>\n<head><title>502 Bad Gateway</title></head>\n\
        <body>\n<h1>502 Bad Gateway</h1>\n</body>\n</html>\n";
    let parsed = parse(text);
    assert_eq!(parsed.sample_count(), 0);
    assert!(parsed.families.is_empty());
    let lines: Vec<usize> = parsed.skipped.iter().map(|e| e.line).collect();
    assert_eq!(lines, [1, 2, 3, 4, 5, 6, 7]);
    let first = parsed.skipped[0].to_string();
    assert_eq!(first, r#"line 1: not a sample: "<!DOCTYPE html>""#);
}

#[test]
fn bad_lines_have_specific_reasons() {
    let cases = [
        ("m", "no value: \"m\""),
        ("m{a=\"b\"}", "no value"),
        ("m abc", "bad value \"abc\""),
        ("m{a=\"b\"", "label brace not closed"),
        ("m{a=\"b\",", "label brace not closed"),
        ("m{a=\"b} 1", "label value not closed: \"b} 1\""),
        ("m{a=\"b\\", "label value not closed"),
        (
            "m{a=\"b\" c=\"d\"} 1",
            "expected ',' or '}' after label value",
        ),
        ("m{a=\"\\x\"} 1", "bad escape \"\\\\x\" in label value"),
        ("m-x 1", "bad metric name: \"m-x 1\""),
        ("m{1a=\"b\"} 1", "bad label name"),
        ("m{a.b=\"c\"} 1", "bad label name"),
        ("m{a:b=\"c\"} 1", "bad label name"),
        ("m{,} 1", "bad label name"),
        ("m{a \"b\"} 1", "no '=' after label name \"a\""),
        ("m{a=b} 1", "label value not quoted"),
        ("1m 1", "not a sample"),
        ("# TYPE", "TYPE line without a name"),
        ("# TYPE m", "TYPE line without a type"),
        ("# TYPE 1m counter", "bad metric name in TYPE line: \"1m\""),
        ("# TYPE m counter x", "text after the type in TYPE line"),
        ("# TYPE m widget", "unknown type \"widget\""),
    ];
    for (line, reason) in cases {
        let got = only_error(line);
        assert!(got.starts_with(reason), "{line:?}: {got:?}");
    }
    let long = format!("<{}>", "x".repeat(200));
    let reason = only_error(&long);
    let expected = format!("not a sample: \"<{}\"...", "x".repeat(59));
    assert_eq!(reason, expected);
}

#[test]
fn bad_lines_do_not_hide_the_rest() {
    let text = "# TYPE a counter\na_total 1\na_total{x=\"} 2\n<p>\na_total 3\n";
    let parsed = parse(text);
    assert_eq!(shape(&parsed), [("a", Kind::Counter, 2)]);
    let lines: Vec<usize> = parsed.skipped.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4]);
}

#[test]
fn unknown_type_makes_untyped() {
    let parsed = parse("# TYPE m widget\nm 1\nm_total 2\n");
    assert_eq!(parsed.skipped.len(), 1);
    assert_eq!(parsed.skipped[0].line, 1);
    let expected = [("m", Kind::Untyped, 1), ("m_total", Kind::Untyped, 1)];
    assert_eq!(shape(&parsed), expected);
}

#[test]
fn untyped_samples() {
    let text = "a 1\na{x=\"1\"} 2\n# a comment\nb 3\na 4\n# HELP c only help\nc 5\n\
        # TYPE d untyped\nd 6\n";
    let parsed = parse_clean(text);
    use Kind::Untyped;
    let expected = [("a", Untyped, 2), ("b", Untyped, 1), ("a", Untyped, 1)];
    let expected = [&expected[..], &[("c", Untyped, 1), ("d", Untyped, 1)]].concat();
    assert_eq!(shape(&parsed), expected);
}

#[test]
fn family_declared_twice() {
    let text = "# TYPE m counter\nm_total 1\n# TYPE o gauge\no 1\n# TYPE m gauge\nm_total 2\n\
        # TYPE m counter\nm_created 3\n";
    let parsed = parse_clean(text);
    assert_eq!(
        shape(&parsed),
        [("m", Kind::Counter, 3), ("o", Kind::Gauge, 1)]
    );
    let values: Vec<f64> = parsed.families[0].samples.iter().map(|s| s.value).collect();
    assert_eq!(values, [1.0, 2.0, 3.0]);
}

#[test]
fn suffixes_follow_the_kind() {
    let text = "# TYPE g gauge\ng_total 1\n# TYPE c counter\nc_sum 2\nc 3\n\
        # TYPE c_created gauge\nc_created 4\n# TYPE e histogram\n";
    let parsed = parse_clean(text);
    use Kind::*;
    let expected = [
        ("g", Gauge, 0),
        ("g_total", Untyped, 1),
        ("c", Counter, 1),
        ("c_sum", Untyped, 1),
        ("c_created", Gauge, 1),
        ("e", Histogram, 0),
    ];
    assert_eq!(shape(&parsed), expected);
}

#[test]
fn large_inputs_are_fine() {
    let mut text = String::from("# TYPE big counter\n");
    for i in 0..50_000 {
        text.push_str(&format!("big_total{{shard=\"{i}\",path=\"/a/b\"}} {i}\n"));
        text.push_str(&format!("u{i} 1\n"));
    }
    let parsed = parse_clean(&text);
    assert_eq!(parsed.sample_count(), 100_000);
    assert_eq!(parsed.families.len(), 50_001);
    let one_line = format!("m{{{}}} 1", "a=\"b\",".repeat(100_000));
    assert_eq!(
        parse_clean(&one_line).families[0].samples[0].labels.len(),
        100_000
    );
    let unclosed = format!("m{{a=\"{}", "x".repeat(1_000_000));
    assert!(only_error(&unclosed).starts_with("label value not closed"));
}
