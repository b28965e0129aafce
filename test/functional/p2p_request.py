#!/usr/bin/env python3
"""Request scheduling of announced messages (doc/protocol.md, "Relay").

- Two test peers announce the same id. The node asks one announcer at a time: the first never
  answers; the second is not asked until -msgrequesttimeout (2 s here) has passed, then it is,
  delivers, and the message is stored.
- `notfound` from the asked announcer makes the node ask the next one at once (a node with the
  default 30 s timeout, so only the notfound can explain the quick request).
- In-flight cap: a peer with relay permission that announces 1,050 ids and never answers has
  at most 1,000 requested, an outbound peer 100 of 150; a notfound for 10 of them frees 10
  slots, which go to 10 of the other 50 announced ids.
- Slow start: on a node that has never heard from the address, a new inbound peer gets at most
  16 requests in flight (GOSSIP_INFLIGHT_START), and one more per valid message it delivers
  first: after delivering its first 16 it has 16 + 16 = 32 in flight.
- A late answer: the timed-out announcer delivers after all; the message is accepted from it,
  and the next announcer's answer to the request we did send it is a duplicate (counted in
  msgs_received and msgs_duplicate), not an unrequested msg.
"""

import os
import time

from test_framework.messages import make_message, msg_msg, msg_notfound, random_seckey
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, assert_greater_than_or_equal, wait_until

REQUEST_TIMEOUT = 2
MAX_INFLIGHT = 100
MAX_INFLIGHT_PERMITTED = 1000
INFLIGHT_START = 16


class RequestTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 3
        self.extra_args = [["-debug=net", "-msgrequesttimeout=%d" % REQUEST_TIMEOUT],
                           ["-debug=net", "-whitelist=relay@127.0.0.1"], ["-debug=net"]]

    def run_test(self):
        self.key = random_seckey()
        self.test_timeout()
        self.test_notfound()
        self.test_inflight_cap()
        self.test_slow_start()
        self.test_late_answer()

    def test_timeout(self):
        self.log("an announcer that never answers is timed out; the next one is asked")
        node = self.nodes[0]
        silent = node.add_p2p_connection(getdata_mode="ignore")
        helpful = node.add_p2p_connection()
        m = make_message(self.key, "request", "timeout")
        silent.announce_ids([m.id])
        silent.wait_for_getdata([m])
        asked_first = time.monotonic()
        helpful.announce(m)
        helpful.sync_with_ping()
        assert_equal(helpful.getdata_count(m), 0)  # one announcer at a time
        assert_equal(node.msg_counters_of(silent)["msgs_inflight"], 1)
        helpful.wait_for_getdata([m], timeout=REQUEST_TIMEOUT + 10)
        waited = time.monotonic() - asked_first
        self.log("... second announcer asked %.2fs after the first" % waited)
        # Seconds of the node clock: a request sent late in one second may time out early in
        # the second after next; never before a full second has passed.
        assert_greater_than_or_equal(waited, REQUEST_TIMEOUT - 1)
        wait_until(lambda: node.has_message(m.id_hex), timeout=10)
        cs = node.msg_counters_of(silent)
        ch = node.msg_counters_of(helpful)
        assert_equal((cs["msgs_requested"], cs["msgs_inflight"], cs["msgs_received"]), (1, 0, 0))
        assert_equal((ch["msgs_requested"], ch["msgs_received"]), (1, 1))
        assert_equal(silent.getdata_count(m), 1)

    def test_notfound(self):
        self.log("notfound: the next announcer is asked at once")
        node = self.nodes[1]  # default 30 s request timeout
        first = node.add_p2p_connection(getdata_mode="ignore")
        second = node.add_p2p_connection()
        m = make_message(self.key, "request", "notfound")
        first.announce_ids([m.id])
        first.wait_for_getdata([m])
        second.announce(m)
        second.sync_with_ping()
        assert_equal(second.getdata_count(m), 0)
        sent = time.monotonic()
        first.send_message(msg_notfound([m.id]))
        second.wait_for_getdata([m], timeout=10)
        self.log("... asked %.2fs after the notfound" % (time.monotonic() - sent))
        wait_until(lambda: node.has_message(m.id_hex), timeout=10)
        cf = node.msg_counters_of(first)
        assert_equal((cf["msgs_notfound"], cf["msgs_inflight"], cf["msgs_received"]), (1, 0, 0))
        assert_equal(node.msg_counters_of(second)["msgs_received"], 1)
        first.peer_disconnect()
        second.peer_disconnect()

    def test_inflight_cap(self):
        self.log("in-flight cap: a peer with relay permission that never answers gets %d requests"
                 % MAX_INFLIGHT_PERMITTED)
        node = self.nodes[1]
        peer = node.add_p2p_connection(getdata_mode="ignore")
        node.wait_for_peer_of(peer)
        self.check_cap(node, peer, MAX_INFLIGHT_PERMITTED)
        peer.peer_disconnect()

        self.log("in-flight cap: an outbound peer (no permission) that never answers gets %d"
                 % MAX_INFLIGHT)
        node = self.nodes[2]
        peer = node.add_outbound_p2p_connection(getdata_mode="ignore")
        node.wait_for_peer_of(peer)
        self.check_cap(node, peer, MAX_INFLIGHT)
        peer.peer_disconnect()

    def check_cap(self, node, peer, cap):
        """peer announces cap + 50 ids and never answers: cap are requested; a notfound for 10
        frees 10 slots, which go to 10 of the 50 still waiting."""
        ids = [os.urandom(32) for _ in range(cap + 50)]
        peer.announce_ids(ids)
        peer.wait_until(lambda: len(peer.getdata_received) >= cap, timeout=10,
                        what="%d requested ids" % cap)
        peer.sync_with_ping()
        assert_equal(len(peer.getdata_received), cap)
        assert_equal(len(set(peer.getdata_received)), cap)
        assert set(peer.getdata_received) <= set(ids)
        c = node.msg_counters_of(peer)
        assert_equal(c["msgs_inflight"], cap)
        assert_equal(c["msgs_requested"], cap)
        assert_equal(c["msgs_announced"], cap + 50)

        self.log("... a notfound for 10 frees 10 slots for the ids still waiting")
        answered = peer.getdata_received[:10]
        peer.send_message(msg_notfound(answered))
        peer.wait_until(lambda: len(peer.getdata_received) >= cap + 10, timeout=10,
                        what="10 more requests")
        peer.sync_with_ping()
        assert_equal(len(peer.getdata_received), cap + 10)
        assert_equal(len(set(peer.getdata_received)), cap + 10)
        c = node.msg_counters_of(peer)
        assert_equal(c["msgs_inflight"], cap)
        assert_equal(c["msgs_notfound"], 10)  # ids answered notfound, not notfound messages
        assert_equal(peer.errors, [])


    def test_slow_start(self):
        self.log("slow start: a peer from an address the node does not know gets 16 requests")
        node = self.nodes[2]  # nothing has connected to it yet: no remembered reputation
        peer = node.add_p2p_connection(getdata_mode="ignore")
        node.wait_for_peer_of(peer)
        msgs = [make_message(self.key, "slowstart", "m%d" % i) for i in range(80)]
        peer.add_to_store(msgs)
        peer.announce_ids([m.id for m in msgs])
        peer.wait_until(lambda: len(peer.getdata_received) >= INFLIGHT_START, timeout=10,
                        what="%d requested ids" % INFLIGHT_START)
        peer.sync_with_ping()
        assert_equal(len(peer.getdata_received), INFLIGHT_START)
        assert_equal(node.msg_counters_of(peer)["msgs_inflight"], INFLIGHT_START)

        self.log("... each valid first delivery earns a slot: 16 delivered, 32 in flight")
        for h in list(peer.getdata_received):
            peer.send_message(msg_msg(peer.store[h]))
        wait_until(lambda: node.msg_counters_of(peer)["msgs_inflight"] == 2 * INFLIGHT_START,
                   timeout=10)
        peer.sync_with_ping()
        assert_equal(len(peer.getdata_received), 3 * INFLIGHT_START)
        assert_equal(node.msg_counters_of(peer)["msgs_received"], INFLIGHT_START)
        assert_equal(peer.errors, [])

    def test_late_answer(self):
        self.log("a late answer from a timed-out announcer; the next one's answer is a duplicate")
        node = self.nodes[0]
        slow = node.add_p2p_connection(getdata_mode="ignore")
        next_ = node.add_p2p_connection(getdata_mode="ignore")
        m = make_message(self.key, "request", "late")
        slow.announce(m)
        slow.wait_for_getdata([m])
        next_.announce(m)
        next_.wait_for_getdata([m], timeout=REQUEST_TIMEOUT + 10)
        slow.send_message(msg_msg(m))
        wait_until(lambda: node.has_message(m.id_hex), timeout=10)
        cs = node.msg_counters_of(slow)
        assert_equal((cs["msgs_received"], cs["msgs_unrequested"]), (1, 0))
        next_.send_message(msg_msg(m))
        next_.sync_with_ping()
        cn = node.msg_counters_of(next_)
        assert_equal({k: cn[k] for k in ("msgs_requested", "msgs_received", "msgs_duplicate",
                                         "msgs_unrequested", "msgs_inflight")},
                     {"msgs_requested": 1, "msgs_received": 1, "msgs_duplicate": 1,
                      "msgs_unrequested": 0, "msgs_inflight": 0})


if __name__ == "__main__":
    RequestTest().main()
