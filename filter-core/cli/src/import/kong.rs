//! Kong's `cors` plugin. In a decK declarative file every route of every
//! service is a route with its `hosts` and `paths` as scope, and the `cors`
//! plugin of the route, else of its service, else the global one. A plugin
//! entity (`name: cors`), a `KongPlugin` resource (`plugin: cors`) or a
//! `config` alone is read too, and applies everywhere.
//!
//! Kong reads an `origins` entry with any character outside
//! `[A-Za-z0-9.:/-]` as a regex (PCRE), and matches one without `:` against
//! the request's host alone.

use super::regex::{self, Anchoring};
use super::scope::{self, PathMatch};
use super::{list, string_items, walk, Draft, Item, Route, Severity};
use filter_core::Match;
use serde_json::{Map, Value};

/// Kong's answer to a preflight when `methods` is not set.
const DEFAULT_METHODS: [&str; 9] = [
    "GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS", "TRACE", "CONNECT",
];

/// Route fields that are conditions a policy's `match` cannot carry.
const LOST_CONDITIONS: [&str; 5] = ["methods", "headers", "snis", "sources", "destinations"];

/// A plugin's `config` and the path of its fields in findings.
type Config<'a> = (String, &'a Map<String, Value>);

pub fn read(documents: &[Value]) -> Vec<Route> {
    let mut routes = Vec::new();
    for document in documents {
        let Some(services) = document["services"].as_array() else {
            walk(document, "", &mut |fields, path| {
                alone(fields, path, &mut routes)
            });
            continue;
        };
        // Top-level plugins name their service or route, or apply to all.
        let plugins = document.get("plugins");
        let all = |p: &Value| {
            ["service", "route", "consumer"]
                .iter()
                .all(|k| p.get(k).is_none())
        };
        let global = cors_plugin(plugins, "plugins", all);
        for (s, service) in services.iter().enumerate() {
            let at = format!("services[{s}]");
            let service_cors =
                cors_plugin(service.get("plugins"), &format!("{at}.plugins"), |_| true)
                    .or_else(|| cors_plugin(plugins, "plugins", |p| names(p, "service", service)));
            for (r, route) in list(service.get("routes")) {
                let at = format!("{at}.routes[{r}]");
                let own = cors_plugin(route.get("plugins"), &format!("{at}.plugins"), |_| true)
                    .or_else(|| cors_plugin(plugins, "plugins", |p| names(p, "route", route)));
                let name = route
                    .get("name")
                    .or(service.get("name"))
                    .and_then(Value::as_str);
                let cors = own.or(service_cors.clone()).or(global.clone());
                routes.push(kong_route(route, at, name, cors));
            }
        }
    }
    routes
}

/// Whether a top-level plugin names `entity` (a service or route) as its
/// `key`, by name or as `{name: ...}`.
fn names(plugin: &Value, key: &str, entity: &Value) -> bool {
    let named = match plugin.get(key) {
        Some(Value::Object(by)) => by.get("name"),
        other => other,
    };
    entity.get("name").is_some() && named == entity.get("name")
}

/// The first enabled `cors` plugin of a plugin list that `pick` takes.
fn cors_plugin<'a>(
    plugins: Option<&'a Value>,
    path: &str,
    pick: impl Fn(&Value) -> bool,
) -> Option<Config<'a>> {
    let enabled = |p: &Value| {
        p.get("name") == Some(&Value::from("cors")) && p.get("enabled") != Some(&Value::Bool(false))
    };
    list(plugins)
        .filter(|(_, p)| enabled(p) && pick(p))
        .find_map(|(i, p)| {
            Some((
                format!("{path}[{i}].config."),
                p.get("config")?.as_object()?,
            ))
        })
}

fn kong_route(route: &Value, at: String, name: Option<&str>, cors: Option<Config>) -> Route {
    let mut findings = Vec::new();
    let hosts = scope::hosts(&mut findings, &format!("{at}.hosts"), route.get("hosts"));
    let paths: Option<Vec<Vec<String>>> = list(route.get("paths"))
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
    for key in LOST_CONDITIONS {
        if route
            .get(key)
            .is_some_and(|v| !v.is_null() && v != &Value::Array(Vec::new()))
        {
            scope::lost_condition(&mut findings, &format!("{at}.{key}"));
        }
    }
    Route {
        source: at,
        name: name.unwrap_or("imported").to_string(),
        scopes: vec![Match {
            hosts,
            paths: paths.map(|p| p.concat()).filter(|p| !p.is_empty()),
            ignore_case: false,
        }],
        cors: cors.map(config),
        findings,
    }
}

