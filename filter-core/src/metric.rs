//! The one rule that turns a policy name into part of a metric name, shared
//! by the Envoy adapter (which names its counters with it) and config
//! validation (which refuses two names that it would merge).

use alloc::string::String;

/// A policy name as it appears in metric names (the `policy=.=<name>;.;` part
/// of `cors_requests_total`): Envoy's tag extractors read it out, so
/// only `[A-Za-z0-9_-]` is kept and anything else becomes `_` (`a.b` is
/// `a_b`). Two policies whose names give one result are refused, so that
/// their counters never merge.
pub fn metric_name_part(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '_' | '-' => c,
            _ => '_',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_characters_stay() {
        assert_eq!(metric_name_part("api-v1_x"), "api-v1_x");
        assert_eq!(metric_name_part("a.b"), "a_b");
        assert_eq!(metric_name_part("a b/é"), "a_b__");
    }
}
