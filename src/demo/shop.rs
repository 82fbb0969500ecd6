//! The demo shop: the in-memory state of the demo target (issued tokens, orders, the catalogue,
//! and the "database connection pool" whose size limits concurrency).
//!
//! Everything here is synchronous and lock-based (`std::sync::Mutex`, atomics); handlers take a
//! lock, copy what they need and release it before any `.await`, so no lock is ever held across
//! a sleep.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Most tokens remembered; the oldest are forgotten first so a long run cannot grow memory.
const MAX_TOKENS: usize = 100_000;
/// Most orders remembered; the oldest are dropped first (their ids then answer 404).
const MAX_ORDERS: usize = 100_000;

/// The products every store sells: (sku, name, unit price).
pub const CATALOG: [(&str, &str, f64); 6] = [
    ("A1", "Espresso beans 1 kg", 18.5),
    ("B2", "Oat milk 1 l", 2.2),
    ("C3", "Ceramic mug", 9.9),
    ("D4", "Paper filters x100", 4.75),
    ("E5", "Hand grinder", 49.0),
    ("F6", "Cold brew bottle", 14.0),
];

/// Unit price of `sku`, `None` when the catalogue does not know it.
pub fn price_of(sku: &str) -> Option<f64> {
    CATALOG
        .iter()
        .find(|(s, _, _)| *s == sku)
        .map(|(_, _, p)| *p)
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OrderLine {
    pub sku: String,
    pub qty: u64,
    pub price: f64,
}

/// A stored order; `customer` is the user who logged in with the token sent, if any.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Order {
    pub id: u64,
    pub customer: String,
    pub items: Vec<OrderLine>,
    pub total: f64,
}

/// Shared state of one demo target instance (cloned handles share it).
#[derive(Debug, Default)]
pub struct Shop {
    tokens: Mutex<Tokens>,
    orders: Mutex<BTreeMap<u64, Order>>,
    next_order: AtomicU64,
    in_flight: AtomicUsize,
    /// The most connections held at once since [`Shop::take_peak`] last read it.
    peak: AtomicUsize,
}

#[derive(Debug, Default)]
struct Tokens {
    users: HashMap<String, String>,
    order: VecDeque<String>,
}

/// A held "database connection": releases its slot when dropped, also when the request is
/// cancelled half-way (client gone), so the pool can never leak.
#[derive(Debug)]
pub struct Connection {
    shop: Arc<Shop>,
    /// Connections that were already busy when this one was taken.
    pub busy_before: usize,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.shop.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Lock a mutex even if a previous holder panicked: the data are simple maps that stay valid.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shop {
    /// Take one of `limit` connections, or `None` when all are busy (MySQL error 1040).
    pub fn acquire(self: &Arc<Self>, limit: usize) -> Option<Connection> {
        let busy_before = self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.peak
            .fetch_max((busy_before + 1).min(limit), Ordering::AcqRel);
        let conn = Connection {
            shop: Arc::clone(self),
            busy_before,
        };
        // Dropping `conn` gives the slot back when over the limit.
        (busy_before < limit).then_some(conn)
    }

    /// Connections currently held.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// The most connections held at once (of `limit`) since the previous call, which
    /// starts the next period at the connections held now: a scrape every few seconds sees
    /// the pool's bursts, which a reading of the moment would mostly miss.
    pub fn take_peak(&self, limit: usize) -> usize {
        let now = self.in_flight().min(limit);
        self.peak.swap(now, Ordering::AcqRel).max(now)
    }

    /// Issue a new opaque token for `user`.
    pub fn login(&self, user: &str) -> String {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let mut tokens = lock(&self.tokens);
        tokens.users.insert(token.clone(), user.to_string());
        tokens.order.push_back(token.clone());
        while tokens.order.len() > MAX_TOKENS {
            if let Some(old) = tokens.order.pop_front() {
                tokens.users.remove(&old);
            }
        }
        token
    }

    /// The user a token was issued to, `None` for unknown tokens.
    pub fn user_of(&self, token: &str) -> Option<String> {
        lock(&self.tokens).users.get(token).cloned()
    }

    /// Store a new order and return it (with its id and total).
    pub fn place_order(&self, customer: String, items: Vec<OrderLine>) -> Order {
        let id = self.next_order.fetch_add(1, Ordering::AcqRel) + 1;
        let total = round_cents(items.iter().map(|l| l.price * l.qty as f64).sum());
        let order = Order {
            id,
            customer,
            items,
            total,
        };
        let mut orders = lock(&self.orders);
        orders.insert(id, order.clone());
        while orders.len() > MAX_ORDERS {
            orders.pop_first();
        }
        order
    }

    /// One order by id.
    pub fn order(&self, id: u64) -> Option<Order> {
        lock(&self.orders).get(&id).cloned()
    }

    /// Units sold per SKU, best first (ties by SKU), at most `limit` rows.
    pub fn best_sellers(&self, limit: usize) -> Vec<(String, u64)> {
        let mut units: HashMap<String, u64> = HashMap::new();
        for order in lock(&self.orders).values() {
            for line in &order.items {
                *units.entry(line.sku.clone()).or_default() += line.qty;
            }
        }
        let mut rows: Vec<_> = units.into_iter().collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        rows.truncate(limit);
        rows
    }

    /// Money spent per customer, biggest first, at most `limit` rows.
    pub fn highest_spenders(&self, limit: usize) -> Vec<(String, f64, u64)> {
        let mut spent: HashMap<String, (f64, u64)> = HashMap::new();
        for order in lock(&self.orders).values() {
            let e = spent.entry(order.customer.clone()).or_default();
            e.0 += order.total;
            e.1 += 1;
        }
        let mut rows: Vec<_> = spent
            .into_iter()
            .map(|(c, (total, n))| (c, round_cents(total), n))
            .collect();
        rows.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        rows.truncate(limit);
        rows
    }
}

/// Stock of every catalogue item in store `id` (deterministic, so runs are comparable).
pub fn stock_of(id: u64) -> Vec<serde_json::Value> {
    CATALOG
        .iter()
        .enumerate()
        .map(|(i, (sku, name, price))| {
            let qty = (id * 37 + i as u64 * 11) % 120;
            serde_json::json!({ "sku": sku, "name": name, "price": price, "qty": qty })
        })
        .collect()
}

fn round_cents(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
