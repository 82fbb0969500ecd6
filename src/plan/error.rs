//! Plan errors and where they point: key paths, file positions, friendlier serde messages
//! ("did you mean"), and finding the position of a key path in the plan text after the fact.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Why a plan could not be used. The message names the file, line, column and key.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

/// The two plan syntaxes, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Toml,
    Yaml,
}

impl Format {
    /// `.toml`, `.yaml` or `.yml` (case-insensitive); anything else is an error.
    pub(crate) fn of(path: &Path) -> Result<Format, PlanError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("toml") => Ok(Format::Toml),
            Some("yaml" | "yml") => Ok(Format::Yaml),
            _ => Err(PlanError::Invalid(format!(
                "{}: unknown plan format (expected a .toml, .yaml or .yml file)",
                path.display()
            ))),
        }
    }
}

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// Where in the plan something is: `scenarios[0].tasks[1].method`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    /// This path extended by a key.
    pub(crate) fn key(&self, k: &str) -> KeyPath {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_string()));
        p
    }

    /// This path extended by a list index.
    pub(crate) fn index(&self, i: usize) -> KeyPath {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }

    /// Convert the path serde_path_to_error tracked.
    pub(crate) fn from_serde(p: &serde_path_to_error::Path) -> KeyPath {
        use serde_path_to_error::Segment;
        KeyPath(
            p.iter()
                .filter_map(|s| match s {
                    Segment::Seq { index } => Some(Seg::Index(*index)),
                    Segment::Map { key } => Some(Seg::Key(key.clone())),
                    Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
                    Segment::Unknown => None,
                })
                .collect(),
        )
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A problem found after reading the file: the key it is about and what is wrong.
#[derive(Debug, Clone)]
pub(crate) struct Issue {
    pub path: KeyPath,
    pub msg: String,
}

impl Issue {
    pub(crate) fn new(path: &KeyPath, msg: impl Into<String>) -> Issue {
        Issue {
            path: path.clone(),
            msg: msg.into(),
        }
    }
}

/// `FILE:LINE:COL: KEY.PATH: message` (position and key left out when unknown).
pub(crate) fn render(
    file: &Path,
    pos: Option<(usize, usize)>,
    path: &KeyPath,
    msg: &str,
) -> PlanError {
    let mut out = file.display().to_string();
    if let Some((line, col)) = pos {
        out.push_str(&format!(":{line}:{col}"));
    }
    if !path.0.is_empty() {
        out.push_str(&format!(": {path}"));
    }
    out.push_str(&format!(": {msg}"));
    PlanError::Invalid(out)
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Rewrite a serde message for people: unknown keys get a suggestion, Rust type names become
/// words. Returns the message and, for an unknown key, the key (to extend the path with).
pub(crate) fn humanize(msg: &str) -> (String, Option<String>) {
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let (name, expected) = split_expected(rest);
        let text = match suggest(&name, &expected) {
            Some(s) => format!("unknown key \"{name}\" — did you mean \"{s}\"?"),
            None if expected.is_empty() => {
                format!("unknown key \"{name}\" (no keys expected here)")
            }
            None => format!(
                "unknown key \"{name}\" (expected one of: {})",
                expected.join(", ")
            ),
        };
        return (text, Some(name));
    }
    if let Some(rest) = msg.strip_prefix("unknown variant `") {
        let (name, expected) = split_expected(rest);
        let text = match suggest(&name, &expected) {
            Some(s) => format!("unknown value \"{name}\" — did you mean \"{s}\"?"),
            None => format!(
                "unknown value \"{name}\" (expected {})",
                expected.join(" or ")
            ),
        };
        return (text, None);
    }
    if let Some(rest) = msg.strip_prefix("duplicate field `") {
        let name = rest.split('`').next().unwrap_or_default().to_string();
        return (
            format!("duplicate key \"{name}\" (each key may appear once per table)"),
            Some(name),
        );
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        return (format!("missing key \"{name}\""), None);
    }
    let mut text = msg.to_string();
    for (rust, words) in [
        ("expected u32", "expected a whole number >= 0"),
        ("expected u64", "expected a whole number >= 0"),
        ("expected i64", "expected a whole number"),
        ("expected u16", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
        ("expected a sequence", "expected a list"),
        ("expected struct", "expected a table"),
    ] {
        if let Some(i) = text.find(rust) {
            let end = text[i + rust.len()..]
                .find([',', ';'])
                .map_or(text.len(), |j| i + rust.len() + j);
            text.replace_range(i..end, words);
        }
    }
    (text, None)
}

/// Split "name`, expected one of `a`, `b`" into the name and the expected names.
fn split_expected(rest: &str) -> (String, Vec<String>) {
    let mut parts = rest.splitn(2, '`');
    let name = parts.next().unwrap_or_default().to_string();
    let tail = parts.next().unwrap_or_default();
    let expected = tail
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    (name, expected)
}

/// The closest expected key, when it is close enough to be a likely typo.
pub(crate) fn suggest(name: &str, expected: &[String]) -> Option<String> {
    let limit = match name.chars().count() {
        0..=2 => 1,
        3..=5 => 2,
        _ => 3,
    };
    expected
        .iter()
        .map(|e| (distance(&name.to_ascii_lowercase(), e), e))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, e)| e.clone())
}

