#!/usr/bin/env python3
"""Catch-up sync (doc/protocol.md "Catch-up sync (syncreq / syncresp)", issue 7).

- A node that was down while 1,000 messages were published elsewhere comes back and, without
  any command, holds every one of them (getstoreinfo count equal to its peer's); getsyncinfo
  shows the completed session and the messages it fetched, and on the peer the 1,000 bodies it
  sent because its syncresps listed them (messages_sent).
- Two nodes with 10,000 messages in common and 100 different on each side end with the union
  of the two stores after they reconnect (the new connection starts a session); the session
  costs far less than exchanging the id lists.
- Relay goes on during a large catch-up: a fresh node syncs 10,200 messages from a scripted
  peer that serves them slowly (2,000 a second), and a message another peer announces
  meanwhile is fetched and stored while the catch-up is still running.
- syncwithpeer starts a session on request; its errors: an unknown peer (-29), a session with
  that peer still running, and the limit of 8 sessions at once (-1).
"""

import os
import threading
import time

from test_framework.messages import SignedMessage, msg_msg, msg_notfound, msg_raw
from test_framework.p2p import P2PInterface
from test_framework import recon
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import (assert_equal, assert_greater_than, assert_raises_rpc_error,
                                 wait_until)

SECKEY = "0101010101010101010101010101010101010101010101010101010101010101"


