//! Kong's `cors` plugin. In a decK declarative file every route of every
//! service is a route with its `hosts` and `paths` as scope, and the `cors`
//! plugin of the route, else of its service, else the global one. A plugin
//! entity (`name: cors`), a `KongPlugin` resource (`plugin: cors`) or a
//! `config` alone is read too, and applies everywhere.
//!
//! Kong reads an `origins` entry with any character outside
//! `[A-Za-z0-9.:/-]` as a regex (PCRE), and matches one without `:` against
//! the request's host alone.

use super::origins::regex;
use super::regex::Anchoring;
use super::scope::{self, PathMatch, Scope};
use super::{string_items, Draft, Item, Route, Severity, Source};
use serde_json::{Map, Value};

/// Kong's answer to a preflight when `methods` is not set.
const DEFAULT_METHODS: [&str; 9] = [
    "GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS", "TRACE", "CONNECT",
];

/// The fields that make an object a `cors` plugin `config`.
const CONFIG_FIELDS: [&str; 7] = [
    "origins",
    "methods",
    "headers",
    "exposed_headers",
    "credentials",
    "max_age",
    "preflight_continue",
];

/// Route fields that are conditions a policy's `match` cannot carry.
const LOST_CONDITIONS: [&str; 5] = ["methods", "headers", "snis", "sources", "destinations"];

pub fn read(documents: &[Value]) -> Result<Vec<Route>, String> {
    let mut routes = Vec::new();
    for document in documents {
        let Some(services) = document.get("services").and_then(Value::as_array) else {
            let mut found = Vec::new();
            find_plugins(document, "", &mut found);
            for plugin in found {
                let mut draft = Draft::new(Source::Kong);
                config(&mut draft, &plugin.path, plugin.config);
                draft.flag(Severity::Changed, plugin.path.trim_end_matches('.'), "a cors plugin without its service or route: the policy applies to every host and path the plugin sees");
                routes.push(Route {
                    source: plugin.path.trim_end_matches('.').to_string(),
                    name: plugin.name.unwrap_or("imported").to_string(),
                    scopes: vec![Scope::default()],
                    cors: Some(draft),
                    findings: Vec::new(),
                });
            }
            continue;
        };
        let global = cors_plugin(document.get("plugins"), "plugins");
        for (s, service) in services.iter().enumerate() {
            let at = format!("services[{s}]");
            let service_cors = cors_plugin(service.get("plugins"), &format!("{at}.plugins"));
            for (r, route) in service
                .get("routes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let at = format!("{at}.routes[{r}]");
                let route_cors = cors_plugin(route.get("plugins"), &format!("{at}.plugins"));
                let name = route
                    .get("name")
                    .or(service.get("name"))
                    .and_then(Value::as_str);
                routes.push(kong_route(
                    route,
                    at,
                    name,
                    route_cors.or(service_cors.clone()).or(global.clone()),
                ));
            }
        }
    }
    if routes.iter().all(|r| r.cors.is_none()) {
        return Err("no Kong cors plugin found: expected a plugin with name (or plugin) \"cors\" and a config, or the config itself".into());
    }
    Ok(routes)
}

/// The enabled `cors` plugin of a plugin list, with its config's path.
fn cors_plugin<'a>(
    plugins: Option<&'a Value>,
    path: &str,
) -> Option<(String, &'a Map<String, Value>)> {
    let plugins = plugins.and_then(Value::as_array)?.iter().enumerate();
    plugins
        .filter(|(_, p)| {
            p.get("name") == Some(&Value::from("cors"))
                && p.get("enabled") != Some(&Value::Bool(false))
        })
        .find_map(|(i, p)| {
            Some((
                format!("{path}[{i}].config."),
                p.get("config")?.as_object()?,
            ))
        })
}

fn kong_route(
    route: &Value,
    at: String,
    name: Option<&str>,
    cors: Option<(String, &Map<String, Value>)>,
) -> Route {
    let mut findings = Vec::new();
    let mut scope = Scope::default();
    scope.hosts = scope::hosts(&mut findings, &format!("{at}.hosts"), route.get("hosts"));
    let paths = route
        .get("paths")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate();
    let paths: Option<Vec<Vec<String>>> = paths
        .map(|(i, p)| {
            let p = p.as_str().unwrap_or_default();
            // `~/v1/.*`: a regex, anchored at the start only.
            let regex = p
                .strip_prefix('~')
                .map(|r| format!("{}.*", r.strip_prefix('^').unwrap_or(r)));
            let condition = regex
                .as_deref()
                .map_or(PathMatch::Prefix(p), PathMatch::Regex);
            scope::path(&mut findings, &format!("{at}.paths[{i}]"), condition)
        })
        .collect();
    scope.paths = paths.map(|p| p.concat()).unwrap_or_default();
    for key in LOST_CONDITIONS {
        if route
            .get(key)
            .is_some_and(|v| v.as_array().is_none_or(|l| !l.is_empty()) && !v.is_null())
        {
            scope::lost_condition(&mut findings, &format!("{at}.{key}"));
        }
    }
    Route {
        source: at,
        name: name.unwrap_or("imported").to_string(),
        scopes: vec![scope],
        cors: cors.map(|(path, fields)| {
            let mut draft = Draft::new(Source::Kong);
            config(&mut draft, &path, fields);
            draft
        }),
        findings,
    }
}

