//! An accepted config as people read it: each policy's settings after the
//! engine's normalization, defaults filled in. `check` prints it and
//! `explain` quotes it; `--json` writes it with these field names.

use filter_core::normalize_origin_entry;
use serde::Serialize;
use serde_json::Value;

/// The methods a browser never asks permission for; always allowed.
pub const SAFELISTED_METHODS: [&str; 3] = ["GET", "HEAD", "POST"];

#[derive(Debug, Clone, Serialize)]
pub struct PolicyView {
    pub name: String,
    pub index: usize,
    #[serde(rename = "match")]
    pub scope: ScopeView,
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub allow_credentials: bool,
    pub max_age: Option<u64>,
    pub allow_private_network: bool,
    pub disallowed: String,
}

/// `None`: any host, or any path.
#[derive(Debug, Clone, Serialize)]
pub struct ScopeView {
    pub hosts: Option<Vec<String>>,
    pub paths: Option<Vec<String>>,
}

/// The views of every policy of a document that `Config::from_json` accepted.
pub fn policies(document: &Value) -> Vec<PolicyView> {
    let Some(items) = document.get("policies").and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .map(|(index, p)| PolicyView {
            name: text(p, "name").unwrap_or_default(),
            index,
            scope: ScopeView {
                hosts: p
                    .get("match")
                    .and_then(|m| m.get("hosts"))
                    .map(|h| dedup(strings(h).map(|s| s.to_ascii_lowercase()))),
                paths: p
                    .get("match")
                    .and_then(|m| m.get("paths"))
                    .map(|h| dedup(strings(h).map(str::to_string))),
            },
            allow_origins: dedup(
                p.get("allow_origins")
                    .map(strings)
                    .into_iter()
                    .flatten()
                    .map(|o| normalize_origin_entry(o).unwrap_or_else(|_| o.to_string())),
            ),
            allow_methods: match p.get("allow_methods") {
                None => SAFELISTED_METHODS.iter().map(|m| m.to_string()).collect(),
                Some(m) if strings(m).any(|m| m == "*") => vec!["*".into()],
                Some(m) => dedup(strings(m).map(normalize_method)),
            },
            allow_headers: p
                .get("allow_headers")
                .map(|h| dedup(strings(h).map(|s| s.to_ascii_lowercase())))
                .unwrap_or_default(),
            expose_headers: p
                .get("expose_headers")
                .map(|h| strings(h).map(str::to_string).collect())
                .unwrap_or_default(),
            allow_credentials: p.get("allow_credentials") == Some(&Value::Bool(true)),
            max_age: p
                .get("max_age")
                .and_then(|v| v.as_u64().or_else(|| v.as_f64().map(|f| f as u64))),
            allow_private_network: p.get("allow_private_network") == Some(&Value::Bool(true)),
            disallowed: text(p, "disallowed").unwrap_or_else(|| "pass".into()),
        })
        .collect()
}

fn text(value: &Value, field: &str) -> Option<String> {
    value.get(field).and_then(Value::as_str).map(str::to_string)
}

fn strings(value: &Value) -> impl Iterator<Item = &str> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn dedup(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut unique: Vec<String> = Vec::new();
    for item in items {
        if !unique.contains(&item) {
            unique.push(item);
        }
    }
    unique
}

/// As browsers normalize a method, and so as the engine stores it: the six
/// methods of the Fetch Standard uppercased, any other kept byte for byte.
fn normalize_method(method: &str) -> String {
    ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]
        .into_iter()
        .find(|m| m.eq_ignore_ascii_case(method))
        .map_or_else(|| method.to_string(), str::to_string)
}

impl PolicyView {
    /// The policy's `match`, as one line.
    pub fn scope_line(&self) -> String {
        let list = |l: &Option<Vec<String>>| match l {
            None => "any".to_string(),
            Some(items) => items.join(", "),
        };
        format!(
            "hosts {}; paths {}",
            list(&self.scope.hosts),
            list(&self.scope.paths)
        )
    }

    /// `policy "api"`, as the engine names policies in its messages.
    pub fn label(&self) -> String {
        format!("policy {}", Value::from(self.name.as_str()))
    }

    /// The settings, one `field: value` line each, for people.
    pub fn lines(&self) -> Vec<(&'static str, String)> {
        let list = |items: &[String]| {
            if items.is_empty() {
                "(none)".to_string()
            } else {
                items.join(", ")
            }
        };
        let methods = if self.allow_methods == ["*"] {
            "* (any method)".to_string()
        } else {
            let extra: Vec<&str> = SAFELISTED_METHODS
                .iter()
                .copied()
                .filter(|m| !self.allow_methods.iter().any(|a| a == m))
                .collect();
            if extra.is_empty() {
                list(&self.allow_methods)
            } else {
                format!(
                    "{} (and {}, always allowed)",
                    list(&self.allow_methods),
                    extra.join(", ")
                )
            }
        };
        let headers = if self.allow_headers.iter().any(|h| h == "*") {
            let named: Vec<String> = self
                .allow_headers
                .iter()
                .filter(|h| *h != "*")
                .cloned()
                .collect();
            if named.is_empty() {
                "* (any name but authorization)".to_string()
            } else {
                format!("* (any name but authorization), {}", named.join(", "))
            }
        } else {
            list(&self.allow_headers)
        };
        vec![
            ("match", self.scope_line()),
            ("allow_origins", list(&self.allow_origins)),
            ("allow_methods", methods),
            ("allow_headers", headers),
            ("expose_headers", list(&self.expose_headers)),
            ("allow_credentials", self.allow_credentials.to_string()),
            (
                "max_age",
                self.max_age
                    .map_or_else(|| "(no header)".to_string(), |s| format!("{s} s")),
            ),
            (
                "allow_private_network",
                self.allow_private_network.to_string(),
            ),
            ("disallowed", self.disallowed.clone()),
        ]
    }
}
