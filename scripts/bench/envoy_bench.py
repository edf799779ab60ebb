#!/usr/bin/env python3
"""Helper for scripts/bench-envoy.sh: Envoy configs, sanity checks, the
interleaved wrk loop and the BENCHMARKS.md report.

  envoy_bench.py gen DIR WASM BASE_PORT ORIGIN_COUNTS...
  envoy_bench.py check DIR
  envoy_bench.py run DIR ROUNDS SECONDS CONNECTIONS WRK_CPU
  envoy_bench.py report DIR OUT.md COMMAND STARTED_EPOCH

`gen` writes one bootstrap per variant into DIR plus DIR/variants.json, each
from the e2e harness's Envoy generator (`serve envoy-config`, $SERVE); bash
starts the Envoys and writes each proxy's PID into DIR/<variant>.pid. Only
127.0.0.1 is used. Timings are never pass/fail: `check` fails only on wrong
answers. `report` writes the Markdown and, beside it in docs/bench/, the SVG
charts (chart.py, gnuplot).
"""

import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import chart  # scripts/bench/chart.py

HERE = Path(__file__).resolve().parent
# The kinds on /api/*, where the policy applies; then a GET outside every
# policy (the module entered, no policy), and a GET on a route that turns
# the filter off (the module never entered).
IN_SCOPE = ["allowed_preflight", "denied_preflight", "allowed_get", "denied_get"]
KINDS = IN_SCOPE + ["out_of_scope_get", "filter_off_get"]
# The routes under this prefix turn the filter off, in every variant.
FILTER_OFF = "/assets/"
# The variant whose filter is skipped, by an ExtensionWithMatcher, for every
# path outside /api/ (so the out-of-scope GET never enters the module).
MATCHER = "ours-matcher"
ALLOWED = "https://app.example.com"
METHODS = ["GET", "POST", "PUT"]
HEADERS = ["content-type", "x-token"]
EXPOSE = ["x-request-id"]
MAX_AGE = 600


