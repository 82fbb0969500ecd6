//! Wrong credentials slowed down per client address: each wrong token, password or session
//! cookie in a row from one address makes the next answer to it wait twice as long (100 ms,
//! 200 ms, ... up to 5 s), so guessing a token takes forever while a typo costs nothing. A
//! right one clears the address; an address quiet for 10 minutes is forgotten. The first
//! wrong attempt of an address is logged, the ones after it are not (one line per address
//! and streak, not one per guess). The delay is a sleep of that request only: no lock is
//! held across it, and other clients are answered at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The first wrong attempt's delay; each one after doubles it.
pub const BASE: Duration = Duration::from_millis(100);
/// The longest delay.
pub const MAX: Duration = Duration::from_secs(5);
/// An address with no wrong attempt for this long starts again from nothing.
const FORGET: Duration = Duration::from_secs(600);
/// Addresses remembered at most (the quietest go first).
const MAX_ADDRESSES: usize = 4096;

/// Where a request came from (`None`: unknown, as in tests that call the router directly).
pub type Client = Option<IpAddr>;

#[derive(Debug)]
struct Streak {
    failures: u32,
    last: Instant,
}

/// The per-address record of wrong credentials.
#[derive(Debug, Default)]
pub struct Throttle(Mutex<HashMap<Client, Streak>>);

/// What a wrong attempt costs: how long to wait before answering, and whether it is the
/// first of its streak (to log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Penalty {
    pub delay: Duration,
    pub first: bool,
}

impl Throttle {
    /// Record a wrong attempt from `who` now.
    pub fn failed(&self, who: Client) -> Penalty {
        self.failed_at(who, Instant::now())
    }

    fn failed_at(&self, who: Client, now: Instant) -> Penalty {
        let Ok(mut map) = self.0.lock() else {
            return Penalty {
                delay: MAX,
                first: false,
            };
        };
        map.retain(|_, s| now.duration_since(s.last) < FORGET);
        if map.len() >= MAX_ADDRESSES && !map.contains_key(&who) {
            if let Some(oldest) = map.iter().min_by_key(|(_, s)| s.last).map(|(k, _)| *k) {
                map.remove(&oldest);
            }
        }
        let s = map.entry(who).or_insert(Streak {
            failures: 0,
            last: now,
        });
        s.failures = s.failures.saturating_add(1);
        s.last = now;
        let doubling = 2u32.saturating_pow(s.failures.saturating_sub(1).min(16));
        Penalty {
            delay: (BASE * doubling).min(MAX),
            first: s.failures == 1,
        }
    }

    /// Right credentials from `who`: its streak is over.
    pub fn succeeded(&self, who: Client) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(&who);
        }
    }

    /// Whether `who` has a streak (so that a right attempt needs to clear it).
    pub fn has(&self, who: Client) -> bool {
        self.0.lock().is_ok_and(|m| m.contains_key(&who))
    }
}

/// `1.2.3.4` or `an unknown address`, for the log.
pub fn describe(who: Client) -> String {
    who.map_or_else(|| "an unknown address".to_string(), |ip| ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_per_address_up_to_the_cap_and_reset() {
        let t = Throttle::default();
        let a: Client = Some("10.0.0.1".parse().unwrap());
        let b: Client = Some("10.0.0.2".parse().unwrap());
        let now = Instant::now();
        let delays: Vec<u64> = (0..8)
            .map(|_| t.failed_at(a, now).delay.as_millis() as u64)
            .collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        // Another address is not slowed by the first one's guesses.
        assert_eq!(
            t.failed_at(b, now),
            Penalty {
                delay: BASE,
                first: true
            }
        );
        assert!(!t.failed_at(b, now).first);
        t.succeeded(a);
        assert_eq!(
            t.failed_at(a, now),
            Penalty {
                delay: BASE,
                first: true
            }
        );
        // Ten quiet minutes forget a streak.
        let later = now + FORGET + Duration::from_secs(1);
        assert_eq!(
            t.failed_at(b, later),
            Penalty {
                delay: BASE,
                first: true
            }
        );
        assert_eq!(describe(None), "an unknown address");
    }
}
