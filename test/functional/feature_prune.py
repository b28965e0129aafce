#!/usr/bin/env python3
"""Pruning of the message store (doc/messages.md: -msgretention, -maxstoremb, -pruneinterval).

- Retention (node0: -msgretention=3600 -pruneinterval=1, clock moved with setmocktime): as the
  clock passes each message's created_at + retention, the message is pruned: getmessage no longer
  finds it, getstoreinfo's count drops, pruned grows, oldest moves; sent again it is refused as
  expired. Messages inside the window stay.
- Size cap (node1: -maxstoremb=1 -pruneinterval=1): 24 messages of about 60 KB (about 1.4 MiB) are
  cut down to what fits in 1 MiB, the oldest dropped first (getstoreinfo bytes is the sum of the
  stored messages' serialized sizes).
- The pruned total survives a restart.
"""

import time

from test_framework.messages import make_message, random_seckey
from test_framework.node import RPC_VERIFY_REJECTED
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, assert_raises_rpc_error, wait_until

RETENTION = 3600
MIB = 1024 * 1024


class PruneTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 2
        self.extra_args = [["-msgretention=%d" % RETENTION, "-pruneinterval=1"],
                           ["-maxstoremb=1", "-pruneinterval=1"]]

    def run_test(self):
        self.key = random_seckey()
        self.test_retention()
        self.test_size_cap()

    def move_clock_until(self, node, t, predicate, what):
        """setmocktime(t), then keep nudging the clock forward a second per poll (the prune
        timer follows the node clock) until predicate() holds."""
        step = [0]

        def check():
            if predicate():
                return True
            step[0] += 1
            node.rpc.setmocktime(t + step[0])
            return False
        node.rpc.setmocktime(t)
        wait_until(check, timeout=20, interval=0.1, message=what)

    def test_retention(self):
        self.log("retention: messages older than -msgretention are pruned")
        node = self.nodes[0]
        t0 = int(time.time())
        node.rpc.setmocktime(t0)
        ages = (3000, 2000, 1000, 0)
        msgs = [make_message(self.key, "prune", "age %d" % a, created_at=t0 - a) for a in ages]
        for m in msgs:
            assert_equal(node.rpc.sendrawmessage(m.hex()), m.id_hex)
        info = node.rpc.getstoreinfo()
        assert_equal((info["count"], info["pruned"], info["retention"]), (4, 0, RETENTION))
        assert_equal(info["oldest"], t0 - 3000)

        self.log("... the oldest goes once the clock passes its created_at + retention")
        # At t0 + 1500 the cut-off is t0 - 2100: the message aged 3000 is out.
        self.move_clock_until(node, t0 + 1500, lambda: node.rpc.getstoreinfo()["count"] == 3,
                              "count 3 after the first prune")
        info = node.rpc.getstoreinfo()
        assert_equal((info["count"], info["pruned"]), (3, 1))
        assert_equal(info["oldest"], t0 - 2000)
        assert_equal(info["bytes"], sum(m.size() for m in msgs[1:]))
        assert not node.has_message(msgs[0].id_hex)
        for m in msgs[1:]:
            assert node.has_message(m.id_hex)
        assert_equal([r["id"] for r in node.rpc.listmessages({"topic": "prune"})],
                     [m.id_hex for m in msgs[1:]])
        # Sent again, it is expired now.
        assert_raises_rpc_error(RPC_VERIFY_REJECTED, "expired", node.rpc.sendrawmessage,
                                msgs[0].hex())

        self.log("... two more go at t0 + 2700 (cut-off t0 - 900); the newest stays")
        self.move_clock_until(node, t0 + 2700, lambda: node.rpc.getstoreinfo()["count"] == 1,
                              "count 1 after the second prune")
        info = node.rpc.getstoreinfo()
        assert_equal((info["count"], info["pruned"]), (1, 3))
        assert_equal(info["oldest"], t0)
        assert_equal(info["newest"], t0)
        assert node.has_message(msgs[3].id_hex)

        self.log("... the pruned total survives a restart")
        self.restart_node(0)
        info = node.rpc.getstoreinfo()
        assert_equal((info["count"], info["pruned"]), (1, 3))

    def test_size_cap(self):
        self.log("-maxstoremb=1: the oldest messages are dropped until the store fits")
        node = self.nodes[1]
        now = int(time.time())
        msgs = [make_message(self.key, "cap", b"%02d" % i + b"." * 60000,
                             created_at=now - 2400 + 60 * i) for i in range(24)]
        total = sum(m.size() for m in msgs)
        assert total > 1.3 * MIB, total
        for m in msgs:
            assert_equal(node.rpc.sendrawmessage(m.hex()), m.id_hex)
        # Expected: drop from the oldest until the rest fits in 1 MiB.
        keep = list(msgs)
        while sum(m.size() for m in keep) > MIB:
            keep.pop(0)
        dropped = len(msgs) - len(keep)
        self.log("... %d messages, %d bytes: expect %d kept" % (len(msgs), total, len(keep)))
        wait_until(lambda: node.rpc.getstoreinfo()["bytes"] <= MIB, timeout=15,
                   message="store within 1 MiB")
        info = node.rpc.getstoreinfo()
        assert_equal(info["count"], len(keep))
        assert_equal(info["bytes"], sum(m.size() for m in keep))
        assert_equal(info["pruned"], dropped)
        assert_equal(info["maxstoremb"], 1)
        assert_equal(info["oldest"], keep[0].created_at)
        for m in msgs[:dropped]:
            assert not node.has_message(m.id_hex), "old message %s kept" % m.id_hex
        assert_equal([r["id"] for r in node.rpc.listmessages({"topic": "cap", "limit": 100})],
                     [m.id_hex for m in keep])


if __name__ == "__main__":
    PruneTest().main()