/// A plugin found without its service and route: a plugin entity (`name:
/// cors`), a `KongPlugin` (`plugin: cors`), or a `config` alone.
fn alone(fields: &Map<String, Value>, path: &str, routes: &mut Vec<Route>) -> bool {
    let config_fields = [
        "origins",
        "methods",
        "headers",
        "exposed_headers",
        "credentials",
        "max_age",
    ];
    let is_cors = fields.get("name").or(fields.get("plugin")) == Some(&Value::from("cors"));
    let name = fields
        .get("instance_name")
        .or(fields.get("metadata").and_then(|m| m.get("name")));
    if let (true, Some(Value::Object(plugin))) = (is_cors, fields.get("config")) {
        let draft = config((format!("{path}config."), plugin));
        routes.push(Route::everywhere(
            path.trim_end_matches('.'),
            name.and_then(Value::as_str),
            draft,
        ));
    } else if path.is_empty() && config_fields.iter().any(|f| fields.contains_key(*f)) {
        routes.push(Route::everywhere("", None, config((String::new(), fields))));
    } else {
        return false;
    }
    true
}

/// A plugin's `config` as a draft, with Kong's defaults where it leaves
/// fields out.
fn config((path, config): Config) -> Draft {
    let mut draft = Draft::new("Kong");
    for (key, value) in config.iter().filter(|(_, v)| !v.is_null()) {
        let source = format!("{path}{key}");
        match (key.as_str(), value.as_bool()) {
            ("origins", _) => {
                for item in string_items(&mut draft, &source, value) {
                    origin(&mut draft, &item);
                }
            }
            ("methods", _) => draft.methods = Some(string_items(&mut draft, &source, value)),
            ("headers", _) => draft.headers = string_items(&mut draft, &source, value),
            ("exposed_headers", _) => draft.expose = string_items(&mut draft, &source, value),
            ("credentials", Some(true)) => draft.credentials = Some(source),
            ("max_age", _) if value.is_number() => {
                draft.max_age = value.as_f64().map(|s| (source, s))
            }
            ("private_network", Some(on)) => draft.private_network = on,
            ("preflight_continue", Some(true)) => {
                let why = "Kong passed preflights on to the upstream; the filter answers every preflight in its scope at the edge";
                draft.flag(Severity::Changed, &source, why);
            }
            ("credentials" | "preflight_continue", Some(false)) => {}
            ("allow_origin_absent", Some(true))
            | ("skip_cors_when_origin_is_empty", Some(false)) => {}
            _ => draft.flag(Severity::Ignored, &source, "has no equivalent; left out"),
        }
    }
    let default = |source: String, values: &[&str]| -> Vec<Item> {
        let item = |v: &&str| Item {
            source: source.clone(),
            value: v.to_string(),
        };
        values.iter().map(item).collect()
    };
    if draft.origins.is_empty()
        && config
            .get("origins")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
    {
        draft.origin(&format!("{path}origins"), "*");
    }
    if draft.methods.is_none() {
        draft.methods = Some(default(
            format!("{path}methods (Kong's default)"),
            &DEFAULT_METHODS,
        ));
    }
    if draft.headers.is_empty() {
        // Kong echoes whatever the preflight asks for, Authorization included.
        let source = format!("{path}headers (Kong echoes the requested headers)");
        draft.headers = default(source, &["*", "Authorization"]);
    }
    draft
}

fn origin(draft: &mut Draft, item: &Item) {
    let entry = item.value.as_str();
    let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'/' | b'-');
    if entry == "*" || entry.bytes().all(plain) && entry.contains("://") {
        return draft.origin(&item.source, entry);
    }
    if entry.bytes().all(plain) {
        let why = format!("\"{entry}\" is left out: it has no scheme, and Kong compared it with the whole origin, so it never matched (write \"https://{entry}\")");
        return draft.flag(Severity::Untranslatable, &item.source, why);
    }
    // Kong drops a leading `^`, appends `$` unless there, and anchors at the
    // start only: an alternative without `$` matches any tail.
    let body = entry.strip_prefix('^').unwrap_or(entry);
    let body = format!("{body}{}", if body.ends_with('$') { "" } else { "$" });
    if entry.contains(':') {
        return regex::import(draft, &item.source, entry, &body, Anchoring::Start);
    }
    let why = format!("regex \"{entry}\" has no \":\", so Kong matched it against the host alone, on any scheme (plain http too) and any port; it is imported for https on the default port");
    draft.flag(Severity::Changed, &item.source, why);
    let pattern = format!("https://(?:{body})");
    regex::import(draft, &item.source, entry, &pattern, Anchoring::Start);
}
