#!/usr/bin/env python3
"""Inbound eviction when every inbound slot is taken (doc/design.md "Inbound eviction",
include/net/eviction.h).

The algorithm protects, in turn, the 4 best reputation scores (doc/scoring.md), 4 peers by keyed
network group, 8 by lowest minimum ping, 4 by most recent useful message, then half of the rest
by uptime, and evicts the youngest peer of the most-represented group among those left. With
fewer than 21 inbound peers every one is protected and a newcomer is simply refused
(p2p_maxconnections.py covers that), so this test uses -maxconnections=34: 24 inbound slots.

- 24 test peers connect one after another, each from its own 127.<n>.0.1 address (a network
  group of its own). All but the last answer pings (so their minimum ping is known); the last,
  the youngest, does not answer pings and is not among the oldest (whose uptime gives them the
  best scores): nothing but the "useful message" rule can protect it (or, by chance, the
  keyed-group rule: 4 in 24).
- Every older peer delivers a new valid signed message, one per mock-time second (so their
  "last useful" times differ: the rule compares seconds); then the youngest delivers one, the
  most recent. Without its message the youngest would sort last under the useful rule too.
- A 25th peer connects: it gets in, exactly one of the older 23 is evicted (the node logs it),
  and the useful peer stays.
"""

import time

from test_framework.messages import make_message, random_seckey
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, wait_until

MAX_CONNECTIONS = 34
INBOUND_SLOTS = MAX_CONNECTIONS - 10


class EvictionTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-maxconnections=%d" % MAX_CONNECTIONS, "-debug=net"]]

    def run_test(self):
        node = self.nodes[0]
        self.log("%d inbound peers from %d network groups" % (INBOUND_SLOTS, INBOUND_SLOTS))
        peers = []
        for i in range(INBOUND_SLOTS):
            last = i == INBOUND_SLOTS - 1
            p = node.add_p2p_connection(source="127.%d.0.1" % (i + 1), auto_pong=not last)
            node.wait_for_peer_of(p)
            peers.append(p)
        older, useful = peers[:-1], peers[-1]
        wait_until(lambda: all("minping" in node.peer_of(p) for p in older), timeout=20,
                   message="every older peer has a minimum ping")
        assert_equal(node.rpc.getnetworkinfo()["connections_in"], INBOUND_SLOTS)

        self.log("Every peer delivers a new valid message, one mock-time second apart, the "
                 "youngest last")
        key = random_seckey()
        now = int(time.time())
        for i, p in enumerate(peers):
            node.rpc.setmocktime(now + i + 1)
            m = make_message(key, "evict/useful", "from peer %d" % i, created_at=now)
            p.announce(m)
            p.wait_for_getdata([m.id])
            wait_until(lambda: node.has_message(m.id_hex), timeout=20)

        self.log("A newcomer gets in; one unprotected peer is evicted, the useful one stays")
        with node.assert_debug_log(["evicted to make room for a new inbound peer"], timeout=10):
            newcomer = node.add_p2p_connection(source="127.%d.0.1" % (INBOUND_SLOTS + 1))
            node.wait_for_peer_of(newcomer)
        wait_until(lambda: sum(not p.is_connected for p in older) == 1, timeout=10,
                   message="exactly one older peer disconnected")
        evicted = [i + 1 for i, p in enumerate(older) if not p.is_connected]
        self.log("evicted: peer #%d of %d (1 = oldest)" % (evicted[0], INBOUND_SLOTS))
        useful.sync_with_ping()
        newcomer.sync_with_ping()
        assert useful.is_connected, "the useful peer was evicted"
        assert_equal(node.peer_of(useful)["state"], "established")
        assert_equal(node.rpc.getnetworkinfo()["connections_in"], INBOUND_SLOTS)
        for p in older:
            if p.is_connected:
                p.sync_with_ping()


if __name__ == "__main__":
    EvictionTest().main()
