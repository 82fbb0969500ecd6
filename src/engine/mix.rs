//! Which scenario the next user belongs to: fixed counts first, then weights, deterministic
//! so that 10 users at weights 3:1 are always 7–8 and 2–3, never 10 and 0.

/// Users per scenario, and the rule to add or remove one.
#[derive(Debug, Clone)]
pub struct Mix {
    fixed: Vec<Option<u32>>,
    weights: Vec<u32>,
    counts: Vec<u32>,
}

impl Mix {
    /// `specs`: per scenario, (weight, fixed count).
    pub fn new(specs: &[(u32, Option<u32>)]) -> Mix {
        Mix {
            fixed: specs.iter().map(|s| s.1).collect(),
            weights: specs.iter().map(|s| s.0).collect(),
            counts: vec![0; specs.len()],
        }
    }

    pub fn counts(&self) -> &[u32] {
        &self.counts
    }

    /// The scenario of the next user to add.
    pub fn add(&mut self) -> usize {
        let pick = self
            .fixed
            .iter()
            .enumerate()
            .find(|(i, f)| f.is_some_and(|f| self.counts[*i] < f))
            .map(|(i, _)| i)
            .or_else(|| self.best(|deficit| deficit, 1))
            .unwrap_or(0);
        self.counts[pick] += 1;
        pick
    }

    /// The scenario of the user to remove, if any user is left.
    pub fn remove(&mut self) -> Option<usize> {
        let pick = self
            .best(|deficit| -deficit, -1)
            .or_else(|| (0..self.counts.len()).rev().find(|&i| self.counts[i] > 0))?;
        if self.counts[pick] == 0 {
            return None;
        }
        self.counts[pick] -= 1;
        Some(pick)
    }

    /// The weighted scenario whose share is furthest from its weight after a change of `delta`
    /// users, scored by `score(deficit)`.
    fn best(&self, score: impl Fn(f64) -> f64, delta: i64) -> Option<usize> {
        let weighted: Vec<usize> = (0..self.weights.len())
            .filter(|&i| self.fixed[i].is_none() && self.weights[i] > 0)
            .collect();
        let total_w: u64 = weighted.iter().map(|&i| u64::from(self.weights[i])).sum();
        let users: i64 = weighted
            .iter()
            .map(|&i| i64::from(self.counts[i]))
            .sum::<i64>()
            + delta;
        if total_w == 0 || users < 0 {
            return None;
        }
        weighted
            .into_iter()
            .filter(|&i| delta > 0 || self.counts[i] > 0)
            .max_by(|&a, &b| {
                let d = |i: usize| {
                    score(
                        users as f64 * f64::from(self.weights[i]) / total_w as f64
                            - f64::from(self.counts[i]),
                    )
                };
                d(a).total_cmp(&d(b)).then(b.cmp(&a))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_share_users_evenly() {
        let mut m = Mix::new(&[(3, None), (1, None)]);
        for _ in 0..8 {
            m.add();
        }
        assert_eq!(m.counts(), &[6, 2]);
        for _ in 0..4 {
            m.remove();
        }
        assert_eq!(m.counts(), &[3, 1]);
    }

    #[test]
    fn fixed_counts_come_first() {
        let mut m = Mix::new(&[(1, None), (1, Some(2))]);
        let first: Vec<usize> = (0..3).map(|_| m.add()).collect();
        assert_eq!(first, vec![1, 1, 0]);
        for _ in 0..5 {
            m.add();
        }
        assert_eq!(m.counts(), &[6, 2]);
        while m.remove().is_some() {}
        assert_eq!(m.counts(), &[0, 0]);
    }
}
