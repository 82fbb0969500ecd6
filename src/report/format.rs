//! Number, time and text formatting shared by the console, CSV and JSON reports.
//!
//! Every function accepts any input (NaN, infinities, negative or huge values, `None`) and
//! returns something printable: reports must never panic on odd figures.

use std::time::{Duration, UNIX_EPOCH};

/// Latest instant [`iso_utc`] can render: the last millisecond of year 9999.
const MAX_UNIX_SECS: f64 = 253_402_300_799.999;

/// A finite value, or 0 for NaN and infinities.
pub fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

/// Milliseconds with microsecond precision, always 3 decimals (`10.183`), as CSV times.
pub fn ms3(v: f64) -> String {
    format!("{:.3}", finite(v))
}

/// A CSV time that is `0` when there is no data (avg/min/max/median of an unused entry).
pub fn ms3_or_zero(v: Option<f64>) -> String {
    v.map_or_else(|| "0".to_string(), ms3)
}

/// A CSV percentile: `N/A` when there is no data (Locust's convention).
pub fn ms3_or_na(v: Option<f64>) -> String {
    v.map_or_else(|| "N/A".to_string(), ms3)
}

/// A plain number with at most 3 decimals and no trailing zeros (`12.5`, `3`, `0.333`): sizes
/// and rates in CSV files.
pub fn num(v: f64) -> String {
    let s = format!("{:.3}", finite(v));
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Unix seconds as ISO-8601 UTC with milliseconds and `Z` (`2026-11-22T21:49:53.123Z`);
/// values before 1970 or after 9999 are clamped.
pub fn iso_utc(unix_secs: f64) -> String {
    let secs = finite(unix_secs).clamp(0.0, MAX_UNIX_SECS);
    let millis = (secs * 1000.0).floor() as u64;
    let time = UNIX_EPOCH + Duration::from_millis(millis);
    humantime::format_rfc3339_millis(time).to_string()
}

/// Whole unix seconds (history CSV `Timestamp`), 0 for invalid input.
pub fn unix_whole(unix_secs: f64) -> u64 {
    finite(unix_secs).clamp(0.0, MAX_UNIX_SECS).floor() as u64
}

/// An integer with thousands separators (`1,234,567`).
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A non-negative decimal with `decimals` places and thousands separators in the integer part.
pub fn decimal(v: f64, decimals: usize) -> String {
    let v = finite(v);
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let int = int
        .parse::<u64>()
        .map_or_else(|_| int.to_string(), thousands);
    let sign = if v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// Console milliseconds: 2 decimals below 100 ms (`10.18`), whole numbers from 100 ms on
/// (`1,234`); `-` when there is no data.
pub fn console_ms(v: Option<f64>) -> String {
    match v.map(finite) {
        None => "-".to_string(),
        Some(ms) if ms.abs() < 99.995 => format!("{ms:.2}"),
        Some(ms) => decimal(ms, 0),
    }
}

/// Console rate: 2 decimals with thousands separators (`1,234.50`).
pub fn console_rate(v: f64) -> String {
    decimal(v, 2)
}

/// `text` cut to at most `width` characters, ending with `…` when something was cut.
pub fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// `text` on one line: newlines, tabs and other control characters become spaces, so one
/// message cannot break a console table.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Pad `text` with spaces on the right to `width` characters (counted as chars, not bytes).
pub fn pad_right(text: &str, width: usize) -> String {
    let n = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(n)))
}

/// Pad `text` with spaces on the left to `width` characters.
pub fn pad_left(text: &str, width: usize) -> String {
    let n = text.chars().count();
    format!("{}{text}", " ".repeat(width.saturating_sub(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(ms3(10.1834), "10.183");
        assert_eq!(ms3(f64::NAN), "0.000");
        assert_eq!(ms3_or_na(None), "N/A");
        assert_eq!(ms3_or_zero(None), "0");
        assert_eq!(num(12.5), "12.5");
        assert_eq!(num(3.0), "3");
        assert_eq!(num(-0.0001), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(decimal(1234.5, 2), "1,234.50");
        assert_eq!(decimal(-1234.5, 0), "-1,234");
        assert_eq!(console_ms(Some(10.183)), "10.18");
        assert_eq!(console_ms(Some(1234.4)), "1,234");
        assert_eq!(console_ms(Some(f64::INFINITY)), "0.00");
        assert_eq!(console_ms(None), "-");
    }

    #[test]
    fn times_and_text() {
        assert_eq!(iso_utc(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_utc(1_795_384_193.123_4), "2026-11-22T21:49:53.123Z");
        assert_eq!(iso_utc(-5.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_utc(1e300), "9999-12-31T23:59:59.999Z");
        assert_eq!(unix_whole(12.9), 12);
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(one_line("a\nb\tc"), "a b c");
        assert_eq!(pad_left("é", 3), "  é");
    }
}
