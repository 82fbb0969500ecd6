//! Latency histograms: HdrHistogram in microseconds, 3 significant digits, exact max. A
//! histogram holding few values keeps them one by one and switches to HdrHistogram's dense
//! counts past [`FEW_VALUES`]; both forms give the same figures.
//!
//! Wrapped so that merging is `+=`, serialisation is compact (V2 + base64, the format other
//! HdrHistogram tools read) and percentile queries clamp to the exact recorded extremes.

use std::fmt;
use std::sync::OnceLock;

use base64::Engine as _;
use hdrhistogram::serialization::{
    DeserializeError, Deserializer, Serializer, V2SerializeError, V2Serializer,
};
use hdrhistogram::Histogram;
use serde::{
    de, Deserialize, Deserializer as SerdeDeserializer, Serialize, Serializer as SerdeSerializer,
};

/// Significant digits kept: relative error at most 0.1 %.
pub const SIGFIG: u8 = 3;

/// Values a histogram keeps one by one before it switches to HdrHistogram's dense counts.
///
/// Why: a dense histogram of latencies up to a few seconds holds ~57 KB of counts. A worker
/// that sees a new URL on every request (unnamed ids, hostile targets) would allocate and
/// drop one per request, and a statistics table of 1 000 names seen once each would hold
/// 57 MB. Kept values cost 4 bytes each, recording one is a push into a cache-hot buffer, and
/// every figure is the same as the dense form's: values are bucketed exactly like
/// HdrHistogram's when they are read.
pub const FEW_VALUES: usize = 1024;

/// Why a histogram could not be written or read back (its serialised form is V2 + base64).
#[derive(Debug, thiserror::Error)]
pub enum HistogramCodecError {
    #[error("cannot serialise histogram: {0:?}")]
    Serialise(V2SerializeError),
    #[error("histogram is not base64: {0}")]
    NotBase64(#[from] base64::DecodeError),
    #[error("invalid histogram: {0:?}")]
    Invalid(DeserializeError),
}

/// A latency histogram in microseconds.
#[derive(Clone)]
pub struct LatencyHistogram(Repr);

#[derive(Clone)]
enum Repr {
    /// Up to [`FEW_VALUES`] values, exact, in recording order.
    Few(Vec<u32>),
    Dense(Box<Histogram<u64>>),
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram(Repr::Few(Vec::new()))
    }
}

/// An empty dense histogram, auto-resizing from a small range: memory follows the largest
/// latency seen.
fn dense() -> Histogram<u64> {
    Histogram::new(SIGFIG).expect("3 significant digits is valid")
}

/// The bucket of `us` as the sparse lists name it: its highest equivalent value.
pub fn bucket_value(us: u64) -> u64 {
    buckets().highest_equivalent(us)
}

/// A histogram used only for its bucket arithmetic (which depends on the precision alone).
fn buckets() -> &'static Histogram<u64> {
    static BUCKETS: OnceLock<Histogram<u64>> = OnceLock::new();
    BUCKETS.get_or_init(dense)
}

impl fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let max = self.sparse().last().map_or(0, |&(v, _)| v);
        write!(f, "LatencyHistogram(n={}, max={max})", self.len())
    }
}

impl PartialEq for LatencyHistogram {
    /// Equal when every bucket holds the same count, whichever form each side is in.
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Repr::Dense(a), Repr::Dense(b)) => a == b,
            _ => self.len() == other.len() && self.sparse() == other.sparse(),
        }
    }
}

impl LatencyHistogram {
    /// An empty histogram with room to keep `n` values one by one (at most [`FEW_VALUES`]).
    pub fn with_room_for(n: u64) -> Self {
        LatencyHistogram(Repr::Few(Vec::with_capacity(
            n.min(FEW_VALUES as u64) as usize
        )))
    }

    /// Record one value (µs).
    #[inline]
    pub fn record(&mut self, us: u64) {
        match &mut self.0 {
            Repr::Few(values) if values.len() < FEW_VALUES && us <= u32::MAX as u64 => {
                values.push(us as u32)
            }
            Repr::Few(_) => self.densify().record_dense(us, 1),
            Repr::Dense(_) => self.record_dense(us, 1),
        }
    }

