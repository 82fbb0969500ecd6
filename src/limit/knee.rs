//! The knee of the throughput curve: the load level past which more load stops buying
//! throughput, which often comes before any threshold breaks.
//!
//! The method is Kneedle (V. Satopää, J. Albrecht, D. Irwin, B. Raghavan, "Finding a
//! 'Kneedle' in a Haystack: Detecting Knee Points in System Behavior", ICDCS Workshops
//! 2011): scale both axes to [0, 1] and take the point farthest above the straight line
//! from the first point to the last (the largest `y - x` of the scaled curve, for a
//! concave, increasing curve such as throughput against load). Without smoothing: the
//! search's steps are few and each is already an average over its measured time.

/// The knee among `(level, throughput)` points, as the index of the point, when the curve
/// has one: at least three distinct levels, and a point clearly above the line (a straight
/// or convex curve has no knee).
pub fn knee(points: &[(f64, f64)]) -> Option<usize> {
    if points.len() < 3 {
        return None;
    }
    let (x0, x1) = min_max(points.iter().map(|p| p.0));
    let (y0, y1) = min_max(points.iter().map(|p| p.1));
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    let (first, last) = (points.first()?, points.last()?);
    // Kneedle's difference curve for a concave increasing curve, measured from the line
    // through the end points (so that a curve that falls at the end keeps its knee).
    let scale = |p: &(f64, f64)| ((p.0 - x0) / (x1 - x0), (p.1 - y0) / (y1 - y0));
    let (fx, fy) = scale(first);
    let (lx, ly) = scale(last);
    let slope = if lx > fx { (ly - fy) / (lx - fx) } else { 0.0 };
    let (best, diff) = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (x, y) = scale(p);
            (i, y - (fy + slope * (x - fx)))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    // A knee stands out from the line by a tenth of the scale at least.
    (diff >= 0.1).then_some(best)
}

fn min_max(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_that_stops_growing_has_its_knee_where_it_flattens() {
        // 8 workers of 10 ms: 100 req/s per user up to 8 users, then flat at 800.
        let pts = [
            (2.0, 200.0),
            (4.0, 400.0),
            (8.0, 790.0),
            (16.0, 800.0),
            (32.0, 805.0),
        ];
        assert_eq!(knee(&pts), Some(2));
        // Falling after the peak (a server that thrashes): still the peak's level.
        let pts = [(10.0, 100.0), (20.0, 200.0), (40.0, 390.0), (80.0, 250.0)];
        assert_eq!(knee(&pts), Some(2));
    }

    #[test]
    fn a_straight_line_or_too_few_points_have_no_knee() {
        let line = [(1.0, 10.0), (2.0, 20.0), (4.0, 40.0), (8.0, 80.0)];
        assert_eq!(knee(&line), None);
        assert_eq!(knee(&[(1.0, 10.0), (2.0, 11.0)]), None);
        assert_eq!(knee(&[(1.0, 5.0), (2.0, 5.0), (3.0, 5.0)]), None);
    }
}
