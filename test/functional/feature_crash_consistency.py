#!/usr/bin/env python3
"""Crash consistency (issue 9): a node killed with SIGKILL at random moments while it receives,
relays and publishes messages loses nothing it acknowledged and always comes back.

Two nodes: node0 (the victim) keeps node1 as an added peer in its config file, so it redials
it after every restart. Before the cycles node0 gets two bans (one subnet, one address) and
about 20 addresses in its address book, and is restarted cleanly once so the book is saved.

Each of CYCLES cycles:
- a writer thread keeps calling `publish` and `sendrawmessage` on node0 (ids it acknowledged
  are recorded), and `publish` on node1 (relayed to node0), while a scripted peer announces and
  delivers messages of its own to node0;
- after a random delay (0-400 ms) node0 is killed with SIGKILL, then started again;
- checks: the database opens (the node starts); every id node0 acknowledged before the kill
  is there (`getmessage`); `getstoreinfo` count equals what `listmessages` finds; the bans are
  both still listed with their original end times; every address of the book saved before the
  cycles is still in it (the same "address:port"s, by getnodeaddresses, not just as many);
  node0 is connected to node1 again.

(node1 need not hold everything node0 acknowledged: node0 may die before it relays. What is
required is that node0 loses nothing it acknowledged.) Messages for sendrawmessage and for the
scripted peer (3 per cycle) are signed beforehand with p2p-util.
"""

import random
import threading
import time

from test_framework.messages import SignedMessage, random_seckey
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, wait_until

CYCLES = 50
BANNED_SUBNET = "10.66.0.0/16"
BANNED_ADDR = "192.0.2.99"


class Writer:
    """Publishes on node0 and node1 until stopped; keeps the ids node0 acknowledged."""

    def __init__(self, node0, node1, signed, cycle):
        self.node0, self.node1, self.signed, self.cycle = node0, node1, signed, cycle
        self.acked = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        n = 0
        rpc0 = self.node0.proxy_for_thread()
        rpc1 = self.node1.proxy_for_thread()
        while not self.stop.is_set():
            n += 1
            try:
                if n % 2 or not self.signed:
                    self.acked.append(rpc0.publish("crash", "c%d p%d" % (self.cycle, n)))
                elif self.signed:
                    self.acked.append(rpc0.sendrawmessage(self.signed.pop().serialize().hex()))
            except Exception:
                return  # node0 was killed mid-call: that call was never acknowledged
            try:
                rpc1.publish("crash", "c%d relayed %d" % (self.cycle, n))
            except Exception:
                pass


class CrashConsistencyTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 2
        self.extra_args = [["-debug=net"], []]

    def setup_nodes(self):
        self.add_nodes(self.num_nodes, self.extra_args)
        self.nodes[0].write_config("addnode=%s\n" % self.nodes[1].p2p_addr)
        self.start_nodes()

    def run_test(self):
        node0, node1 = self.nodes
        self.key = random_seckey()
        rng = random.Random(int(time.time()))
        self.log("sign messages for sendrawmessage and the scripted peer (p2p-util: fast)")
        signed = [self.sign("crash", "raw %d" % i) for i in range(10 * CYCLES)]
        for_peer = [self.sign("crash", "peer %d" % i) for i in range(3 * CYCLES)]

        self.log("bans, an address book, then one clean restart so the book is saved")
        node0.rpc.setban(BANNED_SUBNET, "add", 86400)
        node0.rpc.setban(BANNED_ADDR, "add", 86400)
        bans = self.bans(node0)
        assert_equal(set(bans), {BANNED_SUBNET, BANNED_ADDR + "/32"})
        planted = {"127.9.%d.1:%d" % (i + 1, 18444 + i) for i in range(20)}
        for a in sorted(planted):
            node0.add_peer_address(a)
        # The book as the clean shutdown saves it (anything learned after the restart may be
        # lost to a kill: it was never saved).
        saved = node0.addresses()
        assert planted <= saved, sorted(planted - saved)
        node0.stop_node()
        node0.start()
        book = node0.addresses()
        assert saved <= book, "lost at a clean restart: %s" % sorted(saved - book)
        self.wait_for_link(0, 1)

        acked = []
        for cycle in range(CYCLES):
            w = Writer(node0, node1, signed, cycle)
            peer = node0.add_p2p_connection()
            peer.announce([for_peer.pop() for _ in range(3)])
            w.thread.start()
            time.sleep(rng.uniform(0, 0.4))
            node0.kill()
            w.stop.set()
            w.thread.join(timeout=30)
            assert not w.thread.is_alive()
            acked += w.acked

            node0.start()
            missing = [i for i in acked if not node0.has_message(i)]
            assert not missing, "cycle %d: %d acknowledged messages lost: %s" % (
                cycle, len(missing), missing[:3])
            info = node0.rpc.getstoreinfo()
            listed = node0.rpc.listmessages({"limit": 1000, "topic": "crash"})
            if info["count"] < 1000:
                assert_equal(info["count"], len(listed))
            assert_equal(self.bans(node0), bans)
            book = node0.addresses()
            assert saved <= book, "cycle %d: saved addresses lost: %s" % (
                cycle, sorted(saved - book))
            self.wait_for_link(0, 1)
            if cycle % 10 == 9:
                self.log("%d cycles: %d acknowledged messages, all kept; %d stored" % (
                    cycle + 1, len(acked), info["count"]))
        assert len(acked) > CYCLES, "the writer hardly ran: %d acknowledged" % len(acked)

    def sign(self, topic, body):
        res = self.p2putil("sign", self.key.hex(), topic, body)
        assert_equal(res.returncode, 0)
        return SignedMessage.from_hex(res.stdout.strip())

    @staticmethod
    def bans(node):
        return {b["address"]: b["banned_until"] for b in node.rpc.listbanned()}


if __name__ == "__main__":
    CrashConsistencyTest().main()