    /// Record `count` occurrences of a value (µs).
    pub fn record_n(&mut self, us: u64, count: u64) {
        match &mut self.0 {
            Repr::Few(values)
                if (values.len() as u64).saturating_add(count) <= FEW_VALUES as u64
                    && us <= u32::MAX as u64 =>
            {
                values.extend(std::iter::repeat_n(us as u32, count as usize))
            }
            _ => self.densify().record_dense(us, count),
        }
    }

    fn record_dense(&mut self, us: u64, count: u64) {
        if let Repr::Dense(h) = &mut self.0 {
            // Auto-resize makes recording infallible for any u64 below the hard limit.
            let _ = h.record_n(us, count);
        }
    }

    /// Switch to the dense form (no-op if already dense).
    fn densify(&mut self) -> &mut Self {
        if let Repr::Few(values) = &self.0 {
            let mut h = dense();
            for &v in values {
                let _ = h.record(v as u64);
            }
            self.0 = Repr::Dense(Box::new(h));
        }
        self
    }

    pub fn len(&self) -> u64 {
        match &self.0 {
            Repr::Few(values) => values.len() as u64,
            Repr::Dense(h) => h.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values one by one, while few are kept (see [`FEW_VALUES`]).
    pub fn kept_values(&self) -> Option<&[u32]> {
        match &self.0 {
            Repr::Few(values) => Some(values),
            Repr::Dense(_) => None,
        }
    }

    /// The dense counts, once there are more than [`FEW_VALUES`].
    pub fn dense(&self) -> Option<&Histogram<u64>> {
        match &self.0 {
            Repr::Few(_) => None,
            Repr::Dense(h) => Some(h),
        }
    }

    pub fn clear(&mut self) {
        match &mut self.0 {
            Repr::Few(values) => values.clear(),
            Repr::Dense(h) => h.reset(),
        }
    }

    /// Add every count of `other` (exact, lossless).
    pub fn add(&mut self, other: &LatencyHistogram) {
        match &other.0 {
            Repr::Few(values) => {
                for &v in values {
                    self.record(v as u64);
                }
            }
            Repr::Dense(o) => {
                self.densify();
                if let Repr::Dense(h) = &mut self.0 {
                    let _ = h.add(&**o);
                }
            }
        }
    }

    /// The value (µs) at each quantile in `qs` (ascending), in one pass over the counts.
    /// Values are HdrHistogram's highest equivalent values; the caller clamps to min/max.
    /// (A plain scan of the counts array: HdrHistogram's recorded-values iterator cost
    /// ten times more per bucket, and dominated the snapshot of many endpoints.)
    pub fn quantiles(&self, qs: &[f64]) -> Vec<Option<u64>> {
        let h = match &self.0 {
            _ if self.is_empty() => return vec![None; qs.len()],
            Repr::Few(_) => return sparse_quantiles(self.sparse(), self.len(), qs),
            Repr::Dense(h) => h,
        };
        let mut out: Vec<Option<u64>> =
            h.value_at_quantiles(qs.iter().copied()).map(Some).collect();
        // Quantiles out of order stop the scan: repeat the last value rather than lose them.
        while out.len() < qs.len() {
            out.push(Some(h.max()));
        }
        out
    }

    /// Non-zero buckets as (highest equivalent value µs, count), ascending: a compact copy of
    /// one second's latencies for the sliding window.
    pub fn sparse(&self) -> Vec<(u64, u64)> {
        match &self.0 {
            Repr::Few(values) => {
                let mut sorted: Vec<u64> = values.iter().map(|&v| bucket_value(v as u64)).collect();
                sorted.sort_unstable();
                let mut out: Vec<(u64, u64)> = Vec::new();
                for v in sorted {
                    match out.last_mut() {
                        Some((last, count)) if *last == v => *count += 1,
                        _ => out.push((v, 1)),
                    }
                }
                out
            }
            Repr::Dense(h) => h
                .iter_recorded()
                .map(|v| {
                    (
                        h.highest_equivalent(v.value_iterated_to()),
                        v.count_at_value(),
                    )
                })
                .collect(),
        }
    }

    fn to_base64(&self) -> Result<String, HistogramCodecError> {
        let mut copy = self.clone();
        let Repr::Dense(h) = &copy.densify().0 else {
            unreachable!("densify makes the dense form")
        };
        let mut buf = Vec::new();
        V2Serializer::new()
            .serialize(&**h, &mut buf)
            .map_err(HistogramCodecError::Serialise)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(buf))
    }

    fn from_base64(text: &str) -> Result<LatencyHistogram, HistogramCodecError> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(text)?;
        let mut h: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(HistogramCodecError::Invalid)?;
        h.auto(true);
        Ok(LatencyHistogram(Repr::Dense(Box::new(h))))
    }
}

