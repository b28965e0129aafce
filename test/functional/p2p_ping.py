#!/usr/bin/env python3
"""Ping, pong, latency and the unanswered-ping timeout (doc/protocol.md, "Connection life").

- A test peer that answers pings: pingtime and minping appear in getpeerinfo (seconds,
  minping <= pingtime); RPC ping sends every established peer a new ping.
- A test peer that does not answer: getpeerinfo shows pingwait and no pingtime; a pong with a
  nonce the node is not waiting for changes nothing.
- Mock time moved in 3-minute steps (the node's clock; housekeeping runs every second), both
  peers keep sending their own pings so neither is ever idle: the one that leaves the node's
  ping unanswered is disconnected once the ping is 20 minutes old, not before; the other stays.
"""

import time

from test_framework.messages import msg_pong
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, assert_greater_than_or_equal, wait_until

STEP = 180
PING_TIMEOUT = 20 * 60


class PingTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-debug=net"]]

    def run_test(self):
        node = self.nodes[0]
        t0 = int(time.time())
        node.rpc.setmocktime(t0)

        good = node.add_p2p_connection()
        quiet = node.add_p2p_connection(auto_pong=False)
        node.wait_for_peer_of(good)
        node.wait_for_peer_of(quiet)

        self.log("A peer that answers: pingtime and minping")
        self.log("  (the node pings right after the handshake)")
        good.wait_for_message("ping")
        p = wait_until(lambda: (lambda e: e if e and "pingtime" in e else None)(
            node.peer_of(good)), timeout=10)
        assert_greater_than_or_equal(p["pingtime"], 0)
        assert p["pingtime"] < 5, "pingtime %r on loopback" % p["pingtime"]
        assert p["minping"] <= p["pingtime"], p
        assert "pingwait" not in p, p

        self.log("RPC ping sends a new ping to every established peer")
        pings = good.message_count[b"ping"]
        assert_equal(node.rpc.ping(), None)
        good.wait_for_message("ping", count=pings + 1)
        new_nonce = good.last_message[b"ping"].nonce
        wait_until(lambda: node.peer_of(good).get("pingwait") is None, timeout=10)
        assert new_nonce != good.messages[b"ping"][0].nonce

        self.log("A peer that does not answer: pingwait, no pingtime")
        quiet.wait_for_message("ping")
        p = wait_until(lambda: (lambda e: e if e and "pingwait" in e else None)(
            node.peer_of(quiet)), timeout=10)
        assert_greater_than_or_equal(p["pingwait"], 0)
        assert "pingtime" not in p, p
        assert "minping" not in p, p

        self.log("A pong with a nonce the node is not waiting for is ignored")
        waiting_for = quiet.last_message[b"ping"].nonce
        quiet.send_and_ping(msg_pong(waiting_for ^ 0xFFFF))
        p = node.peer_of(quiet)
        assert "pingwait" in p and "pingtime" not in p, p
        assert_equal(p["malformed"], 0)
        assert_equal(quiet.message_count[b"ping"], 1)  # no new ping while one is outstanding

        self.log("Mock time: the unanswered ping times out after 20 minutes, not before")
        now = t0
        while now - t0 + STEP < PING_TIMEOUT:
            pings = good.message_count[b"ping"]
            now += STEP
            node.rpc.setmocktime(now)
            # The good peer is pinged on the 2-minute schedule (and answers).
            good.wait_for_message("ping", count=pings + 1, timeout=10)
            good.sync_with_ping()
            quiet.sync_with_ping()  # the node hears from it: only its ping is unanswered
            assert_equal(node.peer_of(quiet)["lastrecv"], now)
            assert_equal(quiet.message_count[b"ping"], 1)
            assert quiet.is_connected, "disconnected after %d s" % (now - t0)
        self.log("  still connected at +%d s; moving to +%d s" % (now - t0, now - t0 + STEP))
        now += STEP
        node.rpc.setmocktime(now)
        quiet.wait_for_disconnect(timeout=10)
        wait_until(lambda: node.peer_of(quiet) is None, timeout=10)
        good.sync_with_ping()
        assert_equal(len(node.rpc.getpeerinfo()), 1)
        p = node.peer_of(good)
        assert_equal(p["state"], "established")
        assert "pingtime" in p, p


if __name__ == "__main__":
    PingTest().main()
