//! Latency histograms: HdrHistogram in microseconds, 3 significant digits, exact max.
//!
//! Wrapped so that merging is `+=`, serialisation is compact (V2 + base64, the format other
//! HdrHistogram tools read) and percentile queries clamp to the exact recorded extremes.

use std::fmt;

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;
use serde::{
    de, Deserialize, Deserializer as SerdeDeserializer, Serialize, Serializer as SerdeSerializer,
};

/// Significant digits kept: relative error at most 0.1 %.
pub const SIGFIG: u8 = 3;

/// A latency histogram in microseconds.
#[derive(Clone, PartialEq)]
pub struct LatencyHistogram(Histogram<u64>);

impl Default for LatencyHistogram {
    fn default() -> Self {
        // Auto-resizing from a small range: memory follows the largest latency seen.
        LatencyHistogram(Histogram::new(SIGFIG).expect("3 significant digits is valid"))
    }
}

impl fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "LatencyHistogram(n={}, max={})",
            self.len(),
            self.0.max()
        )
    }
}

impl LatencyHistogram {
    /// Record one value (µs).
    #[inline]
    pub fn record(&mut self, us: u64) {
        // Auto-resize makes recording infallible for any u64 below the histogram's hard limit.
        let _ = self.0.record(us);
    }

    /// Record `count` occurrences of a value (µs).
    pub fn record_n(&mut self, us: u64, count: u64) {
        let _ = self.0.record_n(us, count);
    }

    pub fn len(&self) -> u64 {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn clear(&mut self) {
        self.0.reset();
    }

    /// Add every count of `other` (exact, lossless).
    pub fn add(&mut self, other: &LatencyHistogram) {
        let _ = self.0.add(&other.0);
    }

    /// The value (µs) at each quantile in `qs` (ascending), in one pass over the counts.
    /// Values are HdrHistogram's highest equivalent values; the caller clamps to min/max.
    /// (A plain scan of the counts array: HdrHistogram's recorded-values iterator cost
    /// ten times more per bucket, and dominated the snapshot of many endpoints.)
    pub fn quantiles(&self, qs: &[f64]) -> Vec<Option<u64>> {
        if self.0.is_empty() {
            return vec![None; qs.len()];
        }
        let mut out: Vec<Option<u64>> = self
            .0
            .value_at_quantiles(qs.iter().copied())
            .map(Some)
            .collect();
        // Quantiles out of order stop the scan: repeat the last value rather than lose them.
        while out.len() < qs.len() {
            out.push(Some(self.0.max()));
        }
        out
    }

    /// Non-zero buckets as (highest equivalent value µs, count), ascending: a compact copy of
    /// one second's latencies for the sliding window.
    pub fn sparse(&self) -> Vec<(u64, u64)> {
        self.0
            .iter_recorded()
            .map(|v| {
                (
                    self.0.highest_equivalent(v.value_iterated_to()),
                    v.count_at_value(),
                )
            })
            .collect()
    }

    fn to_base64(&self) -> Result<String, String> {
        let mut buf = Vec::new();
        V2Serializer::new()
            .serialize(&self.0, &mut buf)
            .map_err(|e| format!("cannot serialise histogram: {e:?}"))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(buf))
    }

    fn from_base64(text: &str) -> Result<LatencyHistogram, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| format!("histogram is not base64: {e}"))?;
        let mut h: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| format!("invalid histogram: {e:?}"))?;
        h.auto(true);
        Ok(LatencyHistogram(h))
    }
}

/// 1-based rank of quantile `q` among `total` values (HdrHistogram's convention).
pub fn rank(q: f64, total: u64) -> u64 {
    ((q * total as f64).ceil() as u64).clamp(1, total)
}

impl Serialize for LatencyHistogram {
    fn serialize<S: SerdeSerializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self.to_base64().map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for LatencyHistogram {
    fn deserialize<D: SerdeDeserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        LatencyHistogram::from_base64(&text).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_known_values() {
        let mut h = LatencyHistogram::default();
        for v in 1..=1000u64 {
            h.record(v);
        }
        let q = h.quantiles(&[0.5, 0.99, 1.0]);
        assert_eq!(q, vec![Some(500), Some(990), Some(1000)]);
    }

    #[test]
    fn three_significant_digits_above_2048() {
        let mut h = LatencyHistogram::default();
        h.record(10_100);
        let v = h.quantiles(&[0.5])[0].unwrap();
        assert!((10_100..=10_110).contains(&v), "{v}");
    }

    #[test]
    fn serde_round_trip_is_exact() {
        let mut h = LatencyHistogram::default();
        for v in [5u64, 50, 500, 5_000, 50_000, 5_000_000] {
            h.record_n(v, v % 7 + 1);
        }
        let json = serde_json::to_string(&h).unwrap();
        let back: LatencyHistogram = serde_json::from_str(&json).unwrap();
        assert_eq!(back, h);
        assert!(serde_json::from_str::<LatencyHistogram>("\"!!\"").is_err());
    }

    #[test]
    fn add_merges_exactly() {
        let (mut a, mut b, mut both) = Default::default();
        let (a, b, both): (
            &mut LatencyHistogram,
            &mut LatencyHistogram,
            &mut LatencyHistogram,
        ) = (&mut a, &mut b, &mut both);
        for v in 1..500u64 {
            a.record(v * 3);
            both.record(v * 3);
            b.record(v * 1000);
            both.record(v * 1000);
        }
        a.add(b);
        assert_eq!(a, both);
    }
}
