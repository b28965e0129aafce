#!/usr/bin/env python3
"""Outbound connections: -connect, -addnode, addnode RPC (add/remove/onetry), getaddednodeinfo.

Three nodes: node0 -connect=node1, node2 -addnode=node1.
- Both links come up and show as manual outbound / inbound on the two ends.
- getaddednodeinfo on node2 lists node1 as connected; after node1 stops it is listed as not
  connected; after node1 restarts both kept connections (-connect and -addnode) come back.
- addnode onetry connects once and is not remembered in the added-node list.
- addnode add connects and is listed; errors: add twice (-23), remove unknown (-24), bad
  command (-1), getaddednodeinfo of an unknown node (-24).
"""

from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, assert_raises_rpc_error, wait_until


class ConnectTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 3

    def setup_nodes(self):
        self.add_nodes(3, [["-debug=net"]] * 3)
        n0, n1, n2 = self.nodes
        n0.extra_args.append("-connect=" + n1.p2p_addr)
        # No automatic outbound connections (-connect=0) on the others: the nodes learn each
        # other's addresses (self-announcements), and extra links would blur the counts here.
        n1.extra_args.append("-connect=0")
        n2.extra_args += ["-addnode=" + n1.p2p_addr, "-connect=0"]
        self.start_nodes()

    def added_info(self, node, name):
        infos = [i for i in node.rpc.getaddednodeinfo() if i["addednode"] == name]
        assert len(infos) <= 1, "addednode listed twice: %r" % infos
        return infos[0] if infos else None

    def run_test(self):
        n0, n1, n2 = self.nodes

        self.log("-connect and -addnode connect at start-up")
        pa, pb = self.wait_for_link(n0, n1)
        assert_equal(pa["connection_type"], "manual")
        assert_equal(pb["connection_type"], "inbound")
        pa, pb = self.wait_for_link(n2, n1)
        assert_equal(pa["connection_type"], "manual")
        assert_equal(pb["connection_type"], "inbound")
        assert_equal(n1.rpc.getconnectioncount(), 2)
        assert_equal(n1.rpc.getnetworkinfo()["connections_in"], 2)
        assert_equal(n2.rpc.getnetworkinfo()["connections_out"], 1)

        self.log("getaddednodeinfo lists the -addnode entry as connected")
        wait_until(lambda: (self.added_info(n2, n1.p2p_addr) or {}).get("connected"), timeout=10)
        info = self.added_info(n2, n1.p2p_addr)
        assert_equal(info["addresses"], [{"address": n1.p2p_addr, "connected": "outbound"}])
        assert_equal(n2.rpc.getaddednodeinfo(n1.p2p_addr), [info])

        self.log("Stop node1: the links go; getaddednodeinfo shows it not connected")
        n1.stop_node()
        wait_until(lambda: n0.rpc.getpeerinfo() == [] and n2.rpc.getpeerinfo() == [],
                   timeout=10)
        wait_until(lambda: self.added_info(n2, n1.p2p_addr)["connected"] is False, timeout=10)
        assert_equal(self.added_info(n2, n1.p2p_addr)["addresses"], [])

        self.log("Restart node1: -connect and -addnode connections come back")
        n1.start()
        self.wait_for_link(n0, n1)
        self.wait_for_link(n2, n1)
        wait_until(lambda: self.added_info(n2, n1.p2p_addr)["connected"], timeout=10)

        self.log("addnode onetry: connects once, not in the added-node list")
        pa, pb = self.connect_nodes(n2, n0)
        assert_equal(pa["connection_type"], "manual")
        assert_equal(self.added_info(n2, n0.p2p_addr), None)
        assert_raises_rpc_error(-24, "Node has not been added", n2.rpc.getaddednodeinfo,
                                n0.p2p_addr)
        self.disconnect_nodes(n2, n0)

        self.log("addnode add: connects and is listed; remove takes it off the list")
        assert_equal(n2.rpc.addnode(n0.p2p_addr, "add"), None)
        self.wait_for_link(n2, n0)
        wait_until(lambda: (self.added_info(n2, n0.p2p_addr) or {}).get("connected"),
                   timeout=10)
        assert_equal(len(n2.rpc.getaddednodeinfo()), 2)
        assert_raises_rpc_error(-23, "Node already added", n2.rpc.addnode, n0.p2p_addr, "add")
        assert_equal(n2.rpc.addnode(n0.p2p_addr, "remove"), None)
        assert_equal(self.added_info(n2, n0.p2p_addr), None)
        assert_raises_rpc_error(-24, "Node has not been added", n2.rpc.addnode, n0.p2p_addr,
                                "remove")
        assert_raises_rpc_error(-24, "Node has not been added", n2.rpc.getaddednodeinfo,
                                "127.0.0.1:1")
        assert_raises_rpc_error(-1, None, n2.rpc.addnode, n0.p2p_addr, "sometimes")

        self.log("Three nodes still connected as set up")
        self.wait_for_link(n0, n1)
        self.wait_for_link(n2, n1)


if __name__ == "__main__":
    ConnectTest().main()
