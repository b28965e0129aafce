#!/usr/bin/env python3
"""PNG plots from propagation result files (schema p2pd-bench-propagation/1).

    plot.py --outdir doc/img results/*.json gossipsub/results/*.json

Writes three figures:
  propagation-cdf.png      per workload (N, body size, rate), the distribution (CDF) of
                           time-to-all over the messages, one curve per implementation/variant
  propagation-wire.png     wire bytes received per delivered message, per workload
  propagation-maxrate.png  max-rate trials: p99 time-to-all against the target rate

Needs matplotlib (Debian: apt-get install python3-matplotlib). When the running Python lacks
it and /usr/bin/python3 has it, the script runs itself again with /usr/bin/python3 (a pyenv
or virtualenv python does not see Debian's packages). Nothing else of the benchmark needs it.
"""

import argparse
import os
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402  (contrib/bench/compare.py)

DEBIAN_PYTHON = "/usr/bin/python3"

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker as ticker
except ImportError:
    if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) and \
            os.path.exists(DEBIAN_PYTHON) and not os.environ.get("PLOT_REEXEC"):
        os.environ["PLOT_REEXEC"] = "1"
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit("plot.py needs matplotlib: apt-get install python3-matplotlib "
             "(and run it with Debian's python3)")

COLORS = {"p2pd": "#1f77b4", "gossipsub": "#d62728"}
VARIANT_STYLES = ["-", "--", ":", "-."]
DPI = 90


def plain_log_axis(axis):
    """Tick labels 10, 100, 1,000 (not 10^1) on a log axis; no labels on minor ticks."""
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: "{:,.10g}".format(v)))
    axis.set_minor_formatter(ticker.NullFormatter())


def label(r):
    if r["implementation"] == "gossipsub":
        return "gossipsub (js-libp2p)"
    v = compare.variant(r)
    return "p2pd" + ("" if v == "relaydelay 0" else " (%s)" % v)


