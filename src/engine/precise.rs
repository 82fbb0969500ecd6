//! Precise sleeps for open-model arrival tickets.
//!
//! tokio's timer wheel has a 1 ms resolution: a ticket due at t fires anywhere in (t, t+1ms],
//! which would make starts up to 1 ms late (and late starts are what the generator's health
//! figures count). On Linux a timerfd registered in the worker's own reactor wakes within
//! microseconds; elsewhere tokio's timer is used.

use tokio::time::Instant;

/// A reusable timer with sub-millisecond wake-ups where the platform allows.
pub struct PreciseTimer {
    #[cfg(target_os = "linux")]
    fd: Option<tokio::io::unix::AsyncFd<timerfd::TimerFd>>,
}

impl PreciseTimer {
    /// Create the timer (must be called inside a tokio runtime).
    pub fn new() -> PreciseTimer {
        #[cfg(target_os = "linux")]
        {
            // `AsyncFd::new` is deprecated because a registered descriptor could be closed
            // behind the reactor's back; here the TimerFd owns its descriptor and the AsyncFd
            // owns the TimerFd, so it stays open exactly as long as it is registered.
            #[allow(deprecated)]
            let fd = timerfd::TimerFd::new_custom(timerfd::ClockId::Monotonic, true, true)
                .ok()
                .and_then(|t| tokio::io::unix::AsyncFd::new(t).ok());
            PreciseTimer { fd }
        }
        #[cfg(not(target_os = "linux"))]
        PreciseTimer {}
    }

    /// Whether wake-ups are precise (timerfd) rather than tokio's 1 ms timer.
    #[cfg(test)]
    fn is_precise(&self) -> bool {
        #[cfg(target_os = "linux")]
        {
            self.fd.is_some()
        }
        #[cfg(not(target_os = "linux"))]
        false
    }

    /// Sleep until `deadline`.
    pub async fn sleep_until(&mut self, deadline: Instant) {
        #[cfg(target_os = "linux")]
        if let Some(fd) = self.fd.as_mut() {
            let now = Instant::now();
            if deadline <= now {
                return;
            }
            // A zero duration would disarm the timer: at least 1 µs.
            let wait = (deadline - now).max(std::time::Duration::from_micros(1));
            fd.get_mut().set_state(
                timerfd::TimerState::Oneshot(wait),
                timerfd::SetTimeFlags::Default,
            );
            loop {
                let Ok(mut guard) = fd.readable().await else {
                    break;
                };
                if guard.get_inner().read() > 0 {
                    return;
                }
                guard.clear_ready();
            }
        }
        tokio::time::sleep_until(deadline).await;
    }
}

impl Default for PreciseTimer {
    fn default() -> Self {
        PreciseTimer::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn never_wakes_before_the_deadline() {
        // Precision is measured by the peer benchmark (p50 error), not by a timed test.
        let mut t = PreciseTimer::new();
        for i in 0..20u64 {
            let deadline = Instant::now() + Duration::from_micros(300 + i * 100);
            t.sleep_until(deadline).await;
            assert!(Instant::now() >= deadline);
        }
        // A deadline already past returns at once.
        let past = Instant::now() - Duration::from_millis(5);
        t.sleep_until(past).await;
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn uses_a_timerfd_on_linux() {
        assert!(PreciseTimer::new().is_precise());
    }
}
