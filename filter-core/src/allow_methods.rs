//! `Access-Control-Allow-Methods`: the methods a preflight may ask for.

use crate::error::{FieldPath, Problem, Report};
use crate::http::{is_forbidden_method, is_safelisted_method, is_token, normalize_method};
use alloc::borrow::ToOwned;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

/// What `allow_methods` left out means: the methods browsers never ask for.
const DEFAULT: [&str; 3] = ["GET", "HEAD", "POST"];

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

impl AllowMethods {
    /// Checks and compiles `allow_methods` (`None`: left out). Also gives
    /// back the list the engine runs: the default filled in, the six methods
    /// browsers uppercase uppercased, duplicates dropped.
    pub(crate) fn compile(
        methods: Option<&[String]>,
        credentials: bool,
        report: &mut Report,
    ) -> Option<(AllowMethods, Vec<String>)> {
        let field = FieldPath::field("allow_methods");
        let Some(methods) = methods else {
            return Some(list(DEFAULT.iter().copied()));
        };
        if methods.is_empty() {
            report.problem::<str>(field, None, Problem::EmptyList);
            return None;
        }
        let mut any = false;
        let mut valid = Vec::with_capacity(methods.len());
        for (i, raw) in methods.iter().enumerate() {
            let problem = if raw == "*" {
                any = true;
                credentials.then_some(Problem::CredentialsWithWildcard)
            } else if !is_token(raw.as_bytes()) {
                Some(Problem::NotAMethod)
            } else if is_forbidden_method(raw) {
                Some(Problem::ForbiddenMethod)
            } else {
                valid.push(normalize_method(raw).unwrap_or(raw));
                None
            };
            if let Some(problem) = problem {
                report.problem(field.clone().index(i), Some(raw), problem);
            }
        }
        if valid.len() + usize::from(any) < methods.len() || (any && credentials) {
            return None;
        }
        Some(if any {
            (AllowMethods::Any, Vec::from(["*".to_owned()]))
        } else {
            list(valid.into_iter())
        })
    }

    /// The `Access-Control-Allow-Methods` value, if `method` is allowed.
    pub(crate) fn allow<'a>(&'a self, method: &'a [u8]) -> Option<&'a str> {
        match self {
            AllowMethods::Any if is_token(method) => core::str::from_utf8(method).ok(),
            AllowMethods::Any => None,
            AllowMethods::List { methods, header } => (is_safelisted_method(method)
                || methods.iter().any(|m| **m == *method))
            .then_some(&**header),
        }
    }
}

fn list<'m>(methods: impl Iterator<Item = &'m str>) -> (AllowMethods, Vec<String>) {
    let mut unique: Vec<String> = Vec::new();
    for m in methods {
        if !unique.iter().any(|u| u == m) {
            unique.push(m.to_owned());
        }
    }
    let compiled = AllowMethods::List {
        header: unique.join(", ").into(),
        methods: unique.iter().map(|m| Box::from(m.as_bytes())).collect(),
    };
    (compiled, unique)
}
