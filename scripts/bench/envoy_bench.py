#!/usr/bin/env python3
"""Helper for scripts/bench-envoy.sh: Envoy configs, sanity checks, the
interleaved wrk loop and the BENCHMARKS.md report.

  envoy_bench.py gen DIR WASM BASE_PORT ORIGIN_COUNTS...
  envoy_bench.py check DIR
  envoy_bench.py run DIR ROUNDS SECONDS CONNECTIONS WRK_CPU
  envoy_bench.py report DIR OUT.md COMMAND

`gen` writes one bootstrap per variant into DIR plus DIR/variants.json, each
from the e2e harness's Envoy generator (`serve envoy-config`, $SERVE); bash
starts the Envoys and writes each proxy's PID into DIR/<variant>.pid. Only
127.0.0.1 is used. Timings are never pass/fail: `check` fails only on wrong
answers.
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

HERE = Path(__file__).resolve().parent
KINDS = ["allowed_preflight", "denied_preflight", "allowed_get", "denied_get", "out_of_scope_get"]
SCALE_KINDS = ["allowed_preflight", "denied_preflight"]
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


def proxy_config(out, name, kind, n, port, admin_port, upstream_port, wasm):
    """kind: floor (no CORS filter), native (envoy.filters.http.cors, policy
    on the /api/ routes) or ours (the module, its policy on /api/*). Every
    route goes to the upstream cluster, so the native filter (which skips
    routes without a route entry) does its work."""
    options = ["--upstream", f"127.0.0.1:{upstream_port}", "--port", str(port),
               "--admin-port", str(admin_port), "--stat-prefix", "bench"]
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
    names = [("floor", "floor", 1)]
    for n in counts:
        for kind in ("native", "ours"):
            names.append((kind if n == 1 else f"{kind}-{n}", kind, n))
    for name, kind, n in names:
        proxy_config(out, name, kind, n, port, port + 1, upstream_port, wasm)
        variants[name] = {"kind": kind, "origins": n, "port": port, "admin": port + 1}
        port += 2
    meta = {"upstream": {"port": upstream_port, "admin": upstream_port + 1}, "variants": variants}
    (out / "variants.json").write_text(json.dumps(meta, indent=1))
    for name in ["upstream"] + list(variants):
        print(name)


def load(out):
    return json.loads((Path(out) / "variants.json").read_text())


def lua_request(kind):
    """The method, path and headers that scripts/bench/KIND.lua has wrk send,
    so the sanity check sends the very request that is timed."""
    text = (HERE / f"{kind}.lua").read_text()
    method = re.search(r'^wrk\.method = "(.*)"$', text, re.M).group(1)
    path = re.search(r'^wrk\.path = "(.*)"$', text, re.M).group(1)
    # A value is a "string" or, when it holds quotes, a [[long string]].
    headers = {name: quoted or long for name, quoted, long in re.findall(
        r'^wrk\.headers\["(.+)"\] = (?:"(.*)"|\[\[(.*)\]\])$', text, re.M)}
    return method, path, headers


# (status, ACAO, reached the upstream) per variant kind and request kind.
EXPECTED = {
    "floor": {
        "allowed_preflight": (200, None, True), "denied_preflight": (200, None, True),
        "allowed_get": (200, None, True), "denied_get": (200, None, True),
        "out_of_scope_get": (200, None, True),
    },
    "native": {
        "allowed_preflight": (200, ALLOWED, False), "denied_preflight": (200, None, False),
        "allowed_get": (200, ALLOWED, True), "denied_get": (200, None, True),
        "out_of_scope_get": (200, None, True),
    },
    "ours": {
        "allowed_preflight": (204, ALLOWED, False), "denied_preflight": (403, None, False),
        "allowed_get": (200, ALLOWED, True), "denied_get": (200, None, True),
        "out_of_scope_get": (200, None, True),
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


def run(out, rounds, seconds, connections, wrk_cpu):
    meta = load(out)
    variants = meta["variants"]
    tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
    plan_main = [n for n in variants if variants[n]["origins"] == 1]
    plan_scale = [n for n in variants if n != "floor"]
    results = Path(out) / "results.jsonl"
    results.unlink(missing_ok=True)
    rss = {n: {"idle_kb": rss_kb(pid_of(out, n))} for n in variants}

    def one(phase, rnd, name, kind, secs, record=True):
        pid = pid_of(out, name)
        before = cpu_ticks(pid)
        requests, rps, p50, p99, errors = wrk(variants[name]["port"], kind, secs, connections, wrk_cpu)
        used = cpu_ticks(pid) - before
        row = {"phase": phase, "round": rnd, "variant": name, "kind": kind, "requests": requests,
               "rps": rps, "p50_ms": p50, "p99_ms": p99, "cpu_us_per_req": used * tick_us / max(requests, 1),
               "errors": errors}
        if record:
            with results.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(f"  {phase} r{rnd} {name:<12} {kind:<18} {rps:>9.0f} req/s  p50 {p50:.3f} ms  "
                  f"p99 {p99:.3f} ms  {row['cpu_us_per_req']:.1f} us CPU/req {errors}", flush=True)

    print("warm-up (not recorded)", flush=True)
    for name in variants:
        for kind in KINDS if name in plan_main else SCALE_KINDS:
            one("warm", 0, name, kind, 1, record=False)
    start = time.time()
    for rnd in range(1, rounds + 1):
        # Rotate the variant order each round, so no variant always runs
        # first (or right after the heaviest one).
        rot = lambda xs: xs[rnd % len(xs):] + xs[:rnd % len(xs)]
        for kind in KINDS:
            for name in rot(plan_main):
                one("main", rnd, name, kind, seconds)
        for kind in SCALE_KINDS:
            for name in rot(plan_scale):
                one("scale", rnd, name, kind, seconds)
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


def bar(ratio, scale=20, limit=3.0):
    n = round(min(ratio, limit) * scale)
    return "#" * n + (">" if ratio > limit else "")


def report(out, md_path, command):
    out = Path(out)
    rows = [json.loads(l) for l in (out / "results.jsonl").read_text().splitlines()]
    rss = json.loads((out / "rss.json").read_text())
    variants = load(out)["variants"]
    main = median_table([r for r in rows if r["phase"] == "main"])
    scale = median_table([r for r in rows if r["phase"] == "scale"])
    rounds = max(r["round"] for r in rows)
    seconds = None
    cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                      if l.startswith("model name")), "?")
    L = []
    L.append("# Benchmarks: the Envoy module against Envoy's native CORS filter\n")
    L.append("Generated by `scripts/bench-envoy.sh`; rerun it to refresh this file "
             "(everything above the notes marker is rewritten).\n")
    L.append(f"- Date: {time.strftime('%Y-%m-%d %H:%M %Z')}")
    L.append(f"- Machine: {os.cpu_count()} CPUs (`nproc`), `{cpu_model}`, "
             f"{os.uname().sysname} {os.uname().release}")
    envoy_version = subprocess.run([os.environ.get("ENVOY_BIN", "envoy"), "--version"],
                                   capture_output=True, text=True).stdout.strip().split()[-1]
    L.append(f"- Envoy: `{envoy_version}`, V8, `--concurrency 1 --disable-hot-restart`")
    L.append(f"- Command: `{command}`")
    L.append(f"- {rounds} interleaved round(s); each cell is the median over rounds "
             "(CPU spread min–max in brackets)\n")
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
    L.append("- CPU: the proxy's utime+stime from `/proc/PID/stat` (all threads) around each wrk run, "
             "divided by the requests wrk completed; includes Envoy's own HTTP work, so the floor "
             "row is the cost of Envoy alone.")
    L.append("- Answers checked once before timing (status, ACAO, whether the upstream was reached): "
             "native answers an allowed preflight 200, a denied one 200 without ACAO; the module "
             "204 / 403.\n")
    L.append("## Per request kind (1 allowed origin)\n")
    L.append("| request | variant | CPU µs/req | req/s | p50 ms | p99 ms |")
    L.append("| --- | --- | ---: | ---: | ---: | ---: |")
    for kind in KINDS:
        for name in ("floor", "native", "ours"):
            m = main.get((name, kind))
            if m:
                L.append(f"| {kind} | {name} | {m['cpu_us_per_req']:.1f} "
                         f"[{m['spread'][0]:.1f}–{m['spread'][1]:.1f}] | {m['rps']:.0f} | "
                         f"{m['p50_ms']:.3f} | {m['p99_ms']:.3f} |")
    L.append("\n### Ratios (CPU per request)\n")
    L.append("| request | ours/native | ours/floor | native/floor | added over floor: ours / native µs |")
    L.append("| --- | ---: | ---: | ---: | ---: |")
    ratios = []
    for kind in KINDS:
        f, n, o = (main[(v, kind)]["cpu_us_per_req"] for v in ("floor", "native", "ours"))
        ratios.append((kind, o / n, o / f))
        L.append(f"| {kind} | {o / n:.2f} | {o / f:.2f} | {n / f:.2f} | {o - f:.1f} / {n - f:.1f} |")
    L.append("\n```")
    L.append("CPU per request, ours/native   (each # = 0.05; | marks 1.0 and 1.3)")
    for kind, on, _ in ratios:
        L.append(f"{kind:<18} {bar(on):<61} {on:.2f}")
    L.append(f"{'':<18} {' ' * 19}|     |")
    L.append("CPU per request, ours/floor")
    for kind, _, of in ratios:
        L.append(f"{kind:<18} {bar(of):<61} {of:.2f}")
    L.append("```\n")
    L.append("## Scale: number of allowed exact origins (preflights)\n")
    L.append("| origins | request | native CPU µs/req | ours CPU µs/req | ours/native | native req/s | ours req/s | native p99 ms | ours p99 ms |")
    L.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    counts = sorted({v["origins"] for v in variants.values()})
    for n in counts:
        nat, our = ("native", "ours") if n == 1 else (f"native-{n}", f"ours-{n}")
        for kind in SCALE_KINDS:
            a, b = scale.get((nat, kind)), scale.get((our, kind))
            if a and b:
                L.append(f"| {n} | {kind} | {a['cpu_us_per_req']:.1f} | {b['cpu_us_per_req']:.1f} | "
                         f"{b['cpu_us_per_req'] / a['cpu_us_per_req']:.2f} | {a['rps']:.0f} | {b['rps']:.0f} | "
                         f"{a['p99_ms']:.3f} | {b['p99_ms']:.3f} |")
    L.append("\n## Memory (VmRSS of the proxy Envoy, one worker)\n")
    L.append("| variant | after start (MiB) | after the run (MiB) |")
    L.append("| --- | ---: | ---: |")
    for name, r in rss.items():
        L.append(f"| {name} | {r['idle_kb'] / 1024:.1f} | {r['loaded_kb'] / 1024:.1f} |")
    L.append("")
    marker = "<!-- notes: hand-written below, kept by the script -->"
    notes = ""
    md = Path(md_path)
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
        report(args[0], args[1], args[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
