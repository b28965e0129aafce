#!/usr/bin/env python3
"""Flood relay over a 10-node regtest network (doc/protocol.md, "Relay").

The nodes are wired in a connected random topology (each dials or is dialled by 2-3 others).
- One message published on one node reaches every node within 15 s, with the same id and bytes.
- Each node received its body exactly once: per node, msgs_received summed over its peers is 1
  (0 on the publisher), msgs_duplicate is 0, and the bodies sent over all links add up to
  nodes - 1 (the sum of msgs_sent equals the sum of msgs_received).
- The same for a batch of 20 messages published on several nodes at once.
- A test peer connected to one node is announced every message once and never re-announced
  one it announced itself.
"""

import random
import time

from test_framework.messages import make_message, random_seckey
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, wait_until

NUM_NODES = 10
PROPAGATION_TIMEOUT = 15


class RelayTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = NUM_NODES
        self.extra_args = [["-debug=net"]] * NUM_NODES

    def add_options(self, parser):
        parser.add_argument("--seed", type=int, default=None, help="topology seed")

    def run_test(self):
        seed = self.options.seed if self.options.seed is not None else random.randrange(1 << 30)
        self.log("topology seed %d (re-run with --seed=%d)" % (seed, seed))
        rng = random.Random(seed)
        edges = self.random_topology(NUM_NODES, rng, min_degree=2, max_degree=3)
        assert self.topology_connected(NUM_NODES, edges), edges
        self.log("edges: %s" % edges)
        self.connect_topology(edges)
        for i, node in enumerate(self.nodes):
            degree = sum(1 for e in edges if i in e)
            assert_equal(len(node.rpc.getpeerinfo()), degree)

        # A test peer on one node, to watch what a relaying node announces.
        watcher_node = self.nodes[rng.randrange(NUM_NODES)]
        watcher = watcher_node.add_p2p_connection()
        watcher_node.wait_for_peer_of(watcher)
        self.watcher_addr = "127.0.0.1:%d" % watcher.local_port

        self.log("one message published on one node reaches every node")
        origin = rng.randrange(NUM_NODES)
        start = time.monotonic()
        msgid = self.nodes[origin].rpc.publish("relay", "hello, network")
        self.wait_for_message(msgid, timeout=PROPAGATION_TIMEOUT)
        self.log("... on all %d nodes after %.2fs" % (NUM_NODES, time.monotonic() - start))
        raw = self.nodes[origin].rpc.getmessage(msgid, False)
        for node in self.nodes:
            assert_equal(node.rpc.getmessage(msgid, False), raw)
        self.check_counters({origin: 1}, total=1)
        watcher.wait_for_inv([msgid])

        self.log("a batch of 20 messages from several publishers")
        published = {origin: 1}
        ids = []
        publishers = rng.sample(range(NUM_NODES), 4)
        for i in range(20):
            p = publishers[i % len(publishers)]
            ids.append(self.nodes[p].rpc.publish("relay/batch", "message %d" % i))
            published[p] = published.get(p, 0) + 1
        # And one announced by the test peer (signed in Python), relayed like the others.
        m = make_message(random_seckey(), "relay/peer", "from a test peer")
        watcher.announce(m)
        watcher.wait_for_getdata([m])
        ids.append(m.id_hex)
        start = time.monotonic()
        self.wait_for_messages(ids, timeout=PROPAGATION_TIMEOUT)
        self.log("... on all nodes after %.2fs" % (time.monotonic() - start))
        total = 1 + len(ids)
        for node in self.nodes:
            assert_equal(node.rpc.getstoreinfo()["count"], total)
        # The watcher's node got that one from the test peer: it counts as received there.
        published_by_test_peer = {watcher_node.index: 1}
        self.check_counters(published, total=total, from_test_peer=published_by_test_peer)

        self.log("the watcher was announced every other message once, not its own")
        watcher.wait_for_inv([msgid] + ids[:-1])
        for i in [msgid] + ids[:-1]:
            assert_equal(watcher.inv_count(i), 1)
        assert_equal(watcher.inv_count(m.id), 0)
        assert_equal(watcher.errors, [])

    def check_counters(self, published, total, from_test_peer=None):
        """Every node holds total messages and received each body it did not publish exactly
        once. published: node index -> messages published there."""
        from_test_peer = from_test_peer or {}

        def settled():
            # Nothing in flight anywhere: no body can still be on its way.
            return all(p["msgs_inflight"] == 0 for n in self.nodes for p in n.rpc.getpeerinfo())
        wait_until(settled, timeout=PROPAGATION_TIMEOUT, message="requests still in flight")
        sent_total = received_total = 0
        for i, node in enumerate(self.nodes):
            peers = node.rpc.getpeerinfo()
            c = node.msg_counters([p for p in peers if p["addr"] != self.watcher_addr])
            expected = total - published.get(i, 0) - from_test_peer.get(i, 0)
            assert_equal(("node%d" % i, "msgs_received", c["msgs_received"]),
                         ("node%d" % i, "msgs_received", expected))
            allc = node.msg_counters(peers)
            for name in ("msgs_duplicate", "msgs_invalid", "msgs_unrequested", "msgs_notfound"):
                assert_equal(("node%d" % i, name, allc[name]), ("node%d" % i, name, 0))
            sent_total += c["msgs_sent"]
            received_total += c["msgs_received"]
        # Each message crossed NUM_NODES - 1 node-to-node links (the one the test peer brought
        # in came to its first node over the test peer's link, then to the other nine).
        expected_links = total * (NUM_NODES - 1)
        assert_equal(received_total, expected_links)
        assert_equal(sent_total, expected_links)


if __name__ == "__main__":
    RelayTest().main()
