#!/usr/bin/env python3
"""Ratios p2pd / gossipsub from propagation result files (schema p2pd-bench-propagation/1).

    compare.py results/*.json gossipsub/results/*.json
    compare.py --json ratios.json --markdown p2pd.json gossipsub.json
    compare.py --table results/*.json         one Markdown row per result file

Pairs each p2pd result with every gossipsub result of the same workload (nodes, degree, seed,
body size, and the rate for one-run results; max-rate results pair with max-rate results),
warns when their graphs differ, and prints per pair: time-to-all p50 and p99, wire bytes per
delivered message, duplicates per delivery and the maximum sustained rate, each side and the
ratio p2pd / gossipsub, and the issue's targets for 1 KiB bodies (wire bytes at most half;
time-to-all p50 and p99 lower). Files of other implementations and unpaired files are
listed and skipped. Standard library only; --markdown prints the tables for doc/benchmarks.md.
"""

import argparse
import json
import os
import sys

SCHEMA = "p2pd-bench-propagation/1"
TARGET_BODY = 1024
TARGET_WIRE_RATIO = 0.5


def load(path):
    with open(path, encoding="utf-8") as f:
        r = json.load(f)
    if r.get("schema") != SCHEMA:
        raise SystemExit("%s: not a %s file" % (path, SCHEMA))
    r["_path"] = path
    return r


def variant(r):
    """What distinguishes p2pd runs of one workload: relay delay, compression, namespaces."""
    p = r["params"]
    if r["implementation"] != "p2pd":
        return ""
    parts = ["relaydelay %d" % (p.get("relaydelay_ms") or 0)]
    if p.get("compress"):
        parts.append("zlib on")
    if p.get("netns"):
        parts.append("netns (%s), delay %g ms" % (p["netns"]["link"], p["netns"]["delay_ms"]))
    return ", ".join(parts)


def key(r):
    p = r["params"]
    mode = "max-rate" if "max_rate" in r else "run"
    return (p["nodes"], p["degree"], str(p["seed"]), p["body_bytes"], mode,
            None if mode == "max-rate" else float(p["rate"]))


def figures(r):
    out = {}
    if "run" in r:
        s = r["run"]
        out.update(tta_p50_ms=s["time_to_all_ms"]["p50"], tta_p99_ms=s["time_to_all_ms"]["p99"],
                   tta_max_ms=s["time_to_all_ms"]["max"],
                   bytes_per_delivery=s["wire"]["bytes_per_delivery"],
                   dup_per_delivery=s["duplicates"]["per_delivery"],
                   cpu_us_per_delivery=s["cpu"]["node_cpu_us_per_delivery"],
                   delivered_fraction=s["delivered_fraction"])
    if "max_rate" in r:
        out["max_rate"] = r["max_rate"]["max_rate_msgs_per_s"]
    return out


def ratio(x, y):
    if x is None or y is None or y == 0:
        return None
    return round(x / y, 4)


def pair_up(results):
    gs = {}
    for r in results:
        if r["implementation"] == "gossipsub":
            gs.setdefault(key(r), []).append(r)
    pairs, skipped = [], []
    for r in results:
        if r["implementation"] != "p2pd":
            if r["implementation"] != "gossipsub":
                skipped.append((r["_path"], "implementation %r" % r["implementation"]))
            continue
        cands = gs.get(key(r))
        if not cands:
            skipped.append((r["_path"], "no gossipsub result for this workload"))
            continue
        pairs += [(r, g) for g in cands]  # every gossipsub run of the workload (run 2, ...)
    return pairs, skipped


