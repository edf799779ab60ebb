#!/usr/bin/env python3
"""Grouped bar charts (SVG) of benchmark results, drawn by gnuplot.

  chart.py OUT.svg --title TITLE --ylabel LABEL [TSV]

reads lines `CATEGORY<TAB>SERIES<TAB>VALUE` (from TSV, or standard input) and
draws one group of bars per category, one bar per series, each labelled
with its value. Categories and series keep the order they first appear in;
a (category, series) pair given several times (one line per round, say) is
drawn as its median. scripts/bench-envoy.sh imports `bars`; the Worker
benchmark pipes its rounds in. Needs gnuplot: `scripts/setup.sh bench`.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

# Bar colours, the same in every chart: a series named "ours..." orange, a
# floor ("no CORS...", "bare", "floor") grey, the others in turn from a
# palette that colour-blind readers tell apart.
OURS, FLOOR = "#ee7733", "#9e9e9e"
OTHERS = ["#4477aa", "#228833", "#aa3377", "#66ccee"]


def colours(series):
    """One colour per series name, in order."""
    others = iter(OTHERS * len(series))
    out = []
    for name in series:
        lower = name.lower()
        if lower.startswith("ours"):
            out.append(OURS)
        elif lower.startswith(("no cors", "bare", "floor")):
            out.append(FLOOR)
        else:
            out.append(next(others))
    return out


def bars(out, title, ylabel, rows):
    """Writes OUT (SVG): rows are (category, series, value) triples."""
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        sys.exit("error: gnuplot not found; run scripts/setup.sh bench")
    categories, series, values = [], [], {}
    for category, name, value in rows:
        if category not in categories:
            categories.append(category)
        if name not in series:
            series.append(name)
        values.setdefault((category, name), []).append(float(value))
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.tsv"
        lines = ["category\t" + "\t".join(series)]
        for category in categories:
            cells = [values.get((category, name)) for name in series]
            lines.append(category + "\t" + "\t".join(
                repr(statistics.median(c)) if c else "NaN" for c in cells))
        data.write_text("\n".join(lines) + "\n")
        script = Path(tmp) / "chart.gp"
        script.write_text(program(out, title, ylabel, data, colours(series), len(categories)))
        subprocess.run([gnuplot, str(script)], check=True)


def program(out, title, ylabel, data, series_colours, n_categories):
    """The gnuplot program: clustered histogram, one bar per data column
    (in the colours given), the values written above the bars."""
    quote = lambda text: '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    gap = 1
    n_series = len(series_colours)
    width = max(640, 110 * n_categories * (n_series + gap) // 3)
    plots = []
    for i in range(n_series):
        col = i + 2
        colour = series_colours[i]
        plots.append(f"'{data}' using {col}:xtic(1) title columnheader({col}) lc rgb '{colour}'")
    for i in range(n_series):
        col = i + 2
        # Bar i of a cluster is centred at x + (i - (n - 1) / 2) / (n + gap).
        offset = (i - (n_series - 1) / 2) / (n_series + gap)
        plots.append(f"'{data}' using ($0 + {offset:.4f}):{col}:(sprintf('%.1f', ${col})) "
                     "with labels offset 0,0.6 font ',9' notitle")
    return "\n".join([
        f"set terminal svg size {width},420 dynamic enhanced font 'sans,11' background '#ffffff'",
        f"set output {quote(str(out))}",
        "set datafile separator '\\t'",
        "set datafile missing 'NaN'",
        # The first line names the series, for every plot (labels included).
        "set key autotitle columnhead",
        f"set title {quote(title)} noenhanced",
        f"set ylabel {quote(ylabel)} noenhanced",
        f"set style histogram clustered gap {gap}",
        "set style data histograms",
        "set style fill solid 0.9 border -1",
        "set boxwidth 0.9",
        "set yrange [0:*]",
        "set offsets 0, 0, graph 0.08, 0",
        "set grid ytics lc rgb '#dddddd'",
        f"set xrange [-0.6:{n_categories - 0.4}]",
        "set key outside below center horizontal noenhanced",
        "set xtics nomirror scale 0 noenhanced",
        "set ytics nomirror",
        "set border 3",
        "plot " + ", \\\n     ".join(plots),
        "",
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="the SVG file to write")
    parser.add_argument("--title", required=True)
    parser.add_argument("--ylabel", required=True)
    parser.add_argument("tsv", nargs="?", help="CATEGORY<TAB>SERIES<TAB>VALUE lines (default: stdin)")
    args = parser.parse_args()
    text = Path(args.tsv).read_text() if args.tsv else sys.stdin.read()
    rows = [line.split("\t") for line in text.splitlines() if line.strip()]
    bad = [r for r in rows if len(r) != 3]
    if bad:
        sys.exit(f"error: a line is not CATEGORY<TAB>SERIES<TAB>VALUE: {bad[0]}")
    bars(args.out, args.title, args.ylabel, rows)


if __name__ == "__main__":
    main()
