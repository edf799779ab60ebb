//! The compiled config: a [`PluginConfig`] checked as a whole and turned into
//! lookups and ready-made header values, so that a decision only looks things
//! up. The user's model and the compiled form are kept apart; the compiled one
//! can still hand back the model it runs, normalized.

use crate::allow_headers::AllowHeaders;
use crate::allow_methods::AllowMethods;
use crate::error::{ConfigErrors, FieldPath, PolicyRef, Problem, Report};
use crate::metric::metric_name_part;
use crate::model::{Disallowed, Match, Mode, PluginConfig, PolicyConfig};
use crate::origin::AllowOrigins;
use crate::path::normalize_path;
use crate::scope::{HostMatch, PathMatch, Scope};
use crate::{allow_origin, expose_headers, max_age};
use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::Number;

/// A validated, compiled plugin configuration: the policies in order.
#[derive(Debug)]
pub struct Config {
    pub(crate) shadow: bool,
    pub(crate) policies: Vec<Policy>,
    normalized: PluginConfig,
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

impl Config {
    /// Reads, validates and compiles a plugin JSON document.
    ///
    /// # Errors
    /// A document that does not fit the model gives one error with its line,
    /// column and path; one that does gives every problem that [`Config::compile`] finds.
    pub fn from_json(json: &[u8]) -> Result<Config, ConfigErrors> {
        Config::compile(&PluginConfig::from_json(json)?)
    }

    /// Validates and compiles a plugin configuration.
    ///
    /// # Errors
    /// Every problem in the configuration, each naming the policy, field and value.
    pub fn compile(config: &PluginConfig) -> Result<Config, ConfigErrors> {
        let mut report = Report::default();
        let shadow = config.mode == Mode::Shadow;
        if config.policies.is_empty() {
            report.problem::<str>(FieldPath::field("policies"), None, Problem::NoPolicies);
        }
        let mut policies = Vec::with_capacity(config.policies.len());
        let mut normalized = Vec::with_capacity(config.policies.len());
        for (index, policy) in config.policies.iter().enumerate() {
            let name = &policy.name;
            report.policy = Some(PolicyRef {
                index,
                name: (!name.is_empty()).then(|| name.clone()),
            });
            let first = config.policies[..index]
                .iter()
                .position(|p| p.name == *name);
            if name.is_empty() {
                report.problem(FieldPath::field("name"), Some(name), Problem::EmptyString);
            } else if let Some(first) = first {
                let problem = Problem::DuplicateName { first };
                report.problem(FieldPath::field("name"), Some(name), problem);
            } else if let Some(problem) = metric_name_collision(&config.policies[..index], name) {
                report.problem(FieldPath::field("name"), Some(name), problem);
            }
            if let Some((compiled, model)) = compile_policy(index, policy, shadow, &mut report) {
                policies.push(compiled);
                normalized.push(model);
            }
        }
        if !report.errors.is_empty() {
            return Err(ConfigErrors(report.errors));
        }
        let normalized = PluginConfig {
            schema: None,
            mode: config.mode,
            policies: normalized,
        };
        Ok(Config {
            shadow,
            policies,
            normalized,
        })
    }

