//! JSON request bodies built from templates, with their types kept.
//!
//! Every string leaf of a `json` body may be a template. A leaf that is exactly one
//! `{{ expr }}` keeps the expression's type: a number, a boolean, `none` (null), a list or
//! an object (`"{{ random_sample(range(1, 51), 3) }}"` sends `[17, 4, 32]`). An object of
//! exactly the two keys `$for` and `$each` builds a list of varying length, one `$each`
//! per item, with the item named as `$for` says:
//!
//! ```toml
//! items = { "$for" = "id in random_sample(range(1, 51), random_int(1, 5))",
//!           "$each" = { product_id = "{{ id }}", quantity = "{{ random_int(1, 3) }}" } }
//! ```

use std::sync::Arc;

use super::template::{is_dynamic, Expr, RenderCtx, Template, TemplateError};

/// The keys of a list built item by item.
const FOR: &str = "$for";
const EACH: &str = "$each";

/// Most items one `$for` may produce (a typo such as `range(1000000)` would otherwise build
/// a body of millions of items per request).
pub const MAX_ITEMS: usize = 10_000;

/// One node of a JSON body template.
#[derive(Debug, Clone)]
enum Node {
    /// A subtree without any template: copied as is.
    Fixed(serde_json::Value),
    /// A string with template syntax, rendered to a string.
    Text(Template),
    /// A string that is exactly `{{ expr }}`: the expression's value keeps its JSON type.
    Expr(Expr),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
    /// `{"$for": "var in expr", "$each": item}`: one `item` per element of `expr`.
    Each {
        var: Arc<str>,
        over: Expr,
        item: Box<Node>,
    },
}

/// A JSON body whose string leaves may be templates.
#[derive(Debug, Clone)]
pub struct JsonTemplate {
    value: serde_json::Value,
    root: Node,
}

/// What one template leaf reads, for the plan's name checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafNames {
    /// The leaf as written.
    pub source: String,
    /// The names it reads (`row.username` dotted).
    pub names: Vec<String>,
    /// Loop variables of the `$for` nodes around it, which it may read too.
    pub in_scope: Vec<String>,
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

    /// What each template leaf reads.
    pub fn names(&self) -> Vec<LeafNames> {
        let mut out = Vec::new();
        collect_names(&self.root, &mut Vec::new(), &mut out);
        out
    }
}

fn collect_names(node: &Node, scope: &mut Vec<String>, out: &mut Vec<LeafNames>) {
    let mut leaf = |source: &str, names: &[String], scope: &[String]| {
        out.push(LeafNames {
            source: source.to_string(),
            names: names.to_vec(),
            in_scope: scope.to_vec(),
        })
    };
    match node {
        Node::Fixed(_) => {}
        Node::Text(t) => leaf(t.source(), t.names(), scope),
        Node::Expr(e) => leaf(e.source(), e.names(), scope),
        Node::Array(items) => items.iter().for_each(|n| collect_names(n, scope, out)),
        Node::Object(fields) => fields
            .iter()
            .for_each(|(_, n)| collect_names(n, scope, out)),
        Node::Each { var, over, item } => {
            leaf(over.source(), over.names(), scope);
            scope.push(var.to_string());
            collect_names(item, scope, out);
            scope.pop();
        }
    }
}

/// The expression inside a leaf that is exactly one `{{ ... }}`, if it is one.
fn sole_expression(s: &str) -> Option<&str> {
    let inner = s.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    (!inner.contains("{{") && !inner.contains("}}") && !inner.trim().is_empty()).then_some(inner)
}

/// `"id in random_sample(...)"` (with or without `{{ }}` around the expression) as the
/// variable's name and the compiled expression.
fn for_clause(value: &serde_json::Value) -> Result<(Arc<str>, Expr), TemplateError> {
    let bad = |why: &str| {
        TemplateError(format!(
            "\"{FOR}\" {why} (expected \"NAME in EXPRESSION\", e.g. \"id in random_sample(range(1, 51), 3)\")"
        ))
    };
    let text = value.as_str().ok_or_else(|| bad("must be a string"))?;
    let (var, over) = text
        .split_once(" in ")
        .ok_or_else(|| bad(&format!("\"{text}\" has no \" in \"")))?;
    let var = var.trim();
    let ident = var
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ident {
        return Err(bad(&format!(
            "\"{var}\" is not a variable name (letters, digits and _)"
        )));
    }
    let over = over.trim();
    let expr = sole_expression(over).unwrap_or(over);
    let compiled = Expr::compile(expr, text)?;
    Ok((var.into(), compiled))
}

