//! Dynamic values in plans, rendered per request with minijinja.
//!
//! Owns the one process-wide minijinja environment (strict undefined, the functions of
//! `functions`), compiled string templates and expressions, and what a template sees when
//! it renders ([`RenderCtx`]). Templates are compiled once when the plan loads; plain text
//! never touches minijinja when rendered. JSON bodies built from templates are
//! `json_template`'s.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

pub use super::functions::PLAN_FUNCTIONS;
pub use super::json_template::JsonTemplate;

/// The variables of one user: captured values, by name.
pub type Vars = HashMap<String, serde_json::Value>;

/// The namespace of Surge's own variables (`surge.user`), which no capture can take.
pub const SURGE_VARS: &str = "surge";

/// The fields of `surge`, each with what it is (for errors and the reference).
pub const SURGE_FIELDS: [(&str, &str); 1] = [("user", "0-based number of the virtual user")];

/// Surge's user number under its old name, kept working (deprecated: it collides with the
/// field every API calls `user_id`). A capture of that name takes it over.
pub const DEPRECATED_USER_ID: &str = "user_id";

/// What a check's failure message sees of the response it judges.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ResponseVars {
    /// The status code.
    pub status: u16,
    /// Surge's own message for the failure (`500 Internal Server Error: ...`,
    /// `expected status 201, got 200`, `check failed: ...`).
    pub reason: String,
    /// The body parsed as JSON; `none` when it is not JSON (or was not kept).
    pub json: serde_json::Value,
    /// The body as text (what was kept of it: all of it when the step reads the body,
    /// else the first 4 KiB of an error status).
    pub text: String,
    /// Response headers, names in lower case (repeated headers joined with `, `).
    pub headers: BTreeMap<String, String>,
}

/// The names a check's failure message can read beside the user's variables.
pub const RESPONSE_VARS: [&str; 5] = ["status", "reason", "json", "text", "headers"];

/// What a template can see when it is rendered.
#[derive(Clone, Copy)]
pub struct RenderCtx<'a> {
    /// 0-based index of the virtual user (`surge.user`).
    pub user_id: u64,
    /// Values captured by this user so far.
    pub vars: &'a Vars,
    /// The user's row of the data file, if the plan has one.
    pub row: Option<&'a super::data::DataRow>,
    /// A check's failure message: the response judged.
    pub response: Option<&'a ResponseVars>,
    /// Loop variables of `$for` JSON nodes, innermost last.
    pub locals: &'a [(String, serde_json::Value)],
}

impl<'a> RenderCtx<'a> {
    /// The context of a request template for user `user_id`.
    pub fn new(
        user_id: u64,
        vars: &'a Vars,
        row: Option<&'a super::data::DataRow>,
    ) -> RenderCtx<'a> {
        RenderCtx {
            user_id,
            vars,
            row,
            response: None,
            locals: &[],
        }
    }

    /// Whether `name` is defined at the top level of this context.
    fn defines(&self, name: &str) -> bool {
        self.locals.iter().any(|(k, _)| k == name)
            || (self.response.is_some() && RESPONSE_VARS.contains(&name))
            || self.vars.contains_key(name)
            || name == SURGE_VARS
            || name == DEPRECATED_USER_ID
            || (name == "row" && self.row.is_some())
    }
}

/// The template context as minijinja sees it: `surge`, `row` (only when there is one, so a
/// missing row is undefined), every captured variable at the top level, then (shadowing
/// them) the response's fields in a check message and the loop variables of `$for`.
impl Serialize for RenderCtx<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let shadowed = |k: &str| {
            k == "row"
                || k == SURGE_VARS
                || self.locals.iter().any(|(l, _)| l == k)
                || (self.response.is_some() && RESPONSE_VARS.contains(&k))
        };
        let mut map = s.serialize_map(None)?;
        for (k, v) in self.vars {
            if !shadowed(k) {
                map.serialize_entry(k, v)?;
            }
        }
        if !self.vars.contains_key(DEPRECATED_USER_ID) && !shadowed(DEPRECATED_USER_ID) {
            map.serialize_entry(DEPRECATED_USER_ID, &self.user_id)?;
        }
        let mut surge = BTreeMap::new();
        surge.insert("user", self.user_id);
        map.serialize_entry(SURGE_VARS, &surge)?;
        if let Some(row) = self.row {
            map.serialize_entry("row", row)?;
        }
        if let Some(r) = self.response {
            map.serialize_entry("status", &r.status)?;
            map.serialize_entry("reason", &r.reason)?;
            map.serialize_entry("json", &r.json)?;
            map.serialize_entry("text", &r.text)?;
            map.serialize_entry("headers", &r.headers)?;
        }
        // A nested loop that reuses a name shadows the outer one.
        for (i, (k, v)) in self.locals.iter().enumerate() {
            if !self.locals[i + 1..].iter().any(|(l, _)| l == k) {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

/// A template rendering failure: an *exception* of the plan, not a request failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

/// Most minijinja instructions one render may run: far above what a request template needs.
pub const MAX_TEMPLATE_STEPS: u64 = 1_000_000;

/// The shared environment; every template and expression is compiled against it.
pub(super) fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        // Nested loops (`range` alone stops at 100 000 items) could otherwise keep a user
        // rendering forever; found by fuzzing.
        env.set_fuel(Some(MAX_TEMPLATE_STEPS));
        super::functions::register(&mut env);
        env
    })
}

/// Template sources are interned for the life of the process: minijinja templates borrow their
/// source, and interning means reloading the same plan does not grow memory again.
fn intern(src: &str) -> &'static str {
    static POOL: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut pool = match POOL.get_or_init(Default::default).lock() {
        Ok(p) => p,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(s) = pool.get(src) {
        return s;
    }
    let leaked: &'static str = Box::leak(src.to_owned().into_boxed_str());
    pool.insert(leaked);
    leaked
}

