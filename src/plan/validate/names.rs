//! Template names checked when the plan loads: every name a template reads must be
//! `surge.<field>`, a function, `row.<column>` of the data file, or a variable some request
//! of the plan captures (plus, in a check's failure message, the response's fields, and in a
//! `$for` item its loop variable). A typo (`{{ tokn }}`) is reported with the file position
//! and a "did you mean" instead of failing every request at run time. What still works but
//! is probably not meant (the deprecated `user_id`) is collected as a warning.

use std::cell::{Cell, RefCell};

use super::super::error::{suggest, Issue, KeyPath};
use super::super::schema::{RawScenario, RawStep, Table};
use super::super::template::{
    is_function, DEPRECATED_USER_ID, PLAN_FUNCTIONS, SURGE_FIELDS, SURGE_VARS,
};
use super::R;

/// What templates may read in one plan, and the warnings found while checking them.
#[derive(Debug, Default)]
pub(crate) struct Known {
    /// Every variable captured anywhere in the plan (order is checked at run time).
    captures: Vec<String>,
    /// The data file's columns, when the plan has one.
    columns: Option<Vec<String>>,
    /// Warnings so far (each kind of warning once per plan).
    warnings: RefCell<Vec<Issue>>,
    /// The deprecated `user_id` has been warned about.
    warned_user_id: Cell<bool>,
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
            warnings: RefCell::default(),
            warned_user_id: Cell::new(false),
        }
    }

    /// Whether some request of the plan captures `name`.
    pub(crate) fn captures(&self, name: &str) -> bool {
        self.captures.iter().any(|c| c == name)
    }

    /// Records a warning about the key at `at`.
    pub(crate) fn warn(&self, at: &KeyPath, msg: String) {
        self.warnings.borrow_mut().push(Issue::new(at, msg));
    }

    /// The warnings collected while the plan was checked, in order.
    pub(crate) fn into_warnings(self) -> Vec<Issue> {
        self.warnings.into_inner()
    }

    /// Adds the data file's columns (`row.<column>` becomes readable).
    pub(crate) fn with_columns(mut self, columns: Vec<String>) -> Known {
        self.columns = Some(columns);
        self
    }

    /// Checks the names a template (`src`, at `at`) reads.
    pub(crate) fn check(&self, names: &[String], src: &str, at: &KeyPath) -> R<()> {
        self.check_in(names, src, at, &[])
    }

    /// Checks the names a template reads where `extra` names are defined too (a check
    /// message's response fields, a `$for` item's loop variable).
    pub(crate) fn check_in(
        &self,
        names: &[String],
        src: &str,
        at: &KeyPath,
        extra: &[&str],
    ) -> R<()> {
        for name in names {
            let mut parts = name.split('.');
            let top = parts.next().unwrap_or_default();
            if extra.contains(&top) || is_function(top) || self.captures(top) {
                continue;
            }
            if top == DEPRECATED_USER_ID {
                self.deprecated_user_id(src, at);
                continue;
            }
            if top == SURGE_VARS {
                match parts.next() {
                    Some(field) if SURGE_FIELDS.iter().any(|(f, _)| *f == field) => continue,
                    field => {
                        let fields: Vec<String> = SURGE_FIELDS
                            .iter()
                            .map(|(f, _)| format!("surge.{f}"))
                            .collect();
                        let what = field.map_or("surge".to_string(), |f| format!("surge.{f}"));
                        return Err(Issue::new(
                            at,
                            format!(
                                "\"{src}\" reads \"{what}\", which Surge does not define (expected {})",
                                fields.join(", ")
                            ),
                        ));
                    }
                }
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
            return Err(Issue::new(at, self.unknown(top, src, extra)));
        }
        Ok(())
    }

    /// Warns, once per plan, that `user_id` is Surge's user number under its old name.
    fn deprecated_user_id(&self, src: &str, at: &KeyPath) {
        if !self.warned_user_id.replace(true) {
            self.warn(
                at,
                format!(
                    "\"{src}\" reads \"user_id\", Surge's user number under its old name: \
                     write \"surge.user\" (\"user_id\" is deprecated; a capture of that name \
                     takes it over)"
                ),
            );
        }
    }

    /// `"{{ tokn }}" reads "tokn", which nothing defines — did you mean "token"?`
    fn unknown(&self, top: &str, src: &str, extra: &[&str]) -> String {
        let mut candidates: Vec<String> = self.captures.clone();
        candidates.push(SURGE_VARS.into());
        candidates.extend(extra.iter().map(|e| e.to_string()));
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
            "{head} (expected surge.user{row}{}, a captured variable ({captured}) or a function ({}))",
            extra.iter().map(|e| format!(", {e}")).collect::<String>(),
            PLAN_FUNCTIONS.join(", ")
        )
    }
}
