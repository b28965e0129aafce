#!/usr/bin/env python3
"""A message that publish or sendrawmessage reported as accepted is written before the reply:
it survives a SIGKILL that arrives right after the RPC returned, and the database opens cleanly
after the kill. (The write is also fsynced, which matters for power loss; a killed process
cannot show that, but it does show the write was not left queued in memory.)"""

from test_framework.messages import make_message
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal

ROUNDS = 5
SECKEY = bytes(range(1, 33))


class DurabilityTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def run_test(self):
        node = self.nodes[0]
        kept = []
        for r in range(ROUNDS):
            self.log("round %d: publish, sendrawmessage, then SIGKILL at once" % r)
            kept.append(node.rpc.publish("durable", "published before kill %d" % r))
            raw = make_message(SECKEY, topic="durable", body=b"raw before kill %d" % r)
            kept.append(node.rpc.sendrawmessage(raw.serialize().hex()))
            node.kill()
            node.start()
            for msgid in kept:
                assert node.has_message(msgid), "message %s lost after SIGKILL" % msgid
        info = node.rpc.getstoreinfo()
        assert_equal(info["count"], len(kept))
        listed = {m["id"] for m in node.rpc.listmessages({"topic": "durable", "limit": 1000})}
        assert_equal(listed, set(kept))


if __name__ == "__main__":
    DurabilityTest().main()