/// Whether text has template syntax at all.
pub(super) fn is_dynamic(src: &str) -> bool {
    src.contains("{{") || src.contains("{%") || src.contains("{#")
}

/// A compiled template and the names it reads (used only to explain errors).
#[derive(Debug)]
struct Compiled {
    tmpl: minijinja::Template<'static, 'static>,
    names: Vec<String>,
}

/// A compiled string template; plain text renders without touching the engine.
#[derive(Debug, Clone)]
pub struct Template {
    source: Arc<str>,
    compiled: Option<Arc<Compiled>>,
}

impl Template {
    /// Plain text, never interpreted (for `-H URL` and values built by code).
    pub fn literal(text: &str) -> Template {
        Template {
            source: text.into(),
            compiled: None,
        }
    }

    /// Compile `src` once; syntax errors are reported here, at plan load time.
    pub fn compile(src: &str) -> Result<Template, TemplateError> {
        if !is_dynamic(src) {
            return Ok(Template::literal(src));
        }
        let tmpl = env()
            .template_from_named_str("<template>", intern(src))
            .map_err(|e| syntax_error(&e))?;
        let mut names: Vec<String> = tmpl.undeclared_variables(true).into_iter().collect();
        names.sort();
        Ok(Template {
            source: src.into(),
            compiled: Some(Arc::new(Compiled { tmpl, names })),
        })
    }

    /// The text as written in the plan.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The text when the template has no dynamic part.
    pub fn as_literal(&self) -> Option<&str> {
        match self.compiled {
            None => Some(&self.source),
            Some(_) => None,
        }
    }

    /// The variables and functions the template reads (`row.username` dotted), checked
    /// against what the plan defines when it loads.
    pub fn names(&self) -> &[String] {
        self.compiled.as_ref().map_or(&[], |c| &c.names)
    }

    /// Render with the user's context; failures are plan exceptions.
    pub fn render(&self, ctx: &RenderCtx) -> Result<String, TemplateError> {
        match &self.compiled {
            None => Ok(self.source.to_string()),
            Some(c) => c
                .tmpl
                .render(ctx)
                .map_err(|e| render_error(&e, &c.names, ctx, &self.source)),
        }
    }
}

/// A compiled expression (the inside of one `{{ ... }}`), whose value keeps its type.
#[derive(Debug, Clone)]
pub(super) struct Expr {
    expr: Arc<minijinja::Expression<'static, 'static>>,
    source: Arc<str>,
    names: Vec<String>,
}

impl Expr {
    /// Compile `expr`; `source` is how the plan wrote it (for messages).
    pub(super) fn compile(expr: &str, source: &str) -> Result<Expr, TemplateError> {
        let compiled = env()
            .compile_expression_owned(expr.to_owned())
            .map_err(|e| syntax_error(&e))?;
        let mut names: Vec<String> = compiled.undeclared_variables(true).into_iter().collect();
        names.sort();
        Ok(Expr {
            expr: Arc::new(compiled),
            source: source.into(),
            names,
        })
    }

    pub(super) fn source(&self) -> &str {
        &self.source
    }

    pub(super) fn names(&self) -> &[String] {
        &self.names
    }

    /// The expression's value (an undefined result is an error, as in a template).
    pub(super) fn eval(&self, ctx: &RenderCtx) -> Result<minijinja::Value, TemplateError> {
        let value = self
            .expr
            .eval(ctx)
            .map_err(|e| render_error(&e, &self.names, ctx, &self.source))?;
        if value.is_undefined() {
            let e = minijinja::Error::new(ErrorKind::UndefinedError, "undefined value");
            return Err(render_error(&e, &self.names, ctx, &self.source));
        }
        Ok(value)
    }
}

/// Describe a syntax error: what is wrong and where in the template.
fn syntax_error(e: &minijinja::Error) -> TemplateError {
    let what = e
        .detail()
        .map(str::to_owned)
        .unwrap_or_else(|| e.kind().to_string());
    TemplateError(format!("template syntax error: {what}"))
}

/// Describe a render error; undefined names are spelled out because they usually mean a
/// capture has not happened yet or a data column is missing.
fn render_error(
    e: &minijinja::Error,
    names: &[String],
    ctx: &RenderCtx,
    src: &str,
) -> TemplateError {
    if e.kind() == ErrorKind::UndefinedError {
        for name in names {
            let mut parts = name.split('.');
            let top = parts.next().unwrap_or_default();
            if top == "row" {
                match (ctx.row, parts.next()) {
                    (None, _) => {
                        return TemplateError(format!(
                            "undefined variable \"row\" (the plan has no data file, or the data file is exhausted) in \"{src}\""
                        ))
                    }
                    (Some(row), Some(col)) if !row.contains_key(col) => {
                        return TemplateError(format!(
                            "data row has no column \"{col}\" in \"{src}\""
                        ))
                    }
                    _ => continue,
                }
            }
            if ctx.defines(top) || is_function(top) {
                continue;
            }
            return TemplateError(format!(
                "undefined variable \"{top}\" (not captured yet?) in \"{src}\""
            ));
        }
    }
    if e.kind() == ErrorKind::OutOfFuel {
        return TemplateError(format!(
            "template runs too long (more than {MAX_TEMPLATE_STEPS} steps) in \"{src}\""
        ));
    }
    let what = e
        .detail()
        .map(str::to_owned)
        .unwrap_or_else(|| e.kind().to_string());
    TemplateError(format!("{what} in \"{src}\""))
}

/// Whether `name` is a function every template can call (the plan's and minijinja's).
pub fn is_function(name: &str) -> bool {
    env().globals().any(|(g, _)| g == name)
}
