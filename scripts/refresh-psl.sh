#!/usr/bin/env bash
# Refreshes the Public Suffix List snapshot compiled into filter-core:
#   filter-core/src/psl/suffixes.bin   the rules as a compact trie (format: filter-core/src/psl.rs)
#   filter-core/src/psl/words.txt      the labels that trie writes as one symbol
#   filter-core/src/psl/date.txt       the snapshot's date, shown by `cors-filter --version`
# The list comes from the PyPI package `publicsuffixlist`, which ships
# publicsuffix.org's public_suffix_list.dat unchanged and names its date in
# its version (1.1.2.20261023), fetched with pip. It is refreshed within days
# of the upstream list; Debian's `publicsuffix` package lags by years.
# Usage: scripts/refresh-psl.sh [VERSION]    (e.g. 1.1.2.20261023; default: the newest)
# Then review the diff, run `cargo test -p filter-core`, and commit both files.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERSION="${1:-}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$work" "publicsuffixlist${VERSION:+==$VERSION}"

python3 - "$work" "$ROOT/filter-core/src/psl" <<'EOF'
import pathlib, re, sys, zipfile
from collections import Counter

work, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wheel = next(work.glob("publicsuffixlist-*.whl"))
stamp = re.match(r"publicsuffixlist-[\d.]*?\.(\d{4})(\d{2})(\d{2})-", wheel.name)
date = "-".join(stamp.groups())
text = zipfile.ZipFile(wheel).read("publicsuffixlist/public_suffix_list.dat").decode("utf-8")


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

# Six bits a symbol: the 43 characters of the grammar, then the labels that
# save the most as one symbol each (codes 43 to 62); 63 pads the end. After
# each `{` comes the length of what is inside the braces, in symbols, so that
# a reader skips a subtree at once. Format: filter-core/src/psl.rs.
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-,{}?*!"
counts = Counter(re.findall(r"[a-z0-9\-]+", serialize(top)))
gain = lambda label: (len(label) - 1) * counts[label] - len(label)
words = sorted(counts, key=lambda l: (-gain(l), l))[: 63 - len(ALPHABET)]
code = {w: len(ALPHABET) + i for i, w in enumerate(words)}


def symbols_of_label(label):
    prefix = [ALPHABET.index("!")] if label.startswith("!") else []
    label = label.lstrip("!")
    assert set(label) <= set(ALPHABET[:37]) | {"*"}, "unexpected label %r" % label
    return prefix + ([code[label]] if label in code else [ALPHABET.index(c) for c in label])


def varint(n):
    """Five bits a symbol, least significant first; 32 marks that more follow."""
    digits = []
    while True:
        digits.append(n & 31 | (32 if n > 31 else 0))
        n >>= 5
        if not n:
            return digits


def encode(node):
    out = []
    for label in children(node):
        child = node[label]
        if out:
            out.append(ALPHABET.index(","))
        if "" not in child:
            out.append(ALPHABET.index("?"))
        out += symbols_of_label(label)
        if children(child):
            inner = encode(child)
            out += [ALPHABET.index("{")] + varint(len(inner)) + inner + [ALPHABET.index("}")]
    return out


symbols = encode(top)
bits = "".join(format(sym, "06b") for sym in symbols)
bits += "1" * (-len(bits) % 8) + "1" * 8  # whole bytes, then at least one end symbol
packed = bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))
(out / "suffixes.bin").write_bytes(packed)
(out / "words.txt").write_text(",".join(words))
(out / "date.txt").write_text(date)
print(f"Public Suffix List {date}: {rules} rules, {len(symbols)} symbols, {len(packed)} bytes in {out / 'suffixes.bin'}")
EOF
