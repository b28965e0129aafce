#!/usr/bin/env python3
"""Network RPCs: getconnectioncount, getnettotals, getnetworkinfo, disconnectnode,
setnetworkactive, and p2p-cli -netinfo.

- getnettotals grows with traffic and matches what the test peer sent and received;
- getnetworkinfo: connection counts (in/out), networkactive, local services, the listening
  address 127.0.0.1:<port>;
- disconnectnode by address and by id; -29 for a peer that is not connected;
- setnetworkactive false: every peer goes, new connections are refused, networkactive false;
  true: connections work again;
- p2p-cli -netinfo lists each peer with its direction, address and version.
"""

import socket
import time

from test_framework.messages import HEADER_SIZE, NODE_MSGSTORE
from test_framework.p2p import P2PInterface
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import (
    assert_equal,
    assert_greater_than_or_equal,
    assert_in,
    assert_raises_rpc_error,
    wait_until,
)

PING_FRAME = HEADER_SIZE + 8


class NetRpcTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 2
        self.extra_args = [["-debug=net"], ["-debug=net"]]

    def run_test(self):
        node0, node1 = self.nodes
        self.connect_nodes(0, 1)
        p2p = node0.add_p2p_connection(version_kwargs=dict(user_agent=b"/netinfo-peer:1/"))
        node0.wait_for_peer_of(p2p)
        p2p.sync_with_ping()

        self.log("getconnectioncount")
        assert_equal(node0.rpc.getconnectioncount(), 2)
        assert_equal(node1.rpc.getconnectioncount(), 1)

        self.log("getnettotals grows with traffic")
        # The node's own first ping (right after the handshake) has been answered.
        wait_until(lambda: "pingtime" in node0.peer_of(p2p), timeout=10)
        before = node0.rpc.getnettotals()
        assert abs(before["timemillis"] - time.time() * 1000) < 60000, before
        peer_before = node0.peer_of(p2p)
        for _ in range(5):
            p2p.sync_with_ping()
        after = node0.rpc.getnettotals()
        peer_after = node0.peer_of(p2p)
        assert_greater_than_or_equal(after["totalbytesrecv"] - before["totalbytesrecv"],
                                     5 * PING_FRAME)
        assert_greater_than_or_equal(after["totalbytessent"] - before["totalbytessent"],
                                     5 * PING_FRAME)
        assert_equal(peer_after["bytesrecv"] - peer_before["bytesrecv"], 5 * PING_FRAME)
        assert_equal(peer_after["bytessent"] - peer_before["bytessent"], 5 * PING_FRAME)
        # Totals cover at least what the current peers have seen.
        peers = node0.rpc.getpeerinfo()
        totals = node0.rpc.getnettotals()
        assert_greater_than_or_equal(totals["totalbytesrecv"], sum(p["bytesrecv"] for p in peers))
        assert_greater_than_or_equal(totals["totalbytessent"], sum(p["bytessent"] for p in peers))
        # What the node says it sent to the test peer is what the test peer received.
        wait_until(lambda: node0.peer_of(p2p)["bytessent"] == p2p.bytes_recv, timeout=10)
        wait_until(lambda: node0.peer_of(p2p)["bytesrecv"] == p2p.bytes_sent, timeout=10)

        self.log("getnetworkinfo")
        info = node0.rpc.getnetworkinfo()
        assert_equal((info["connections"], info["connections_in"], info["connections_out"]),
                     (2, 1, 1))
        assert_equal(info["networkactive"], True)
        assert_equal(info["localservices"], "%016x" % NODE_MSGSTORE)
        assert_equal(info["localservicesnames"], ["MSGSTORE"])
        assert_in({"address": "127.0.0.1", "port": node0.p2p_port}, info["localaddresses"])
        info1 = node1.rpc.getnetworkinfo()
        assert_equal((info1["connections"], info1["connections_in"], info1["connections_out"]),
                     (1, 1, 0))

        self.log("disconnectnode by address")
        assert_equal(node0.rpc.disconnectnode(node1.p2p_addr), None)
        wait_until(lambda: self.links(node0, node1) == ([], []), timeout=10)
        assert_equal(node0.rpc.getconnectioncount(), 1)

        self.log("disconnectnode by id")
        peer_id = node0.peer_of(p2p)["id"]
        assert_equal(node0.rpc.disconnectnode("", peer_id), None)
        p2p.wait_for_disconnect(timeout=10)
        wait_until(lambda: node0.rpc.getpeerinfo() == [], timeout=10)

        self.log("disconnectnode of a peer that is not connected: -29")
        assert_raises_rpc_error(-29, "Node not found in connected nodes",
                                node0.rpc.disconnectnode, node1.p2p_addr)
        assert_raises_rpc_error(-29, "Node not found in connected nodes",
                                node0.rpc.disconnectnode, "", peer_id)
        assert_raises_rpc_error(-29, "Node not found in connected nodes",
                                node0.rpc.disconnectnode, "", 999999)

        self.log("setnetworkactive false: everyone goes, nobody gets in")
        self.connect_nodes(0, 1)
        p2p = node0.add_p2p_connection()
        node0.wait_for_peer_of(p2p)
        assert_equal(node0.rpc.setnetworkactive(False), False)
        p2p.wait_for_disconnect(timeout=10)
        wait_until(lambda: node0.rpc.getpeerinfo() == [] and node1.rpc.getpeerinfo() == [],
                   timeout=10)
        assert_equal(node0.rpc.getnetworkinfo()["networkactive"], False)
        assert_equal(node0.rpc.getconnectioncount(), 0)
        self.assert_refused(node0)
        assert_equal(node0.rpc.getpeerinfo(), [])

        self.log("setnetworkactive true: connections work again")
        assert_equal(node0.rpc.setnetworkactive(True), True)
        assert_equal(node0.rpc.getnetworkinfo()["networkactive"], True)
        p2p = node0.add_p2p_connection(version_kwargs=dict(user_agent=b"/netinfo-peer:1/"))
        p2p.sync_with_ping()
        self.connect_nodes(0, 1)
        assert_equal(node0.rpc.getconnectioncount(), 2)
        self.check_netinfo(node0, node1, p2p)

    def check_netinfo(self, node0, node1, p2p):
        self.log("p2p-cli -netinfo shows the peers")
        res = node0.cli("-netinfo")
        assert res.returncode == 0, "p2p-cli -netinfo failed: %r" % (res,)
        out = res.stdout
        assert_in(node1.p2p_addr, out)
        assert_in("127.0.0.1:%d" % p2p.local_port, out)
        assert_in("/p2pd:0.1.0/", out)
        assert_in("/netinfo-peer:1/", out)
        rows = {line for line in out.splitlines()
                if node1.p2p_addr in line or "127.0.0.1:%d" % p2p.local_port in line}
        assert_equal(len(rows), 2)
        row_out = [r for r in rows if node1.p2p_addr in r][0]
        row_in = [r for r in rows if "/netinfo-peer:1/" in r][0]
        assert_in("out", row_out.split())
        assert_in("in", row_in.split())

    def assert_refused(self, node):
        """A new inbound test peer either cannot connect or is closed at once, and never
        shows in getpeerinfo as established."""
        p2p = P2PInterface()
        try:
            p2p.peer_connect("127.0.0.1", node.p2p_port, timeout=10)
        except (ConnectionRefusedError, socket.timeout):
            return
        try:
            p2p.send_version()
        except OSError:
            pass  # closed already
        p2p.wait_for_disconnect(timeout=10)
        assert_equal(p2p.message_log, [])
        p2p.peer_disconnect()


if __name__ == "__main__":
    NetRpcTest().main()
