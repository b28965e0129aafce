#!/usr/bin/env python3
"""Measure catch-up sync's bytes and round trips for other split factors (RECON_BRANCH) and
id-list thresholds (RECON_IDLIST_THRESHOLD) than the ones compiled in, with the Python
reference (test/functional/test_framework/recon.py, whose bytes the C code reproduces exactly:
test/vectors/recon-vectors.json). The table behind the choice in include/msg/recon.h and
doc/benchmarks.md, "Reconciliation".

Usage: contrib/devtools/recon-tune.py [N] [DIFF%...]   (default: 100000 1 10)
Two sets of N items (random ids, times over 14 days) differing by DIFF% of N, half on each
side. Takes about a minute per difference at N = 100,000.
"""

import os
import random
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "test", "functional"))

from test_framework import recon as R  # noqa: E402

T0, SPAN = 1700000000, 14 * 86400
CONFIGS = [(4, 4), (4, 8), (8, 8), (16, 16), (16, 32), (3, 3), (4, 3), (4, 5), (4, 6)]


def sets(n, pct, seed=1):
    rng = random.Random(seed)
    half = int(n * pct / 100 / 2)

    def item():
        return (T0 + rng.randrange(SPAN), rng.randbytes(32))

    common = [item() for _ in range(n - half)]
    return R.ItemSet(common + [item() for _ in range(half)]), \
        R.ItemSet(common + [item() for _ in range(half)])


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    pcts = [float(p) for p in sys.argv[2:]] or [1.0, 10.0]
    full = 2 * n * 32
    print("%8s %6s %9s %12s %9s %7s" % ("branch", "thresh", "diff%", "bytes", "of full",
                                          "rounds"))
    for pct in pcts:
        a, b = sets(n, pct)
        for branch, thresh in CONFIGS:
            R.BRANCH, R.IDLIST_THRESHOLD = branch, thresh
            init = R.reconcile(a, b, T0, T0 + SPAN)
            total = init.bytes_sent + init.bytes_recv
            print("%8d %6d %9.1f %12d %8.2f%% %7d" % (branch, thresh, pct, total,
                                                     100.0 * total / full, init.rounds))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
