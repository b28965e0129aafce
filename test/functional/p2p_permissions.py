#!/usr/bin/env python3
"""Peer permissions: -whitelist=[perms@]subnet and -whitebind=[perms@]addr (doc/scoring.md).

- -whitelist=127.0.0.1 (no perms: noban): getpeerinfo shows ["noban"]; a peer from 127.0.0.1
  that sends an invalid signature and ten bad checksums (over 100 points) stays connected and
  served, its offences counted, and its address is never discouraged. The same offences from
  127.8.0.1 (not whitelisted) disconnect and discourage it (the control).
- -whitelist=addr@127.0.0.1: a 5,000-address addrv2 flood is not rate limited
  (addr_rate_limited 0, all 5,000 processed, no flood offence), while a peer from 127.8.1.1
  is (the control).
- -whitebind=relay@127.0.0.1:<port>: peers on that port have ["relay"] (and announcements
  beyond the inv bucket cost them nothing, while the same costs a plain peer two flood
  offences); peers on the ordinary port have [].
- a bad permission name, in -whitelist or -whitebind, stops start-up with an error naming it.
"""

import os
import struct

from test_framework.messages import (
    distinct_ipv4_entries,
    encode_frame_raw,
    make_message,
    msg_inv,
    random_seckey,
)
from test_framework.p2p import P2PInterface
from test_framework.scoring import scoring_doc
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, get_free_port, wait_until


class PermissionsTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-debug=net", "-connect=127.0.0.1:1"]]

    def peer(self, source=None, **kwargs):
        node = self.nodes[0]
        p2p = node.add_p2p_connection(source=source, **kwargs)
        return p2p, node.wait_for_peer_of(p2p)

    def misbehave(self, p2p):
        """An invalid signature (100 points) and ten bad checksums (100 more)."""
        m = make_message(self.key, "bad", "bad signature %s" % os.urandom(8).hex())
        m.sig = m.sig[:5] + bytes([m.sig[5] ^ 0x80]) + m.sig[6:]
        p2p.announce(m)
        p2p.wait_for_getdata([m], timeout=10)
        bad = encode_frame_raw(b"ping", struct.pack("<Q", 5), checksum_override=b"\0" * 4)
        for _ in range(10):
            try:
                p2p.send_raw(bad)
            except OSError:
                break  # disconnected already (not whitelisted)

    def run_test(self):
        node = self.nodes[0]
        self.key = random_seckey()

        self.log("-whitelist=127.0.0.1: noban; misbehaviour is counted but never punished")
        self.restart_node(0, ["-whitelist=127.0.0.1"])
        p2p, e = self.peer()
        assert_equal(e["permissions"], ["noban"])
        self.misbehave(p2p)
        wait_until(lambda: node.peer_of(p2p)["offences"] ==
                   {"invalid-signature": 1, "bad-checksum": 10}, timeout=10,
                   message=lambda: "offences counted (now %s)" % node.peer_of(p2p)["offences"])
        p2p.sync_with_ping()
        e = node.peer_of(p2p)
        assert e["misbehaviour"] >= 190, e["misbehaviour"]
        assert_equal(e["state"], "established")
        assert_equal(e["discouraged"], False)
        again, e = self.peer()
        assert_equal(e["discouraged"], False)
        assert p2p.is_connected
        self.log("  control: the same from 127.8.0.1 disconnects and discourages")
        ctl, _ = self.peer("127.8.0.1")
        assert_equal(node.peer_of(ctl)["permissions"], [])
        self.misbehave(ctl)
        ctl.wait_for_disconnect(timeout=10)
        _, e = self.peer("127.8.0.1")
        assert_equal(e["discouraged"], True)

        self.log("-whitelist=addr@127.0.0.1: addrv2 is not rate limited")
        self.restart_node(0, ["-whitelist=addr@127.0.0.1"])
        p2p, e = self.peer()
        assert_equal(e["permissions"], ["addr"])
        entries = distinct_ipv4_entries(5000, first_octet=30)
        p2p.send_addrs(entries)
        wait_until(lambda: node.peer_of(p2p)["addr_processed"] == 5000, timeout=20,
                   message=lambda: "5,000 addresses processed (now %s)" %
                   node.peer_of(p2p)["addr_processed"])
        p2p.sync_with_ping()
        e = node.peer_of(p2p)
        assert_equal((e["addr_rate_limited"], e["offences"]), (0, {}))
        self.log("  control: from 127.8.1.1 the same flood is rate limited")
        ctl, _ = self.peer("127.8.1.1")
        ctl.send_addrs(entries)
        ctl.sync_with_ping()
        e = node.peer_of(ctl)
        assert e["addr_rate_limited"] >= 4000, e["addr_rate_limited"]
        assert_equal(e["addr_rate_limited"] + e["addr_processed"], 5000)
        assert_equal(e["offences"], {"flood": 4})

        self.log("-whitebind=relay@127.0.0.1:<port>: its peers have relay")
        port = get_free_port()
        self.restart_node(0, ["-whitebind=relay@127.0.0.1:%d" % port])
        wb = P2PInterface(log=self.log, getdata_mode="notfound")
        wb.peer_connect("127.0.0.1", port)
        node.p2ps.append(wb)
        wb.send_version()
        wb.wait_for_verack()
        e = node.wait_for_peer_of(wb)
        assert_equal(e["permissions"], ["relay"])
        plain, e = self.peer(getdata_mode="notfound")
        assert_equal(e["permissions"], [])
        # The inv burst (doc/scoring.md) and 2.5 flood units more: 2 flood offences for the
        # plain peer, nothing for the relay one.
        doc = scoring_doc()
        n = int(doc.inv_burst) + doc.flood_items * 5 // 2
        for p in (wb, plain):
            left = n
            while left > 0:
                k = min(left, 50000)
                p.send_message(msg_inv([os.urandom(32) for _ in range(k)]))
                left -= k
            p.sync_with_ping()
        assert_equal(node.peer_of(wb)["offences"], {})
        assert_equal(node.peer_of(plain)["offences"], {"flood": 2})

        self.log("a bad permission name stops start-up")
        node.stop_node()
        node.assert_start_raises_init_error(["-whitelist=bogus@127.0.0.1"],
                                            "unknown permission 'bogus'")
        node.assert_start_raises_init_error(["-whitebind=noban,frobnicate@127.0.0.1:%d" % port],
                                            "unknown permission 'frobnicate'")
        node.assert_start_raises_init_error(["-whitelist=noban@not-a-subnet"], "-whitelist")
        node.start()


if __name__ == "__main__":
    PermissionsTest().main()