def compare(p, g):
    """The comparison of one pair: a dict (JSON-ready)."""
    pp, fp, fg = p["params"], figures(p), figures(g)
    warnings = []
    sp, sg = p["graph"].get("sha256"), g["graph"].get("sha256")
    if sp and sg and sp != sg:
        warnings.append("graph files differ (sha256)")
    if (p["graph"]["edges"], p["graph"]["nodes"]) != (g["graph"]["edges"], g["graph"]["nodes"]):
        warnings.append("graphs differ in size")
    for side, r in (("p2pd", p), ("gossipsub", g)):
        s = r.get("run")
        if s and s["delivered_fraction"] != 1:
            warnings.append("%s delivered only %s" % (side, s["delivered_fraction"]))
        if r["environment"].get("other_benchmark_seen_during_run"):
            warnings.append("%s ran while another benchmark ran" % side)
    c = {"workload": {"nodes": pp["nodes"], "degree": pp["degree"], "seed": str(pp["seed"]),
                      "body_bytes": pp["body_bytes"],
                      "rate": None if "max_rate" in p else pp["rate"],
                      "mode": "max-rate" if "max_rate" in p else "run"},
         "p2pd_variant": variant(p),
         "files": {"p2pd": p["_path"], "gossipsub": g["_path"]},
         "load1": {"p2pd": p["environment"].get("loadavg_start", [None])[0],
                   "gossipsub": g["environment"].get("loadavg_start", [None])[0]},
         "p2pd": fp, "gossipsub": fg,
         "ratio": {k: ratio(fp.get(k), fg.get(k)) for k in fp if k != "delivered_fraction"},
         "warnings": warnings}
    if pp["body_bytes"] == TARGET_BODY and "run" in p:
        r = c["ratio"]
        c["targets"] = {
            "wire_bytes_at_most_half": r["bytes_per_delivery"] is not None and
            r["bytes_per_delivery"] <= TARGET_WIRE_RATIO,
            "faster_p50": r["tta_p50_ms"] is not None and r["tta_p50_ms"] < 1,
            "faster_p99": r["tta_p99_ms"] is not None and r["tta_p99_ms"] < 1,
        }
    return c


def fmt(v, digits=3):
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return "{:,}".format(v)
    if isinstance(v, float):
        if abs(v) >= 100:
            return "{:,.0f}".format(v)
        return ("{:.%dg}" % digits).format(v)
    return str(v)


def markdown(comps):
    runs = [c for c in comps if c["workload"]["mode"] == "run"]
    rates = [c for c in comps if c["workload"]["mode"] == "max-rate"]
    out = []
    if runs:
        out.append("| N | body | rate | p2pd | gossipsub file | time-to-all p50 ms: p2pd / "
                   "gossipsub = ratio | p99 ms | bytes per delivery | duplicates per delivery "
                   "| load (p2pd, gossipsub) |")
        out.append("|---:|---:|---:|---|---|---|---|---|---|---|")
        for c in runs:
            w, p, g, r = c["workload"], c["p2pd"], c["gossipsub"], c["ratio"]

            def cell(k):
                return "%s / %s = **%s**" % (fmt(p.get(k)), fmt(g.get(k)), fmt(r.get(k), 2))
            out.append("| %d | %s | %s/s | %s | %s | %s | %s | %s | %s | %s, %s |" % (
                w["nodes"], fmt(w["body_bytes"]), fmt(w["rate"]), c["p2pd_variant"],
                os.path.basename(c["files"]["gossipsub"]),
                cell("tta_p50_ms"), cell("tta_p99_ms"), cell("bytes_per_delivery"),
                cell("dup_per_delivery"), fmt(c["load1"]["p2pd"]), fmt(c["load1"]["gossipsub"])))
    if rates:
        if out:
            out.append("")
        out.append("| N | body | p2pd | gossipsub file | max sustained rate msgs/s: p2pd / "
                   "gossipsub = ratio |")
        out.append("|---:|---:|---|---|---|")
        for c in rates:
            w = c["workload"]
            out.append("| %d | %s | %s | %s | %s / %s = **%s** |" % (
                w["nodes"], fmt(w["body_bytes"]), c["p2pd_variant"],
                os.path.basename(c["files"]["gossipsub"]),
                fmt(c["p2pd"].get("max_rate")), fmt(c["gossipsub"].get("max_rate")),
                fmt(c["ratio"].get("max_rate"), 3)))
    return "\n".join(out)


