#!/usr/bin/env python3
"""Reputation (doc/scoring.md "Reputation"): the live score and the table remembered per address.

- getpeerinfo `score` and `score_breakdown` (uptime, first_deliveries, answers, misbehaviour,
  colocation, remembered): a fresh peer starts at 0 in every part; uptime grows while it stays
  connected; delivering a new valid message we asked for adds first_deliveries (+0.1) and
  answers (+0.05), announcing a message we already have earns nothing; misbehaviour is minus the current points; a second connection from the same IP
  costs both colocation (-10 each); the score is the sum of its parts.
- a peer that reached the threshold is disconnected; reconnecting from the same address it
  starts with its remembered points (misbehaviour > 0 at once, about 100) and is discouraged,
  and a single 10-point offence now disconnects it (a fresh peer needs 10 of them);
  `remembered` carries its remembered good score. Reconnecting at once, a discouraged address
  gets 3 connections; the next is closed at accept (the reconnection gate), while other
  addresses still connect.
- a peer that left with 50 points (one malformed message) comes back with about 50, not
  discouraged, and on probation: of 150 ids it announces, one is requested at a time.
- getpeerscores lists the remembered addresses (bad, good, updated); the table survives a
  restart, and after it the offender again starts with its remembered points (while
  discouragement, kept in memory only, is gone).
- a peer at 127.0.0.1 (the address every local process shares) is disconnected at the threshold
  but its address is neither discouraged nor remembered as bad, and reconnects freely.
"""

import os
import socket
import struct
import time

from test_framework.messages import (MAGIC, encode_frame, encode_frame_raw, make_message, msg_ping,
                                     msg_raw, random_seckey)
from test_framework.scoring import scoring_doc
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, assert_greater_than, wait_until

PARTS = {"uptime", "first_deliveries", "answers", "misbehaviour", "colocation", "remembered"}
OFFENDER = "127.6.0.1"
HALF = "127.6.0.2"


class ReputationTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-debug=net", "-connect=127.0.0.1:1"]]

    def peer(self, source=None, **kwargs):
        node = self.nodes[0]
        p2p = node.add_p2p_connection(source=source, **kwargs)
        return p2p, node.wait_for_peer_of(p2p)

    @staticmethod
    def check_sum(e):
        b = e["score_breakdown"]
        assert_equal(set(b), PARTS)
        assert abs(e["score"] - sum(b.values())) < 1e-6, e
        assert abs(b["misbehaviour"] + e["misbehaviour"]) < 0.01, e

    def scores(self):
        return {r["address"]: r for r in self.nodes[0].rpc.getpeerscores()}

    def bad_checksum(self, p2p):
        p2p.send_raw(encode_frame_raw(b"ping", struct.pack("<Q", 9), checksum_override=b"\0" * 4))

    def expect_closed_at_accept(self, source):
        """A TCP connection from source is closed by the node before it sends anything."""
        node = self.nodes[0]
        s = socket.create_connection(("127.0.0.1", node.p2p_port), timeout=10,
                                     source_address=(source, 0))
        try:
            assert_equal(s.recv(1), b"")
        finally:
            s.close()

    def run_test(self):
        node = self.nodes[0]
        doc = scoring_doc()
        key = random_seckey()
        assert_equal(node.rpc.getpeerscores(), [])

        self.log("a fresh peer: every part 0")
        a, e = self.peer()
        self.check_sum(e)
        b = e["score_breakdown"]
        assert_equal({k: b[k] for k in PARTS - {"uptime"}},
                     {k: 0 for k in PARTS - {"uptime"}})
        assert b["uptime"] < 0.01, b

        self.log("uptime grows while connected")
        u0 = b["uptime"]
        wait_until(lambda: node.peer_of(a)["score_breakdown"]["uptime"] > u0, timeout=10)

        self.log("a first delivery: first_deliveries +0.1, answers +0.05; announcing a "
                 "message we have earns nothing")
        m = make_message(key, "valid", "first")
        a.announce(m)
        a.wait_for_getdata([m])
        wait_until(lambda: node.has_message(m.id_hex), timeout=10)
        wait_until(lambda: node.peer_of(a)["score_breakdown"]["first_deliveries"] > 0,
                   timeout=10)
        e = node.peer_of(a)
        self.check_sum(e)
        assert abs(e["score_breakdown"]["first_deliveries"] - 0.1) < 1e-9, e
        assert abs(e["score_breakdown"]["answers"] - 0.05) < 1e-9, e
        assert_greater_than(e["score"], 0.15)
        a2, _ = self.peer("127.6.9.1")
        a2.announce(m)
        a2.sync_with_ping()
        assert_equal(a2.getdata_count(m), 0)
        e2 = node.peer_of(a2)
        assert_equal((e2["score_breakdown"]["first_deliveries"],
                      e2["score_breakdown"]["answers"]), (0, 0))
        a2.peer_disconnect()

        self.log("colocation: a second connection from the same IP costs both -10")
        c1, _ = self.peer("127.6.5.1")
        c2, _ = self.peer("127.6.5.1")
        # Recounted every few seconds (doc/scoring.md).
        wait_until(lambda: node.peer_of(c1)["score_breakdown"]["colocation"] <= -10,
                   timeout=15, message="colocation counted")
        for p in (c1, c2):
            e = node.peer_of(p)
            self.check_sum(e)
            assert_equal(e["score_breakdown"]["colocation"], -10)
        assert_equal(node.peer_of(a)["score_breakdown"]["colocation"], 0)
        c2.peer_disconnect()
        wait_until(lambda: node.peer_of(c1)["score_breakdown"]["colocation"] == 0, timeout=15,
                   message="colocation gone with the second connection")
        c1.peer_disconnect()

        self.log("an offender reaches the threshold; reconnecting, it starts with its points")
        o, e = self.peer(OFFENDER)
        m3 = make_message(key, "valid", "the offender's good deed")
        o.announce(m3)
        o.wait_for_getdata([m3])
        wait_until(lambda: node.peer_of(o)["score_breakdown"]["first_deliveries"] > 0,
                   timeout=10)
        for _ in range(doc.needed("bad-checksum") + 1):  # +1: decay (see p2p_misbehaviour)
            if not o.is_connected:
                break
            try:
                self.bad_checksum(o)
            except OSError:
                break
        o.wait_for_disconnect(timeout=10)
        wait_until(lambda: OFFENDER in self.scores(), timeout=10,
                   message="the offender in getpeerscores")
        r = self.scores()[OFFENDER]
        assert_equal(set(r), {"address", "bad", "good", "updated"})
        assert r["bad"] > 95, r
        assert r["good"] > 0.1, r
        assert abs(r["updated"] - time.time()) < 60, r
        o, e = self.peer(OFFENDER)
        self.check_sum(e)
        assert_greater_than(e["misbehaviour"], 95)
        assert_equal(e["discouraged"], True)
        assert e["score_breakdown"]["remembered"] > 0.1, e
        assert_greater_than(0, e["score"])
        self.log("... and one 10-point offence disconnects it again")
        self.bad_checksum(o)
        o.wait_for_disconnect(timeout=10)

        self.log("a discouraged address reconnecting at once: 3 connections, then closed at "
                 "accept (one per 10 s); other addresses are not affected")
        for _ in range(2):  # the reconnection above was the first
            wait_until(lambda: node.peer_of(o) is None, timeout=10)
            o, e = self.peer(OFFENDER)
            assert_equal(e["discouraged"], True)
            o.peer_disconnect()
        wait_until(lambda: node.peer_of(o) is None, timeout=10)
        with node.assert_debug_log(["refusing connection from discouraged %s:" % OFFENDER,
                                    "reconnecting too often"], timeout=10):
            self.expect_closed_at_accept(OFFENDER)
        other, _ = self.peer("127.6.9.2")
        other.sync_with_ping()
        other.peer_disconnect()

        self.log("a peer that left with 50 points comes back with them, not discouraged")
        h, _ = self.peer(HALF)
        h.send_message(msg_raw(b"ping", b"\x01\x02\x03"))
        wait_until(lambda: node.peer_of(h)["misbehaviour"] > 49, timeout=10)
        h.peer_disconnect()
        wait_until(lambda: HALF in self.scores(), timeout=10)
        assert 49 < self.scores()[HALF]["bad"] <= 50, self.scores()[HALF]
        h, e = self.peer(HALF, getdata_mode="ignore")
        assert 49 < e["misbehaviour"] <= 50, e
        assert_equal(e["discouraged"], False)
        self.log("... on probation: one request in flight (a fresh peer gets 16)")
        h.announce_ids([os.urandom(32) for _ in range(150)])
        h.wait_until(lambda: len(h.getdata_received) >= 1, timeout=10, what="a request")
        h.sync_with_ping()
        assert_equal(len(h.getdata_received), 1)
        assert_equal(node.msg_counters_of(h)["msgs_inflight"], 1)
        h.peer_disconnect()

        self.log("the table survives a restart")
        node.disconnect_p2ps()
        wait_until(lambda: node.rpc.getpeerinfo() == [], timeout=10)
        before = self.scores()
        assert {OFFENDER, HALF, "127.0.0.1"} <= set(before), before
        self.restart_node(0)
        after = self.scores()
        assert_equal(set(after), set(before))
        for addr, r in before.items():
            assert abs(after[addr]["bad"] - r["bad"]) < 0.5, (addr, r, after[addr])
            assert abs(after[addr]["good"] - r["good"]) < 0.01, (addr, r, after[addr])
        o, e = self.peer(OFFENDER)
        assert_greater_than(e["misbehaviour"], 95)
        assert_equal(e["discouraged"], False)  # discouragement is not persisted
        o.peer_disconnect()

        self.log("127.0.0.1, which every local process shares: disconnected at the threshold, "
                 "but neither discouraged nor remembered")
        with node.assert_debug_log(["but its address is not discouraged"], timeout=10):
            lo, e = self.peer("127.0.0.1")
            lo.send_raw(encode_frame(msg_ping(1), magic=MAGIC["main"]))  # bad-frame: 100
            lo.wait_for_disconnect(timeout=10)
        wait_until(lambda: node.peer_of(lo) is None, timeout=10)
        assert_equal(self.scores()["127.0.0.1"]["bad"], 0)
        for _ in range(4):  # the reconnection gate does not apply either
            lo, e = self.peer("127.0.0.1")
            assert_equal((e["discouraged"], e["misbehaviour"]), (False, 0))
            lo.peer_disconnect()
            wait_until(lambda: node.peer_of(lo) is None, timeout=10)


if __name__ == "__main__":
    ReputationTest().main()
