#!/usr/bin/env python3
"""Anchors (doc/discovery.md, "Connections"): at shutdown a node saves the addresses of two
outbound full-relay peers; at the next start it dials them first, then forgets them.

- node0 knows node1 and node2 (addpeeraddress) and makes automatic outbound-full-relay
  connections to both; it is stopped.
- Restart: "Loaded 2 anchor addresses" is logged, and node0 is connected to node1 and node2
  again, and they are its first outbound connections (the lowest peer ids).
- Anchors do not come from the address book: node0 is stopped again, its address-book header
  is made unusable (the node then starts with an empty book, doc/storage.md) and it still
  reconnects to node1 and node2 at start, with nothing else to dial. The anchors were deleted
  when read: after a kill (nothing saved at shutdown) the next start loads none.
"""

import os

from test_framework.leveldb_log import write_log_file
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal

LOG_NUMBER = 900000
SEQUENCE = 1 << 40


class AnchorsTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 3
        self.extra_args = [["-debug=net", "-debug=addrman"], [], []]

    def outbound(self, node):
        return sorted((p["id"], p["addr"], p["connection_type"])
                      for p in node.rpc.getpeerinfo() if not p["inbound"])

    def run_test(self):
        node, n1, n2 = self.nodes
        targets = {n1.p2p_addr, n2.p2p_addr}

        self.log("node0 makes automatic outbound-full-relay connections to node1 and node2")
        for n in (n1, n2):
            assert_equal(node.add_peer_address(n), True)
        node.wait_for_outbound(targets, "outbound-full-relay")
        assert_equal(node.outbound_addrs(), targets)

        self.log("Restart: the anchors are dialled first")
        node.stop_node()
        with node.assert_debug_log(["Loaded 2 anchor addresses"]):
            node.start()
        node.wait_for_outbound(targets, "outbound-full-relay", timeout=20)
        out = self.outbound(node)
        self.log("outbound after restart: %s" % out)
        first_two = {addr for _, addr, _ in out[:2]}
        assert_equal(first_two, targets)

        self.log("Anchors do not depend on the address book")
        node.stop_node()
        dbdir = os.path.join(node.netdir, "db")
        # An address-book header of the wrong size: the book is ignored (empty).
        write_log_file(os.path.join(dbdir, "%06d.log" % LOG_NUMBER), SEQUENCE,
                       [(b"ah", b"\x00" * 3)])
        # (The book is empty at load; what the anchors tell node0 once connected may fill it.)
        with node.assert_debug_log(["Loaded 2 anchor addresses", "header unusable",
                                    "addrman: loaded 0 addresses"]):
            node.start()
        node.wait_for_outbound(targets, "outbound-full-relay", timeout=20)

        self.log("... and are forgotten once read: killed (nothing saved), no anchors next time")
        node.kill()
        with node.assert_debug_log(["addrman: loaded"], unexpected_msgs=["anchor address"]):
            node.start()

if __name__ == "__main__":
    AnchorsTest().main()
