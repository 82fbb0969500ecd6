//! The plan file syntax as serde structs, shared by TOML and YAML.
//!
//! Every struct denies unknown keys. Values are kept raw here (strings, numbers); turning
//! them into the model and checking them is `validate`'s job, except for a few value types
//! (durations, one-or-many lists, ordered tables) whose shape is read here so errors point at
//! the exact value.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlan {
    pub host: Option<String>,
    pub timeout: Option<Dur>,
    pub redirects: Option<u32>,
    pub headers: Option<Table<Text>>,
    pub load: Option<RawLoad>,
    pub data: Option<RawData>,
    pub scenarios: Option<Vec<RawScenario>>,
    /// Pass/fail criteria (`"p95 < 500ms"`), checked by `crate::thresholds`.
    pub thresholds: Option<Vec<String>>,
    /// `[[metrics]]`: the target's Prometheus endpoints, scraped during the test.
    pub metrics: Option<Vec<RawMetrics>>,
}

/// One `[[metrics]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    pub url: String,
    pub every: Option<Dur>,
    pub name: Option<String>,
    pub series: Option<Vec<String>>,
}

/// `[load]`: closed model, open model or stages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoad {
    pub users: Option<u64>,
    pub spawn_rate: Option<f64>,
    pub run_time: Option<Dur>,
    pub rate: Option<f64>,
    pub stages: Option<Vec<RawStage>>,
}

/// One entry of `load.stages`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    pub duration: Dur,
    pub users: u64,
    pub spawn_rate: Option<f64>,
}

/// `[data]`: the CSV file handed out to users.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawData {
    pub file: String,
    pub on_end: Option<RawOnEnd>,
}

/// `data.on_end`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawOnEnd {
    Wrap,
    Stop,
}

/// `[[scenarios]]`: a user class.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Option<String>,
    pub weight: Option<i64>,
    pub count: Option<i64>,
    pub wait: Option<RawWait>,
    pub on_start: Option<Vec<RawStep>>,
    pub tasks: Option<Vec<RawTask>>,
}

/// `wait`: exactly one of the keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWait {
    pub between: Option<Vec<f64>>,
    pub constant: Option<f64>,
    pub constant_pacing: Option<f64>,
    pub constant_throughput: Option<f64>,
}

/// `[[scenarios.tasks]]`: either inline request keys or `steps`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTask {
    pub name: Option<String>,
    pub weight: Option<i64>,
    pub steps: Option<Vec<RawStep>>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub url: Option<String>,
    pub query: Option<Table<Text>>,
    pub headers: Option<Table<Text>>,
    pub json: Option<serde_json::Value>,
    pub form: Option<Table<Text>>,
    pub body: Option<String>,
    pub check: Option<RawCheck>,
    pub capture: Option<Table<RawCapture>>,
}

impl RawTask {
    /// The inline request keys that are set, by name (to report a mix with `steps`).
    pub fn request_keys(&self) -> Vec<&'static str> {
        let set = [
            ("method", self.method.is_some()),
            ("path", self.path.is_some()),
            ("url", self.url.is_some()),
            ("query", self.query.is_some()),
            ("headers", self.headers.is_some()),
            ("json", self.json.is_some()),
            ("form", self.form.is_some()),
            ("body", self.body.is_some()),
            ("check", self.check.is_some()),
            ("capture", self.capture.is_some()),
        ];
        set.iter().filter(|(_, on)| *on).map(|(k, _)| *k).collect()
    }

    /// The inline request as a step (the task's `name` names the request).
    pub fn into_step(self) -> RawStep {
        RawStep {
            name: self.name,
            method: self.method,
            path: self.path,
            url: self.url,
            query: self.query,
            headers: self.headers,
            json: self.json,
            form: self.form,
            body: self.body,
            check: self.check,
            capture: self.capture,
        }
    }
}

/// One request (an `on_start` entry or a `steps` entry).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub name: Option<String>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub url: Option<String>,
    pub query: Option<Table<Text>>,
    pub headers: Option<Table<Text>>,
    pub json: Option<serde_json::Value>,
    pub form: Option<Table<Text>>,
    pub body: Option<String>,
    pub check: Option<RawCheck>,
    pub capture: Option<Table<RawCapture>>,
}

/// `check`: what a response must satisfy.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    pub status: Option<OneOrMany<i64>>,
    /// Failure message template, rendered with the response when a check fails.
    pub message: Option<String>,
    pub json: Option<bool>,
    pub contains: Option<OneOrMany<String>>,
    pub equals: Option<Table<serde_json::Value>>,
}

/// One `capture` entry: exactly one source key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCapture {
    pub json: Option<String>,
    pub header: Option<String>,
    pub regex: Option<String>,
}

/// A duration: a string like `"30s"`/`"1h20m"` or a number of seconds.
#[derive(Debug, Clone, Copy)]
pub struct Dur(pub Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a duration such as \"30s\", \"250ms\", \"1h20m\" or a number of seconds",
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Dur, E> {
                crate::duration::parse_duration(s)
                    .map(Dur)
                    .map_err(|e| E::custom(e.to_string()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Dur, E> {
                if n.is_finite() && (0.0..1e12).contains(&n) {
                    Ok(Dur(Duration::from_secs_f64(n)))
                } else {
                    Err(E::custom(format!(
                        "invalid duration {n}: must be a finite number of seconds >= 0"
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Dur, E> {
                self.visit_f64(n as f64)
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Dur, E> {
                self.visit_f64(n as f64)
            }
        }
        d.deserialize_any(V)
    }
}

/// A single value or a list of them (`status = 200` or `status = [200, 201]`).
#[derive(Debug, Clone)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value or a list of values")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(OneOrMany(out))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                one(de::value::I64Deserializer::new(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                one(de::value::U64Deserializer::new(n))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                one(de::value::StrDeserializer::new(s))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
                one(de::value::BoolDeserializer::new(b))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
                one(de::value::F64Deserializer::new(n))
            }
        }
        fn one<'de, T: Deserialize<'de>, E: de::Error, D: Deserializer<'de, Error = E>>(
            d: D,
        ) -> Result<OneOrMany<T>, E> {
            T::deserialize(d).map(|v| OneOrMany(vec![v]))
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A table read in document order (YAML keeps the file's order; TOML sorts keys), rejecting
/// duplicate keys.
#[derive(Debug, Clone)]
pub struct Table<V>(pub Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Table<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Vis<V> {
            type Value = Table<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table of keys and values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out: Vec<(String, V)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, V>()? {
                    if out.iter().any(|(seen, _)| *seen == k) {
                        return Err(de::Error::custom(format!("duplicate key \"{k}\"")));
                    }
                    out.push((k, v));
                }
                Ok(Table(out))
            }
        }
        d.deserialize_map(Vis(PhantomData))
    }
}

/// A scalar written where text is expected (`page = 1` in `query`): kept as its text.
#[derive(Debug, Clone)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string (or a number or boolean)")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text, E> {
                Ok(Text(s.to_string()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Text, E> {
                Ok(Text(n.to_string()))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Text, E> {
                Ok(Text(n.to_string()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Text, E> {
                Ok(Text(n.to_string()))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Text, E> {
                Ok(Text(b.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}
