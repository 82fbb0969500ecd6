//! One scrape into a source's kept series and views. Counters become per-second rates
//! against the previous scrape (a counter that went down was reset: its new value is the
//! increase), gauges stay as they are, a histogram gives a p95 estimate per label set over
//! the interval and its `_count` a rate, a summary its quantiles and its `_count` rate.
//! The first scrape sets the counters' starting values: rates begin with the second.

use std::collections::{BTreeMap, HashMap};

use super::board::{SeriesData, SourceData};
use super::parse::{Exposition, Kind, Sample};
use super::views::{self, Readings};
use super::{Source, MAX_SERIES};

/// Counter values remembered between scrapes, at most (a hostile endpoint with a new label
/// set each time cannot grow memory past it).
const MAX_TRACKED: usize = 50_000;

type Labels = Vec<(String, String)>;
type Key = (String, Labels);
/// A histogram's buckets per label set (without `le`): (le, increase).
type Buckets = BTreeMap<Labels, Vec<(f64, f64)>>;

fn key(name: &str, labels: &[(String, String)]) -> Key {
    let mut l = labels.to_vec();
    l.sort();
    (name.to_string(), l)
}

/// What a source remembers from one scrape to the next.
#[derive(Default)]
pub(crate) struct Ingest {
    /// Counter-like samples: (time, value) at the previous scrape.
    prev: HashMap<Key, (f64, f64)>,
    /// Kept series by key: index into `SourceData::series`.
    index: HashMap<Key, usize>,
}

/// What one scrape left to say.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Notes {
    /// Series not kept because the source already has [`MAX_SERIES`].
    pub over_cap: usize,
    /// Counters whose rate could not be followed (too many label sets).
    pub untracked: usize,
}

impl Ingest {
    /// Take in the scrape `expo` read at `t` (Unix seconds).
    pub fn scrape(
        &mut self,
        data: &mut SourceData,
        source: &Source,
        expo: &Exposition,
        t: f64,
    ) -> Notes {
        let mut notes = Notes::default();
        let mut readings = Readings::default();
        for fam in &expo.families {
            // Python's client writes each counter's creation time as a gauge of its own.
            if fam.kind == Kind::Gauge && fam.name.ends_with("_created") {
                continue;
            }
            let mut buckets = Buckets::new();
            for s in &fam.samples {
                let suffix = s.name.strip_prefix(fam.name.as_str()).unwrap_or("");
                match (fam.kind, suffix) {
                    (_, "_created") => {}
                    (Kind::Counter, _) | (Kind::Histogram | Kind::Summary, "_count" | "_sum") => {
                        let Some(rate) = self.rate(s, t, &mut notes) else {
                            continue;
                        };
                        readings.counters.push((s, rate));
                        if fam.kind == Kind::Counter || suffix == "_count" {
                            self.keep(data, source, s, &fam.name, "counter", t, rate, &mut notes);
                        }
                    }
                    (Kind::Histogram, "_bucket") => {
                        let le = s.labels.iter().find(|(k, _)| k == "le");
                        let Some(le) = le.and_then(|(_, v)| parse_le(v)) else {
                            continue;
                        };
                        if let Some(inc) = self.increase(s, t, &mut notes) {
                            let mut rest: Vec<(String, String)> = s
                                .labels
                                .iter()
                                .filter(|(k, _)| k != "le")
                                .cloned()
                                .collect();
                            rest.sort();
                            buckets.entry(rest).or_default().push((le, inc));
                        }
                    }
                    (Kind::Histogram, _) => {}
                    (Kind::Summary, _) => {
                        self.keep(
                            data, source, s, &fam.name, "summary", t, s.value, &mut notes,
                        );
                    }
                    (Kind::Gauge | Kind::Untyped, _) => {
                        readings.gauges.push(s);
                        let kind = fam.kind.as_str();
                        self.keep(data, source, s, &fam.name, kind, t, s.value, &mut notes);
                    }
                }
            }
            if buckets.is_empty() {
                continue;
            }
            let mut summed: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
            for (labels, b) in &buckets {
                for &(le, inc) in b {
                    summed.entry(le.to_bits()).or_insert((le, 0.0)).1 += inc;
                }
                if let Some(p95) = views::quantile(0.95, b) {
                    let s = Sample {
                        name: fam.name.clone(),
                        labels: labels.clone(),
                        value: p95,
                    };
                    self.keep(data, source, &s, &fam.name, "histogram", t, p95, &mut notes);
                }
            }
            readings
                .histograms
                .insert(fam.name.as_str(), summed.into_values().collect());
        }
        for v in views::compute(&readings) {
            data.record_view(&v, t);
        }
        data.scrapes += 1;
        data.last_scrape = Some(t);
        notes
    }