/// Quantiles (ascending `qs`) of `total` values given as ascending (value, count) buckets,
/// with HdrHistogram's rank convention, so both forms of a histogram and the sliding window
/// give the same figures for the same values.
pub fn sparse_quantiles(
    buckets: impl IntoIterator<Item = (u64, u64)>,
    total: u64,
    qs: &[f64],
) -> Vec<Option<u64>> {
    let mut out = Vec::with_capacity(qs.len());
    let mut seen = 0;
    let mut qi = 0;
    for (v, c) in buckets {
        seen += c;
        while qi < qs.len() && seen >= rank(qs[qi], total) {
            out.push(Some(v));
            qi += 1;
        }
    }
    while out.len() < qs.len() {
        out.push(out.last().copied().flatten());
    }
    out
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

    /// Values spread over six decades, deterministic (no test dependency on a RNG crate).
    fn spread(n: usize, seed: u64) -> Vec<u64> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let decade = 10u64.pow((x >> 60) as u32 % 6);
                decade + (x >> 20) % (decade * 9)
            })
            .collect()
    }

    #[test]
    fn kept_values_give_the_dense_forms_figures() {
        let qs = crate::stats::snapshot::PERCENTILES;
        for (n, seed) in [(1, 1), (2, 7), (37, 3), (500, 11), (FEW_VALUES, 5)] {
            let mut few = LatencyHistogram::default();
            for v in spread(n, seed) {
                few.record(v);
            }
            assert!(
                matches!(few.0, Repr::Few(_)),
                "{n} values stay kept one by one"
            );
            let mut dense = few.clone();
            dense.densify();
            assert!(matches!(dense.0, Repr::Dense(_)));
            assert_eq!(few.quantiles(&qs), dense.quantiles(&qs), "{n} values");
            assert_eq!(few.sparse(), dense.sparse(), "{n} values");
            assert_eq!(few, dense);
            assert_eq!(few.len(), n as u64);
        }
    }

    #[test]
    fn switches_to_dense_past_the_kept_values_and_merges_across_forms() {
        let values = spread(3 * FEW_VALUES, 9);
        let (mut one, mut a, mut b) = Default::default();
        let (one, a, b): (
            &mut LatencyHistogram,
            &mut LatencyHistogram,
            &mut LatencyHistogram,
        ) = (&mut one, &mut a, &mut b);
        for (i, &v) in values.iter().enumerate() {
            one.record(v);
            if i % 10 == 0 {
                a.record(v)
            } else {
                b.record(v)
            }
        }
        assert!(matches!(one.0, Repr::Dense(_)));
        assert!(matches!(a.0, Repr::Few(_)));
        // few += dense, and dense += few, both give the histogram of everything.
        let mut few_first = a.clone();
        few_first.add(b);
        b.add(a);
        assert_eq!(few_first, *one);
        assert_eq!(*b, *one);
        // A value too large to keep as u32 switches to the dense form, losing nothing.
        let mut big = LatencyHistogram::default();
        big.record(5);
        big.record(u32::MAX as u64 + 10);
        assert!(matches!(big.0, Repr::Dense(_)));
        assert_eq!(big.len(), 2);
    }

    #[test]
    fn kept_values_serialise_like_the_dense_form() {
        let mut h = LatencyHistogram::default();
        for v in [3u64, 300, 30_000, 3_000_000] {
            h.record(v);
        }
        let json = serde_json::to_string(&h).unwrap();
        let back: LatencyHistogram = serde_json::from_str(&json).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.quantiles(&[0.5, 1.0]), h.quantiles(&[0.5, 1.0]));
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
