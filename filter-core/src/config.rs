//! The plugin JSON: read, validated and compiled into a [`Config`].
//!
//! The document is first parsed as plain JSON, then walked by hand so that
//! every problem is collected (not only the first) and named with its policy,
//! field and value.

use crate::decision::by_length_then_bytes;
use crate::error::{ConfigError, ConfigErrors, Problem};
use crate::http::{
    is_forbidden_method, is_forbidden_request_header, is_forbidden_response_header, is_token,
    normalize_method,
};
use crate::json::{self, Value};
use crate::metric::metric_name_part;
use crate::origin::{AllowOrigins, Entry};
use crate::path::normalize_path;
use crate::scope::{HostMatch, PathMatch, Scope};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

/// The longest value quoted in an error message; longer ones are cut. Long
/// enough for any origin (a host has at most 253 bytes) to be quoted whole.
const MAX_QUOTED_VALUE: usize = 300;

/// A validated, compiled plugin configuration: the policies in order.
#[derive(Debug)]
pub struct Config {
    pub(crate) shadow: bool,
    pub(crate) policies: Vec<Policy>,
}

/// One compiled policy: its scope, its rules, and every static header value
/// already rendered, so that a decision only looks things up.
#[derive(Debug)]
pub struct Policy {
    pub(crate) index: usize,
    pub(crate) name: Box<str>,
    pub(crate) shadow: bool,
    pub(crate) scope: Scope,
    pub(crate) origins: AllowOrigins,
    pub(crate) methods: AllowMethods,
    pub(crate) headers: AllowHeaders,
    pub(crate) credentials: bool,
    pub(crate) private_network: bool,
    pub(crate) reject: bool,
    pub(crate) expose_headers: Option<Box<str>>,
    pub(crate) max_age: Option<Box<str>>,
}

#[derive(Debug)]
pub(crate) enum AllowMethods {
    /// `["*"]`: any method; the answer echoes the requested one.
    Any,
    /// The methods, and the `Access-Control-Allow-Methods` value listing them.
    List {
        methods: Vec<Box<[u8]>>,
        header: Box<str>,
    },
}

#[derive(Debug)]
pub(crate) struct AllowHeaders {
    /// `*` listed: any name but `authorization`.
    pub(crate) any: bool,
    /// Listed names, lowercase, sorted for binary search.
    pub(crate) names: Vec<Box<[u8]>>,
}

impl Config {
    /// Reads, validates and compiles a plugin JSON document.
    ///
    /// # Errors
    /// Every problem in the document, each naming the policy, field and value.
    pub fn from_json(json: &[u8]) -> Result<Config, ConfigErrors> {
        let document = json::parse(json).map_err(|e| {
            ConfigErrors(vec![ConfigError {
                policy: None,
                field: String::new(),
                value: None,
                problem: Problem::Json(e.to_string()),
            }])
        })?;
        let mut reader = Reader::default();
        let config = reader.config(&document);
        match config {
            Some(config) if reader.errors.is_empty() => Ok(config),
            _ => Err(ConfigErrors(reader.errors)),
        }
    }

    /// The first policy whose `match` fits the request, if any.
    /// `authority` is `host[:port]`; `path` is the request target as sent
    /// (it may carry a query): `match.paths` sees it as [`normalize_path`]
    /// gives it.
    pub fn policy_for(&self, authority: &[u8], path: &[u8]) -> Option<&Policy> {
        let path = normalize_path(path);
        self.policies
            .iter()
            .find(|p| p.scope.matches(authority, &path))
    }

    /// The policies, in the order they are tried.
    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// `mode: "shadow"`: decisions are made and counted, but nothing changes.
    pub fn is_shadow(&self) -> bool {
        self.shadow
    }
}

impl Policy {
    /// The policy's `name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The policy's position in `policies`, for per-policy counters.
    pub fn index(&self) -> usize {
        self.index
    }
}

/// Walks the JSON document, collecting problems as it goes.
#[derive(Default)]
struct Reader {
    errors: Vec<ConfigError>,
    /// `policy "name"` or `policies[N]` while inside a policy.
    policy: Option<String>,
}

impl Reader {
    fn report(&mut self, field: &str, value: Option<&Value>, problem: Problem) {
        self.errors.push(ConfigError {
            policy: self.policy.clone(),
            field: field.into(),
            value: value.map(quote),
            problem,
        });
    }

