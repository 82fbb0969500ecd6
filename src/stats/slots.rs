//! One worker's per-step statistics slots: the figures of every step whose name is fixed for
//! the run, recorded without looking the name up.
//!
//! A request is appended to a short log (one cache line that is always hot) and the log is
//! summed into the slots every [`LOG_LEN`] requests. Recording straight into the slot cost a
//! cache miss or two per request in a plan of a hundred steps: each slot was last touched
//! about a hundred requests earlier. Summed in a batch, each slot is fetched once for
//! several requests.

use std::sync::Arc;

use super::delta::EntryDelta;
use super::entry::StatsEntry;

/// Requests logged before they are summed into their slots.
const LOG_LEN: usize = 512;

/// The figures of one step with a fixed name. `name` is that step's own `Arc`, so pointer
/// equality says the slot belongs to the step. A slot number met with another step's name
/// (the next run numbers its own steps) never mixes figures: the slot changes hands once
/// flushed, and until then that step is looked up by name (by the caller).
#[derive(Debug)]
struct Slot {
    method: String,
    name: Arc<str>,
    stats: StatsEntry,
}

/// One request recorded through a slot, not yet in the slot's figures.
#[derive(Debug, Clone, Copy)]
struct Logged {
    slot: usize,
    us: u64,
    bytes: u64,
    failed: bool,
}

#[derive(Debug, Default)]
pub(super) struct Slots {
    slots: Vec<Option<Slot>>,
    /// Each slot's owner (the address of its step's name), side by side: the one thing a
    /// request reads to know the slot is its step's. 0: no owner.
    owners: Vec<usize>,
    log: Vec<Logged>,
}

fn owner(name: &Arc<str>) -> usize {
    Arc::as_ptr(name) as *const u8 as usize
}

impl Slots {
    /// Record a request of the step named `name` in slot `slot`. `false` when the slot holds
    /// another step's figures not flushed yet: the caller records the request by name.
    #[inline]
    pub fn record(
        &mut self,
        slot: usize,
        method: &str,
        name: &Arc<str>,
        us: u64,
        bytes: u64,
        failed: bool,
    ) -> bool {
        if self.owners.get(slot) != Some(&owner(name)) {
            return self.claim(slot, method, name, us, bytes, failed);
        }
        self.log.push(Logged {
            slot,
            us,
            bytes,
            failed,
        });
        if self.log.len() >= LOG_LEN {
            self.sum_log();
        }
        true
    }

    /// The slow path of [`record`](Self::record): the slot is new, changes hands, or is
    /// another step's.
    #[cold]
    fn claim(
        &mut self,
        slot: usize,
        method: &str,
        name: &Arc<str>,
        us: u64,
        bytes: u64,
        failed: bool,
    ) -> bool {
        self.sum_log();
        if self.slots.len() <= slot {
            self.slots.resize_with(slot + 1, || None);
            self.owners.resize(slot + 1, 0);
        }
        let s = match &mut self.slots[slot] {
            Some(s) if Arc::ptr_eq(&s.name, name) => s,
            // Flushed since a previous run used this number: the slot is this step's now.
            Some(s) if s.stats.is_empty() => {
                s.method = method.to_string();
                s.name = name.clone();
                s
            }
            Some(_) => return false,
            empty @ None => empty.insert(Slot {
                method: method.to_string(),
                name: name.clone(),
                stats: StatsEntry::default(),
            }),
        };
        s.stats.record(us, bytes, failed);
        self.owners[slot] = owner(name);
        true
    }

    /// Add the logged requests to their slots' figures.
    fn sum_log(&mut self) {
        for l in self.log.drain(..) {
            if let Some(s) = &mut self.slots[l.slot] {
                s.stats.record(l.us, l.bytes, l.failed);
            }
        }
    }

    /// Take every slot's figures, leaving the slots empty with room for as many latencies
    /// as each took, so the next interval records without growing buffers. Owners stay.
    pub fn take(&mut self) -> Slots {
        self.sum_log();
        let slots = self
            .slots
            .iter_mut()
            .map(|slot| {
                let s = slot.as_mut()?;
                if s.stats.is_empty() {
                    return None;
                }
                let emptied = s.stats.emptied();
                Some(Slot {
                    method: s.method.clone(),
                    name: s.name.clone(),
                    stats: std::mem::replace(&mut s.stats, emptied),
                })
            })
            .collect();
        Slots {
            slots,
            owners: Vec::new(),
            log: Vec::new(),
        }
    }

    /// The slots' figures as deltas (empty slots left out).
    pub fn into_deltas(mut self) -> impl Iterator<Item = EntryDelta> {
        self.sum_log();
        self.slots
            .into_iter()
            .flatten()
            .filter(|s| !s.stats.is_empty())
            .map(|s| EntryDelta {
                method: s.method,
                name: s.name.to_string(),
                stats: s.stats,
            })
    }

    /// A copy of the slots' figures as deltas, logged requests included.
    pub fn deltas(&self) -> Vec<EntryDelta> {
        Slots {
            slots: self
                .slots
                .iter()
                .map(|s| {
                    s.as_ref().map(|s| Slot {
                        method: s.method.clone(),
                        name: s.name.clone(),
                        stats: s.stats.clone(),
                    })
                })
                .collect(),
            owners: Vec::new(),
            log: self.log.clone(),
        }
        .into_deltas()
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_requests_reach_their_slots_in_every_view() {
        let a: Arc<str> = Arc::from("/a");
        let b: Arc<str> = Arc::from("/b");
        let mut slots = Slots::default();
        // More than one log's worth, over two slots, with failures.
        for i in 0..(LOG_LEN as u64 * 2 + 7) {
            let (slot, name) = if i % 3 == 0 { (0, &a) } else { (5, &b) };
            assert!(slots.record(slot, "GET", name, 1000 + i, 2, i % 10 == 0));
        }
        let mut want = [StatsEntry::default(), StatsEntry::default()];
        for i in 0..(LOG_LEN as u64 * 2 + 7) {
            want[usize::from(i % 3 != 0)].record(1000 + i, 2, i % 10 == 0);
        }
        let check = |deltas: Vec<EntryDelta>| {
            let mut deltas = deltas;
            deltas.sort_by(|x, y| x.name.cmp(&y.name));
            assert_eq!(deltas.len(), 2);
            assert_eq!(
                (deltas[0].name.as_str(), &deltas[0].stats),
                ("/a", &want[0])
            );
            assert_eq!(
                (deltas[1].name.as_str(), &deltas[1].stats),
                ("/b", &want[1])
            );
        };
        check(slots.deltas());
        check(slots.take().into_deltas().collect());
        // Taken: empty, and the same steps keep their slots.
        assert!(slots.deltas().is_empty());
        assert!(slots.record(0, "GET", &a, 7, 0, false));
        // Another step meeting slot 0 while /a's request is pending is turned away.
        let other: Arc<str> = Arc::from("/a");
        assert!(!slots.record(0, "GET", &other, 9, 0, false));
        let taken = slots.take().into_deltas().collect::<Vec<_>>();
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].stats.num_requests, 1);
        // Flushed: slot 0 passes to the other step.
        assert!(slots.record(0, "POST", &other, 9, 0, false));
        let taken = slots.take().into_deltas().collect::<Vec<_>>();
        assert_eq!(
            (taken[0].method.as_str(), taken[0].stats.min_us),
            ("POST", 9)
        );
    }
}
