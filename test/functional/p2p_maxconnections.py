#!/usr/bin/env python3
"""-maxconnections and the inbound share (doc/protocol.md, "Connection options").

-maxconnections=12 leaves 12 - 10 (outbound slots) = 2 inbound slots:
- two inbound test peers get in; a third is disconnected at once, without a version;
- the first two keep working;
- after one leaves, a new one gets in;
- manual outbound connections (addnode onetry) come on top of the limit.
"""

from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, wait_until

MAX_CONNECTIONS = 12
INBOUND_SLOTS = MAX_CONNECTIONS - 10


class MaxConnectionsTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-maxconnections=%d" % MAX_CONNECTIONS, "-debug=net"]]

    def run_test(self):
        node = self.nodes[0]

        self.log("%d inbound peers get in" % INBOUND_SLOTS)
        peers = [node.add_p2p_connection() for _ in range(INBOUND_SLOTS)]
        for p in peers:
            node.wait_for_peer_of(p)
        assert_equal(node.rpc.getnetworkinfo()["connections_in"], INBOUND_SLOTS)

        self.log("The next one is refused at once")
        extra = node.add_p2p_connection(send_version=False)
        extra.wait_for_disconnect(timeout=10)
        assert_equal(extra.message_log, [])
        assert_equal(node.rpc.getconnectioncount(), INBOUND_SLOTS)

        self.log("The first ones keep working")
        for p in peers:
            p.sync_with_ping()
            assert_equal(node.peer_of(p)["state"], "established")

        self.log("A manual outbound connection comes on top of the limit")
        out = node.add_outbound_p2p_connection()
        node.wait_for_peer_of(out)
        out.sync_with_ping()
        assert_equal(node.rpc.getconnectioncount(), INBOUND_SLOTS + 1)

        self.log("Still no room for another inbound peer")
        extra = node.add_p2p_connection(send_version=False)
        extra.wait_for_disconnect(timeout=10)

        self.log("After one leaves, a new one gets in")
        peers[0].peer_disconnect()
        wait_until(lambda: node.peer_of(peers[0]) is None, timeout=10)
        newcomer = node.add_p2p_connection()
        node.wait_for_peer_of(newcomer)
        newcomer.sync_with_ping()
        peers[1].sync_with_ping()
        assert_equal(node.rpc.getnetworkinfo()["connections_in"], INBOUND_SLOTS)
        assert_equal(node.rpc.getconnectioncount(), INBOUND_SLOTS + 1)


if __name__ == "__main__":
    MaxConnectionsTest().main()
