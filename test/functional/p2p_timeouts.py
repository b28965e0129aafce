#!/usr/bin/env python3
"""Handshake timeout (-peertimeout): a peer that is not established in time is disconnected.

With -peertimeout=2:
- a silent peer (TCP connect, sends nothing) shows as "await_version", then is disconnected,
  no sooner than the timeout;
- a peer that sends version but never verack shows as "await_verack", then is disconnected;
- a peer that completed the handshake at the same time stays connected.
"""

import time

from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, assert_greater_than_or_equal, wait_until

PEER_TIMEOUT = 2


class TimeoutsTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-peertimeout=%d" % PEER_TIMEOUT, "-debug=net"]]

    def run_test(self):
        node = self.nodes[0]

        start = time.monotonic()
        silent = node.add_p2p_connection(send_version=False)
        no_verack = node.add_p2p_connection(auto_verack=False)
        good = node.add_p2p_connection()

        self.log("The node sees each in its handshake state")
        assert_equal(node.wait_for_peer_of(silent, state=None)["state"], "await_version")
        assert_equal(node.wait_for_peer_of(no_verack, state=None)["state"], "await_verack")
        node.wait_for_peer_of(good)

        self.log("Silent peer and version-only peer are disconnected after -peertimeout")
        silent.wait_for_disconnect(timeout=PEER_TIMEOUT + 8)
        no_verack.wait_for_disconnect(timeout=PEER_TIMEOUT + 8)
        elapsed = time.monotonic() - start
        assert_greater_than_or_equal(elapsed, PEER_TIMEOUT - 0.5)
        assert_equal(silent.message_log, [])  # the node never spoke first to an inbound peer
        assert_equal(no_verack.commands_received()[:4],
                     [b"version", b"sendaddrv2", b"sendzlib", b"verack"])
        wait_until(lambda: len(node.rpc.getpeerinfo()) == 1, timeout=10)

        self.log("The established peer stays")
        good.sync_with_ping()
        assert_equal(node.peer_of(good)["state"], "established")
        assert_equal(node.rpc.getconnectioncount(), 1)

        self.log("A fresh peer still gets in")
        fresh = node.add_p2p_connection()
        fresh.sync_with_ping()


if __name__ == "__main__":
    TimeoutsTest().main()
