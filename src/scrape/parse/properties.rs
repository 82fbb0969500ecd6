//! The parser's property tests: random families (every kind, hostile label values, values
//! in several spellings) rendered and parsed back bit for bit, and random garbage and
//! mutated texts that never make it panic.

use super::tests::flat;
use super::*;

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
