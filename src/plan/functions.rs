//! The functions a plan's templates can call beside minijinja's own (`range`, `dict`,
//! `namespace`): random values for varied requests, unique ids, the time, the environment.
//!
//! Each function checks its arguments and says what is wrong in the message a template
//! error shows (`random_int(5, 1): lo is above hi`); `plans/README.md` lists them all with
//! an example each, and a test renders every example of that list.

use std::sync::atomic::{AtomicU64, Ordering};

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind};

/// The plan's own template functions, in the order the reference lists them.
pub const PLAN_FUNCTIONS: [&str; 10] = [
    "random_int",
    "random_float",
    "random_choice",
    "random_sample",
    "random_string",
    "uuid",
    "seq",
    "now",
    "timestamp",
    "env",
];

/// Longest string `random_string` makes.
const MAX_RANDOM_STRING: usize = 1 << 20;

/// Counter behind `seq()`: the first call returns 1.
static SEQ: AtomicU64 = AtomicU64::new(1);

/// Registers every plan function in `env`.
pub(super) fn register(env: &mut Environment<'static>) {
    env.add_function("random_int", random_int);
    env.add_function("random_float", random_float);
    env.add_function("random_choice", random_choice);
    env.add_function("random_sample", random_sample);
    env.add_function("random_string", random_string);
    env.add_function("uuid", || uuid::Uuid::new_v4().to_string());
    env.add_function("seq", || SEQ.fetch_add(1, Ordering::Relaxed));
    env.add_function("now", || iso8601(crate::stats::unix_now()));
    env.add_function("timestamp", crate::stats::unix_now);
    env.add_function("env", env_var);
}

fn invalid(msg: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg)
}

fn random_int(lo: i64, hi: i64) -> Result<i64, Error> {
    if lo > hi {
        return Err(invalid(format!("random_int({lo}, {hi}): lo is above hi")));
    }
    Ok(fastrand::i64(lo..=hi))
}

/// Uniform in `[lo, hi)`.
fn random_float(lo: f64, hi: f64) -> Result<f64, Error> {
    if !(lo.is_finite() && hi.is_finite()) || lo > hi {
        return Err(invalid(format!(
            "random_float({lo}, {hi}): expected finite bounds with lo <= hi"
        )));
    }
    Ok(lo + fastrand::f64() * (hi - lo))
}

fn random_choice(list: Value) -> Result<Value, Error> {
    let items: Vec<Value> = list.try_iter()?.collect();
    if items.is_empty() {
        return Err(invalid("random_choice(): the list is empty".into()));
    }
    Ok(items[fastrand::usize(..items.len())].clone())
}

/// `k` distinct elements in random order (Python's `random.sample`).
fn random_sample(list: Value, k: i64) -> Result<Value, Error> {
    let mut items: Vec<Value> = list.try_iter()?.collect();
    let n = items.len();
    let k = usize::try_from(k).ok().filter(|k| *k <= n).ok_or_else(|| {
        invalid(format!(
            "random_sample(list, {k}): k must be between 0 and the list's length ({n})"
        ))
    })?;
    // A partial Fisher-Yates shuffle: the first k places are the sample.
    for i in 0..k {
        let j = fastrand::usize(i..n);
        items.swap(i, j);
    }
    items.truncate(k);
    Ok(Value::from(items))
}

/// `len` random letters and digits, or characters of `alphabet`.
fn random_string(len: usize, alphabet: Option<String>) -> Result<String, Error> {
    if len > MAX_RANDOM_STRING {
        return Err(invalid(format!(
            "random_string({len}): at most {MAX_RANDOM_STRING} characters"
        )));
    }
    let chars: Vec<char> = match &alphabet {
        Some(a) => a.chars().collect(),
        None => ('a'..='z').chain('A'..='Z').chain('0'..='9').collect(),
    };
    if chars.is_empty() {
        return Err(invalid("random_string(): the alphabet is empty".into()));
    }
    Ok((0..len)
        .map(|_| chars[fastrand::usize(..chars.len())])
        .collect())
}

fn env_var(name: String, default: Option<String>) -> Result<String, Error> {
    match (std::env::var(&name), default) {
        (Ok(v), _) => Ok(v),
        (Err(_), Some(d)) => Ok(d),
        (Err(_), None) => Err(invalid(format!("environment variable {name} is not set"))),
    }
}

/// Unix seconds as an ISO 8601 UTC time with milliseconds: `2026-12-02T19:01:02.123Z`.
pub(crate) fn iso8601(unix: f64) -> String {
    let ms = (unix.max(0.0) * 1000.0) as u64;
    let (secs, millis) = (ms / 1000, ms % 1000);
    let (days, day_secs) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        day_secs / 3600,
        day_secs / 60 % 60,
        day_secs % 60
    )
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times() {
        assert_eq!(iso8601(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400.5), "2000-02-29T00:00:00.500Z");
        assert_eq!(iso8601(1_796_238_062.123), "2026-12-02T19:01:02.123Z");
    }

    #[test]
    fn samples_are_distinct_and_bounded() {
        let list = Value::from((1..=10).collect::<Vec<i64>>());
        for k in 0..=10 {
            let got: Vec<i64> = random_sample(list.clone(), k)
                .unwrap()
                .try_iter()
                .unwrap()
                .map(|v| i64::try_from(v).unwrap())
                .collect();
            let mut sorted = got.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!((got.len(), sorted.len()), (k as usize, k as usize));
            assert!(got.iter().all(|v| (1..=10).contains(v)));
        }
        let err = random_sample(list, 11).unwrap_err().to_string();
        assert!(
            err.contains("between 0 and the list's length (10)"),
            "{err}"
        );
    }

    #[test]
    fn argument_errors_say_what_is_wrong() {
        assert!(random_int(5, 1)
            .unwrap_err()
            .to_string()
            .contains("lo is above hi"));
        assert!(random_float(2.0, 1.0).is_err());
        let x = random_float(1.0, 2.0).unwrap();
        assert!((1.0..2.0).contains(&x));
        assert_eq!(random_string(5, Some("a".into())).unwrap(), "aaaaa");
        assert!(random_string(3, Some(String::new())).is_err());
        assert!(random_choice(Value::from(Vec::<i64>::new())).is_err());
    }
}
