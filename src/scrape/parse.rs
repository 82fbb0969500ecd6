//! Parsing of scraped metrics text: the Prometheus text exposition format
//! (version 0.0.4) and the OpenMetrics 1.0 text format.
//!
//! This module owns turning the body of a `/metrics` response into
//! [`Family`] values that the rest of Surge can inspect. It is deliberately
//! forgiving: a target under load may return truncated bodies, HTML error
//! pages or a single malformed line, and one bad line must not hide the rest
//! of the scrape. Every line that cannot be read is recorded as a
//! [`LineError`] in [`Exposition::skipped`] and the parser carries on.
//!
//! The parser is a single pass over the text, line by line, with no
//! backtracking, so its cost is linear in the size of the input. It allocates
//! one `String` per sample name, label name and label value.

use std::collections::HashMap;

/// The type of a metric family, as declared by a `# TYPE` line.
///
/// OpenMetrics-only types are folded into the closest Prometheus type so
/// that callers deal with five cases only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Untyped,
}

impl Kind {
    /// The lowercase name used in `# TYPE` lines, for reports and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
            Kind::Summary => "summary",
            Kind::Untyped => "untyped",
        }
    }
}

/// One sample line: a name, its labels and its value. Timestamps and
/// exemplars are dropped because Surge times scrapes itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The full sample name as written (`http_requests_total`, `foo_bucket`, `foo_count`).
    pub name: String,
    /// Labels in the order written.
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

/// The samples that belong to one metric, so that e.g. the buckets, sum and
/// count of a histogram can be read together.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The family name from `# TYPE` (OpenMetrics counters: without `_total`), or the sample's name when untyped.
    pub name: String,
    pub kind: Kind,
    pub samples: Vec<Sample>,
}

/// Everything read from one scrape body.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Exposition {
    pub families: Vec<Family>,
    /// Lines that could not be read, skipped (the rest of the text is still used).
    pub skipped: Vec<LineError>,
}

impl Exposition {
    /// The number of samples over all families, a cheap health figure for a
    /// scrape (an HTML error page yields zero).
    pub fn sample_count(&self) -> usize {
        self.families.iter().map(|f| f.samples.len()).sum()
    }
}

/// Why one line of the input was skipped, so that a report can point the
/// user at the exact place in the target's output.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct LineError {
    /// The 1-based line number.
    pub line: usize,
    /// A short reason, quoting at most 60 characters of the input.
    pub reason: String,
}

/// Parse a whole exposition. Never panics on any input.
///
/// Both text formats are accepted without being told which one the target
/// speaks: the OpenMetrics additions (`# UNIT`, `# EOF`, exemplars, extra
/// types and suffixes) are simply understood wherever they appear.
pub fn parse(text: &str) -> Exposition {
    let mut builder = Builder::default();
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = index + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let line = line.trim_start_matches([' ', '\t']);
        if line.trim_end_matches([' ', '\t']).is_empty() {
            continue;
        }
        let result = match line.strip_prefix('#') {
            Some(comment) => {
                let mut words = comment.split_ascii_whitespace();
                match words.next() {
                    Some("EOF") if words.next().is_none() => break,
                    Some("TYPE") => builder.declare(words),
                    // HELP, UNIT and free comments carry nothing we use.
                    _ => Ok(()),
                }
            }
            None => parse_sample(line).map(|sample| builder.add(sample)),
        };
        if let Err(reason) = result {
            builder.out.skipped.push(LineError {
                line: line_no,
                reason,
            });
        }
    }
    builder.out
}

/// The most characters of the input that a reason quotes.
const QUOTE_MAX: usize = 60;

/// Quote a piece of the input for a reason, cut to [`QUOTE_MAX`] characters.
fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_MAX) {
        Some((cut, _)) => format!("{:?}...", &text[..cut]),
        None => format!("{text:?}"),
    }
}

