#!/usr/bin/env python3
"""Markdown tables from propagation result files (schema p2pd-bench-propagation/1).

    summary.py results/*.json                 one row per file
    summary.py --ratio p2pd.json gossipsub.json   p2pd / gossipsub per figure

Standard library only; reads what run.mjs (or a p2pd driver) wrote.
"""

import argparse
import json
import sys

SCHEMA = "p2pd-bench-propagation/1"


def load(path):
    with open(path, encoding="utf-8") as f:
        r = json.load(f)
    if r.get("schema") != SCHEMA:
        raise SystemExit(f"{path}: not a {SCHEMA} file")
    return r


def figures(r):
    """The compared figures of one result: a dict name -> number (or None)."""
    p = r["params"]
    out = {"impl": r["implementation"], "N": p["nodes"], "body": p["body_bytes"]}
    if "run" in r:
        s = r["run"]
        out.update({
            "rate": s["rate_target"],
            "delivered": s["delivered_fraction"],
            "tta_p50_ms": s["time_to_all_ms"]["p50"],
            "tta_p99_ms": s["time_to_all_ms"]["p99"],
            "tta_max_ms": s["time_to_all_ms"]["max"],
            "bytes_per_delivery": s["wire"]["bytes_per_delivery"],
            "dup_per_delivery": s["duplicates"]["per_delivery"],
            "cpu_us_per_delivery": s["cpu"]["node_cpu_us_per_delivery"],
            "load1_start": r["environment"].get("loadavg_start", [None])[0],
        })
    if "max_rate" in r:
        out["max_rate"] = r["max_rate"]["max_rate_msgs_per_s"]
    return out


def fmt(v):
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.3f}".rstrip("0").rstrip(".") if abs(v) < 100 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def table(rows):
    keys = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    lines = ["| " + " | ".join(keys) + " |", "|" + "|".join("---" for _ in keys) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(fmt(r.get(k)) for k in keys) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ratio", action="store_true", help="two files: p2pd then gossipsub")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    rows = [figures(load(f)) for f in a.files]
    if not a.ratio:
        print(table(rows))
        return 0
    if len(rows) != 2:
        ap.error("--ratio takes two files")
    num, den = rows
    for k in ("N", "body", "rate"):
        if num.get(k) != den.get(k):
            print(f"warning: {k} differs: {num.get(k)} vs {den.get(k)}", file=sys.stderr)
    ratio = {"p2pd / gossipsub": f"N={num.get('N')} body={num.get('body')}"}
    for k in ("tta_p50_ms", "tta_p99_ms", "tta_max_ms", "bytes_per_delivery",
              "dup_per_delivery", "cpu_us_per_delivery", "max_rate"):
        x, y = num.get(k), den.get(k)
        if x is not None and y not in (None, 0):
            ratio[k] = round(x / y, 3)
    print(table([num, den]))
    print()
    print(table([ratio]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