/// Edit distance where swapping two neighbouring letters counts as one edit.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// Walks a document down `target`, failing on the value found there so the deserializer
/// attaches that value's position to the error.
struct Seek<'p>(&'p [Seg]);

/// Fails on any value (every `Visitor` method defaults to an error).
struct Here;

impl Visitor<'_> for Here {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("(position marker)")
    }
}

impl<'de> DeserializeSeed<'de> for Seek<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.0.is_empty() {
            d.deserialize_any(Here)
        } else {
            d.deserialize_any(self)
        }
    }
}

impl<'de> Visitor<'de> for Seek<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match self.0.first() {
                Some(Seg::Key(k)) if *k == key => map.next_value_seed(Seek(&self.0[1..]))?,
                _ => map.next_value::<IgnoredAny>().map(drop)?,
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            let found = match self.0.first() {
                Some(Seg::Index(n)) if *n == i => seq.next_element_seed(Seek(&self.0[1..]))?,
                _ => seq.next_element::<IgnoredAny>()?.map(drop),
            };
            if found.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Line and column of the value at `path` in `text`, if the path exists.
pub(crate) fn locate(text: &str, format: Format, path: &KeyPath) -> Option<(usize, usize)> {
    match format {
        Format::Toml => {
            let de = toml::Deserializer::parse(text).ok()?;
            let err = Seek(&path.0).deserialize(de).err()?;
            err.span().map(|s| line_col(text, s.start))
        }
        Format::Yaml => {
            let de = serde_yaml_ng::Deserializer::from_str(text);
            let err = Seek(&path.0).deserialize(de).err()?;
            err.location().map(|l| (l.line(), l.column()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        let keys: Vec<String> = ["wait", "weight", "tasks"].map(String::from).to_vec();
        assert_eq!(suggest("wiat", &keys).as_deref(), Some("wait"));
        assert_eq!(suggest("task", &keys).as_deref(), Some("tasks"));
        assert_eq!(suggest("zzzzzz", &keys), None);
    }

    #[test]
    fn locates_values_in_both_formats() {
        let path = KeyPath::default().key("a").index(1).key("b");
        assert_eq!(
            locate("a = [{}, { b = 1 }]\n", Format::Toml, &path),
            Some((1, 16))
        );
        assert_eq!(
            locate("a:\n  - {}\n  - b: 1\n", Format::Yaml, &path),
            Some((3, 8))
        );
        assert_eq!(locate("a = []\n", Format::Toml, &path), None);
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\nçd", 5), (2, 2));
        assert_eq!(line_col("ab", 99), (1, 3));
    }
}