def origins(n):
    """n exact origins; the allowed one is the middle entry (the native
    filter scans its list in order, so this is its average case; a denied
    origin always scans the whole list)."""
    out = [f"https://app{i}.example.com" for i in range(n - 1)]
    out.insert((n - 1) // 2, ALLOWED)
    return out


def envoy_config(out, name, *options):
    """Writes OUT/NAME.json, a bootstrap from the e2e harness's one Envoy
    generator (`serve envoy-config`, its path in $SERVE)."""
    config = subprocess.run([os.environ["SERVE"], "envoy-config", *options], check=True,
                            capture_output=True, text=True).stdout
    (Path(out) / f"{name}.json").write_text(config)


def upstream_config(out, port, admin_port):
    """The upstream: a second Envoy answering everything 200 from a
    direct_response, tagged `x-upstream: 1` so the checks can tell a local
    reply of the proxy from a forwarded request."""
    envoy_config(out, "upstream", "--direct-response", "ok\n", "--response-header", "x-upstream=1",
                 "--port", str(port), "--admin-port", str(admin_port), "--stat-prefix", "bench")


def proxy_config(out, name, kind, n, port, admin_port, upstream_port, wasm, extra=()):
    """kind: floor (no CORS filter), native (envoy.filters.http.cors, policy
    on the /api/ routes) or ours (the module, its policy on /api/*). Every
    route goes to the upstream cluster, so the native filter (which skips
    routes without a route entry) does its work. `extra`: more options of
    `serve envoy-config`."""
    options = ["--upstream", f"127.0.0.1:{upstream_port}", "--port", str(port),
               "--admin-port", str(admin_port), "--stat-prefix", "bench", "--filter-off", FILTER_OFF,
               *extra]
    if kind == "native":
        policy = Path(out) / f"{name}.policy.json"
        policy.write_text(json.dumps({
            "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
            "allow_origin_string_match": [{"exact": o} for o in origins(n)],
            "allow_methods": ",".join(METHODS),
            "allow_headers": ",".join(HEADERS),
            "expose_headers": ",".join(EXPOSE),
            "max_age": str(MAX_AGE),
            # Answer a denied preflight here, as the module does, instead of
            # forwarding it (the default).
            "forward_not_matching_preflights": False,
        }))
        options += ["--native-cors", str(policy), "--native-cors-prefix", "/api/"]
    elif kind == "ours":
        plugin = Path(out) / f"{name}.plugin.json"
        plugin.write_text(json.dumps({"policies": [{
            "name": "api",
            "match": {"paths": ["/api/*"]},
            "allow_origins": origins(n),
            "allow_methods": METHODS,
            "allow_headers": HEADERS,
            "expose_headers": EXPOSE,
            "max_age": MAX_AGE,
        }]}))
        options += ["--plugin-config", str(plugin), "--module", wasm]
    envoy_config(out, name, *options)


def gen(out, wasm, base_port, counts):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    port = base_port
    variants = {}
    upstream_port = port
    upstream_config(out, port, port + 1)
    port += 2
    names = [("floor", "floor", 1, ())]
    for n in counts:
        for kind in ("native", "ours"):
            names.append((kind if n == 1 else f"{kind}-{n}", kind, n, ()))
    names.append((MATCHER, "ours", 1, ("--filter-only-under", "/api/")))
    for name, kind, n, extra in names:
        proxy_config(out, name, kind, n, port, port + 1, upstream_port, wasm, extra)
        variants[name] = {"kind": kind, "origins": n, "port": port, "admin": port + 1}
        port += 2
    meta = {"upstream": {"port": upstream_port, "admin": upstream_port + 1}, "variants": variants,
            "wasm": str(Path(wasm).resolve())}
    (out / "variants.json").write_text(json.dumps(meta, indent=1))
    for name in ["upstream"] + list(variants):
        print(name)


def load(out):
    return json.loads((Path(out) / "variants.json").read_text())


def lua_request(kind):
    """The method, path and headers that scripts/bench/KIND.lua has wrk send,
    so the sanity check sends the very request that is timed. A script that
    starts from another (`dofile(here .. "OTHER.lua")`) takes its request and
    changes what it sets itself."""
    text = (HERE / f"{kind}.lua").read_text()
    base = re.search(r'^dofile\(here \.\. "(.+)\.lua"\)$', text, re.M)
    method, path, headers = lua_request(base.group(1)) if base else ("GET", "/", {})
    method = (re.findall(r'^wrk\.method = "(.*)"$', text, re.M) or [method])[-1]
    path = (re.findall(r'^wrk\.path = "(.*)"$', text, re.M) or [path])[-1]
    # A value is a "string" or, when it holds quotes, a [[long string]].
    headers.update((name, quoted or long) for name, quoted, long in re.findall(
        r'^wrk\.headers\["(.+)"\] = (?:"(.*)"|\[\[(.*)\]\])$', text, re.M))
    return method, path, headers

# (status, ACAO, reached the upstream) per variant kind and request kind.
EXPECTED = {
    "floor": {
        "allowed_preflight": (200, None, True), "denied_preflight": (200, None, True),
        "allowed_get": (200, None, True), "denied_get": (200, None, True),
        "out_of_scope_get": (200, None, True), "filter_off_get": (200, None, True),
    },
    "native": {
        "allowed_preflight": (200, ALLOWED, False), "denied_preflight": (200, None, False),
        "allowed_get": (200, ALLOWED, True), "denied_get": (200, None, True),
        "out_of_scope_get": (200, None, True), "filter_off_get": (200, None, True),
    },
    "ours": {
        "allowed_preflight": (204, ALLOWED, False), "denied_preflight": (403, None, False),
        "allowed_get": (200, ALLOWED, True), "denied_get": (200, None, True),
        "out_of_scope_get": (200, None, True), "filter_off_get": (200, None, True),
    },
}


def request(port, kind):
    method, path, headers = lua_request(kind)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request(method, path, headers=headers)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp.status, resp.getheader("access-control-allow-origin"), resp.getheader("x-upstream") == "1"


def check(out):
    """Every variant's answer to every kind, once, before any timing."""
    bad = 0
    for name, v in load(out)["variants"].items():
        for kind in KINDS:
            got = request(v["port"], kind)
            want = EXPECTED[v["kind"]][kind]
            ok = got == want
            bad += not ok
            print(f"  {'ok ' if ok else 'BAD'} {name:<12} {kind:<18} status={got[0]} "
                  f"acao={got[1]} upstream={got[2]}" + ("" if ok else f"  (want {want})"))
    if bad:
        sys.exit(f"{bad} wrong answers: not benchmarking")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def to_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(port, kind, seconds, connections, wrk_cpu):
    cmd = ["taskset", "-c", wrk_cpu, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
           "--timeout", "5s", "--latency", "-s", str(HERE / f"{kind}.lua"),
           f"http://127.0.0.1:{port}"]
    text = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=seconds + 30).stdout
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50 = to_ms(*re.search(r"50%\s+([\d.]+)(us|ms|s)", text).groups())
    p99 = to_ms(*re.search(r"99%\s+([\d.]+)(us|ms|s)", text).groups())
    errors = re.search(r"Socket errors: (.*)", text)
    return requests, rps, p50, p99, errors.group(1) if errors else ""