struct Plugin<'a> {
    /// Prefix of the config's fields in findings: `plugins[0].config.`.
    path: String,
    name: Option<&'a str>,
    config: &'a Map<String, Value>,
}

fn find_plugins<'a>(value: &'a Value, path: &str, found: &mut Vec<Plugin<'a>>) {
    match value {
        Value::Object(fields) => {
            let is_cors = fields.get("name").or(fields.get("plugin")) == Some(&Value::from("cors"));
            if let (true, Some(Value::Object(config))) = (is_cors, fields.get("config")) {
                let name = fields
                    .get("instance_name")
                    .or(fields.get("metadata").and_then(|m| m.get("name")))
                    .and_then(Value::as_str);
                found.push(Plugin {
                    path: format!("{path}config."),
                    name,
                    config,
                });
            } else if path.is_empty() && CONFIG_FIELDS.iter().any(|f| fields.contains_key(*f)) {
                found.push(Plugin {
                    path: String::new(),
                    name: None,
                    config: fields,
                });
            } else {
                for (key, child) in fields {
                    find_plugins(child, &format!("{path}{key}."), found);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let path = path.strip_suffix('.').unwrap_or(path);
                find_plugins(child, &format!("{path}[{i}]."), found);
            }
        }
        _ => {}
    }
}

fn config(draft: &mut Draft, path: &str, config: &Map<String, Value>) {
    let at = |key: &str| format!("{path}{key}");
    let mut origins_seen = false;
    for (key, value) in config {
        let source = at(key);
        match key.as_str() {
            "origins" if value.is_null() => {}
            "origins" => {
                origins_seen = true;
                let items = string_items(draft, &source, value);
                if items.is_empty() {
                    origins_seen = false;
                }
                for item in items {
                    origin(draft, &item);
                }
            }
            "methods" if value.is_null() => {}
            "methods" => draft.methods = Some(string_items(draft, &source, value)),
            "headers" if value.is_null() => {}
            "headers" => draft.headers = string_items(draft, &source, value),
            "exposed_headers" if value.is_null() => {}
            "exposed_headers" => draft.expose = string_items(draft, &source, value),
            "credentials" => match value.as_bool() {
                Some(true) => draft.credentials = Some(source),
                Some(false) => {}
                None => draft.flag(
                    Severity::Untranslatable,
                    &source,
                    "is not true or false; left out",
                ),
            },
            "max_age" if value.is_null() => {}
            "max_age" => match value.as_f64() {
                Some(seconds) => draft.max_age = Some((source, seconds)),
                None => draft.flag(
                    Severity::Untranslatable,
                    &source,
                    "is not a number; left out",
                ),
            },
            "private_network" => draft.private_network = value.as_bool() == Some(true),
            "preflight_continue" => {
                if value.as_bool() == Some(true) {
                    draft.flag(
                        Severity::Changed,
                        &source,
                        "Kong passed preflights on to the upstream; the filter answers every preflight in its scope at the edge",
                    );
                }
            }
            "allow_origin_absent" if value.as_bool() != Some(false) => {}
            "skip_cors_when_origin_is_empty" if value.as_bool() != Some(true) => {}
            _ if value.is_null() => {}
            _ => draft.flag(Severity::Ignored, &source, "has no equivalent; left out"),
        }
    }
    if !origins_seen {
        draft.origin(&at("origins"), "*");
    }
    if draft.methods.is_none() {
        draft.methods = Some(
            DEFAULT_METHODS
                .iter()
                .map(|m| Item {
                    source: format!("{} (Kong's default)", at("methods")),
                    value: m.to_string(),
                })
                .collect(),
        );
    }
    if draft.headers.is_empty() {
        // Kong echoes whatever the preflight asks for, Authorization included.
        let source = format!("{} (Kong echoes the requested headers)", at("headers"));
        draft.headers = ["*", "Authorization"]
            .iter()
            .map(|h| Item {
                source: source.clone(),
                value: h.to_string(),
            })
            .collect();
    }
}

fn origin(draft: &mut Draft, item: &Item) {
    let entry = item.value.as_str();
    let is_regex = entry
        .bytes()
        .any(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'/' | b'-')));
    if entry == "*" {
        draft.origin(&item.source, "*");
    } else if !is_regex && entry.contains("://") {
        draft.origin(&item.source, entry);
    } else if !is_regex {
        draft.flag(
            Severity::Untranslatable,
            &item.source,
            format!("\"{entry}\" is left out: it has no scheme, and Kong compared it with the whole origin, so it never matched (write \"https://{entry}\")"),
        );
    } else {
        // Kong drops a leading `^`, appends `$` unless there, and anchors at
        // the start only: an alternative without `$` matches any tail.
        let body = entry.strip_prefix('^').unwrap_or(entry);
        let body = format!("{body}{}", if body.ends_with('$') { "" } else { "$" });
        if entry.contains(':') {
            return regex(draft, &item.source, entry, &body, Anchoring::Start);
        }
        draft.flag(Severity::Changed, &item.source, format!("regex \"{entry}\" has no \":\", so Kong matched it against the host alone, on any scheme (plain http too) and any port; it is imported for https on the default port"));
        regex(
            draft,
            &item.source,
            entry,
            &format!("https://(?:{body})"),
            Anchoring::Start,
        );
    }
}