def workload_title(k):
    n, _, _, body, mode, rate = k
    size = "%d KiB" % (body // 1024) if body >= 1024 else "%d B" % body
    return "N=%d, %s, %s" % (n, size, "max-rate" if mode == "max-rate" else "%g msg/s" % rate)


def style(r, seen):
    impl = r["implementation"]
    i = seen.setdefault(impl, 0)
    seen[impl] += 1
    return COLORS.get(impl, "gray"), VARIANT_STYLES[i % len(VARIANT_STYLES)]


def runs_by_workload(results):
    groups = {}
    for r in results:
        if "run" in r:
            groups.setdefault(compare.key(r), []).append(r)
    order = sorted(groups, key=lambda k: (k[0], k[3], k[5] or 0))
    return [(k, sorted(groups[k], key=lambda r: (r["implementation"] != "p2pd",
                                                  compare.variant(r))))
            for k in order]


def plot_cdf(groups, path):
    n = len(groups)
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, (k, rs) in zip(axes.flat, groups):
        seen = {}
        for r in rs:
            pm = r["run"].get("per_message")
            if not pm:
                continue
            col = pm["columns"].index("time_to_all_us")
            v = sorted(x[col] / 1000 for x in pm["rows"] if x[col] is not None)
            if not v:
                continue
            c, ls = style(r, seen)
            ax.step(v, [(i + 1) / len(pm["rows"]) for i in range(len(v))], where="post",
                    color=c, linestyle=ls, label=label(r), linewidth=1.4)
        ax.set_xscale("log")
        plain_log_axis(ax.xaxis)
        ax.set_ylim(0, 1.02)
        ax.set_title(workload_title(k), fontsize=9)
        ax.set_xlabel("time until every node has the message (ms)", fontsize=8)
        ax.set_ylabel("fraction of messages", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle("Time-to-all: p2pd and gossipsub, same graph, publishers and rate", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def plot_wire(groups, path):
    fig, ax = plt.subplots(figsize=(8, 3.6))
    labels, series = [], {}
    for i, (k, rs) in enumerate(groups):
        labels.append(workload_title(k).replace(", ", "\n", 1))
        for r in rs:
            series.setdefault(label(r), {})[i] = r["run"]["wire"]["bytes_per_delivery"]
    names = sorted(series, key=lambda s: (not s.startswith("p2pd"), s))
    width = 0.8 / max(1, len(names))
    for j, name in enumerate(names):
        xs = [i + (j - (len(names) - 1) / 2) * width for i in series[name]]
        ys = list(series[name].values())
        color = COLORS["gossipsub"] if name.startswith("gossipsub") else COLORS["p2pd"]
        alpha = 1.0 if name in ("p2pd", "gossipsub (js-libp2p)") else 0.55
        bars = ax.bar(xs, ys, width * 0.95, color=color, alpha=alpha, label=name)
        for b, y in zip(bars, ys):
            ax.annotate("{:,.0f}".format(y), (b.get_x() + b.get_width() / 2, y),
                        ha="center", va="bottom", fontsize=6)
    for i, (k, _) in enumerate(groups):
        ax.hlines(k[3], i - 0.45, i + 0.45, colors="black", linestyles="dotted", linewidth=1)
    ax.set_yscale("log")
    plain_log_axis(ax.yaxis)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_ylabel("bytes received per delivery", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title("Wire bytes per delivered message (dotted: the body size)", fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(True, axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def plot_maxrate(results, path):
    rs = [r for r in results if "max_rate" in r]
    if not rs:
        return False
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
    seen = {}
    for r in sorted(rs, key=lambda r: r["implementation"] != "p2pd"):
        c, ls = style(r, seen)
        tr = sorted(r["max_rate"]["trials"], key=lambda t: t["rate"])
        lab = "%s, N=%d: %s msg/s" % (label(r), r["params"]["nodes"],
                                      r["max_rate"]["max_rate_msgs_per_s"])
        x = [t["rate"] for t in tr]
        ax1.plot(x, [t["time_to_all_ms"]["p99"] for t in tr], marker="o", markersize=3,
                 color=c, linestyle=ls, label=lab)
        ax2.plot(x, [t["rate_achieved"] for t in tr], marker="o", markersize=3, color=c,
                 linestyle=ls, label=lab)
        for t in tr:
            if not t["pass"]:
                ax1.plot(t["rate"], t["time_to_all_ms"]["p99"], "x", color=c, markersize=7)
    crit = rs[0]["max_rate"]["criterion"]
    lim = float(crit.split("<=")[1].split("ms")[0]) if "<=" in crit else None
    if lim:
        ax1.axhline(lim, color="black", linestyle="dotted", linewidth=1)
    lo = min(t["rate"] for r in rs for t in r["max_rate"]["trials"])
    hi = max(t["rate"] for r in rs for t in r["max_rate"]["trials"])
    ax2.plot([lo, hi], [lo, hi], color="black", linestyle="dotted", linewidth=1)
    for ax, yl, title in ((ax1, "p99 time-to-all (ms)", "p99 time-to-all per trial (x: failed)"),
                          (ax2, "achieved rate (msg/s)", "achieved publish rate")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        plain_log_axis(ax.xaxis)
        plain_log_axis(ax.yaxis)
        ax.set_xlabel("target rate (msg/s)", fontsize=8)
        ax.set_ylabel(yl, fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Maximum sustained rate search, 1 KiB bodies", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--outdir", default=os.path.join(HERE, "..", "..", "doc", "img"))
    ap.add_argument("--prefix", default="propagation")
    a = ap.parse_args(argv)
    results = [compare.load(f) for f in a.files]
    os.makedirs(a.outdir, exist_ok=True)
    groups = runs_by_workload(results)
    written = []
    if groups:
        p = os.path.join(a.outdir, a.prefix + "-cdf.png")
        plot_cdf(groups, p)
        written.append(p)
        p = os.path.join(a.outdir, a.prefix + "-wire.png")
        plot_wire(groups, p)
        written.append(p)
    p = os.path.join(a.outdir, a.prefix + "-maxrate.png")
    if plot_maxrate(results, p):
        written.append(p)
    for p in written:
        print("wrote %s (%d KiB)" % (os.path.relpath(p), (os.path.getsize(p) + 1023) // 1024))
    return 0


if __name__ == "__main__":
    sys.exit(main())
