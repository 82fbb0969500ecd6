//! Headless runs.
