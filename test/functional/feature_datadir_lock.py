#!/usr/bin/env python3
"""The network directory is locked: a second p2pd on it is refused and the first keeps running."""

import os
import re

from test_framework.node import TestNode
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, get_free_port


class DatadirLockTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def run_test(self):
        node = self.nodes[0]
        cookie = node.read_cookie()
        log_size = os.path.getsize(node.debug_log_path)

        self.log("Second p2pd on the same datadir is refused")
        netdir = node.netdir
        # Another RPC port so a port clash cannot be what stops it.
        second_port = "-rpcport=%d" % get_free_port()
        err = node.assert_start_raises_init_error([second_port], expected_ret=1)
        m = re.search(r"^Error: Cannot obtain a lock on data directory (.+)\. "
                      r"p2pd is probably already running\.$", err, re.MULTILINE)
        assert m, "lock message not found in %r" % err
        named = os.path.realpath(m.group(1))
        assert named in (os.path.realpath(netdir), os.path.realpath(node.datadir)), \
            "message names %s" % m.group(1)
        self.log("refused with: %s" % err)

        self.log("The first node is untouched")
        assert_equal(node.rpc.uptime() >= 0, True)
        assert_equal(node.read_cookie(), cookie)
        assert os.path.exists(os.path.join(netdir, ".lock"))
        # The refused instance must not have written to the running node's log.
        with open(node.debug_log_path) as f:
            assert "Shutdown: done" not in f.read()
        assert os.path.getsize(node.debug_log_path) >= log_size

        self.log("A different datadir works alongside")
        other = TestNode(1, self.tmpdir, self.binaries, timeout_factor=self.options.timeout_factor,
                         log=self.log)
        self.nodes.append(other)
        other.start()
        assert other.rpc.getnetworkinfo()["nodepubkey"] != node.rpc.getnetworkinfo()["nodepubkey"]
        other.stop_node()

        self.log("Another network on the same datadir has its own lock")
        testnet = TestNode(0, self.tmpdir, self.binaries, chain="testnet",
                           timeout_factor=self.options.timeout_factor, log=self.log)
        self.nodes.append(testnet)
        testnet.start()
        assert_equal(testnet.rpc.getnetworkinfo()["network"], "testnet")
        testnet.stop_node()

        self.log("After a clean stop the datadir can be used again")
        node.stop_node()
        node.start()
        assert_equal(node.rpc.getnetworkinfo()["network"], "regtest")


if __name__ == "__main__":
    DatadirLockTest().main()