def pid_of(out, name):
    return int((Path(out) / f"{name}.pid").read_text())


def plan(variants):
    """Kind to the variants measured on it: every variant on the kinds in
    scope (every origin count), the 1-origin ones and the floor on the
    others (the number of origins cannot matter there)."""
    one_origin = [n for n in variants if variants[n]["origins"] == 1]
    return {kind: list(variants) if kind in IN_SCOPE else one_origin for kind in KINDS}


def run(out, rounds, seconds, connections, wrk_cpu):
    meta = load(out)
    variants = meta["variants"]
    tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
    cells = plan(variants)
    results = Path(out) / "results.jsonl"
    results.unlink(missing_ok=True)
    rss = {n: {"idle_kb": rss_kb(pid_of(out, n))} for n in variants}

    def one(rnd, name, kind, secs, record=True):
        pid = pid_of(out, name)
        before = cpu_ticks(pid)
        requests, rps, p50, p99, errors = wrk(variants[name]["port"], kind, secs, connections, wrk_cpu)
        used = cpu_ticks(pid) - before
        row = {"round": rnd, "seconds": secs, "variant": name, "kind": kind, "requests": requests,
               "rps": rps, "p50_ms": p50, "p99_ms": p99, "cpu_us_per_req": used * tick_us / max(requests, 1),
               "errors": errors}
        if record:
            with results.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(f"  r{rnd} {name:<12} {kind:<18} {rps:>9.0f} req/s  p50 {p50:.3f} ms  "
                  f"p99 {p99:.3f} ms  {row['cpu_us_per_req']:.1f} us CPU/req {errors}", flush=True)

    print("warm-up (not recorded)", flush=True)
    for kind, names in cells.items():
        for name in names:
            one(0, name, kind, 1, record=False)
    start = time.time()
    for rnd in range(1, rounds + 1):
        for kind, names in cells.items():
            # Rotate the variant order each round, so no variant always runs
            # first (or right after the heaviest one).
            for name in names[rnd % len(names):] + names[:rnd % len(names)]:
                one(rnd, name, kind, seconds)
    for n in variants:
        rss[n]["loaded_kb"] = rss_kb(pid_of(out, n))
    (Path(out) / "rss.json").write_text(json.dumps(rss, indent=1))
    print(f"timed rounds took {time.time() - start:.0f} s")


def median_table(rows):
    groups = {}
    for r in rows:
        groups.setdefault((r["variant"], r["kind"]), []).append(r)
    out = {}
    for key, rs in groups.items():
        out[key] = {f: statistics.median(r[f] for r in rs)
                    for f in ("rps", "p50_ms", "p99_ms", "cpu_us_per_req")}
        out[key]["n"] = len(rs)
        out[key]["spread"] = (min(r["cpu_us_per_req"] for r in rs), max(r["cpu_us_per_req"] for r in rs))
    return out


