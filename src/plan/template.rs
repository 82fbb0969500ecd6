//! Dynamic values in plans, rendered per request with minijinja.
//!
//! Owns the one process-wide minijinja environment (strict undefined, the plan functions
//! `random_int`, `random_choice`, `uuid`, `seq` and `env`), compiled string templates and JSON
//! body templates. Templates are compiled once when the plan loads; plain text never touches
//! minijinja when rendered.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use minijinja::value::Value;
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use serde::ser::{SerializeMap, Serializer};

/// The variables of one user: captured values, by name.
pub type Vars = HashMap<String, serde_json::Value>;

/// What a template can see when it is rendered.
pub struct RenderCtx<'a> {
    /// 0-based index of the virtual user.
    pub user_id: u64,
    /// Values captured by this user so far.
    pub vars: &'a Vars,
    /// The user's row of the data file, if the plan has one.
    pub row: Option<&'a super::data::DataRow>,
}

/// The template context as minijinja sees it: `user_id`, `row` (only when there is one, so a
/// missing row is undefined) and every variable at the top level.
impl serde::Serialize for RenderCtx<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (k, v) in self.vars {
            if k != "user_id" && k != "row" {
                map.serialize_entry(k, v)?;
            }
        }
        map.serialize_entry("user_id", &self.user_id)?;
        if let Some(row) = self.row {
            map.serialize_entry("row", row)?;
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

/// Counter behind `seq()`: the first call returns 1.
static SEQ: AtomicU64 = AtomicU64::new(1);

/// The shared environment; every template and expression is compiled against it.
fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        // Nested loops (`range` alone stops at 100 000 items) could otherwise keep a user
        // rendering forever; found by fuzzing.
        env.set_fuel(Some(MAX_TEMPLATE_STEPS));
        env.add_function("random_int", random_int);
        env.add_function("random_choice", random_choice);
        env.add_function("uuid", || uuid::Uuid::new_v4().to_string());
        env.add_function("seq", || SEQ.fetch_add(1, Ordering::Relaxed));
        env.add_function("env", env_var);
        env
    })
}

fn invalid(msg: String) -> minijinja::Error {
    minijinja::Error::new(ErrorKind::InvalidOperation, msg)
}

fn random_int(lo: i64, hi: i64) -> Result<i64, minijinja::Error> {
    if lo > hi {
        return Err(invalid(format!("random_int({lo}, {hi}): lo is above hi")));
    }
    Ok(fastrand::i64(lo..=hi))
}

fn random_choice(list: Value) -> Result<Value, minijinja::Error> {
    let items: Vec<Value> = list.try_iter()?.collect();
    if items.is_empty() {
        return Err(invalid("random_choice(): the list is empty".into()));
    }
    Ok(items[fastrand::usize(..items.len())].clone())
}