    /// The configuration this one runs, as a [`PluginConfig`]: defaults
    /// filled in, origins, methods and header names as the engine compares
    /// them. Compiling it gives the same behaviour.
    pub fn plugin_config(&self) -> &PluginConfig {
        &self.normalized
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

    /// Whether `match.hosts` takes a request to `authority` (`host[:port]`)
    /// and whether `match.paths` takes its `path`, asked apart, so that a
    /// tool can say which of the two kept a policy from applying.
    /// [`Config::policy_for`] picks the first policy where both do.
    pub fn matches(&self, authority: &[u8], path: &[u8]) -> (bool, bool) {
        let path = normalize_path(path);
        (
            self.scope.matches_host(authority),
            self.scope.matches_path(&path),
        )
    }

    /// Whether `allow_origins` allows a request's `Origin` value, as a
    /// decision compares it (byte for byte with the serialized entries).
    pub fn allows_origin(&self, origin: &[u8]) -> bool {
        self.origins.allows(origin)
    }
}

/// Compiles one policy, and gives it back normalized. Every part is checked
/// even when an earlier one failed, so that all problems are reported.
fn compile_policy(
    index: usize,
    policy: &PolicyConfig,
    shadow: bool,
    report: &mut Report,
) -> Option<(Policy, PolicyConfig)> {
    let credentials = policy.allow_credentials;
    let scope = compile_scope(&policy.r#match, report);
    let origins = allow_origin::compile(&policy.allow_origins, credentials, report);
    let methods = AllowMethods::compile(policy.allow_methods.as_deref(), credentials, report);
    let headers = AllowHeaders::compile(&policy.allow_headers, credentials, report);
    let expose = expose_headers::compile(&policy.expose_headers, credentials, report);
    let max_age = max_age::compile(policy.max_age.as_ref(), report);
    // One test for all the parts, so one path drops those that were read.
    let (
        Some(scope),
        Some((origins, allow_origins)),
        Some((methods, allow_methods)),
        Some((headers, allow_headers)),
        Some(expose_headers),
        Some(max_age),
    ) = (scope, origins, methods, headers, expose, max_age)
    else {
        return None;
    };
    let compiled = Policy {
        index,
        name: policy.name.as_str().into(),
        shadow,
        scope,
        origins,
        methods,
        headers,
        credentials,
        private_network: policy.allow_private_network,
        reject: policy.disallowed == Disallowed::Reject,
        expose_headers,
        max_age: max_age.map(|s| s.to_string().into()),
    };
    let mut normalized = PolicyConfig {
        allow_origins,
        allow_methods: Some(allow_methods),
        allow_headers,
        max_age: max_age.map(Number::from),
        ..policy.clone()
    };
    // Hosts are compared ignoring case: handed back as they are compared.
    if let Some(hosts) = &mut normalized.r#match.hosts {
        hosts.iter_mut().for_each(|h| h.make_ascii_lowercase());
    }
    Some((compiled, normalized))
}

fn compile_scope(scope: &Match, report: &mut Report) -> Option<Scope> {
    let field = FieldPath::field("match");
    let hosts = match_list(
        scope.hosts.as_deref(),
        field.clone().then("hosts"),
        HostMatch::parse,
        report,
    );
    let paths = match_list(
        scope.paths.as_deref(),
        field.then("paths"),
        PathMatch::parse,
        report,
    );
    Some(Scope {
        hosts: hosts?,
        paths: paths?,
        ignore_case: scope.ignore_case,
    })
}

/// Two names that become one metric name (`a.b` and `a_b`) would merge their
/// counters in Envoy: the later one is refused.
fn metric_name_collision(earlier: &[PolicyConfig], name: &str) -> Option<Problem> {
    let metric = metric_name_part(name);
    let first = earlier
        .iter()
        .position(|p| !p.name.is_empty() && metric_name_part(&p.name) == metric)?;
    Some(Problem::MetricNameCollision { first, metric })
}

/// A `match` list: `None` left out (matches anything), refused when empty.
fn match_list<T>(
    entries: Option<&[String]>,
    field: FieldPath,
    parse: fn(&str) -> Result<T, Problem>,
    report: &mut Report,
) -> Option<Option<Vec<T>>> {
    let Some(entries) = entries else {
        return Some(None);
    };
    if entries.is_empty() {
        report.problem::<str>(field, None, Problem::EmptyMatchList);
        return None;
    }
    let mut parsed = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        match parse(entry) {
            Ok(p) => parsed.push(p),
            Err(problem) => report.problem(field.clone().index(i), Some(entry), problem),
        }
    }
    (parsed.len() == entries.len()).then_some(Some(parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_parts_and_origins_asked_apart() {
        let config = Config::from_json(
            br#"{"policies": [{"name": "api", "match": {"hosts": ["api.example.com"],
                "paths": ["/v1/*"]}, "allow_origins": ["https://*.example.com"]}]}"#,
        )
        .unwrap();
        let policy = &config.policies()[0];
        assert_eq!(
            policy.matches(b"api.example.com:443", b"/v1/x?q"),
            (true, true)
        );
        assert_eq!(policy.matches(b"www.example.com", b"/v2"), (false, false));
        assert_eq!(
            policy.matches(b"api.example.com", b"/v1/../v2"),
            (true, false)
        );
        assert!(policy.allows_origin(b"https://app.example.com"));
        assert!(!policy.allows_origin(b"https://example.com"));
    }

    #[test]
    fn hands_back_the_config_it_runs() {
        let config = Config::from_json(
            br#"{"$schema": "s", "policies": [{"name": "api",
                "allow_origins": ["HTTPS://App.Example.com:443", "https://*.Example.com:*"],
                "allow_headers": ["X-A", "x-a", "*"], "expose_headers": ["X-B"],
                "allow_methods": ["put", "PATCH", "PUT"], "max_age": 600.0}]}"#,
        )
        .unwrap();
        let normalized = config.plugin_config();
        let policy = &normalized.policies[0];
        assert_eq!(normalized.schema, None);
        assert_eq!(
            policy.allow_origins,
            ["https://app.example.com", "https://*.example.com:*"]
        );
        assert_eq!(
            policy.allow_methods.as_deref(),
            Some(&["PUT", "PATCH"].map(String::from)[..])
        );
        assert_eq!(policy.allow_headers, ["x-a", "*"]);
        assert_eq!(policy.expose_headers, ["X-B"]);
        assert_eq!(policy.max_age, Some(Number::from(600)));

        let default =
            Config::from_json(br#"{"policies": [{"name": "a", "allow_origins": ["*"]}]}"#).unwrap();
        let methods = default.plugin_config().policies[0].allow_methods.clone();
        assert_eq!(
            methods.as_deref(),
            Some(&["GET", "HEAD", "POST"].map(String::from)[..])
        );

        let again = Config::compile(normalized).unwrap();
        assert_eq!(again.plugin_config(), normalized);
    }
}