    /// The increase of a counter-like sample since the previous scrape (`None` on its
    /// first scrape).
    fn increase(&mut self, s: &Sample, t: f64, notes: &mut Notes) -> Option<f64> {
        Some(self.delta(s, t, notes)?.0)
    }

    /// The per-second rate of a counter-like sample since the previous scrape.
    fn rate(&mut self, s: &Sample, t: f64, notes: &mut Notes) -> Option<f64> {
        let (inc, dt) = self.delta(s, t, notes)?;
        Some(inc / dt)
    }

    fn delta(&mut self, s: &Sample, t: f64, notes: &mut Notes) -> Option<(f64, f64)> {
        if !s.value.is_finite() {
            return None;
        }
        let k = key(&s.name, &s.labels);
        match self.prev.get_mut(&k) {
            Some(prev) => {
                let (t0, v0) = *prev;
                *prev = (t, s.value);
                let dt = t - t0;
                if dt <= 0.0 {
                    return None;
                }
                // A counter that went down was reset (the process restarted).
                let inc = if s.value >= v0 { s.value - v0 } else { s.value };
                Some((inc, dt))
            }
            None => {
                if self.prev.len() < MAX_TRACKED {
                    self.prev.insert(k, (t, s.value));
                } else {
                    notes.untracked += 1;
                }
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn keep(
        &mut self,
        data: &mut SourceData,
        source: &Source,
        s: &Sample,
        family: &str,
        kind: &str,
        t: f64,
        value: f64,
        notes: &mut Notes,
    ) {
        let k = key(&s.name, &s.labels);
        if let Some(&i) = self.index.get(&k) {
            data.series[i].points.push(t, value);
            return;
        }
        if !source.keeps(&s.name, family) {
            return;
        }
        if data.series.len() >= MAX_SERIES {
            notes.over_cap += 1;
            return;
        }
        let mut series = SeriesData {
            name: s.name.clone(),
            labels: k.1.iter().cloned().collect(),
            kind: kind.to_string(),
            points: Default::default(),
        };
        series.points.push(t, value);
        self.index.insert(k, data.series.len());
        data.series.push(series);
    }
}

/// A bucket's `le` bound (`+Inf` included).
fn parse_le(v: &str) -> Option<f64> {
    match v.trim() {
        "+Inf" | "Inf" | "inf" | "+inf" => Some(f64::INFINITY),
        x => x.parse::<f64>().ok().filter(|f| !f.is_nan()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scrape::parse::parse;

    const FIRST: &str = "\
# TYPE http_requests_total counter
http_requests_total{status=\"200\"} 100
http_requests_total{status=\"500\"} 10
# TYPE db_connections_in_use gauge
db_connections_in_use 3
# TYPE req_seconds histogram
req_seconds_bucket{le=\"0.1\"} 0
req_seconds_bucket{le=\"1\"} 0
req_seconds_bucket{le=\"+Inf\"} 0
req_seconds_sum 0
req_seconds_count 0
";

    const SECOND: &str = "\
# TYPE http_requests_total counter
http_requests_total{status=\"200\"} 300
http_requests_total{status=\"500\"} 30
# TYPE db_connections_in_use gauge
db_connections_in_use 7
# TYPE req_seconds histogram
req_seconds_bucket{le=\"0.1\"} 50
req_seconds_bucket{le=\"1\"} 100
req_seconds_bucket{le=\"+Inf\"} 100
req_seconds_sum 20
req_seconds_count 100
";

    fn series<'a>(d: &'a SourceData, name: &str, status: Option<&str>) -> &'a SeriesData {
        d.series
            .iter()
            .find(|s| {
                s.name == name
                    && status.is_none_or(|v| s.labels.get("status").map(String::as_str) == Some(v))
            })
            .unwrap_or_else(|| panic!("no series {name}"))
    }

    #[test]
    fn counters_become_rates_gauges_stay_histograms_give_p95() {
        let source = Source::new("http://h/metrics", None, None, vec![]).unwrap();
        let mut data = SourceData::new(&source);
        let mut ingest = Ingest::default();
        ingest.scrape(&mut data, &source, &parse(FIRST), 100.0);
        // The first scrape: gauges only, no rate yet.
        assert!(series(&data, "db_connections_in_use", None).points.len() == 1);
        assert!(data.series.iter().all(|s| s.kind != "counter"));
        ingest.scrape(&mut data, &source, &parse(SECOND), 110.0);
        let ok = series(&data, "http_requests_total", Some("200"));
        assert_eq!(
            (ok.kind.as_str(), ok.points.last().unwrap().value),
            ("counter", 20.0)
        );
        let bad = series(&data, "http_requests_total", Some("500"));
        assert_eq!(bad.points.last().unwrap().value, 2.0);
        let gauge = series(&data, "db_connections_in_use", None);
        assert_eq!(gauge.points.last().unwrap().value, 7.0);
        let hist = series(&data, "req_seconds", None);
        assert_eq!(hist.kind, "histogram");
        // rank 95 of 100: 45/50 of the way through (0.1, 1].
        assert!((hist.points.last().unwrap().value - 0.91).abs() < 1e-9);
        assert_eq!(
            series(&data, "req_seconds_count", None)
                .points
                .last()
                .unwrap()
                .value,
            10.0
        );
        let requests = data.views.iter().find(|v| v.id == "requests").unwrap();
        let lines: Vec<(&str, f64)> = requests
            .lines
            .iter()
            .map(|l| (l.label.as_str(), l.points.last().unwrap().value))
            .collect();
        assert_eq!(lines, [("requests", 22.0), ("5xx", 2.0)]);
        // A restarted process: the counter fell, its new value is the increase.
        let restarted = SECOND.replace("} 300", "} 50");
        ingest.scrape(&mut data, &source, &parse(&restarted), 120.0);
        let ok = series(&data, "http_requests_total", Some("200"));
        assert_eq!(ok.points.last().unwrap().value, 5.0);
        assert_eq!(data.scrapes, 3);
    }

    #[test]
    fn series_are_capped_and_filtered() {
        let source = Source::new("http://h/metrics", None, None, vec![]).unwrap();
        let mut data = SourceData::new(&source);
        let mut ingest = Ingest::default();
        let text: String = (0..MAX_SERIES + 20)
            .map(|i| format!("g{{i=\"{i}\"}} {i}\n"))
            .collect();
        let notes = ingest.scrape(&mut data, &source, &parse(&text), 1.0);
        assert_eq!(data.series.len(), MAX_SERIES);
        assert_eq!(notes.over_cap, 20);
        let only = Source::new("http://h/metrics", None, None, vec!["db_*".into()]).unwrap();
        let mut data = SourceData::new(&only);
        Ingest::default().scrape(&mut data, &only, &parse(SECOND), 1.0);
        let names: Vec<&str> = data.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["db_connections_in_use"]);
        // Views do not depend on the filter.
        assert!(data.views.iter().any(|v| v.id == "connections"));
    }
}
