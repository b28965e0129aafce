#!/usr/bin/env python3
"""setban, listbanned, clearbanned (doc/scoring.md "Bans", doc/rpc.md).

- setban add: listbanned shows the ban with its fields (address as "a.b.c.d/n", ban_created,
  banned_until, ban_duration, time_remaining) under setmocktime; the default length is
  -bantime; a connected peer from the address is disconnected at once and a new connection
  from it is refused, while peers from other addresses are kept and served.
- errors: -23 for a subnet already banned (or an address inside a banned subnet), -30 for
  removing a ban that does not exist, -8 for an invalid subnet, an out-of-range
  bantime (0 or less means -bantime), an absolute time in the past; an unknown command.
- subnet bans: 127.7.1.0/24 disconnects a peer from 127.7.1.5 and refuses 127.7.1.9, keeps
  127.7.2.5; "127.0.0.0/255.0.0.0" (netmask form, listed as 127.0.0.0/8) disconnects every
  test peer and refuses new ones; remove lifts it.
- absolute bantime: banned_until is the given epoch time.
- bans survive a restart (and -bantime then sets the default length of new ones).
- expiry: moving the clock past banned_until with setmocktime empties listbanned, and the
  address may connect again.
- clearbanned lifts every ban.
"""

import time

from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, assert_raises_rpc_error, wait_until

DEFAULT_BANTIME = 86400


class SetBanTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-debug=net", "-connect=127.0.0.1:1"]]

    # --- helpers ---------------------------------------------------------------------------

    def peer(self, source="127.0.0.1"):
        node = self.nodes[0]
        p2p = node.add_p2p_connection(source=source)
        node.wait_for_peer_of(p2p)
        return p2p

    def expect_refused(self, source):
        """A new connection from source is closed without a handshake and never established."""
        node = self.nodes[0]
        p2p = node.add_p2p_connection(source=source, send_version=False)
        p2p.wait_for_disconnect(timeout=10)
        assert_equal(p2p.commands_received(), [])
        assert node.peer_of(p2p) is None

    def expect_dropped(self, p2p):
        node = self.nodes[0]
        p2p.wait_for_disconnect(timeout=10)
        wait_until(lambda: node.peer_of(p2p) is None, timeout=10)

    def banned(self):
        return {b["address"]: b for b in self.nodes[0].rpc.listbanned()}

    # --- test ------------------------------------------------------------------------------

    def run_test(self):
        node = self.nodes[0]
        rpc = node.rpc
        assert_equal(rpc.listbanned(), [])

        self.log("setban add: listed with its fields; the peer is disconnected and refused")
        t0 = int(time.time())
        rpc.setmocktime(t0)
        victim = self.peer("127.7.0.1")
        other = self.peer("127.7.0.2")
        assert_equal(rpc.setban("127.7.0.1", "add"), None)
        self.expect_dropped(victim)
        self.expect_refused("127.7.0.1")
        other.sync_with_ping()
        assert other.is_connected
        assert_equal(rpc.listbanned(), [{
            "address": "127.7.0.1/32", "ban_created": t0, "banned_until": t0 + DEFAULT_BANTIME,
            "ban_duration": DEFAULT_BANTIME, "time_remaining": DEFAULT_BANTIME}])
        rpc.setmocktime(t0 + 100)
        assert_equal(rpc.listbanned()[0]["time_remaining"], DEFAULT_BANTIME - 100)
        rpc.setban("127.7.0.3", "add", 1000)
        rpc.setban("127.7.0.4", "add", -5)  # 0 or less: -bantime
        assert_equal(self.banned()["127.7.0.4/32"]["ban_duration"], DEFAULT_BANTIME)
        rpc.setban("127.7.0.4", "remove")
        b = self.banned()["127.7.0.3/32"]
        assert_equal((b["ban_created"], b["banned_until"], b["ban_duration"],
                      b["time_remaining"]), (t0 + 100, t0 + 1100, 1000, 1000))
        rpc.setmocktime(0)

        self.log("errors: -23 already banned, -30 not banned, -8 invalid")
        assert_raises_rpc_error(-23, "already banned", rpc.setban, "127.7.0.1", "add")
        assert_raises_rpc_error(-23, "already banned", rpc.setban, "127.7.0.1/32", "add")
        assert_raises_rpc_error(-30, "Unban failed", rpc.setban, "127.7.0.99", "remove")
        assert_raises_rpc_error(-30, None, rpc.setban, "10.0.0.0/8", "remove")
        for bad in ("127.7.0.256", "not an address", "127.7.0.0/33", "127.7.0.0/255.0.255.0",
                    "", "1.2.3.4:5"):
            assert_raises_rpc_error(-8, None, rpc.setban, bad, "add")
        assert_raises_rpc_error(-8, "out of range", rpc.setban, "127.7.0.50", "add",
                                2**63 - 1000)
        assert_raises_rpc_error(-8, None, rpc.setban, "127.7.0.50", "add",
                                int(time.time()) - 60, True)
        assert_raises_rpc_error(None, None, rpc.setban, "127.7.0.50", "ban")
        assert "127.7.0.50/32" not in self.banned()
        assert_equal(len(self.banned()), 2)

        self.log("setban remove: the address may connect again")
        rpc.setban("127.7.0.1", "remove")
        assert_equal(sorted(self.banned()), ["127.7.0.3/32"])
        self.peer("127.7.0.1").sync_with_ping()

        self.log("subnet ban /24: peers inside are dropped and refused, outside kept")
        inside = self.peer("127.7.1.5")
        outside = self.peer("127.7.2.5")
        rpc.setban("127.7.1.0/24", "add")
        self.expect_dropped(inside)
        self.expect_refused("127.7.1.9")
        outside.sync_with_ping()
        assert_raises_rpc_error(-23, None, rpc.setban, "127.7.1.77", "add")
        assert_in_banned = self.banned()
        assert "127.7.1.0/24" in assert_in_banned, assert_in_banned

        self.log("subnet ban 127.0.0.0/255.0.0.0: every test peer is dropped, new ones refused")
        everyone = [p for p in node.p2ps if p.is_connected]
        assert len(everyone) >= 3, len(everyone)
        rpc.setban("127.0.0.0/255.0.0.0", "add", 3600)
        assert "127.0.0.0/8" in self.banned(), self.banned()
        for p in everyone:
            self.expect_dropped(p)
        assert_equal(rpc.getpeerinfo(), [])
        self.expect_refused("127.0.0.1")
        self.expect_refused("127.9.9.9")
        rpc.setban("127.0.0.0/8", "remove")
        self.peer().sync_with_ping()

        self.log("absolute bantime")
        until = int(time.time()) + 7200
        rpc.setban("127.7.3.0/24", "add", until, True)
        b = self.banned()["127.7.3.0/24"]
        assert_equal(b["banned_until"], until)
        assert abs(b["ban_duration"] - 7200) <= 5, b
        self.expect_refused("127.7.3.1")

        self.log("bans survive a restart; -bantime sets the default length")
        before = self.banned()
        assert_equal(sorted(before), ["127.7.0.3/32", "127.7.1.0/24", "127.7.3.0/24"])
        self.restart_node(0, ["-bantime=600"])
        rpc = node.rpc
        after = self.banned()
        assert_equal(sorted(after), sorted(before))
        for k in before:
            for f in ("ban_created", "banned_until", "ban_duration"):
                assert_equal((k, f, after[k][f]), (k, f, before[k][f]))
        self.expect_refused("127.7.1.9")
        self.expect_refused("127.7.3.1")
        self.peer("127.7.2.9").sync_with_ping()
        t1 = int(time.time())
        rpc.setmocktime(t1)
        rpc.setban("127.7.4.1", "add")
        assert_equal(self.banned()["127.7.4.1/32"]["banned_until"], t1 + 600)

        self.log("expiry: past banned_until (setmocktime) the ban is gone")
        rpc.setban("127.7.5.1", "add", 50)
        rpc.setmocktime(t1 + 51)
        banned = self.banned()
        assert "127.7.5.1/32" not in banned, banned
        assert "127.7.4.1/32" in banned, banned
        self.peer("127.7.5.1").sync_with_ping()
        last = max(b["banned_until"] for b in rpc.listbanned())
        rpc.setmocktime(last - 1)
        assert_equal(len(rpc.listbanned()), 1)
        rpc.setmocktime(last + 1)
        assert_equal(rpc.listbanned(), [])
        self.peer("127.7.3.1").sync_with_ping()
        self.peer("127.7.1.9").sync_with_ping()
        rpc.setmocktime(0)

        self.log("clearbanned lifts every ban")
        rpc.setban("127.7.6.0/24", "add")
        rpc.setban("127.7.7.1", "add")
        assert_equal(len(rpc.listbanned()), 2)
        assert_equal(rpc.clearbanned(), None)
        assert_equal(rpc.listbanned(), [])
        self.peer("127.7.6.1").sync_with_ping()
        self.restart_node(0)
        assert_equal(node.rpc.listbanned(), [])


if __name__ == "__main__":
    SetBanTest().main()