const COUNTER_SUFFIXES: &[&str] = &["_total", "_created"];
const HISTOGRAM_SUFFIXES: &[&str] = &["_bucket", "_sum", "_count", "_created", "_gcount", "_gsum"];
const SUMMARY_SUFFIXES: &[&str] = &["_sum", "_count", "_created"];
const INFO_SUFFIXES: &[&str] = &["_info"];
/// Every suffix any kind allows, tried in turn when a name is not declared.
const ALL_SUFFIXES: &[&str] = &[
    "_total", "_created", "_bucket", "_sum", "_count", "_gcount", "_gsum", "_info",
];

/// Map a `# TYPE` word to its kind and the sample-name suffixes it allows.
fn type_word(word: &str) -> Option<(Kind, &'static [&'static str])> {
    let lower = word.to_ascii_lowercase();
    Some(match lower.as_str() {
        "counter" => (Kind::Counter, COUNTER_SUFFIXES),
        "gauge" | "stateset" => (Kind::Gauge, &[]),
        "info" => (Kind::Gauge, INFO_SUFFIXES),
        "histogram" | "gaugehistogram" => (Kind::Histogram, HISTOGRAM_SUFFIXES),
        "summary" => (Kind::Summary, SUMMARY_SUFFIXES),
        "untyped" | "unknown" => (Kind::Untyped, &[]),
        _ => return None,
    })
}

/// A declared family: its index in the output and the suffixes it allows.
type Declared = (usize, &'static [&'static str]);

/// Accumulates families while the lines go by.
#[derive(Default)]
struct Builder {
    out: Exposition,
    /// Families declared by `# TYPE`, by name.
    declared: HashMap<String, Declared>,
    /// The family of the previous sample, reused while names repeat. Cleared
    /// by every `# TYPE` line, since a declaration can change where a name
    /// belongs and ends a run of undeclared samples.
    last: Option<usize>,
}

impl Builder {
    /// Handle the words after `# TYPE`.
    fn declare<'a>(&mut self, mut words: impl Iterator<Item = &'a str>) -> Result<(), String> {
        self.last = None;
        let name = words.next().ok_or("TYPE line without a name")?;
        if !is_metric_name(name) {
            return Err(format!("bad metric name in TYPE line: {}", quote(name)));
        }
        let word = words.next().ok_or("TYPE line without a type")?;
        if let Some(extra) = words.next() {
            return Err(format!(
                "text after the type in TYPE line: {}",
                quote(extra)
            ));
        }
        let (kind, suffixes, result) = match type_word(word) {
            Some((kind, suffixes)) => (kind, suffixes, Ok(())),
            None => (
                Kind::Untyped,
                &[][..],
                Err(format!("unknown type {}", quote(word))),
            ),
        };
        if !self.declared.contains_key(name) {
            let index = self.out.families.len();
            self.out.families.push(Family {
                name: name.to_owned(),
                kind,
                samples: Vec::new(),
            });
            self.declared.insert(name.to_owned(), (index, suffixes));
        }
        result
    }

    /// The declared family a sample name belongs to, if any.
    fn find_declared(&self, name: &str) -> Option<usize> {
        if self.declared.is_empty() {
            return None;
        }
        if let Some(&(index, _)) = self.declared.get(name) {
            return Some(index);
        }
        ALL_SUFFIXES.iter().find_map(|suffix| {
            let base = name.strip_suffix(suffix)?;
            let &(index, allowed) = self.declared.get(base)?;
            allowed.contains(suffix).then_some(index)
        })
    }

    /// Put a sample into its family, making an untyped one if needed.
    fn add(&mut self, sample: Sample) {
        let families = &self.out.families;
        let repeat = self.last.filter(|&i| {
            families[i]
                .samples
                .last()
                .is_some_and(|prev| prev.name == sample.name)
        });
        let index = match repeat.or_else(|| self.find_declared(&sample.name)) {
            Some(index) => index,
            None => {
                self.out.families.push(Family {
                    name: sample.name.clone(),
                    kind: Kind::Untyped,
                    samples: Vec::new(),
                });
                self.out.families.len() - 1
            }
        };
        self.out.families[index].samples.push(sample);
        self.last = Some(index);
    }
}

fn is_metric_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':'
}

fn is_metric_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

fn is_label_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_label_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_metric_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.first().is_some_and(|&b| is_metric_start(b)) && bytes.iter().all(|&b| is_metric_char(b))
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// The index of the first non-blank byte at or after `at`.
fn skip_blanks(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|&b| is_blank(b)) {
        at += 1;
    }
    at
}