class SlowSyncPeer(P2PInterface):
    """Answers syncreqs from its own set (the Python reference), and serves the messages the
    node then asks for at most `rate` per second."""

    def __init__(self, messages, rate, **kwargs):
        super().__init__(**kwargs)
        self.items = recon.ItemSet((m.created_at, m.id) for m in messages)
        self.by_id = {m.id: m for m in messages}
        self.rate = rate
        self.pending = []
        self.served = 0
        self.syncreqs = 0
        self._stop = threading.Event()
        self._server = threading.Thread(target=self._serve, daemon=True)
        self._server.start()

    def on_message(self, msg):
        if isinstance(msg, msg_raw) and msg.command == b"syncreq":
            self.syncreqs += 1
            self.send_message(msg_raw(b"syncresp", recon.respond(self.items, msg.payload)))
            return
        super().on_message(msg)

    def on_getdata(self, msg):
        with self._cond:
            self.pending += [h for h in msg.hashes if h in self.by_id]
            missing = [h for h in msg.hashes if h not in self.by_id]
        if missing:
            self.send_message(msg_notfound(missing))

    def _serve(self):
        while not self._stop.is_set():
            with self._cond:
                batch, self.pending = self.pending[:max(1, self.rate // 10)], \
                    self.pending[max(1, self.rate // 10):]
            for h in batch:
                try:
                    self.send_message(msg_msg(self.by_id[h]))
                    self.served += 1
                except OSError:
                    return
            self._stop.wait(0.1)

    def stop(self):
        self._stop.set()


class SyncTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 3
        # A fixed topology: no automatic outbound connections (regtest nodes would dial the
        # addresses they gossip), so every session in the log is one the test caused.
        self.extra_args = [["-debug=msg", "-connect=0"]] * 3

    def setup_nodes(self):
        self.add_nodes(self.num_nodes, self.extra_args)
        # node1 keeps node0 as an added peer: after a restart it reconnects by itself.
        self.nodes[1].write_config("addnode=%s\n" % self.nodes[0].p2p_addr)
        self.start_nodes()

    def sign_many(self, topic, body, count):
        res = self.p2putil("sign", "-count=%d" % count, SECKEY, topic, body)
        assert_equal(res.returncode, 0)
        return [SignedMessage.from_hex(h) for h in res.stdout.split()]

    def feed(self, node, messages):
        """Give node these messages through a scripted peer (announce and serve)."""
        peer = node.add_p2p_connection()
        base = self.count(node)
        for k in range(0, len(messages), 1000):
            # In slices: a peer may have 5,000 announced ids tracked at most.
            chunk = messages[k:k + 1000]
            peer.announce(chunk)
            wait_until(lambda: self.count(node) >= base + k + len(chunk), timeout=60)
        peer.peer_disconnect()

    def count(self, node):
        return node.rpc.getstoreinfo()["count"]

    def run_test(self):
        a, b, c = self.nodes
        self.expected = {0: 0, 1: 0, 2: 0}
        self.wait_for_link(1, 0)

        self.log("node1 down while 1,000 messages are published on node0")
        b.stop_node()
        for i in range(1000):
            a.rpc.publish("sync/restart", "message %d" % i)
        assert_equal(self.count(a), 1000)
        self.log("node1 restarts: it reconnects to node0 and catches up without any command")
        b.start()
        wait_until(lambda: self.count(b) == 1000, timeout=60,
                   message=lambda: "node1 holds %d of 1000; getsyncinfo %s" % (
                       self.count(b), b.rpc.getsyncinfo()))
        info = b.rpc.getsyncinfo()
        assert info["loaded"], info
        assert_greater_than(info["sessions_completed"], 0)
        assert_equal(info["sessions_started"], 1)
        assert_equal(info["messages_fetched"], 1000)
        assert_equal(info["ids_needed"], 1000)
        assert_equal(a.rpc.getsyncinfo()["messages_sent"], 1000)
        self.log("... %d rounds, %d bytes sent, %d received" % (
            info["rounds"], info["bytes_sent"], info["bytes_recv"]))

        self.log("10,000 messages in common, then 100 different on each side")
        common = self.sign_many("sync/common", "common", 10000)
        self.expected = {0: 11000, 1: 11000}
        self.feed(a, common)
        wait_until(lambda: self.count(b) == 11000, timeout=120)
        self.disconnect_nodes(0, 1)
        b.rpc.addnode(a.p2p_addr, "remove")
        only_a = self.sign_many("sync/only-a", "a", 100)
        only_b = self.sign_many("sync/only-b", "b", 100)
        self.expected = {0: 11100, 1: 11100}
        self.feed(a, only_a)
        self.feed(b, only_b)
        assert_equal((self.count(a), self.count(b)), (11100, 11100))
        before = b.rpc.getsyncinfo()
        self.log("node1 reconnects to node0: the session gives both the union")
        self.connect_nodes(1, 0)
        wait_until(lambda: self.count(a) == 11200 and self.count(b) == 11200, timeout=60,
                   message=lambda: "counts %d and %d" % (self.count(a), self.count(b)))
        after = b.rpc.getsyncinfo()
        used = (after["bytes_sent"] - before["bytes_sent"]) + \
            (after["bytes_recv"] - before["bytes_recv"])
        full = 2 * 11100 * 32
        self.log("... union reached; the session used %d bytes (id lists: %d)" % (used, full))
        assert used < full // 5, (used, full)
        listed = {m["id"] for m in a.rpc.listmessages({"topic": "sync/only-b", "limit": 1000})}
        assert_equal(listed, {m.id_hex for m in only_b})

        self.log("relay goes on during a large catch-up from a slow peer")
        everything = common + only_a + only_b
        slow = SlowSyncPeer(everything, rate=2000)
        c.add_p2p_connection(slow)
        c.wait_for_peer_of(slow)
        relayer = c.add_p2p_connection()
        peer_id = c.peer_of(slow)["id"]
        c.rpc.syncwithpeer(peer_id)
        wait_until(lambda: slow.syncreqs > 0 and slow.served > 100, timeout=30)
        fresh_msg = self.sign_many("sync/fresh", "announced during the catch-up", 1)[0]
        relayer.announce(fresh_msg)
        fresh = fresh_msg.id_hex
        t0 = time.monotonic()
        wait_until(lambda: c.has_message(fresh), timeout=30)
        held = self.count(c)
        self.log("... the fresh message arrived after %.2fs, with %d of %d caught up" % (
            time.monotonic() - t0, held, len(everything)))
        assert held < len(everything), "the catch-up was over before the fresh message"
        wait_until(lambda: self.count(c) >= len(everything) + 1, timeout=120,
                   message=lambda: "node2 holds %d" % self.count(c))
        slow.stop()

        self.log("syncwithpeer errors")
        assert_raises_rpc_error(-29, "not connected", c.rpc.syncwithpeer, 99999)
        # Peers that never answer a syncreq: their sessions stay open (for 60 s).
        silent = [c.add_p2p_connection() for _ in range(8)]
        ids = [c.wait_for_peer_of(p)["id"] for p in silent]
        c.rpc.syncwithpeer(ids[0])
        silent[0].wait_for_message(b"syncreq")
        assert_raises_rpc_error(-1, "one with this peer is running", c.rpc.syncwithpeer, ids[0])
        for i in ids[1:]:
            c.rpc.syncwithpeer(i)
        assert_equal(len(c.rpc.getsyncinfo()["sessions"]), 8)
        extra = c.add_p2p_connection()
        assert_raises_rpc_error(-1, "the session limit is reached", c.rpc.syncwithpeer,
                                c.wait_for_peer_of(extra)["id"])


if __name__ == "__main__":
    SyncTest().main()