def charts(md_dir, main, counts):
    """Draws the SVG charts into MD_DIR/docs/bench; returns their paths
    relative to MD_DIR."""
    out = Path(md_dir) / "docs" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    drawn = []
    ylabel = "proxy CPU µs per request (median)"
    rows = [(kind, LABELS[name], main[(name, kind)]["cpu_us_per_req"])
            for kind in KINDS for name in ("floor", "native", "ours", MATCHER) if (name, kind) in main]
    path = out / "envoy-cpu-by-kind.svg"
    chart.bars(path, "Envoy: CPU per request by request kind (1 allowed origin)", ylabel, rows)
    drawn.append(path)
    for kind in IN_SCOPE:
        rows = [(f"{n:,} origin{'s' if n > 1 else ''}", LABELS[filter_kind],
                 main[(variant(filter_kind, n), kind)]["cpu_us_per_req"])
                for n in counts for filter_kind in ("native", "ours")
                if (variant(filter_kind, n), kind) in main]
        path = out / f"envoy-cpu-by-origins-{kind}.svg"
        chart.bars(path, f"Envoy: {kind} by number of allowed origins", ylabel, rows)
        drawn.append(path)
    return [p.relative_to(md_dir) for p in drawn]


LABELS = {"floor": "no CORS filter", "native": "native CORS filter", "ours": "ours (Wasm module)",
          MATCHER: "matcher-wrapped ours (skipped outside /api/)"}


def span(values):
    """`a–b` of the smallest and largest, or `a` when they print alike."""
    low, high = f"{min(values):.2f}", f"{max(values):.2f}"
    return low if low == high else f"{low}–{high}"


def variant(kind, n):
    """The variant name of KIND (native, ours) with N origins."""
    return kind if n == 1 else f"{kind}-{n}"


