//! The table runner the rule and refusal tests share: each row is named, and
//! a failing table lists every row that failed before it fails, so one run
//! shows the whole extent of a regression.

/// A table: named rows.
pub type Rows<'a, R> = [(&'a str, R)];

/// Runs `check` on every row, then fails listing every row that failed.
pub fn table<R>(rows: &Rows<R>, check: impl Fn(&R) -> Result<(), String>) {
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|(name, row)| check(row).err().map(|why| format!("{name}: {why}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}
