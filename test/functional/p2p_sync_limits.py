#!/usr/bin/env python3
"""What catch-up sync refuses to fetch, how it treats peers that list useless ids, and when it
runs by itself (doc/protocol.md "Catch-up sync", "When a node syncs"; doc/scoring.md).

- Policy (node0: -minpow=8, -msgretention=1 day): a sync peer holds 5 messages the node would
  accept, 5 below -minpow, 3 older than the retention and 2 more than 600 s ahead. The node's
  syncreq covers [now - retention, now + 601); it requests and stores exactly the 5, never asks
  for the others; ids_needed counts 5.
- Useless ids are no progress: a responder whose fingerprints never agree but that lists two
  fresh ids below -minpow every round is `sync-endless` after 64 round trips (no new session);
  one that lists a fresh id every round that passes -minpow gets it requested, answers
  notfound, and is disconnected for `sync-lie`.
- Honest pruning: a peer that lists 20 messages and can serve only 17 (3 pruned before the
  node's getdata) keeps 0 points; the node stores the 17.
- Periodic sessions: with -syncinterval=2 (node1) a peer the node chose gets a new session every
  interval (sessions_started grows past the catch-up), an inbound peer never; with
  -syncinterval=0 (node0) a chosen peer gets its catch-up only.
"""

import os
import time

from test_framework import recon
from test_framework.messages import make_message, msg_raw, random_seckey
from test_framework.p2p import P2PInterface
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, wait_until

MIN_POW = 8
RETENTION = 86400


class SyncPeer(P2PInterface):
    """Answers syncreqs from its items with the reference responder (or answer(payload) when
    given) and keeps the syncreq payloads; serves the messages in its store."""

    def __init__(self, items=(), answer=None, **kwargs):
        super().__init__(**kwargs)
        self.items = recon.ItemSet(items)
        self.answer = answer
        self.syncreqs = []

    def on_message(self, msg):
        if isinstance(msg, msg_raw) and msg.command == b"syncreq":
            with self._cond:
                self.syncreqs.append(msg.payload)
            out = self.answer(msg.payload) if self.answer else recon.respond(self.items,
                                                                             msg.payload)
            self.send_message(msg_raw(b"syncresp", out))
            return
        super().on_message(msg)


def items_of(messages):
    return [(m.created_at, m.id) for m in messages]


class SyncLimitsTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 2
        self.extra_args = [
            ["-debug=msg", "-debug=net", "-connect=0", "-minpow=%d" % MIN_POW,
             "-msgretention=%d" % RETENTION, "-syncinterval=0"],
            ["-debug=msg", "-connect=0", "-syncinterval=2"],
        ]

    def count(self, node):
        return node.rpc.getstoreinfo()["count"]

    def run_test(self):
        self.key = random_seckey()
        self.source = 0
        self.policy()
        self.useless_ids()
        self.pruning()
        self.periodic()

    def next_source(self):
        """A loopback address of its own for each misbehaving peer."""
        self.source += 1
        return "127.8.%d.1" % self.source

    def sign(self, topic, n, created_at, pow_bits=MIN_POW, below=None):
        """n messages created at created_at + i; with below=bits, each has fewer leading zero
        bits than that."""
        out = []
        k = 0
        while len(out) < n:
            m = make_message(self.key, topic, b"%s %d" % (topic.encode(), k),
                             created_at=created_at + len(out), pow_bits=pow_bits)
            k += 1
            if below is None or m.pow < below:
                out.append(m)
        return out

    def policy(self):
        node = self.nodes[0]
        now = int(time.time())
        good = self.sign("sync/good", 5, now - 1000)
        low = self.sign("sync/low", 5, now - 900, pow_bits=0, below=MIN_POW)
        old = self.sign("sync/old", 3, now - RETENTION - 3600)
        future = self.sign("sync/future", 2, now + 3600)
        everything = good + low + old + future
        self.log("policy: a peer holds %d messages; 5 pass -minpow=%d inside the window" % (
            len(everything), MIN_POW))
        peer = SyncPeer(items_of(everything))
        peer.add_to_store(everything)
        node.add_p2p_connection(peer)
        pid = node.wait_for_peer_of(peer)["id"]
        t = int(time.time())
        node.rpc.syncwithpeer(pid)
        wait_until(lambda: node.rpc.getsyncinfo()["sessions_completed"] == 1 and
                   self.count(node) == 5, timeout=30,
                   message=lambda: "getsyncinfo %s" % node.rpc.getsyncinfo())
        since, until, _ = recon.decode_syncreq(peer.syncreqs[0])
        assert t - RETENTION - 2 <= since <= t - RETENTION + 2, (since, t)
        assert t + 601 - 2 <= until <= t + 601 + 2, (until, t)
        assert_equal(set(peer.getdata_received), {m.id for m in good})
        held = {m["id"] for m in node.rpc.listmessages({"limit": 100})}
        assert_equal(held, {m.id_hex for m in good})
        info = node.rpc.getsyncinfo()
        assert_equal(info["ids_needed"], 5)
        assert_equal(info["messages_fetched"], 5)
        self.log("... requested and stored the 5; %d syncreq(s)" % len(peer.syncreqs))
        peer.peer_disconnect()

    def useless_ids(self):
        node = self.nodes[0]
        self.log("a responder that never agrees but lists 2 fresh ids below -minpow a round: "
                 "sync-endless after %d round trips, no new session" % recon.MAX_ROUNDS)

        def low_pow_ids(req):
            since, _, _ = recon.decode_syncreq(req)
            fake = sorted(b"\xff" + os.urandom(31) for _ in range(2))
            return recon.encode_syncresp([
                recon.Range((since + 1, b""), recon.IDLIST, ids=fake),
                recon.Range(recon.END, recon.FINGERPRINT, fp=os.urandom(recon.FP_LEN))])
        before = node.rpc.getsyncinfo()
        peer = node.add_p2p_connection(SyncPeer(answer=low_pow_ids), source=self.next_source())
        pid = node.wait_for_peer_of(peer)["id"]
        node.rpc.syncwithpeer(pid)
        peer.wait_for_disconnect(timeout=30)
        node.wait_for_log("peer=%d misbehaving: sync-endless" % pid)
        assert_equal(len(peer.syncreqs), recon.MAX_ROUNDS)
        after = node.rpc.getsyncinfo()
        assert_equal(after["sessions_continued"], before["sessions_continued"])
        assert_equal(after["sessions_started"], before["sessions_started"] + 1)
        assert_equal(after["ids_needed"], before["ids_needed"])
        assert_equal(peer.getdata_received, [])

        self.log("... one that lists a fresh id passing -minpow a round: requested, notfound, "
                 "disconnected for sync-lie")

        def fresh_ids(req):
            since, _, _ = recon.decode_syncreq(req)
            return recon.encode_syncresp([
                recon.Range((since + 1, b""), recon.IDLIST, ids=[b"\x00" + os.urandom(31)]),
                recon.Range(recon.END, recon.FINGERPRINT, fp=os.urandom(recon.FP_LEN))])
        peer = node.add_p2p_connection(SyncPeer(answer=fresh_ids), source=self.next_source())
        pid = node.wait_for_peer_of(peer)["id"]
        node.rpc.syncwithpeer(pid)
        peer.wait_for_disconnect(timeout=30)
        node.wait_for_log("peer=%d misbehaving: sync-lie" % pid)
        assert len(peer.getdata_received) > 4, peer.getdata_received

    def pruning(self):
        node = self.nodes[0]
        self.log("honest pruning: a peer lists 20 messages and serves 17: no points")
        messages = self.sign("sync/pruned", 20, int(time.time()) - 500)
        peer = SyncPeer(items_of(messages))
        kept = messages[:8] + messages[11:]
        peer.add_to_store(kept)
        node.add_p2p_connection(peer)
        pid = node.wait_for_peer_of(peer)["id"]
        base = self.count(node)
        node.rpc.syncwithpeer(pid)
        peer.wait_for_getdata(messages)
        wait_until(lambda: self.count(node) == base + 17, timeout=30)
        peer.sync_with_ping()
        e = node.peer_of(peer)
        assert_equal((e["misbehaviour"], e["offences"]), (0, {}))
        held = {m["id"] for m in node.rpc.listmessages({"topic": "sync/pruned", "limit": 100})}
        assert_equal(held, {m.id_hex for m in kept})
        peer.peer_disconnect()

    def periodic(self):
        quiet, busy = self.nodes
        self.log("periodic sessions: every 2 s with the chosen peer (node1), never with an "
                 "inbound one; none with -syncinterval=0 (node0)")
        quiet_before = quiet.rpc.getsyncinfo()["sessions_started"]
        busy_before = busy.rpc.getsyncinfo()["sessions_started"]
        inbound = busy.add_p2p_connection(SyncPeer())
        chosen = busy.add_outbound_p2p_connection(SyncPeer())
        quiet_chosen = quiet.add_outbound_p2p_connection(SyncPeer())
        t0 = time.monotonic()
        # The catch-up session when the connection came, then at least two periodic ones.
        wait_until(lambda: busy.rpc.getsyncinfo()["sessions_started"] >= busy_before + 3,
                   timeout=20, message=lambda: "getsyncinfo %s" % busy.rpc.getsyncinfo())
        self.log("... 3 sessions with the chosen peer in %.1fs" % (time.monotonic() - t0))
        wait_until(lambda: len(chosen.syncreqs) >= 3, timeout=10)
        inbound.sync_with_ping()
        assert_equal(inbound.syncreqs, [])
        quiet_chosen.sync_with_ping()
        assert_equal(quiet.rpc.getsyncinfo()["sessions_started"], quiet_before + 1)
        assert_equal(len(quiet_chosen.syncreqs), 1)


if __name__ == "__main__":
    SyncLimitsTest().main()
