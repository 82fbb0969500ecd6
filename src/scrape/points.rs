//! A series' points over a test, bounded: past [`MAX_POINTS`] the older half is thinned to
//! one point in two, keeping the higher of each pair (a peak of CPU or of connections in
//! use must not vanish from a long test's chart), so memory stays fixed however long the
//! test runs.

use serde::{Deserialize, Serialize};

/// Points kept per series (about 2.8 h at one scrape every 5 s before any thinning).
pub const MAX_POINTS: usize = 2048;

/// One value at one time (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub time: f64,
    pub value: f64,
}

/// A series' points in time order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Points(Vec<Point>);

impl Points {
    /// Append a point (a point older than the last one is ignored: time only moves on).
    pub fn push(&mut self, time: f64, value: f64) {
        if !value.is_finite() || self.0.last().is_some_and(|p| time < p.time) {
            return;
        }
        self.0.push(Point { time, value });
        if self.0.len() > MAX_POINTS {
            self.thin();
        }
    }

    /// Halve the older half: of each pair, the point with the higher value stays.
    fn thin(&mut self) {
        let half = self.0.len() / 2;
        let mut kept: Vec<Point> = self.0[..half]
            .chunks(2)
            .filter_map(|pair| {
                pair.iter()
                    .copied()
                    .reduce(|a, b| if a.value > b.value { a } else { b })
            })
            .collect();
        kept.extend_from_slice(&self.0[half..]);
        self.0 = kept;
    }

    pub fn as_slice(&self) -> &[Point] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn last(&self) -> Option<Point> {
        self.0.last().copied()
    }

    /// The points with `from <= time <= to`.
    pub fn between(&self, from: f64, to: f64) -> &[Point] {
        let start = self.0.partition_point(|p| p.time < from);
        let end = self.0.partition_point(|p| p.time <= to);
        &self.0[start..end.max(start)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_peaks_survive_thinning() {
        let mut p = Points::default();
        for i in 0..10 * MAX_POINTS {
            let v = if i == 7 { 1000.0 } else { (i % 3) as f64 };
            p.push(i as f64, v);
        }
        assert!(p.len() <= MAX_POINTS, "{}", p.len());
        assert!(p.as_slice().iter().any(|x| x.value == 1000.0));
        assert!(p.as_slice().windows(2).all(|w| w[0].time < w[1].time));
        assert_eq!(p.last().unwrap().time, (10 * MAX_POINTS - 1) as f64);
        // The newest points are all there.
        let tail = p.between((10 * MAX_POINTS - 100) as f64, f64::INFINITY);
        assert_eq!(tail.len(), 100);
        p.push(0.0, 5.0);
        p.push(f64::MAX, f64::NAN);
        assert_eq!(p.last().unwrap().time, (10 * MAX_POINTS - 1) as f64);
    }

    #[test]
    fn between_is_inclusive() {
        let mut p = Points::default();
        for t in [1.0, 2.0, 3.0, 4.0] {
            p.push(t, t * 10.0);
        }
        let v: Vec<f64> = p.between(2.0, 3.0).iter().map(|x| x.value).collect();
        assert_eq!(v, [20.0, 30.0]);
        assert!(p.between(5.0, 9.0).is_empty());
        assert!(p.between(3.0, 2.0).is_empty());
    }
}
