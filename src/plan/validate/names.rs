//! Template names checked when the plan loads: every name a template reads must be
//! `user_id`, a function, `row.<column>` of the data file, or a variable some request of the
//! plan captures. A typo (`{{ tokn }}`) is reported with the file position and a "did you
//! mean" instead of failing every request at run time.

use super::super::error::{suggest, Issue, KeyPath};
use super::super::schema::{RawScenario, RawStep, Table};
use super::super::template::{is_function, PLAN_FUNCTIONS};
use super::R;

/// What templates may read in one plan.
#[derive(Debug, Default)]
pub(crate) struct Known {
    /// Every variable captured anywhere in the plan (order is checked at run time).
    captures: Vec<String>,
    /// The data file's columns, when the plan has one.
    columns: Option<Vec<String>>,
}

impl Known {
    /// The variables captured in `scenarios` (before they are validated).
    pub(crate) fn of(scenarios: &[RawScenario]) -> Known {
        let mut captures = Vec::new();
        let mut add = |capture: &Option<Table<_>>| {
            for (name, _) in capture.iter().flat_map(|t| t.0.iter()) {
                captures.push(String::clone(name));
            }
        };
        for s in scenarios {
            for step in s.on_start.iter().flatten() {
                add(&step.capture);
            }
            for task in s.tasks.iter().flatten() {
                add(&task.capture);
                for step in task.steps.iter().flatten().map(|s: &RawStep| &s.capture) {
                    add(step);
                }
            }
        }
        captures.sort();
        captures.dedup();
        Known {
            captures,
            columns: None,
        }
    }

    /// Adds the data file's columns (`row.<column>` becomes readable).
    pub(crate) fn with_columns(mut self, columns: Vec<String>) -> Known {
        self.columns = Some(columns);
        self
    }

    /// Checks the names a template (`src`, at `at`) reads.
    pub(crate) fn check(&self, names: &[String], src: &str, at: &KeyPath) -> R<()> {
        for name in names {
            let mut parts = name.split('.');
            let top = parts.next().unwrap_or_default();
            if top == "user_id" || is_function(top) || self.captures.iter().any(|c| c == top) {
                continue;
            }
            if top == "row" {
                let Some(columns) = &self.columns else {
                    return Err(Issue::new(
                        at,
                        format!("\"{src}\" reads \"{name}\", but the plan has no [data] file"),
                    ));
                };
                match parts.next() {
                    Some(col) if !columns.iter().any(|c| c == col) => {
                        let hint = match suggest(col, columns) {
                            Some(s) => format!(" — did you mean \"row.{s}\"?"),
                            None => format!(" (columns: {})", columns.join(", ")),
                        };
                        return Err(Issue::new(
                            at,
                            format!("\"{src}\": the data file has no column \"{col}\"{hint}"),
                        ));
                    }
                    _ => continue,
                }
            }
            return Err(Issue::new(at, self.unknown(top, src)));
        }
        Ok(())
    }

    /// `"{{ tokn }}" reads "tokn", which nothing defines — did you mean "token"?`
    fn unknown(&self, top: &str, src: &str) -> String {
        let mut candidates: Vec<String> = self.captures.clone();
        candidates.push("user_id".into());
        if self.columns.is_some() {
            candidates.push("row".into());
        }
        candidates.extend(PLAN_FUNCTIONS.iter().map(|f| f.to_string()));
        let head = format!("\"{src}\" reads \"{top}\", which nothing in the plan defines");
        if let Some(s) = suggest(top, &candidates) {
            return format!("{head} — did you mean \"{s}\"?");
        }
        let captured = if self.captures.is_empty() {
            "none".to_string()
        } else {
            self.captures.join(", ")
        };
        let row = if self.columns.is_some() {
            ", row.<column>"
        } else {
            ""
        };
        format!(
            "{head} (expected user_id{row}, a captured variable ({captured}) or a function ({}))",
            PLAN_FUNCTIONS.join(", ")
        )
    }
}