fn env_var(name: String, default: Option<String>) -> Result<String, minijinja::Error> {
    match (std::env::var(&name), default) {
        (Ok(v), _) => Ok(v),
        (Err(_), Some(d)) => Ok(d),
        (Err(_), None) => Err(invalid(format!("environment variable {name} is not set"))),
    }
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
fn is_dynamic(src: &str) -> bool {
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
            if top == "user_id" || env().globals().any(|(g, _)| g == top) {
                continue;
            }
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
            if !ctx.vars.contains_key(top) {
                return TemplateError(format!(
                    "undefined variable \"{top}\" (not captured yet?) in \"{src}\""
                ));
            }
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

/// One node of a JSON body template.
#[derive(Debug, Clone)]
enum Node {
    /// A subtree without any template: copied as is.
    Fixed(serde_json::Value),
    /// A string with template syntax, rendered to a string.
    Text(Template),
    /// A string that is exactly `{{ expr }}`: the expression's value keeps its JSON type.
    Expr(Arc<minijinja::Expression<'static, 'static>>, Arc<str>),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

/// A JSON body whose string leaves may be templates.
#[derive(Debug, Clone)]
pub struct JsonTemplate {
    value: serde_json::Value,
    root: Node,
}

impl JsonTemplate {
    /// Compile every string leaf; a leaf that is exactly one `{{ expr }}` keeps its type.
    pub fn compile(value: serde_json::Value) -> Result<JsonTemplate, TemplateError> {
        let root = compile_node(&value)?;
        Ok(JsonTemplate { value, root })
    }

    /// The body as written in the plan.
    pub fn source(&self) -> &serde_json::Value {
        &self.value
    }

    /// Build the body for one request.
    pub fn render(&self, ctx: &RenderCtx) -> Result<serde_json::Value, TemplateError> {
        render_node(&self.root, ctx)
    }

    /// What each template leaf reads: (leaf source, names), as [`Template::names`].
    pub fn names(&self) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        collect_names(&self.root, &mut out);
        out
    }
}

/// Whether `name` is a function every template can call (the plan's and minijinja's).
pub fn is_function(name: &str) -> bool {
    env().globals().any(|(g, _)| g == name)
}

/// The plan's own template functions, for error messages.
pub const PLAN_FUNCTIONS: [&str; 5] = ["random_int", "random_choice", "uuid", "seq", "env"];

fn collect_names(node: &Node, out: &mut Vec<(String, Vec<String>)>) {
    match node {
        Node::Fixed(_) => {}
        Node::Text(t) => out.push((t.source().to_string(), t.names().to_vec())),
        Node::Expr(expr, src) => {
            let mut names: Vec<String> = expr.undeclared_variables(true).into_iter().collect();
            names.sort();
            out.push((src.to_string(), names));
        }
        Node::Array(items) => items.iter().for_each(|n| collect_names(n, out)),
        Node::Object(fields) => fields.iter().for_each(|(_, n)| collect_names(n, out)),
    }
}

/// The expression inside a leaf that is exactly one `{{ ... }}`, if it is one.
fn sole_expression(s: &str) -> Option<&str> {
    let inner = s.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    (!inner.contains("{{") && !inner.contains("}}") && !inner.trim().is_empty()).then_some(inner)
}

fn compile_node(v: &serde_json::Value) -> Result<Node, TemplateError> {
    Ok(match v {
        serde_json::Value::String(s) if is_dynamic(s) => match sole_expression(s) {
            Some(expr) => {
                let compiled = env()
                    .compile_expression_owned(expr.to_owned())
                    .map_err(|e| syntax_error(&e))?;
                Node::Expr(Arc::new(compiled), s.as_str().into())
            }
            None => Node::Text(Template::compile(s)?),
        },
        serde_json::Value::Array(items) => {
            let nodes = items
                .iter()
                .map(compile_node)
                .collect::<Result<Vec<_>, _>>()?;
            if nodes.iter().all(|n| matches!(n, Node::Fixed(_))) {
                Node::Fixed(v.clone())
            } else {
                Node::Array(nodes)
            }
        }
        serde_json::Value::Object(map) => {
            let mut fields = Vec::with_capacity(map.len());
            for (k, item) in map {
                fields.push((k.clone(), compile_node(item)?));
            }
            if fields.iter().all(|(_, n)| matches!(n, Node::Fixed(_))) {
                Node::Fixed(v.clone())
            } else {
                Node::Object(fields)
            }
        }
        other => Node::Fixed(other.clone()),
    })
}

fn render_node(node: &Node, ctx: &RenderCtx) -> Result<serde_json::Value, TemplateError> {
    Ok(match node {
        Node::Fixed(v) => v.clone(),
        Node::Text(t) => serde_json::Value::String(t.render(ctx)?),
        Node::Expr(expr, src) => {
            let value = expr.eval(ctx).map_err(|e| {
                let names: Vec<String> = expr.undeclared_variables(true).into_iter().collect();
                render_error(&e, &names, ctx, src)
            })?;
            if value.is_undefined() {
                let names: Vec<String> = expr.undeclared_variables(true).into_iter().collect();
                let e = minijinja::Error::new(ErrorKind::UndefinedError, "undefined value");
                return Err(render_error(&e, &names, ctx, src));
            }
            serde_json::to_value(&value).map_err(|e| TemplateError(format!("{e} in \"{src}\"")))?
        }
        Node::Array(items) => serde_json::Value::Array(
            items
                .iter()
                .map(|n| render_node(n, ctx))
                .collect::<Result<_, _>>()?,
        ),
        Node::Object(fields) => {
            let mut map = serde_json::Map::with_capacity(fields.len());
            for (k, n) in fields {
                map.insert(k.clone(), render_node(n, ctx)?);
            }
            serde_json::Value::Object(map)
        }
    })
}
