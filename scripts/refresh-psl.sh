#!/usr/bin/env bash
# Refreshes the Public Suffix List snapshot compiled into filter-core:
#   filter-core/src/psl/suffixes.txt   the rules as a compact trie (format: filter-core/src/psl.rs)
#   filter-core/src/psl/date.txt       the snapshot's date, shown by `cors-filter --version`
# The list comes from the PyPI package `psl` (the list as published by
# publicsuffix.org, IDNs in punycode, versioned by date), fetched with pip.
# Usage: scripts/refresh-psl.sh [VERSION]    (e.g. 2025.5.26; default: the newest)
# Then review the diff, run `cargo test -p filter-core`, and commit both files.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERSION="${1:-}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$work" "psl${VERSION:+==$VERSION}"

python3 - "$work" "$ROOT/filter-core/src/psl" <<'EOF'
import pathlib, re, sys, zipfile

work, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wheel = next(work.glob("psl-*.whl"))
version = re.match(r"psl-(\d+)\.(\d+)\.(\d+)-", wheel.name)
date = "%s-%02d-%02d" % (version[1], int(version[2]), int(version[3]))
text = zipfile.ZipFile(wheel).read("psl/psl.txt").decode("utf-8")


def ascii_label(label):
    label = label.lower()
    if label.isascii():
        return label
    return "xn--" + label.encode("punycode").decode("ascii")


# One node per label, children keyed by label; "" marks a node that is a
# rule itself. Wildcard (`*`) and exception (`!label`) rules are children.
trie = {}
rules = 0
for line in text.splitlines():
    rule = line.strip().split(" ")[0]
    if not rule or rule.startswith("//"):
        continue
    exception = rule.startswith("!")
    labels = [ascii_label(l) for l in rule.lstrip("!").split(".")]
    if exception:
        labels[0] = "!" + labels[0]
    node = trie
    for label in reversed(labels):
        node = node.setdefault(label, {})
    node[""] = True
    rules += 1


def children(node):
    return sorted(k for k in node if k)


def serialize(node):
    parts = []
    for label in children(node):
        child = node[label]
        part = label if "" in child else "?" + label
        if children(child):
            part += "{" + serialize(child) + "}"
        parts.append(part)
    return ",".join(parts)


# A top-level label without rules below it says nothing the engine does not
# already assume: every single label is a public suffix.
top = {label: node for label, node in trie.items() if children(node)}
data = serialize(top)
assert re.fullmatch(r"[a-z0-9\-_?*!{},]*", data), "unexpected character in the list"
(out / "suffixes.txt").write_text(data)
(out / "date.txt").write_text(date)
print(f"Public Suffix List {date}: {rules} rules, {len(data)} bytes in {out / 'suffixes.txt'}")
EOF
