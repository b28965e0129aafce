#!/usr/bin/env python3
"""waitformessage, the long-poll for new messages (doc/messages.md).

Each call runs in a thread with its own RPC connection; the test goes on once the node has
logged the call (-debug=rpc), so the call is pending before anything is published.
- It returns the verbose object of the next message stored after the call (not an older one):
  from publish, from sendrawmessage, and from a test peer over P2P; a rejected message does
  not wake it.
- A topic filter skips messages of other topics; two waiters with different filters each get
  their own message.
- With nothing arriving it returns null after its timeout.
- While one is pending, other RPCs answer at once and peers are served.
- Bad options (timeout outside 1-3600, bad topic, unknown key) are refused with -8.
"""

import threading
import time

from test_framework.messages import make_message, random_seckey
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import (
    assert_equal,
    assert_greater_than,
    assert_raises_rpc_error,
    wait_until,
)

CALL_LOG = "ThreadRPCServer method=waitformessage"


class Waiter:
    """waitformessage(args) in a thread."""

    def __init__(self, test, node, args):
        self.result = None
        self.error = None
        self.done = threading.Event()
        self.started = time.monotonic()
        self.elapsed = None
        logged = node.read_debug_log().count(CALL_LOG)
        user, password = node.read_cookie()
        self.proxy = node.proxy(user, password, timeout=120)
        self.thread = threading.Thread(target=self._run, args=(args,), daemon=True)
        self.thread.start()
        wait_until(lambda: node.read_debug_log().count(CALL_LOG) > logged or self.done.is_set(),
                   timeout=10, message="waitformessage call logged")
        test.log("waitformessage(%r) pending" % (args,))

    def _run(self, args):
        try:
            self.result = self.proxy.waitformessage(args)
        except Exception as e:  # reported by get()
            self.error = e
        self.elapsed = time.monotonic() - self.started
        self.done.set()

    def get(self, timeout=30):
        if not self.done.wait(timeout):
            raise AssertionError("waitformessage did not return within %gs" % timeout)
        if self.error is not None:
            raise AssertionError("waitformessage failed: %r" % (self.error,))
        return self.result

    def pending(self):
        return not self.done.is_set()


class WaitForMessageTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-debug=rpc"]]

    def run_test(self):
        node = self.nodes[0]
        key = random_seckey()
        old = node.rpc.publish("wait", "published before the call")

        self.log("the next message: from publish")
        w = Waiter(self, node, {"timeout": 30})
        assert w.pending()
        msgid = node.rpc.publish("wait", "first")
        got = w.get()
        assert_equal(got["id"], msgid)
        assert got["id"] != old
        assert_equal(got["topic"], "wait")
        assert_equal(got["body"], "first")
        assert "received_at" in got, got
        assert_equal({k: v for k, v in got.items() if k != "received_at"},
                     {k: v for k, v in node.rpc.getmessage(msgid).items() if k != "received_at"})

        self.log("... from sendrawmessage, a rejected one does not wake it")
        w = Waiter(self, node, {"timeout": 30})
        bad = make_message(key, "wait", "bad signature")
        bad.sig = bytes(64)
        assert_raises_rpc_error(-26, "bad-signature", node.rpc.sendrawmessage, bad.hex())
        assert w.pending() or w.get()["id"] != bad.id_hex
        good = make_message(key, "wait", "raw")
        node.rpc.sendrawmessage(good.hex())
        assert_equal(w.get()["id"], good.id_hex)

        self.log("... from a test peer over P2P")
        peer = node.add_p2p_connection()
        w = Waiter(self, node, {"timeout": 30})
        m = make_message(key, "wait/p2p", "relayed")
        peer.announce(m)
        assert_equal(w.get()["id"], m.id_hex)

        self.log("topic filter; two waiters with different filters")
        wb = Waiter(self, node, {"topic": "topic/b", "timeout": 30})
        wany = Waiter(self, node, {"timeout": 30})
        a_id = node.rpc.publish("topic/a", "for any")
        assert_equal(wany.get()["id"], a_id)
        # node.rpc answered after the message was stored; wb is still waiting for its topic.
        node.rpc.uptime()
        assert wb.pending() or wb.get()["id"] != a_id, "topic filter ignored"
        b_id = node.rpc.publish("topic/b", "for b")
        got = wb.get()
        assert_equal(got["id"], b_id)
        assert_equal(got["topic"], "topic/b")

        self.log("timeout: null after the given seconds")
        w = Waiter(self, node, {"timeout": 1})
        assert_equal(w.get(timeout=15), None)
        assert 0.9 <= w.elapsed < 10, w.elapsed
        w = Waiter(self, node, {"topic": "never", "timeout": 2})
        node.rpc.publish("other", "not for it")
        assert_equal(w.get(timeout=15), None)
        assert_greater_than(w.elapsed, 1.9)

        self.log("bad options: -8")
        for bad in ({"timeout": 0}, {"timeout": 3601}, {"timeout": "5"}, {"topic": "Bad Topic"},
                    {"nosuchkey": 1}):
            assert_raises_rpc_error(-8, None, node.rpc.waitformessage, bad)

        self.log("other RPCs and peers are served while a waitformessage is pending")
        w = Waiter(self, node, {"topic": "release", "timeout": 60})
        for call in (node.rpc.uptime, node.rpc.getstoreinfo, node.rpc.getpeerinfo,
                     node.rpc.getnetworkinfo, lambda: node.rpc.listmessages({"limit": 5})):
            t = time.monotonic()
            call()
            assert time.monotonic() - t < 2, "an RPC took %.1fs" % (time.monotonic() - t)
        peer.sync_with_ping(timeout=5)
        other = make_message(key, "wait/p2p", "while pending")
        peer.announce(other)
        wait_until(lambda: node.has_message(other.id_hex), timeout=10)
        assert w.pending()
        rel = node.rpc.publish("release", "done")
        assert_equal(w.get()["id"], rel)
        assert_equal(peer.errors, [])


if __name__ == "__main__":
    WaitForMessageTest().main()
