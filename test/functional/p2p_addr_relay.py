#!/usr/bin/env python3
"""Address gossip (doc/discovery.md "Address gossip"; doc/protocol.md "getaddr", "addrv2").

Line network node0 - node1 - node2 - node3 - node4: node1..node3 run with -connect=<next node>
(manual connections, no automatic outbound, so the line stays a line); node0 has
-externalip=127.0.0.1 and only node1 in its address book, so it makes one automatic
(outbound-full-relay) connection to node1.

- Self-announcement: node0 announces 127.0.0.1:<its port> to node1 after the handshake; the
  announcement is relayed hop by hop and shows up in node4's getnodeaddresses.
- A test peer at node4 sends one fresh address (a single-entry addrv2, as a node announcing
  itself): it travels the line the other way to node0, and is never sent back to the test peer.
- Rate limit (node2): 5,000 addresses in five addrv2 of 1,000 from an inbound test peer: most
  are dropped, addr_rate_limited + addr_processed = 5,000, addr_processed <= 1,000 + a few
  (the bucket holds at most 1,000 and fills at 0.1/s). An addrv2 of 1,001 entries is malformed
  (counted in `malformed`, nothing processed).
- getaddr (node5, a standalone node whose book holds 100 Tor v3 addresses: stored, served, never
  dialled): the first getaddr of an inbound peer is answered with 23 addresses (23% of the
  book) in one addrv2; a second getaddr on that connection gets nothing; another inbound peer
  gets the same cached list.
- node6 dials a test peer from its address book (outbound-full-relay): it sends getaddr; the
  answer of 1,000 addresses is processed whole (our own getaddr adds 1,000 tokens); a getaddr
  from that peer (we are outbound to it) is ignored.
- node6 dials a test peer with addnode onetry (manual): no getaddr is sent, and a getaddr from
  it is ignored.
"""

import os

from test_framework.messages import (
    AddrV2Entry,
    WIRE_MAX_ADDR,
    distinct_ipv4_entries,
    msg_addrv2,
    msg_getaddr,
)
from test_framework.p2p import P2PListener
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import (
    assert_equal,
    assert_greater_than,
    assert_greater_than_or_equal,
    assert_not_in,
    get_free_port,
    wait_until,
)

LINE = 5
STANDALONE, DIALLER = 5, 6


class AddrRelayTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 7

    def setup_nodes(self):
        self.add_nodes(self.num_nodes)
        n = self.nodes
        for i in range(1, LINE - 1):
            n[i].extra_args = ["-connect=" + n[i + 1].p2p_addr]
        # node0 makes no automatic connections (-connect=0): it joins the line with one manual
        # connection to node1 once the line is up (an address relayed before the next hop is
        # connected has nowhere to go), so its own address can reach the far end only
        # through the line.
        n[0].extra_args = ["-externalip=127.0.0.1", "-connect=0"]
        # The far end makes no automatic connections either: the line stays a line.
        n[LINE - 1].extra_args = ["-connect=0"]
        for node in n:
            node.extra_args += ["-debug=net", "-debug=addrman"]
        self.start_nodes()

    def line_links(self):
        """Wait for the line: node1 -> node2 -> node3 -> node4 (manual), node0 -> node1."""
        n = self.nodes
        for i in range(1, LINE - 1):
            self.wait_for_link(n[i], n[i + 1])
        n[0].rpc.addnode(n[1].p2p_addr, "onetry")
        self.wait_for_link(n[0], n[1])

    def run_test(self):
        n = self.nodes
        self.line_links()

        self.log("node0's self-announcement reaches the far end of the line")
        node0_addr = "127.0.0.1:%d" % n[0].p2p_port
        n[LINE - 1].wait_for_addresses({node0_addr}, timeout=30)
        for i in range(1, LINE):
            assert node0_addr in n[i].addresses(), "node%d does not know node0" % i
        # node0 is connected to node1 only: its address reached node4 through the line.
        assert_equal(n[0].outbound_addrs("manual"), {n[1].p2p_addr})
        assert_equal(n[0].outbound_addrs(), set())

        self.log("A single fresh address from a test peer at node4 travels to node0")
        peer = n[LINE - 1].add_p2p_connection()
        fresh = AddrV2Entry.ipv4("127.0.0.1", get_free_port())
        peer.send_and_ping(msg_addrv2([fresh]))
        info = n[LINE - 1].peer_of(peer)
        assert_equal(info["addr_processed"], 1)
        assert_equal(info["addr_rate_limited"], 0)
        assert_equal(info["addr_relay_enabled"], True)
        n[0].wait_for_addresses({str(fresh)}, timeout=30)
        peer.sync_with_ping()
        assert_not_in(str(fresh), peer.addr_strings())

        self.rate_limit(n[2])
        self.getaddr_inbound(n[STANDALONE])
        self.getaddr_outbound(n[DIALLER])

    def rate_limit(self, node):
        self.log("Rate limit: 5,000 addresses in addrv2 messages of 1,000")
        peer = node.add_p2p_connection()
        book_before = node.rpc.getaddrmaninfo()["all_networks"]["total"]
        entries = distinct_ipv4_entries(5000, first_octet=11)
        peer.send_addrs(entries, per_msg=1000)
        peer.sync_with_ping()
        info = node.peer_of(peer)
        self.log("addr_processed %d, addr_rate_limited %d" %
                 (info["addr_processed"], info["addr_rate_limited"]))
        assert_equal(info["addr_processed"] + info["addr_rate_limited"], 5000)
        assert_greater_than_or_equal(info["addr_rate_limited"], 4000)
        assert info["addr_processed"] <= 1000 + 10, info
        book_after = node.rpc.getaddrmaninfo()["all_networks"]["total"]
        assert book_after - book_before <= info["addr_processed"], (book_before, book_after)

        self.log("An addrv2 with 1,001 entries is malformed (a fresh peer: the flood above "
                 "cost the first one misbehaviour points, doc/scoring.md)")
        peer = node.add_p2p_connection()
        peer.send_and_ping(msg_addrv2(distinct_ipv4_entries(WIRE_MAX_ADDR + 1, first_octet=12)))
        after = node.peer_of(peer)
        assert_equal(after["malformed"], 1)
        assert_equal(after["addr_processed"], 0)
        assert_equal(after["addr_rate_limited"], 0)
        self.log("... while 1,000 entries are fine (1 processed, the rest rate limited)")
        peer.send_and_ping(msg_addrv2(distinct_ipv4_entries(WIRE_MAX_ADDR, first_octet=14)))
        after = node.peer_of(peer)
        assert_equal(after["malformed"], 1)
        assert_equal(after["addr_processed"] + after["addr_rate_limited"], WIRE_MAX_ADDR)

    def getaddr_inbound(self, node):
        self.log("getaddr: answered once per inbound connection, from a cached list")
        # An address whose new-table slot is taken is not added (success false): add random
        # ones until BOOK are in. A book this size is answered with 23% of it (a smaller one,
        # where 23% is under 100 addresses, with up to 100: doc/discovery.md).
        BOOK = 600
        added = tries = 0
        while added < BOOK:
            tries += 1
            assert tries < 5000, "only %d of %d addresses added" % (added, tries)
            e = AddrV2Entry.torv3(os.urandom(32), 9733)
            added += node.rpc.addpeeraddress(e.host, e.port)["success"]
        self.log("%d onion addresses added in %d tries" % (BOOK, tries))
        info = node.rpc.getaddrmaninfo()
        assert_equal(info["onion"]["total"], BOOK)
        assert_equal(info["all_networks"]["total"], BOOK)
        assert_equal(len(node.rpc.getnodeaddresses(0, "onion")), BOOK)

        peer = node.add_p2p_connection()
        peer.send_message(msg_getaddr())
        peer.wait_until(lambda: peer.addrv2_received >= 1, 10, "an answer to getaddr")
        answer = peer.addr_strings()
        self.log("first answer: %d addresses" % len(answer))
        assert_equal(len(answer), BOOK * 23 // 100)
        assert answer <= node.addresses(), "answered addresses not from the book"

        self.log("... a second getaddr on the same connection gets no answer")
        peer.send_and_ping(msg_getaddr())
        peer.sync_with_ping()
        assert_equal(peer.addrv2_received, 1)

        self.log("... another inbound peer gets the same cached list")
        other = node.add_p2p_connection()
        other.send_message(msg_getaddr())
        other.wait_until(lambda: other.addrv2_received >= 1, 10, "an answer to getaddr")
        assert_equal(other.addr_strings(), answer)

    def getaddr_outbound(self, node):
        self.log("An outbound-full-relay connection: getaddr sent, the answer processed whole")
        answer = distinct_ipv4_entries(WIRE_MAX_ADDR, first_octet=13)
        lst = P2PListener(log=self.log, getaddr_answer=answer)
        try:
            assert_equal(node.add_peer_address(lst.addr), True)
            conn = lst.wait_for_connection(timeout=30)
            conn.wait_for_getaddr(timeout=10)
            node.wait_for_outbound({lst.addr}, "outbound-full-relay")
            wait_until(lambda: self.peer_at(node, lst.addr)["addr_processed"] >= WIRE_MAX_ADDR,
                       timeout=10, message="the getaddr answer processed")
            info = self.peer_at(node, lst.addr)
            assert_equal(info["addr_processed"], WIRE_MAX_ADDR)
            assert_equal(info["addr_rate_limited"], 0)
            assert_equal(conn.getaddr_received, 1)

            self.log("... a getaddr from that peer (we dialled it) is ignored")
            before = conn.addr_strings()
            conn.send_and_ping(msg_getaddr())
            conn.sync_with_ping()
            # Only the node's own address may come (its self-announcement, trickled).
            extra = conn.addr_strings() - before - {node.p2p_addr}
            assert_equal(extra, set())
        finally:
            lst.close()

        self.log("A manual connection (addnode onetry): no getaddr sent, ours ignored")
        manual = node.add_outbound_p2p_connection()
        wait_until(lambda: any(p["connection_type"] == "manual" and p["state"] == "established"
                               for p in node.rpc.getpeerinfo()), timeout=10)
        manual.send_and_ping(msg_getaddr())
        manual.sync_with_ping()
        assert_equal(manual.getaddr_received, 0)
        assert_equal(manual.addr_strings() - {node.p2p_addr}, set())

    @staticmethod
    def peer_at(node, addr):
        for p in node.rpc.getpeerinfo():
            if p["addr"] == addr:
                return p
        raise AssertionError("node%d: no peer %s" % (node.index, addr))


if __name__ == "__main__":
    AddrRelayTest().main()
