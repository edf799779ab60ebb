//! Kong's `cors` plugin: its `config`, alone, as a plugin entity (`name:
//! cors`), a `KongPlugin` resource (`plugin: cors`) or inside a decK
//! declarative file.
//!
//! Kong reads an `origins` entry with any character outside
//! `[A-Za-z0-9.:/-]` as a regex (PCRE): it drops a leading `^`, appends `$`,
//! anchors the match at the start, and matches an entry without `:` against
//! the request's host alone.

use super::regex::{Anchoring, SourceRegex, Subject};
use super::{string_items, Draft, Item, Options, Severity, Source};
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

pub fn read(documents: &[Value], options: &Options) -> Result<Draft, String> {
    let mut found = Vec::new();
    for document in documents {
        find_plugins(document, "", &mut found);
    }
    let mut found = found.into_iter();
    let Some(plugin) = found.next() else {
        return Err("no Kong cors plugin found: expected a plugin with name (or plugin) \"cors\" and a config, or the config itself".into());
    };
    let name = options
        .name
        .or(plugin.name)
        .unwrap_or("imported")
        .to_string();
    let mut draft = Draft::new(Source::Kong, name);
    for other in found {
        draft.flag(
            Severity::Ignored,
            other.path.trim_end_matches('.'),
            "another cors plugin in the file; only the first is imported",
        );
    }
    config(&mut draft, &plugin.path, plugin.config);
    Ok(draft)
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
        let subject = if entry.contains(':') {
            Subject::Origin
        } else {
            Subject::Host
        };
        let regex = match SourceRegex::parse(entry, Anchoring::KongStart, subject) {
            Ok(regex) => regex,
            Err(why) => {
                draft.flag(
                    Severity::Untranslatable,
                    &item.source,
                    format!("regex \"{entry}\" is left out: it {why}"),
                );
                return;
            }
        };
        match regex.translate() {
            Ok(entries) => {
                if subject == Subject::Host {
                    draft.flag(
                        Severity::Changed,
                        &item.source,
                        format!("regex \"{entry}\" has no \":\", so Kong matched it against the host alone, on any scheme (plain http too) and any port; imported for https on the default port as {}", entries.join(", ")),
                    );
                }
                for translated in entries {
                    draft.origin(&item.source, translated);
                }
            }
            Err(refusal) => draft.flag(
                if refusal.over_broad {
                    Severity::Insecure
                } else {
                    Severity::Untranslatable
                },
                &item.source,
                format!("regex \"{entry}\" is left out: it {}", refusal.message),
            ),
        }
    }
}
