//! The built-in demo target and its plan.
