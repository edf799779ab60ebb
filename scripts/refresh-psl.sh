#!/usr/bin/env bash
# Refreshes the Public Suffix List snapshot compiled into filter-core:
#   filter-core/src/psl/suffixes.bin   the rules as a compact trie (format: filter-core/src/psl.rs)
#   filter-core/src/psl/words.txt      the labels that trie writes as one symbol
#   filter-core/src/psl/date.txt       the snapshot's date, shown by `cors-filter --version`
#   filter-core/src/psl/rules.sha256   how many rules the trie holds and their digest, for the tests
# The list comes from the PyPI package `publicsuffixlist`, which ships
# publicsuffix.org's public_suffix_list.dat unchanged and names its date in
# its version (1.1.2.20261023), fetched with pip. It is refreshed within days
# of the upstream list; Debian's `publicsuffix` package lags by years.
# Usage: scripts/refresh-psl.sh [VERSION]    (e.g. 1.1.2.20261023; default: the newest)
# Then review the diff, run `cargo test -p filter-core`, and commit the files.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERSION="${1:-}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$work" "publicsuffixlist${VERSION:+==$VERSION}"

python3 - "$work" "$ROOT/filter-core/src/psl" <<'EOF'
import hashlib, heapq, itertools, pathlib, re, sys, zipfile
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


# A top-level label without rules below it says nothing the engine does not
# already assume: every single label is a public suffix.
top = {label: node for label, node in trie.items() if children(node)}


def listed(node, suffix=""):
    """Every rule the trie holds, as the list writes it (`!city.kawasaki.jp`)."""
    for label in children(node):
        name = label + suffix
        if "" in node[label]:
            yield name
        yield from listed(node[label], "." + name)


# The format (read by filter-core/src/psl.rs): symbols, each a canonical
# Huffman code chosen by the kind of symbol before it. A symbol is one of the
# 37 label characters, `,` (a label with nothing below it ends), `{` (a label
# ends; its subtree follows), `?` (the label that follows is not a rule
# itself), `*`, `!`, or one of the frequent labels of words.txt. After each
# `{` comes the length of the subtree in bits, so that a reader skips it at
# once; the last item of a subtree needs no `,`. The whole trie is one such
# subtree, its length first.
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-,{?*!"
COMMA, OPEN, NOT_A_RULE, STAR, BANG = (ALPHABET.index(c) for c in ",{?*!")
VOWELS = {ALPHABET.index(c) for c in "aeiouy"}
CONTEXTS, MAX_CODE_LENGTH = 5, 15


def context(previous):
    """The code table for the next symbol: label start, after a vowel,
    another letter, a digit or `-`, a whole label (`*` or a word)."""
    if previous in (None, NOT_A_RULE, BANG):
        return 0
    if previous in VOWELS:
        return 1
    if previous < 26:
        return 2
    return 3 if previous < COMMA else 4


# The labels that save the most as one symbol each (a character costs about
# 4.5 bits); 100 of them, as more save less than the list of them costs.
def labels(node):
    for label in children(node):
        yield label.lstrip("!")
        yield from labels(node[label])


counts = Counter(labels(top))
gain = lambda label: (len(label) - 1) * counts[label] * 4.5 - 8 * (len(label) + 1)
words = sorted((l for l in counts if l != "*"), key=lambda l: (-gain(l), l))[:100]
code = {w: len(ALPHABET) + i for i, w in enumerate(words)}


def label_symbols(label):
    prefix = [BANG] if label.startswith("!") else []
    label = label.lstrip("!")
    if label in code:
        return prefix + [code[label]]
    assert set(label) <= set(ALPHABET[:COMMA]) or label == "*", "unexpected label %r" % label
    return prefix + [ALPHABET.index(c) for c in label]


def items(node):
    """The (context, symbol) pairs of a node's items, and its subtrees."""
    below = children(node)
    for i, label in enumerate(below):
        child, previous = node[label], None
        for symbol in ([] if "" in child else [NOT_A_RULE]) + label_symbols(label):
            yield context(previous), symbol
            previous = symbol
        if children(child):
            yield context(previous), OPEN
            yield "subtree", child
        elif i < len(below) - 1:
            yield context(previous), COMMA


def count(node, frequencies):
    for ctx, symbol in items(node):
        if ctx == "subtree":
            count(symbol, frequencies)
        else:
            frequencies[ctx][symbol] += 1


def huffman_lengths(frequencies):
    """Each symbol's code length, from Huffman's algorithm."""
    order = itertools.count()
    heap = [(n, next(order), [s]) for s, n in sorted(frequencies.items())]
    heapq.heapify(heap)
    lengths = Counter()
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        for s in a[2] + b[2]:
            lengths[s] += 1
        heapq.heappush(heap, (a[0] + b[0], next(order), a[2] + b[2]))
    lengths = {s: max(lengths[s], 1) for s in frequencies}
    assert max(lengths.values()) <= MAX_CODE_LENGTH
    return lengths


frequencies = [Counter() for _ in range(CONTEXTS)]
count(top, frequencies)
tables, order, codes = bytearray(), bytearray(), []
for ctx in range(CONTEXTS):
    lengths = huffman_lengths(frequencies[ctx])
    symbols = sorted(lengths, key=lambda s: (lengths[s], s))
    tables += bytes(sum(1 for s in symbols if lengths[s] == n) for n in range(1, MAX_CODE_LENGTH + 1))
    order += bytes(symbols)
    # Canonical codes: consecutive within a length, shifted left at each longer length.
    value, length, table = 0, 0, {}
    for s in symbols:
        value <<= lengths[s] - length
        length = lengths[s]
        table[s] = format(value, "0%db" % length)
        value += 1
    codes.append(table)


def length_bits(n):
    """Four bits at a time, least significant first, each followed by 1 if more follow."""
    out = ""
    while True:
        out += format(n & 15, "04b") + ("1" if n > 15 else "0")
        n >>= 4
        if not n:
            return out


def encode(node):
    out = []
    for ctx, symbol in items(node):
        if ctx == "subtree":
            inner = encode(symbol)
            out += [length_bits(len(inner)), inner]
        else:
            out.append(codes[ctx][symbol])
    return "".join(out)


body = encode(top)
bits = length_bits(len(body)) + body
bits += "0" * (-len(bits) % 8)
packed = bytes(tables + order) + bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))
rules_held = sorted(listed(top))
digest = hashlib.sha256("\n".join(rules_held).encode()).hexdigest()
(out / "suffixes.bin").write_bytes(packed)
(out / "words.txt").write_text(",".join(words))
(out / "date.txt").write_text(date)
(out / "rules.sha256").write_text(f"{len(rules_held)} {digest}")
print(f"Public Suffix List {date}: {rules} rules, {len(rules_held)} in the trie, {len(packed)} bytes in {out / 'suffixes.bin'}")
EOF
