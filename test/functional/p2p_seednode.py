#!/usr/bin/env python3
"""-seednode (doc/discovery.md, "When seeds are used", "Connections"): a fresh node knowing only
a seed node fills its outbound slots from the addresses the seed gives it.

1. A fake seed (a test peer listening on a free port, answering getaddr with the P2P addresses
   of nodes B, C, D, E): the fresh node opens an addr-fetch connection to it, sends getaddr,
   and closes the connection once the answer came; it then has outbound-full-relay connections
   to B, C, D and E, all of which it learned from the seed.
2. A real seed node A that knows B, C, D, E (addpeeraddress with their real 127.0.0.1 ports;
   regtest groups loopback addresses per port, so they are four network groups): a second
   fresh node started with only -seednode=A ends up with outbound-full-relay connections to
   them, and its addr-fetch connection to A is gone.
"""

from test_framework.messages import AddrV2Entry
from test_framework.p2p import P2PListener
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, wait_until

A, B, C, D, E, FRESH1, FRESH2 = range(7)


class SeedNodeTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 7
        self.extra_args = [["-debug=net", "-debug=addrman"]] * 7

    def setup_nodes(self):
        self.add_nodes(self.num_nodes, self.extra_args)
        # The fresh nodes start in run_test, with -seednode.
        for i in (A, B, C, D, E):
            self.nodes[i].start(wait=False)
        for i in (A, B, C, D, E):
            self.nodes[i].wait_for_rpc_connection()

    def check_fresh(self, fresh, seed_addr, targets):
        self.log("node%d: an addr-fetch connection to the seed %s" % (fresh.index, seed_addr))
        # It may already be closed by the time we look: then the seed must have seen it.
        self.log("node%d: outbound-full-relay connections to B, C, D, E" % fresh.index)
        fresh.wait_for_outbound(targets, "outbound-full-relay", timeout=40)
        for t in targets:
            assert t in fresh.addresses(), "%s not in node%d's book" % (t, fresh.index)
        self.log("node%d: the addr-fetch connection is closed after the answer" % fresh.index)
        wait_until(lambda: not [p for p in fresh.rpc.getpeerinfo()
                                if p["connection_type"] == "addr-fetch"], timeout=20,
                   message="node%d: addr-fetch connection closed" % fresh.index)
        types = {p["addr"]: p["connection_type"] for p in fresh.rpc.getpeerinfo()}
        assert seed_addr not in types or types[seed_addr] != "addr-fetch", types

    def run_test(self):
        targets = {self.nodes[i].p2p_addr for i in (B, C, D, E)}

        self.log("Part 1: a fake seed answering getaddr with B, C, D, E")
        seed = P2PListener(log=self.log,
                           getaddr_answer=[AddrV2Entry.parse(t) for t in sorted(targets)])
        try:
            fresh = self.nodes[FRESH1]
            fresh.start(["-seednode=" + seed.addr])
            conn = seed.wait_for_connection(timeout=20)
            conn.wait_for_getaddr(timeout=20)
            self.log("the fresh node asked the seed for addresses")
            conn.wait_until(lambda: conn.getaddr_answered >= 1, 10, "our answer sent")
            self.check_fresh(fresh, seed.addr, targets)
            conn.wait_for_disconnect(timeout=10)
            assert_equal(conn.getaddr_received, 1)
            # Nothing else came from the fresh node on the addr-fetch connection but the
            # handshake, getaddr and pings: it is not a relay connection.
            assert_equal(conn.message_count[b"inv"], 0)
            for t in targets:
                entry = [p for p in fresh.outbound_peers("outbound-full-relay")
                         if p["addr"] == t][0]
                assert_equal(entry["inbound"], False)
        finally:
            seed.close()

        self.log("Part 2: a real seed node A that knows B, C, D, E")
        a = self.nodes[A]
        for i in (B, C, D, E):
            assert_equal(a.add_peer_address(self.nodes[i]), True)
        assert_equal(a.rpc.getaddrmaninfo()["all_networks"]["total"], 4)
        fresh = self.nodes[FRESH2]
        fresh.start(["-seednode=" + a.p2p_addr])
        wait_until(lambda: any(p["inbound"] for p in a.rpc.getpeerinfo()) or
                   len(fresh.outbound_addrs()) > 0, timeout=20,
                   message="the fresh node connected to its seed node")
        self.check_fresh(fresh, a.p2p_addr, targets)
        assert a.p2p_addr not in fresh.outbound_addrs("addr-fetch")


if __name__ == "__main__":
    SeedNodeTest().main()
