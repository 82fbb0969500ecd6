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
mod properties;
#[cfg(test)]
mod tests;
