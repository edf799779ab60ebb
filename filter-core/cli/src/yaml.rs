//! YAML reading, in one place for every subcommand: Envoy, Istio, Kong and
//! Gateway API files are YAML, and JSON is read as YAML too.

use serde_json::Value;

/// Every document of `text` (documents are separated by `---`), as JSON
/// values. Empty and `null` documents are skipped. A duplicate key, an alias
/// bomb or a syntax error is refused with its line and column.
///
/// # Errors
/// The parser's message, which names the line and column.
pub fn documents(text: &str) -> Result<Vec<Value>, String> {
    serde_saphyr::from_multiple(text).map_err(|e| format!("not valid YAML or JSON: {e}"))
}
