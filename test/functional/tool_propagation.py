#!/usr/bin/env python3
"""contrib/bench/propagation.py --quick, as CI runs it so the harness cannot rot (issue 8).

Five regtest nodes, 20 messages of 1 KiB: the harness must exit 0 and write a result in the
shared schema (p2pd-bench-propagation/1) whose numbers are sane: every message delivered to
every node, a positive time-to-all, bytes per delivery above the body size and below ten times
it, and the node counters agreeing with the kernel's socket counters. No timing threshold:
the figures belong in doc/benchmarks.md, not in a test."""

import json
import os

from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, get_free_port

NODES = 5


class PropagationQuickTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 0

    def run_test(self):
        out = os.path.join(self.tmpdir, "quick.json")
        ports = ",".join(str(get_free_port()) for _ in range(2 * NODES))
        rc, _ = self.run_contrib("bench/propagation.py", [
            "--quick", "--builddir", os.path.abspath(self.options.builddir), "--ports", ports,
            "--dir", os.path.join(self.tmpdir, "net"), "--wait-idle", "0", "--json", out])
        assert_equal(rc, 0)
        with open(out) as f:
            r = json.load(f)
        assert_equal(r["schema"], "p2pd-bench-propagation/1")
        assert_equal(r["implementation"], "p2pd")
        assert_equal(r["params"]["nodes"], NODES)
        run = r["run"]
        assert_equal(run["delivered_fraction"], 1.0)
        assert_equal(run["messages_to_all"], run["messages"])
        body = r["params"]["body_bytes"]
        assert run["time_to_all_ms"]["p50"] > 0, run["time_to_all_ms"]
        per = run["wire"]["bytes_per_delivery"]
        assert body < per < 10 * body, run["wire"]
        assert r["wire_check"]["ok"], r["wire_check"]


if __name__ == "__main__":
    PropagationQuickTest().main()
