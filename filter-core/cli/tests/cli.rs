//! The command line itself: help for each subcommand, the version, and the
//! exit codes of `explain --expect`.

mod common;
use common::{file, run, SPEC_CONFIG};

#[test]
fn each_subcommand_has_its_own_help() {
    let top = run(&["--help"]);
    assert_eq!(top.code, 0);
    for command in ["check", "explain", "import"] {
        assert!(top.stdout.contains(command), "{}", top.stdout);
    }
    let check = run(&["check", "--help"]);
    assert_eq!(check.code, 0);
    assert!(check.stdout.contains("--production"), "{}", check.stdout);
    assert!(check.stdout.contains("wrangler.toml"), "{}", check.stdout);
    let explain = run(&["help", "explain"]);
    assert_eq!(explain.code, 0);
    assert!(
        explain.stdout.contains("--expect <EXPECT>"),
        "{}",
        explain.stdout
    );
    assert!(
        explain.stdout.contains("4 the outcome is not --expect"),
        "{}",
        explain.stdout
    );
    assert!(
        !explain.stdout.contains("--production"),
        "{}",
        explain.stdout
    );
    assert_ne!(check.stdout, explain.stdout);
}

#[test]
fn version_names_the_crate_and_the_public_suffix_snapshot() {
    let run = run(&["--version"]);
    assert_eq!(run.code, 0);
    let expected = format!(
        "cors-filter {} (public suffix list of {})\n",
        env!("CARGO_PKG_VERSION"),
        filter_core::PSL_SNAPSHOT_DATE
    );
    assert_eq!(run.stdout, expected);
}

fn expect(expected: &str, origin: &str) -> common::Run {
    let config = file("expect-spec.json", SPEC_CONFIG);
    let origin = format!("Origin: {origin}");
    run(&[
        "explain",
        &config,
        "--method",
        "GET",
        "--url",
        "https://api.example.com/api/items",
        "--header",
        &origin,
        "--expect",
        expected,
    ])
}

#[test]
fn expect_exits_4_when_the_outcome_differs() {
    assert_eq!(expect("allowed", "https://app.example.com").code, 0);
    assert_eq!(expect("denied", "https://evil.example").code, 0);
    let wrong = expect("allowed", "https://evil.example");
    assert_eq!(wrong.code, 4);
    wrong.has_err_line("cors-filter: expected allowed, but the outcome is actual_denied");
    assert_eq!(expect("denied", "https://app.example.com").code, 4);
    assert_eq!(expect("maybe", "https://app.example.com").code, 2);
}

#[test]
fn expect_fails_when_no_policy_applies() {
    let config = file("expect-none.json", SPEC_CONFIG);
    let run = run(&[
        "explain",
        &config,
        "--method",
        "GET",
        "--url",
        "https://other.example.com/api/items",
        "--expect",
        "denied",
    ]);
    assert_eq!(run.code, 4);
    run.has_err_line("cors-filter: expected denied, but the outcome is none: no policy applies");
}