    fn config(&mut self, document: &Value) -> Option<Config> {
        let Some(members) = document.as_object() else {
            self.report("", Some(document), Problem::WrongType("a JSON object"));
            return None;
        };
        self.unknown_fields(members, "", &["mode", "policies"]);
        let shadow = match document.get("mode") {
            None => false,
            Some(Value::String(mode)) if mode == "enforce" => false,
            Some(Value::String(mode)) if mode == "shadow" => true,
            Some(other) => {
                self.report("mode", Some(other), Problem::BadMode);
                false
            }
        };
        let items = match document.get("policies") {
            None => {
                self.report("policies", None, Problem::Missing);
                return None;
            }
            Some(Value::Array(items)) if items.is_empty() => {
                self.report("policies", None, Problem::NoPolicies);
                return None;
            }
            Some(Value::Array(items)) => items,
            Some(other) => {
                self.report(
                    "policies",
                    Some(other),
                    Problem::WrongType("a list of policies"),
                );
                return None;
            }
        };
        let mut policies = Vec::with_capacity(items.len());
        let mut names: Vec<&str> = Vec::new();
        let mut metric_names: Vec<(String, usize)> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            self.policy = Some(format!("policies[{index}]"));
            let name = item
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty());
            if let Some(name) = name {
                self.policy = Some(format!("policy {}", quote(&Value::String(name.into()))));
                match names.iter().position(|n| *n == name) {
                    Some(first) => {
                        self.report("name", item.get("name"), Problem::DuplicateName { first })
                    }
                    None => {
                        names.push(name);
                        let metric = metric_name_part(name);
                        match metric_names.iter().find(|(m, _)| *m == metric) {
                            Some(&(_, first)) => self.report(
                                "name",
                                item.get("name"),
                                Problem::MetricNameCollision { first, metric },
                            ),
                            None => metric_names.push((metric, index)),
                        }
                    }
                }
            }
            if let Some(policy) = self.policy_entry(index, item, shadow) {
                policies.push(policy);
            }
        }
        self.policy = None;
        Some(Config { shadow, policies })
    }

    fn policy_entry(&mut self, index: usize, item: &Value, shadow: bool) -> Option<Policy> {
        let Some(members) = item.as_object() else {
            self.report("", Some(item), Problem::WrongType("a JSON object"));
            return None;
        };
        let fields = item;
        self.unknown_fields(
            members,
            "",
            &[
                "name",
                "match",
                "allow_origins",
                "allow_methods",
                "allow_headers",
                "expose_headers",
                "allow_credentials",
                "max_age",
                "allow_private_network",
                "disallowed",
            ],
        );
        let name = match fields.get("name") {
            None => {
                self.report("name", None, Problem::Missing);
                None
            }
            Some(Value::String(name)) if name.is_empty() => {
                self.report("name", fields.get("name"), Problem::EmptyString);
                None
            }
            Some(Value::String(name)) => Some(name.as_str()),
            Some(other) => {
                self.report("name", Some(other), Problem::WrongType("a string"));
                None
            }
        };
        let scope = self.scope(fields.get("match"));
        let credentials = self.boolean(fields, "allow_credentials");
        let private_network = self.boolean(fields, "allow_private_network");
        let origins = self.allow_origins(fields.get("allow_origins"), credentials);
        let methods = self.allow_methods(fields.get("allow_methods"), credentials);
        let headers = self.allow_headers(fields.get("allow_headers"), credentials);
        let expose_headers = self.expose_headers(fields.get("expose_headers"), credentials);
        let max_age = self.max_age(fields.get("max_age"));
        let reject = match fields.get("disallowed") {
            None => false,
            Some(Value::String(d)) if d == "pass" => false,
            Some(Value::String(d)) if d == "reject" => true,
            Some(other) => {
                self.report("disallowed", Some(other), Problem::BadDisallowed);
                false
            }
        };
        // One test for all the parts, so one path drops those that were read.
        let (
            Some(name),
            Some(scope),
            Some(origins),
            Some(methods),
            Some(headers),
            Some(expose_headers),
            Some(max_age),
        ) = (
            name,
            scope,
            origins,
            methods,
            headers,
            expose_headers,
            max_age,
        )
        else {
            return None;
        };
        Some(Policy {
            index,
            name: name.into(),
            shadow,
            scope,
            origins,
            methods,
            headers,
            credentials,
            private_network,
            reject,
            expose_headers,
            max_age,
        })
    }

    fn unknown_fields(&mut self, members: &[(String, Value)], prefix: &str, known: &[&str]) {
        for (key, _) in members.iter().filter(|(k, _)| !known.contains(&k.as_str())) {
            self.report(&format!("{prefix}{key}"), None, Problem::UnknownField);
        }
    }

    fn boolean(&mut self, fields: &Value, field: &str) -> bool {
        match fields.get(field) {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                self.report(field, Some(other), Problem::WrongType("true or false"));
                false
            }
        }
    }

    /// A list of strings, each with its field path (`allow_origins[2]`).
    /// Wrong types are reported; `None` means the field is unusable.
    fn strings<'v>(&mut self, field: &str, value: &'v Value) -> Option<Vec<(String, &'v str)>> {
        let Some(items) = value.as_array() else {
            self.report(field, Some(value), Problem::WrongType("a list of strings"));
            return None;
        };
        let mut strings = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let path = format!("{field}[{i}]");
            match item.as_str() {
                Some(s) => strings.push((path, s)),
                None => {
                    self.report(&path, Some(item), Problem::WrongType("a string"));
                    ok = false;
                }
            }
        }
        ok.then_some(strings)
    }

    fn scope(&mut self, value: Option<&Value>) -> Option<Scope> {
        let Some(value) = value else {
            return Some(Scope::default());
        };
        let Some(members) = value.as_object() else {
            self.report("match", Some(value), Problem::WrongType("a JSON object"));
            return None;
        };
        self.unknown_fields(members, "match.", &["hosts", "paths", "ignore_case"]);
        let hosts = self.match_list(value.get("hosts"), "match.hosts", HostMatch::parse);
        let paths = self.match_list(value.get("paths"), "match.paths", PathMatch::parse);
        let ignore_case = match value.get("ignore_case") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                self.report(
                    "match.ignore_case",
                    Some(other),
                    Problem::WrongType("true or false"),
                );
                false
            }
        };
        Some(Scope {
            hosts: hosts?,
            paths: paths?,
            ignore_case,
        })
    }

    /// `Some(None)`: the field is absent and matches anything.
    fn match_list<T>(
        &mut self,
        value: Option<&Value>,
        field: &str,
        parse: fn(&str) -> Result<T, Problem>,
    ) -> Option<Option<Vec<T>>> {
        let Some(value) = value else {
            return Some(None);
        };
        let entries = self.strings(field, value)?;
        if entries.is_empty() {
            self.report(field, None, Problem::EmptyMatchList);
            return None;
        }
        let mut parsed = Vec::with_capacity(entries.len());
        for (path, entry) in entries {
            match parse(entry) {
                Ok(p) => parsed.push(p),
                Err(problem) => self.report(&path, Some(&Value::String(entry.into())), problem),
            }
        }
        (parsed.len() == value.as_array().map_or(0, <[Value]>::len)).then_some(Some(parsed))
    }

    fn allow_origins(&mut self, value: Option<&Value>, credentials: bool) -> Option<AllowOrigins> {
        let Some(value) = value else {
            self.report("allow_origins", None, Problem::Missing);
            return None;
        };
        let entries = self.strings("allow_origins", value)?;
        if entries.is_empty() {
            self.report("allow_origins", None, Problem::EmptyList);
            return None;
        }
        let count = entries.len();
        let mut parsed = Vec::with_capacity(count);
        for (path, raw) in entries {
            let quoted = Value::String(raw.into());
            let problem = match Entry::parse(raw) {
                Err(problem) => Some(problem),
                Ok(Entry::Any) if count > 1 => Some(Problem::AnyOriginNotAlone),
                Ok(Entry::Any) if credentials => Some(Problem::CredentialsWithWildcard),
                Ok(Entry::Null) if credentials => Some(Problem::CredentialsWithNullOrigin),
                Ok(entry) if credentials && entry.is_plain_http_off_loopback() => {
                    Some(Problem::CredentialsOverPlainHttp)
                }
                Ok(entry) if credentials && entry.spanned_public_suffix().is_some() => entry
                    .spanned_public_suffix()
                    .map(|suffix| Problem::WildcardOverPublicSuffix { suffix }),
                Ok(entry) => {
                    parsed.push(entry);
                    None
                }
            };
            if let Some(problem) = problem {
                self.report(&path, Some(&quoted), problem);
            }
        }
        (parsed.len() == count).then(|| AllowOrigins::compile(parsed))
    }

    fn allow_methods(&mut self, value: Option<&Value>, credentials: bool) -> Option<AllowMethods> {
        let Some(value) = value else {
            return Some(method_list(vec!["GET", "HEAD", "POST"]));
        };
        let entries = self.strings("allow_methods", value)?;
        if entries.is_empty() {
            self.report("allow_methods", None, Problem::EmptyList);
            return None;
        }
        let count = entries.len();
        let mut any = false;
        let mut methods = Vec::with_capacity(count);
        for (path, raw) in entries {
            let quoted = Value::String(raw.into());
            if raw == "*" {
                any = true;
                if credentials {
                    self.report(&path, Some(&quoted), Problem::CredentialsWithWildcard);
                }
            } else if !is_token(raw.as_bytes()) {
                self.report(&path, Some(&quoted), Problem::NotAMethod);
            } else if is_forbidden_method(raw) {
                self.report(&path, Some(&quoted), Problem::ForbiddenMethod);
            } else {
                methods.push(normalize_method(raw).unwrap_or(raw));
            }
        }
        if methods.len() + usize::from(any) < count || (any && credentials) {
            return None;
        }
        Some(if any {
            AllowMethods::Any
        } else {
            method_list(methods)
        })
    }

    fn allow_headers(&mut self, value: Option<&Value>, credentials: bool) -> Option<AllowHeaders> {
        let Some(value) = value else {
            return Some(AllowHeaders {
                any: false,
                names: Vec::new(),
            });
        };
        let names = self.header_names(
            "allow_headers",
            value,
            credentials,
            is_forbidden_request_header,
        )?;
        let any = names.iter().any(|n| n == "*");
        // Each name inserted in its place, duplicates dropped: quadratic in
        // the worst case, but a header list is short, and the slice sort
        // costs the Envoy module some 3 KB.
        let mut sorted: Vec<Box<[u8]>> = Vec::with_capacity(names.len());
        for name in names.into_iter().filter(|n| n != "*") {
            if let Err(at) = sorted.binary_search_by(|n| by_length_then_bytes(n, name.as_bytes())) {
                sorted.insert(at, name.into_bytes().into_boxed_slice());
            }
        }
        Some(AllowHeaders { any, names: sorted })
    }

    fn expose_headers(
        &mut self,
        value: Option<&Value>,
        credentials: bool,
    ) -> Option<Option<Box<str>>> {
        let Some(value) = value else {
            return Some(None);
        };
        self.header_names(
            "expose_headers",
            value,
            credentials,
            is_forbidden_response_header,
        )?;
        let entries: Vec<&str> = value.as_array()?.iter().filter_map(Value::as_str).collect();
        Some((!entries.is_empty()).then(|| entries.join(", ").into()))
    }

    /// Header names, lowercased, or `*`; refuses non-tokens, the forbidden
    /// names and `*` with credentials.
    fn header_names(
        &mut self,
        field: &str,
        value: &Value,
        credentials: bool,
        forbidden: fn(&str) -> bool,
    ) -> Option<Vec<String>> {
        let entries = self.strings(field, value)?;
        let count = entries.len();
        let mut names = Vec::with_capacity(count);
        for (path, raw) in entries {
            let quoted = Value::String(raw.into());
            let lower = raw.to_ascii_lowercase();
            if raw == "*" && credentials {
                self.report(&path, Some(&quoted), Problem::CredentialsWithWildcard);
            } else if raw != "*" && !is_token(raw.as_bytes()) {
                self.report(&path, Some(&quoted), Problem::NotAHeaderName);
            } else if forbidden(&lower) {
                self.report(
                    &path,
                    Some(&quoted),
                    if field == "allow_headers" {
                        Problem::ForbiddenRequestHeader
                    } else {
                        Problem::ForbiddenResponseHeader
                    },
                );
            } else {
                names.push(lower);
            }
        }
        (names.len() == count).then_some(names)
    }

    fn max_age(&mut self, value: Option<&Value>) -> Option<Option<Box<str>>> {
        let Some(value) = value else {
            return Some(None);
        };
        // Istio hands the config over as a protobuf Struct: 3600 arrives as 3600.0.
        match value.as_whole_number() {
            Some(s) if s <= 86400 => Some(Some(s.to_string().into())),
            _ => {
                self.report("max_age", Some(value), Problem::MaxAgeOutOfRange);
                None
            }
        }
    }
}

fn method_list(methods: Vec<&str>) -> AllowMethods {
    let mut unique: Vec<&str> = Vec::with_capacity(methods.len());
    for m in methods {
        if !unique.contains(&m) {
            unique.push(m);
        }
    }
    AllowMethods::List {
        header: unique.join(", ").into(),
        methods: unique
            .into_iter()
            .map(|m| Box::from(m.as_bytes()))
            .collect(),
    }
}

/// A value as JSON, cut short when long, for error messages.
fn quote(value: &Value) -> String {
    let mut json = value.to_string();
    if json.len() > MAX_QUOTED_VALUE {
        let mut end = MAX_QUOTED_VALUE;
        while !json.is_char_boundary(end) {
            end -= 1;
        }
        json.truncate(end);
        json.push('…');
    }
    json
}