/// The run of non-blank text starting at `at`, and the index after it.
fn token(line: &str, at: usize) -> (&str, usize) {
    let bytes = line.as_bytes();
    let mut end = at;
    while end < bytes.len() && !is_blank(bytes[end]) {
        end += 1;
    }
    (&line[at..end], end)
}

/// A sample value: a float, or `NaN` / `Inf` with an optional sign on `Inf`.
fn parse_value(text: &str) -> Option<f64> {
    if text.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    if unsigned.eq_ignore_ascii_case("inf") {
        return Some(if text.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    parse_number(text)
}

/// A plain decimal number (integer, fraction or exponent form, `1e+06`).
/// The character check keeps out the words Rust's float parser also knows.
fn parse_number(text: &str) -> Option<f64> {
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if plain {
        text.parse().ok()
    } else {
        None
    }
}

/// Read one sample line (already trimmed at the start, never a comment).
fn parse_sample(line: &str) -> Result<Sample, String> {
    let bytes = line.as_bytes();
    if !bytes.first().is_some_and(|&b| is_metric_start(b)) {
        return Err(format!("not a sample: {}", quote(line)));
    }
    let mut at = 1;
    while bytes.get(at).is_some_and(|&b| is_metric_char(b)) {
        at += 1;
    }
    let name = &line[..at];
    let after_name = at;
    at = skip_blanks(bytes, at);
    if at == after_name && at < bytes.len() && bytes[at] != b'{' {
        return Err(format!("bad metric name: {}", quote(line)));
    }
    let mut labels = Vec::new();
    if bytes.get(at) == Some(&b'{') {
        at = parse_labels(line, at + 1, &mut labels)?;
        at = skip_blanks(bytes, at);
    }
    if at >= bytes.len() {
        return Err(format!("no value: {}", quote(line)));
    }
    let (text, end) = token(line, at);
    let value = parse_value(text).ok_or_else(|| format!("bad value {}", quote(text)))?;
    at = skip_blanks(bytes, end);
    if at < bytes.len() && bytes[at] != b'#' {
        let (text, end) = token(line, at);
        if parse_number(text).is_none() {
            return Err(format!("bad timestamp {}", quote(text)));
        }
        at = skip_blanks(bytes, end);
    }
    // Anything after ` # ` is an OpenMetrics exemplar, which is not kept.
    if at < bytes.len() && bytes[at] != b'#' {
        return Err(format!("text after the timestamp: {}", quote(&line[at..])));
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// Read labels from just after `{` up to and including `}`; returns the
/// index after the closing brace.
fn parse_labels(
    line: &str,
    mut at: usize,
    labels: &mut Vec<(String, String)>,
) -> Result<usize, String> {
    let bytes = line.as_bytes();
    let not_closed = || format!("label brace not closed: {}", quote(line));
    loop {
        at = skip_blanks(bytes, at);
        match bytes.get(at) {
            None => return Err(not_closed()),
            Some(b'}') => return Ok(at + 1),
            Some(&b) if is_label_start(b) => {}
            Some(_) => return Err(format!("bad label name: {}", quote(&line[at..]))),
        }
        let start = at;
        while bytes.get(at).is_some_and(|&b| is_label_char(b)) {
            at += 1;
        }
        let name = &line[start..at];
        if bytes.get(at).is_some_and(|&b| !is_blank(b) && b != b'=') {
            return Err(format!("bad label name: {}", quote(&line[start..])));
        }
        at = skip_blanks(bytes, at);
        if bytes.get(at) != Some(&b'=') {
            return Err(format!("no '=' after label name {}", quote(name)));
        }
        at = skip_blanks(bytes, at + 1);
        if bytes.get(at) != Some(&b'"') {
            return Err(format!("label value not quoted: {}", quote(&line[start..])));
        }
        let (value, end) = parse_label_value(line, at + 1)?;
        labels.push((name.to_owned(), value));
        at = skip_blanks(bytes, end);
        match bytes.get(at) {
            Some(b',') => at += 1,
            Some(b'}') => return Ok(at + 1),
            None => return Err(not_closed()),
            Some(_) => {
                let rest = quote(&line[at..]);
                return Err(format!("expected ',' or '}}' after label value: {rest}"));
            }
        }
    }
}

/// Read a label value from just after its opening quote; returns the
/// unescaped value and the index after the closing quote.
fn parse_label_value(line: &str, start: usize) -> Result<(String, usize), String> {
    let bytes = line.as_bytes();
    // Only allocate a buffer once an escape shows up.
    let mut unescaped: Option<String> = None;
    let mut chunk = start;
    let mut at = start;
    while let Some(&b) = bytes.get(at) {
        match b {
            b'"' => {
                let value = match unescaped {
                    Some(mut buf) => {
                        buf.push_str(&line[chunk..at]);
                        buf
                    }
                    None => line[chunk..at].to_owned(),
                };
                return Ok((value, at + 1));
            }
            b'\\' => {
                let buf = unescaped.get_or_insert_with(String::new);
                buf.push_str(&line[chunk..at]);
                match bytes.get(at + 1) {
                    Some(b'\\') => buf.push('\\'),
                    Some(b'"') => buf.push('"'),
                    Some(b'n') => buf.push('\n'),
                    Some(_) => {
                        let bad: String = line[at..].chars().take(2).collect();
                        return Err(format!("bad escape {} in label value", quote(&bad)));
                    }
                    None => break,
                }
                at += 2;
                chunk = at;
            }
            _ => at += 1,
        }
    }
    Err(format!("label value not closed: {}", quote(&line[start..])))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sample with its value as bits, so that NaN and -0.0 compare exactly.
    type FlatSample = (String, Vec<(String, String)>, u64);

    fn flat(families: &[Family]) -> Vec<(String, Kind, Vec<FlatSample>)> {
        families
            .iter()
            .map(|f| {
                let samples = f.samples.iter();
                let samples =
                    samples.map(|s| (s.name.clone(), s.labels.clone(), s.value.to_bits()));
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

    // ---- property tests ----

    const NAME_FIRST: &[u8] = b"abcxyzABXYZ_:";
    const NAME_REST: &[u8] = b"abcxyz0189_:";
    const LABEL_FIRST: &[u8] = b"abcXYZ_";
    const LABEL_REST: &[u8] = b"abcXYZ019_";
    const VALUE_CHARS: &[char] = &[
        'a', 'Z', '0', ' ', '\t', '"', '\\', '\n', '#', '}', '{', ',', '=', 'é', '日', '🦀', '\r',
    ];
    const TYPES: &[(Kind, Option<&str>)] = &[
        (Kind::Counter, Some("counter")),
        (Kind::Gauge, Some("gauge")),
        (Kind::Gauge, Some("stateset")),
        (Kind::Gauge, Some("info")),
        (Kind::Histogram, Some("histogram")),
        (Kind::Histogram, Some("gaugehistogram")),
        (Kind::Summary, Some("summary")),
        (Kind::Untyped, Some("untyped")),
        (Kind::Untyped, Some("unknown")),
        (Kind::Untyped, None),
    ];

    fn pick<T: Copy>(rng: &mut fastrand::Rng, items: &[T]) -> T {
        items[rng.usize(..items.len())]
    }

    fn ident(rng: &mut fastrand::Rng, first: &[u8], rest: &[u8]) -> String {
        let mut s = String::from(pick(rng, first) as char);
        for _ in 0..rng.usize(..8) {
            s.push(pick(rng, rest) as char);
        }
        s
    }

    fn label_value(rng: &mut fastrand::Rng) -> String {
        (0..rng.usize(..10))
            .map(|_| pick(rng, VALUE_CHARS))
            .collect()
    }

    fn value(rng: &mut fastrand::Rng) -> f64 {
        match rng.u8(..7) {
            0 => rng.i64(-1_000_000_000_000_000..1_000_000_000_000_000) as f64,
            1 => loop {
                let v = f64::from_bits(rng.u64(..));
                if v.is_finite() {
                    break v;
                }
            },
            2 => (rng.f64() - 0.5) * 1000.0,
            3 => pick(rng, &[f64::NAN, f64::INFINITY, f64::NEG_INFINITY]),
            4 => pick(rng, &[0.0, -0.0, 1.0, -1.0]),
            5 => rng.f64() * 10f64.powi(rng.i32(-30..30)),
            _ => f64::from(rng.u32(..1000)),
        }
    }

    fn render_value(rng: &mut fastrand::Rng, v: f64) -> String {
        if v.is_nan() {
            pick(rng, &["NaN", "nan", "NAN"]).to_owned()
        } else if v == f64::INFINITY {
            pick(rng, &["+Inf", "Inf", "inf", "+inf"]).to_owned()
        } else if v == f64::NEG_INFINITY {
            pick(rng, &["-Inf", "-inf"]).to_owned()
        } else {
            match rng.u8(..4) {
                0 => format!("{v:?}"),
                1 => format!("{v}"),
                2 => format!("{v:e}"),
                _ => format!("{v:E}"),
            }
        }
    }

    /// Random families with unique names (each ends in `_<index>`, so no
    /// name is another one plus a suffix), and the TYPE word to write.
    fn families(rng: &mut fastrand::Rng) -> Vec<(Family, Option<&'static str>)> {
        (0..rng.usize(..6))
            .map(|i| {
                let name = format!("{}_{i}", ident(rng, NAME_FIRST, NAME_REST));
                let (kind, word) = pick(rng, TYPES);
                let suffixes: &[&str] = match word {
                    Some("counter") => &["", "_total", "_created"],
                    Some("info") => &["", "_info"],
                    Some("histogram" | "gaugehistogram") => &[
                        "", "_bucket", "_sum", "_count", "_created", "_gcount", "_gsum",
                    ],
                    Some("summary") => &["", "_sum", "_count", "_created"],
                    _ => &[""],
                };
                let count = rng.usize(usize::from(word.is_none())..5);
                let samples = (0..count)
                    .map(|_| Sample {
                        name: format!("{name}{}", pick(rng, suffixes)),
                        labels: (0..rng.usize(..4))
                            .map(|_| (ident(rng, LABEL_FIRST, LABEL_REST), label_value(rng)))
                            .collect(),
                        value: value(rng),
                    })
                    .collect();
                (
                    Family {
                        name,
                        kind,
                        samples,
                    },
                    word,
                )
            })
            .collect()
    }

    fn render_sample(rng: &mut fastrand::Rng, sample: &Sample, out: &mut String) {
        const SPACE: &[&str] = &["", "", " ", "\t"];
        if rng.u8(..8) == 0 {
            out.push(' ');
        }
        out.push_str(&sample.name);
        if !sample.labels.is_empty() || rng.u8(..3) == 0 {
            out.push_str(pick(rng, &["{", "{", " {"]));
            for (i, (name, value)) in sample.labels.iter().enumerate() {
                if i > 0 {
                    out.push_str(pick(rng, &[",", ", ", " ,", " , "]));
                }
                let escaped = value.replace('\\', r"\\").replace('"', "\\\"");
                let escaped = escaped.replace('\n', r"\n");
                let (s1, s2, s3) = (pick(rng, SPACE), pick(rng, SPACE), pick(rng, SPACE));
                out.push_str(&format!("{s1}{name}{s2}={s3}\"{escaped}\""));
            }
            if !sample.labels.is_empty() && rng.u8(..4) == 0 {
                out.push(',');
            }
            out.push_str(pick(rng, SPACE));
            out.push('}');
        }
        out.push_str(pick(rng, &[" ", "\t", "  ", " \t"]));
        out.push_str(&render_value(rng, sample.value));
        if rng.u8(..3) == 0 {
            out.push(' ');
            out.push_str(pick(rng, &["1395066363000", "-5", "1520879607.789", "0"]));
        }
        if rng.u8(..4) == 0 {
            out.push_str(pick(
                rng,
                &[" # {trace_id=\"a#b}c\"} 0.5", " # {} 1 1520879607.1"],
            ));
        }
        out.push_str(pick(rng, &["", "", " ", "\t"]));
    }

    fn render(rng: &mut fastrand::Rng, families: &[(Family, Option<&str>)]) -> String {
        let mut out = String::new();
        let eol = if rng.bool() { "\n" } else { "\r\n" };
        let text = |rng: &mut fastrand::Rng| label_value(rng).replace(['\n', '\r'], " ");
        for (family, word) in families {
            let name = &family.name;
            if rng.u8(..3) == 0 {
                out.push_str(&format!("# HELP {name} {}{eol}", text(rng)));
            }
            if let Some(word) = word {
                out.push_str(&format!("# TYPE {name} {word}{eol}"));
            }
            if rng.u8(..4) == 0 {
                out.push_str(&format!("# UNIT {name} seconds{eol}"));
            }
            for sample in &family.samples {
                match rng.u8(..8) {
                    0 => out.push_str(eol),
                    1 => out.push_str(&format!("# note {}{eol}", text(rng))),
                    _ => {}
                }
                render_sample(rng, sample, &mut out);
                out.push_str(eol);
            }
        }
        if rng.bool() {
            out.push_str(&format!("# EOF{eol}"));
            if rng.bool() {
                out.push_str("garbage { after \" EOF\n");
            }
        }
        out
    }

    #[test]
    fn random_families_round_trip() {
        let mut rng = fastrand::Rng::with_seed(0x5eed_0001);
        for case in 0..3000 {
            let generated = families(&mut rng);
            let text = render(&mut rng, &generated);
            let parsed = parse(&text);
            assert!(
                parsed.skipped.is_empty(),
                "case {case}: {:?}\n{text}",
                parsed.skipped
            );
            let expected: Vec<Family> = generated.into_iter().map(|(f, _)| f).collect();
            assert_eq!(
                flat(&parsed.families),
                flat(&expected),
                "case {case}:\n{text}"
            );
        }
    }

    /// Parse and check that every skipped line exists in the input.
    fn check_errors_in_range(text: &str) {
        let parsed = parse(text);
        let lines = text.lines().count();
        for error in &parsed.skipped {
            assert!(
                (1..=lines).contains(&error.line),
                "{error} of {lines}: {text:?}"
            );
            assert!(error.reason.chars().count() < 700, "{error}");
        }
    }

    const FRAGMENTS: &[&str] = &[
        "# TYPE ",
        "# HELP ",
        "# EOF",
        "# UNIT ",
        "m",
        "m_total",
        "m_bucket",
        " counter",
        " histogram",
        " gauge",
        "{",
        "}",
        "=",
        "\"",
        "\\",
        " ",
        "\t",
        ",",
        "1e+06",
        "NaN",
        "-Inf",
        "\n",
        "\r\n",
        "#",
        "le",
        "3.5",
        "日",
        "\0",
    ];
    const NOISE: &[char] = &[
        '{', '}', '"', '\\', '\n', '\r', '#', ' ', '=', ',', 'é', '\0', 'x',
    ];

    #[test]
    fn garbage_never_panics() {
        let mut rng = fastrand::Rng::with_seed(0x5eed_0002);
        for _ in 0..3000 {
            let bytes: Vec<u8> = (0..rng.usize(..300)).map(|_| rng.u8(..)).collect();
            check_errors_in_range(&String::from_utf8_lossy(&bytes));
            let soup: String = (0..rng.usize(..60))
                .map(|_| pick(&mut rng, FRAGMENTS))
                .collect();
            check_errors_in_range(&soup);
        }
    }

    #[test]
    fn mutated_texts_never_panic() {
        let mut rng = fastrand::Rng::with_seed(0x5eed_0003);
        for _ in 0..3000 {
            let generated = families(&mut rng);
            let mut chars: Vec<char> = render(&mut rng, &generated).chars().collect();
            for _ in 0..rng.usize(1..6) {
                let at = rng.usize(..=chars.len());
                match rng.u8(..3) {
                    0 => chars.insert(at, pick(&mut rng, NOISE)),
                    1 => {
                        let end = (at + rng.usize(..10)).min(chars.len());
                        chars.drain(at..end);
                    }
                    _ => chars.truncate(at),
                }
            }
            check_errors_in_range(&chars.into_iter().collect::<String>());
        }
    }
}