fn compile_node(v: &serde_json::Value) -> Result<Node, TemplateError> {
    Ok(match v {
        serde_json::Value::String(s) if is_dynamic(s) => match sole_expression(s) {
            Some(expr) => Node::Expr(Expr::compile(expr, s)?),
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
        serde_json::Value::Object(map) if map.contains_key(FOR) || map.contains_key(EACH) => {
            let (Some(clause), Some(item), 2) = (map.get(FOR), map.get(EACH), map.len()) else {
                return Err(TemplateError(format!(
                    "an object with \"{FOR}\" or \"{EACH}\" needs exactly those two keys \
                     (found {})",
                    map.keys()
                        .map(|k| format!("\"{k}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            };
            let (var, over) = for_clause(clause)?;
            Node::Each {
                var,
                over,
                item: Box::new(compile_node(item)?),
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
        Node::Expr(e) => to_json(&e.eval(ctx)?, e.source())?,
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
        Node::Each { var, over, item } => {
            let values = over.eval(ctx)?;
            let iter = values.try_iter().map_err(|_| {
                TemplateError(format!(
                    "\"{}\" gives {}, not a list to go through",
                    over.source(),
                    values.kind()
                ))
            })?;
            let mut locals = ctx.locals.to_vec();
            locals.push((var.to_string(), serde_json::Value::Null));
            let mut out = Vec::new();
            for element in iter {
                if out.len() == MAX_ITEMS {
                    return Err(TemplateError(format!(
                        "\"{}\" gives more than {MAX_ITEMS} items",
                        over.source()
                    )));
                }
                if let Some(last) = locals.last_mut() {
                    last.1 = to_json(&element, over.source())?;
                }
                let inner = RenderCtx {
                    locals: &locals,
                    ..*ctx
                };
                out.push(render_node(item, &inner)?);
            }
            serde_json::Value::Array(out)
        }
    })
}

fn to_json(value: &minijinja::Value, src: &str) -> Result<serde_json::Value, TemplateError> {
    serde_json::to_value(value).map_err(|e| TemplateError(format!("{e} in \"{src}\"")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::template::Vars;
    use serde_json::json;

    fn render(body: serde_json::Value) -> Result<serde_json::Value, TemplateError> {
        let vars = Vars::new();
        JsonTemplate::compile(body)?.render(&RenderCtx::new(3, &vars, None))
    }

    #[test]
    fn expressions_keep_lists_and_objects() {
        let got = render(json!({
            "ids": "{{ range(1, 4) | list }}",
            "pair": "{{ dict(a=1, b=[true, none]) }}",
            "user": "{{ surge.user }}",
        }))
        .unwrap();
        assert_eq!(
            got,
            json!({"ids": [1, 2, 3], "pair": {"a": 1, "b": [true, null]}, "user": 3})
        );
    }

    #[test]
    fn for_each_builds_one_item_per_element() {
        let body = json!({"items": {
            "$for": "id in random_sample(range(1, 51), random_int(1, 5))",
            "$each": {"product_id": "{{ id }}", "quantity": "{{ random_int(1, 3) }}", "label": "p{{ id }}"}
        }});
        for _ in 0..50 {
            let got = render(body.clone()).unwrap();
            let items = got["items"].as_array().unwrap();
            assert!((1..=5).contains(&items.len()), "{got}");
            let mut ids: Vec<i64> = items
                .iter()
                .map(|i| i["product_id"].as_i64().unwrap())
                .collect();
            for i in items {
                let id = i["product_id"].as_i64().unwrap();
                assert!((1..=50).contains(&id));
                assert!((1..=3).contains(&i["quantity"].as_i64().unwrap()));
                assert_eq!(i["label"], json!(format!("p{id}")));
            }
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), items.len(), "distinct products: {got}");
        }
        // Nested loops see both names; the inner one shadows a reused name.
        let nested = json!({"$for": "a in [1, 2]", "$each": {"$for": "b in {{ [a, 10] }}", "$each": "{{ a * b }}"}});
        assert_eq!(render(nested).unwrap(), json!([[1, 10], [4, 20]]));
    }

    #[test]
    fn for_each_errors_say_what_is_wrong() {
        let err = |v: serde_json::Value| match JsonTemplate::compile(v) {
            Err(e) => e.0,
            Ok(t) => {
                t.render(&RenderCtx::new(0, &Vars::new(), None))
                    .unwrap_err()
                    .0
            }
        };
        assert!(err(json!({"$for": "x in [1]"})).contains("needs exactly those two keys"));
        assert!(err(json!({"$for": "x", "$each": 1})).contains("has no \" in \""));
        assert!(err(json!({"$for": "1x in [1]", "$each": 1})).contains("not a variable name"));
        assert!(err(json!({"$for": "x in 5", "$each": 1})).contains("not a list"));
        assert!(err(json!({"$for": "x in range(20000)", "$each": 1})).contains("more than 10000"));
    }

    #[test]
    fn names_carry_the_loop_scope() {
        let t =
            JsonTemplate::compile(json!({"$for": "id in ids", "$each": "{{ id + n }}"})).unwrap();
        let names = t.names();
        assert_eq!(names.len(), 2);
        assert_eq!(
            (names[0].names.clone(), names[0].in_scope.len()),
            (vec!["ids".to_string()], 0)
        );
        assert_eq!(names[1].in_scope, vec!["id".to_string()]);
    }
}