def report(out, md_path, command, started):
    out = Path(out)
    md = Path(md_path)
    rows = [json.loads(l) for l in (out / "results.jsonl").read_text().splitlines()]
    rss = json.loads((out / "rss.json").read_text())
    variants = load(out)["variants"]
    wasm = Path(load(out)["wasm"])
    main = median_table(rows)
    cpu = lambda name, kind: main[(name, kind)]["cpu_us_per_req"]
    counts = sorted({v["origins"] for v in variants.values()})
    rounds = max(r["round"] for r in rows)
    seconds = max(r["seconds"] for r in rows)
    cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                      if l.startswith("model name")), "?")
    drawn = charts(md.parent, main, counts)
    L = []
    L.append("# Benchmarks: the Envoy module against Envoy's native CORS filter\n")
    L.append("Generated by `scripts/bench-envoy.sh` (needs `scripts/setup.sh bench`); rerun it to "
             "refresh this file and the charts in `docs/bench/` (everything above the notes marker "
             "is rewritten).\n")
    L.append(f"- Date: {time.strftime('%Y-%m-%d %H:%M %Z')}")
    L.append(f"- Machine: {os.cpu_count()} CPUs (`nproc`), `{cpu_model}`, "
             f"{os.uname().sysname} {os.uname().release}")
    envoy_version = subprocess.run([os.environ.get("ENVOY_BIN", "envoy"), "--version"],
                                   capture_output=True, text=True).stdout.strip().split()[-1]
    L.append(f"- Envoy: `{envoy_version}`, V8, `--concurrency 1 --disable-hot-restart`")
    L.append(f"- Module: `target/envoy-filter.wasm`, {wasm.stat().st_size:,} bytes "
             "(`scripts/build-wasm.sh envoy`, after `wasm-opt -Oz`)")
    L.append(f"- Command: `{command}`; the whole run (build, start, checks, warm-up, timing) took "
             f"{(time.time() - started) / 60:.1f} minutes")
    L.append(f"- {rounds} interleaved round(s) of {seconds} s per cell; each cell is the median over "
             "rounds (CPU spread min–max in brackets)\n")
    L.append("## Setup\n")
    L.append("- The proxy Envoy under test is pinned to CPU 0; `wrk` (1 thread) and the upstream to CPU 1 "
             "(`taskset`). All variants run side by side, idle while another is measured.")
    L.append("- Upstream: a second Envoy whose route is a `direct_response` 200 (cheap and stable). "
             "Every proxy route goes to it through the router, so the native filter, which skips "
             "routes without a route entry, does its work.")
    L.append("- Policy: one policy on `/api/*`; exact origins (the allowed one is the middle entry); "
             "methods GET,POST,PUT; headers content-type,x-token; expose x-request-id; max-age 600. "
             "Native: the same as a `CorsPolicy` in the `/api/` route's `typed_per_filter_config`, "
             "`allow_origin_string_match` `exact` entries, `forward_not_matching_preflights: false` "
             "(so it, like the module, answers a denied preflight itself).")
    L.append(f"- Requests: `scripts/bench/<kind>.lua`. `out_of_scope_get` is a GET outside every "
             f"policy (the module is entered, finds no policy, edits nothing); `filter_off_get` the same "
             f"GET on a route (`{FILTER_OFF}`) whose `typed_per_filter_config` turns the filter off "
             "(`envoy.config.route.v3.FilterConfig`, `disabled: true`), so the module is never entered.")
    L.append(f"- `{MATCHER}`: the module with 1 origin wrapped in an `ExtensionWithMatcher` whose "
             "`SkipFilter` action skips it for every `:path` outside `/api/`, so its out-of-scope "
             "GET never enters the module either.")
    L.append("- CPU: the proxy's utime+stime from `/proc/PID/stat` (all threads) around each wrk run, "
             "divided by the requests wrk completed; includes Envoy's own HTTP work, so the floor "
             "(no CORS filter) is the cost of Envoy alone.")
    L.append("- Answers checked once before timing (status, ACAO, whether the upstream was reached): "
             "native answers an allowed preflight 200, a denied one 200 without ACAO; the module "
             "204 / 403.\n")
    L.append("## Charts\n")
    for path in drawn:
        L.append(f"![{path.stem}]({path.as_posix()})")
    worker = Path("docs/bench/worker-cpu.svg")
    if (md.parent / worker).exists():
        L.append(f"\n![worker-cpu]({worker.as_posix()})\n\n(The Worker's chart comes from "
                 "`scripts/bench-worker.sh`.)")
    L.append("\n## Per request kind (1 allowed origin)\n")
    L.append("| request | variant | CPU µs/req | req/s | p50 ms | p99 ms |")
    L.append("| --- | --- | ---: | ---: | ---: | ---: |")
    for kind in KINDS:
        for name in ("floor", "native", "ours", MATCHER):
            m = main.get((name, kind))
            if m:
                L.append(f"| {kind} | {name} | {m['cpu_us_per_req']:.1f} "
                         f"[{m['spread'][0]:.1f}–{m['spread'][1]:.1f}] | {m['rps']:.0f} | "
                         f"{m['p50_ms']:.3f} | {m['p99_ms']:.3f} |")
    L.append("\n### Ratios (CPU per request)\n")
    L.append("`ours ÷ our out-of-scope` divides by our own `out_of_scope_get` in the same run: what "
             "the CORS work adds to merely entering the module.\n")
    L.append("| request | ours ÷ native | ours ÷ no CORS | native ÷ no CORS | ours ÷ our out-of-scope | "
             "added over no CORS: ours / native µs |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    entered = cpu("ours", "out_of_scope_get")
    for kind in KINDS:
        f, n, o = cpu("floor", kind), cpu("native", kind), cpu("ours", kind)
        L.append(f"| {kind} | {o / n:.2f} | {o / f:.2f} | {n / f:.2f} | {o / entered:.2f} | "
                 f"{o - f:.1f} / {n - f:.1f} |")
    L.append("\n## Scale: number of allowed exact origins\n")
    L.append("`÷ 1 origin` divides by the same filter's 1-origin figure in the same run.\n")
    L.append("| origins | request | native CPU µs/req | ours CPU µs/req | ours ÷ native | "
             "native ÷ 1 origin | ours ÷ 1 origin | native p99 ms | ours p99 ms |")
    L.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind in IN_SCOPE:
        for n in counts:
            a, b = main.get((variant("native", n), kind)), main.get((variant("ours", n), kind))
            if a and b:
                L.append(f"| {n:,} | {kind} | {a['cpu_us_per_req']:.1f} | {b['cpu_us_per_req']:.1f} | "
                         f"{b['cpu_us_per_req'] / a['cpu_us_per_req']:.2f} | "
                         f"{a['cpu_us_per_req'] / cpu('native', kind):.2f} | "
                         f"{b['cpu_us_per_req'] / cpu('ours', kind):.2f} | "
                         f"{a['p99_ms']:.3f} | {b['p99_ms']:.3f} |")
    top = max(counts)
    in_scope = [cpu("ours", k) / entered for k in IN_SCOPE]
    flat = [cpu(variant("ours", top), k) / cpu("ours", k) for k in IN_SCOPE]
    off = cpu("ours", "filter_off_get")
    L.append("\n## Against the targets\n")
    gets = [cpu("ours", k) / entered for k in IN_SCOPE if k.endswith("_get")]
    L.append(f"- Every in-scope kind ÷ our out-of-scope GET, 1 origin: {span(in_scope)} "
             f"(target ≤ 1.20, stretch ≤ 1.10). The GETs are the binding rows ({span(gets)}): "
             "a preflight is answered by the filter itself, which costs Envoy less than forwarding a GET.")
    L.append(f"- Ours with {top:,} origins ÷ ours with 1, per in-scope kind: {span(flat)} "
             "(target ≤ 1.10).")
    L.append("\n## Traffic no policy covers, kept out of the module\n")
    L.append(f"- A route with the filter off (`filter_off_get`): {off:.1f} µs, "
             f"{off / cpu('floor', 'filter_off_get'):.2f}× no CORS ({cpu('floor', 'filter_off_get'):.1f} µs) "
             f"and {off / entered:.2f}× our out-of-scope GET ({entered:.1f} µs).")
    skipped = cpu(MATCHER, "out_of_scope_get")
    wrapped = [cpu(MATCHER, k) / cpu("ours", k) for k in IN_SCOPE]
    L.append(f"- The module skipped by a matcher (`{MATCHER}`, `out_of_scope_get`): {skipped:.1f} µs, "
             f"{skipped / cpu('floor', 'out_of_scope_get'):.2f}× no CORS and {skipped / entered:.2f}× our "
             f"out-of-scope GET. In scope the wrapper costs {span(wrapped)}× the "
             "module alone.")
    L.append("\n## Memory (VmRSS of the proxy Envoy, one worker)\n")
    L.append("| variant | origins | after start (MiB) | after the run (MiB) |")
    L.append("| --- | ---: | ---: | ---: |")
    for name, r in rss.items():
        L.append(f"| {name} | {variants[name]['origins']:,} | {r['idle_kb'] / 1024:.1f} | "
                 f"{r['loaded_kb'] / 1024:.1f} |")
    L.append("")
    marker = "<!-- notes: hand-written below, kept by the script -->"
    notes = ""
    if md.exists() and marker in md.read_text():
        notes = md.read_text().split(marker, 1)[1]
    md.write_text("\n".join(L) + "\n" + marker + (notes or "\n"))
    print("\n".join(L))


def main():
    cmd, *args = sys.argv[1:]
    if cmd == "gen":
        gen(args[0], args[1], int(args[2]), [int(a) for a in args[3:]])
    elif cmd == "check":
        check(args[0])
    elif cmd == "run":
        run(args[0], int(args[1]), int(args[2]), int(args[3]), args[4])
    elif cmd == "report":
        report(args[0], args[1], args[2], float(args[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