def text(comps):
    out = []
    for c in comps:
        w = c["workload"]
        out.append("N=%d body=%d %s%s  [p2pd: %s]  %s vs %s" % (
            w["nodes"], w["body_bytes"], w["mode"],
            "" if w["rate"] is None else " rate=%g/s" % w["rate"], c["p2pd_variant"],
            os.path.basename(c["files"]["p2pd"]), os.path.basename(c["files"]["gossipsub"])))
        for k in c["ratio"]:
            out.append("  %-22s p2pd %12s   gossipsub %12s   ratio %s" % (
                k, fmt(c["p2pd"].get(k)), fmt(c["gossipsub"].get(k)), fmt(c["ratio"][k], 3)))
        for k, v in c.get("targets", {}).items():
            out.append("  target %-30s %s" % (k, "met" if v else "NOT met"))
        for wmsg in c["warnings"]:
            out.append("  warning: %s" % wmsg)
    return "\n".join(out)


def rows_table(results):
    """One Markdown row per result file (either implementation)."""
    out = ["| implementation | variant | N | body | rate | delivered | time-to-all p50 / p90 / "
           "p99 / max ms | delivery p50 ms | bytes per delivery (x body) | duplicates per "
           "delivery | node CPU µs per delivery | max rate | load 1 min start, end |",
           "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|"]
    for r in sorted(results, key=lambda r: (r["implementation"] != "p2pd", "max_rate" in r,
                                            r["params"]["nodes"], r["params"]["body_bytes"],
                                            variant(r))):
        p, e = r["params"], r["environment"]
        cells = [r["implementation"], variant(r) if r["implementation"] == "p2pd" else "",
                 fmt(p["nodes"]), fmt(p["body_bytes"])]
        s = r.get("run")
        if s:
            t = s["time_to_all_ms"]
            w = s["wire"]
            cells += ["%s/s" % fmt(p["rate"]), fmt(s["delivered_fraction"]),
                      " / ".join(fmt(t[k]) for k in ("p50", "p90", "p99", "max")),
                      fmt(s["delivery_latency_ms"]["p50"]),
                      "%s (%s)" % (fmt(w["bytes_per_delivery"]), fmt(w["overhead_factor"], 3)),
                      fmt(s["duplicates"]["per_delivery"]),
                      fmt(s["cpu"]["node_cpu_us_per_delivery"])]
        else:
            cells += ["—"] * 7
        cells.append(fmt(r["max_rate"]["max_rate_msgs_per_s"]) if "max_rate" in r else "—")
        la, lb = e.get("loadavg_start"), e.get("loadavg_end")
        cells.append("%s, %s" % (fmt(la[0]) if la else "—", fmt(lb[0]) if lb else "—"))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", help="result files of both implementations")
    ap.add_argument("--json", help="write the comparisons to this file")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables")
    ap.add_argument("--table", action="store_true",
                    help="print one Markdown row per file instead of comparing")
    a = ap.parse_args(argv)
    results = [load(f) for f in a.files]
    if a.table:
        print(rows_table(results))
        return 0
    pairs, skipped = pair_up(results)
    comps = [compare(p, g) for p, g in pairs]
    comps.sort(key=lambda c: (c["workload"]["mode"] != "run", c["workload"]["nodes"],
                              c["workload"]["body_bytes"], c["p2pd_variant"],
                              c["files"]["gossipsub"]))
    for path, why in skipped:
        print("skipped %s: %s" % (path, why), file=sys.stderr)
    if not comps:
        print("no pair of p2pd and gossipsub results for the same workload", file=sys.stderr)
        return 1
    print(markdown(comps) if a.markdown else text(comps))
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump({"schema": "p2pd-bench-comparison/1", "comparisons": comps}, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
