#!/usr/bin/env python3
"""DNS seeds against a local test DNS server (doc/discovery.md, "When seeds are used").

A fresh node (empty address book) started with -dnsseedhost=<names> -dnsserver=<our server>
queries the seeds at once. A records carry no port, so a seed answer means "a node on the
network's default P2P port": the target node listens on regtest's 29733 (this is the only test
using that port; it skips when the port is taken). Then:
- the server got A queries for both seed names (one answers 127.0.0.1, one is NXDOMAIN);
- 127.0.0.1:29733 is in the new node's address book;
- the new node dials it on its own: an outbound-full-relay connection, also seen by the target;
- a node with -dnsseed=0 asks nothing.
"""

import socket

from test_framework.dns import DNSServer
from test_framework.messages import DEFAULT_P2P_PORT
from test_framework.test_framework import P2PDTestFramework, SkipTest
from test_framework.util import assert_equal, assert_in, wait_until

DEFAULT_PORT = DEFAULT_P2P_PORT["regtest"]
SEED = "seed.test"
MISSING = "nxdomain.seed.test"


def port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class DnsSeedTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 3

    def setup_nodes(self):
        if not port_free(DEFAULT_PORT):
            raise SkipTest("127.0.0.1:%d (regtest's default P2P port) is in use" % DEFAULT_PORT)
        self.dns = DNSServer({SEED: ["127.0.0.1"]}, log=self.log)
        self.add_nodes(3)
        target = self.nodes[0]
        target.p2p_in_args = False
        target.p2p_port = DEFAULT_PORT
        target.extra_args = ["-port=%d" % DEFAULT_PORT, "-bind=127.0.0.1", "-debug=net"]
        self.nodes[1].extra_args = ["-dnsseed=1", "-dnsseedhost=" + SEED,
                                    "-dnsseedhost=" + MISSING, "-dnsserver=" + self.dns.addr,
                                    "-debug=net", "-debug=addrman"]
        self.nodes[2].extra_args = ["-dnsseed=0", "-dnsseedhost=" + SEED,
                                    "-dnsserver=" + self.dns.addr]
        target.start()

    def run_test(self):
        target, node, quiet = self.nodes
        try:
            self.log("A fresh node queries its DNS seeds at start-up")
            node.start()
            self.dns.wait_for_query(SEED, "A", timeout=20)
            self.dns.wait_for_query(MISSING, "A", timeout=20)
            self.log("queries: %s" % self.dns.queries)

            self.log("The answer is in the address book, with the network's default port")
            node.wait_for_addresses({"127.0.0.1:%d" % DEFAULT_PORT})
            entry = [a for a in node.rpc.getnodeaddresses(0)
                     if a["address"] == "127.0.0.1"][0]
            assert_equal(entry["port"], DEFAULT_PORT)
            assert_equal(entry["network"], "ipv4")

            self.log("... and the node connects to it: an automatic outbound connection")
            node.wait_for_outbound({target.p2p_addr}, "outbound-full-relay", timeout=30)
            wait_until(lambda: any(p["inbound"] and p["state"] == "established"
                                   for p in target.rpc.getpeerinfo()), timeout=10,
                       message="the seed's node sees the inbound connection")
            assert_equal(self.dns.errors, [])

            self.log("-dnsseed=0: no DNS seed query")
            before = self.dns.query_count()
            with quiet.assert_debug_log(["Shutdown: done"], timeout=10):
                quiet.start()
                # Something the node does after start-up and after it would have started the
                # seed lookups (at once with an empty book): a full RPC round trip and a stop.
                quiet.rpc.getnetworkinfo()
                quiet.stop_node()
            assert_equal(self.dns.query_count(), before)
        finally:
            self.dns.close()


if __name__ == "__main__":
    DnsSeedTest().main()
