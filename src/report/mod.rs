//! Reports built from snapshots: console tables, Locust CSV files, JSON summary.
