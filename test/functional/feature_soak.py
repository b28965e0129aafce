#!/usr/bin/env python3
"""The short soak (issue 9): contrib/bench/soak.py with 200 peers for 30 seconds, as CI runs it
so the script cannot rot. It checks what the script checks (every peer stays connected, memory
under the bound, no file-descriptor leak, RPC always answers, observers keep getting
announcements, every published message stored) and that its JSON is sane; it asserts no
timing. The full soak (1,000 peers, 10 minutes) is in doc/benchmarks.md "Soak"."""

import json
import os

from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal

PEERS = 200
SECONDS = 30


class SoakShortTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 0

    def run_test(self):
        out = os.path.join(self.tmpdir, "soak.json")
        builddir = os.path.abspath(self.options.builddir)
        args = ["--builddir", builddir, "--peers", PEERS, "--duration", SECONDS, "--sample", 5,
                "--json", out]
        with open(os.path.join(builddir, "src", "p2pd"), "rb") as f:
            sanitized = b"__asan_init" in f.read()
        if sanitized:
            # AddressSanitizer keeps freed memory in quarantine (256 MiB) and pads every
            # allocation: the memory bound is the release build's, not this one's.
            self.log("AddressSanitizer build: memory bound raised to 2 GiB")
            args += ["--max-rss-mb", "2048"]
        rc, _ = self.run_contrib("bench/soak.py", args, show=12)
        assert_equal(rc, 0)
        with open(out) as f:
            r = json.load(f)
        assert_equal(r["peers"], PEERS)
        assert r["ok"], r["checks"]
        assert_equal(r["dropped_by_node"], 0)
        assert r["published"] > 0 and r["stored"] >= r["published"], r
        assert r["rpc_ms"]["calls"] > 10 and r["rpc_ms"]["failures"] == 0, r["rpc_ms"]
        assert len(r["samples"]) >= SECONDS // 5 - 1, len(r["samples"])
        assert r["peers_at_end"] >= PEERS + 2, r["peers_at_end"]


if __name__ == "__main__":
    SoakShortTest().main()
