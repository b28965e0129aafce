#!/usr/bin/env python3
"""One case per row of the misbehaviour table in doc/scoring.md.

Every offender connects from its own loopback address (127.6.<case>.1), so that discouraging
it never touches the others, nor the honest peers, which come from 127.0.0.1. For each row:

- the first offence costs the documented points (getpeerinfo `misbehaviour`, `offences`) and
  has the documented reaction (frame or message dropped / ignored, or disconnect);
- rows below 100 points: repeating the offence ceil(100 / points) times in all reaches the
  threshold, and the peer is disconnected (points decay by 100/h, which a few seconds do not
  undo);
- at 100 points the peer is disconnected (debug.log names the offence) and its address
  discouraged: the next inbound connection from it shows "discouraged": true, while a
  disconnect without reaching the threshold (malformed version) leaves it undiscouraged;
- a fresh honest test peer from 127.0.0.1 is still served (sync_with_ping), with 0 points.

Rows: bad-frame (bad magic, invalid command bytes, a header announcing 5,000,000 bytes),
bad-checksum, malformed (ping of 3 bytes, inv of 50,001 entries, addrv2 of 1,001 entries, a
msg that does not decode, malformed version), protocol-order (ping before verack, second
version, second verack), invalid-signature (rejected and remembered: not fetched again from
an honest announcer), unrequested, decompression-bomb, flood (inv beyond its bucket; addrv2
beyond its bucket, counted in addr_rate_limited), broken-promise (-msgrequesttimeout=1: an
announcer that never delivers; the next announcer is asked), sync-endless (a sync peer whose
fingerprints never agree, or that only lists ids the node stores, or claims to lack the same
ids of the node's every round: 100 points after 64 round trips, no new session), sync-lie (a
sync peer that lists ids it then answers with notfound: 4 are forgiven). Honest differences (unknown command, notfound, a message
from the future) cost nothing.
"""

import os
import struct
import time

from test_framework.messages import (
    MAGIC,
    encode_frame,
    encode_frame_raw,
    make_message,
    msg_addrv2,
    msg_inv,
    msg_msg,
    msg_notfound,
    msg_ping,
    msg_raw,
    msg_verack,
    msg_version,
    distinct_ipv4_entries,
    random_seckey,
    zlib_bomb,
)
from test_framework import recon
from test_framework.p2p import P2PInterface
from test_framework.scoring import scoring_doc
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, wait_until

# The contract: the threshold, the points and the rate limits as doc/scoring.md states them.
DOC = scoring_doc()
THRESHOLD = DOC.threshold
POINTS = DOC.points
# The rows this test has a case for; a new row in the table fails the test until it has one.
# Listed ids a peer may leave unserved before sync-lie counts (doc/scoring.md, sync-lie row;
# the node also forgives one more per 32 listed ids delivered: none here).
SYNC_LIE_GRACE = 4
ROWS = {"bad-frame", "bad-checksum", "malformed", "protocol-order", "invalid-signature",
        "unrequested", "decompression-bomb", "flood", "broken-promise", "sync-endless",
        "sync-lie"}


class SyncResponder(P2PInterface):
    """A catch-up sync peer that answers every syncreq with answer(payload)."""

    def __init__(self, answer, **kwargs):
        super().__init__(**kwargs)
        self.answer = answer
        self.syncreqs = 0

    def on_message(self, msg):
        if isinstance(msg, msg_raw) and msg.command == b"syncreq":
            with self._cond:
                self.syncreqs += 1
            self.send_message(msg_raw(b"syncresp", self.answer(msg.payload)))
            return
        super().on_message(msg)


class MisbehaviourTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        # -connect to a closed port: no automatic outbound connections (the address flood
        # must not make the node dial out).
        self.extra_args = [["-debug=net", "-debug=msg", "-msgrequesttimeout=1",
                            "-connect=127.0.0.1:1"]]

    # --- helpers ---------------------------------------------------------------------------

    def next_source(self):
        """A loopback address of its own for the next offender."""
        self.case += 1
        return "127.6.%d.1" % self.case

    def offender(self, source, **kwargs):
        """An established test peer from source; returns (p2p, its node id)."""
        node = self.nodes[0]
        p2p = node.add_p2p_connection(source=source, **kwargs)
        entry = node.wait_for_peer_of(p2p)
        assert_equal(entry["discouraged"], False)
        return p2p, entry["id"]

    def wait_points(self, p2p, offences, points=None):
        """Wait until the node's entry for p2p counts exactly these offences, then check its
        points (default: the sum of the table's points), to within what decay takes."""
        node = self.nodes[0]
        if points is None:
            points = sum(POINTS[o] * n for o, n in offences.items())

        def counted():
            e = node.peer_of(p2p)
            return e if e is not None and e["offences"] == offences else None
        e = wait_until(counted, timeout=10,
                       message=lambda: "offences %s (now %s)" % (
                           offences, (node.peer_of(p2p) or {}).get("offences")))
        assert abs(e["misbehaviour"] - points) < 0.5, \
            "misbehaviour %r, expected %r (%s)" % (e["misbehaviour"], points, e["offences"])
        assert p2p.is_connected
        return e

    def expect_kept(self, p2p, offences, points=None):
        """Still connected and served (ping round trip), with these offences."""
        nonce = int.from_bytes(os.urandom(8), "little") | 1
        p2p.send_message(msg_ping(nonce))
        p2p.wait_until(lambda: nonce in p2p.pong_nonces or not p2p.is_connected, 30,
                       "pong (or disconnect)")
        assert p2p.is_connected, "disconnected, expected to be kept with offences %s" % offences
        e = self.wait_points(p2p, offences, points)
        assert_equal(e["state"], "established")
        return e

    def expect_gone(self, p2p, peer_id, offence, discouraged=True):
        """p2p is disconnected, debug.log shows the offence (and, at the threshold, the reason),
        and a new connection from its address shows whether it was discouraged."""
        node = self.nodes[0]
        p2p.wait_for_disconnect(timeout=10)
        wait_until(lambda: node.peer_of(p2p) is None, timeout=10,
                   message="peer=%d still in getpeerinfo" % peer_id)
        node.wait_for_log("peer=%d misbehaving: %s (+%d" % (peer_id, offence, POINTS[offence]))
        if discouraged:
            node.wait_for_log("disconnecting peer=%d %s: misbehaviour threshold reached (%s)" %
                              (peer_id, p2p.local_addr, offence))
        self.expect_discouraged(p2p.local_ip, discouraged)
        assert_equal(p2p.errors, [])
        self.check_served()

    def expect_discouraged(self, source, discouraged=True):
        """The next inbound connection from source shows "discouraged": discouraged."""
        node = self.nodes[0]
        again = node.add_p2p_connection(source=source)
        e = node.wait_for_peer_of(again)
        assert_equal((source, e["discouraged"]), (source, discouraged))
        again.peer_disconnect()
        wait_until(lambda: node.peer_of(again) is None, timeout=10)

    def check_served(self):
        """A fresh, honest peer from 127.0.0.1 completes the handshake, gets a pong and has no
        points and no discouragement."""
        node = self.nodes[0]
        fresh = node.add_p2p_connection()
        fresh.sync_with_ping()
        e = node.wait_for_peer_of(fresh)
        assert_equal((e["discouraged"], e["misbehaviour"], e["offences"]), (False, 0, {}))
        fresh.peer_disconnect()
        wait_until(lambda: node.peer_of(fresh) is None, timeout=10)

    def repeat_until_gone(self, p2p, peer_id, offence, done, send):
        """Commit the offence (send()) until ceil(100 / points) in all (done so far), then
        expect a disconnect with discouragement."""
        need = self.needed(offence)
        for _ in range(need - done):
            assert p2p.is_connected, "%s: disconnected before %d offences" % (offence, need)
            send()
        self.expect_gone(p2p, peer_id, offence)

    @staticmethod
    def needed(offence):
        """How many of this offence reach the threshold."""
        return DOC.needed(offence)

    @staticmethod
    def send_invs(p2p, n):
        """n random ids in inv messages of at most 50,000."""
        while n > 0:
            k = min(n, 50000)
            p2p.send_message(msg_inv([os.urandom(32) for _ in range(k)]))
            n -= k

    def pongs(self, p2p, nonce):
        return [m for m in p2p.messages[b"pong"] if m.nonce == nonce]

    # --- cases -----------------------------------------------------------------------------

    def run_test(self):
        assert_equal(set(POINTS), ROWS)
        self.case = 0
        self.key = random_seckey()
        self.check_served()
        self.case_not_offences()
        self.case_bad_frame()
        self.case_bad_checksum()
        self.case_malformed()
        self.case_protocol_order()
        self.case_invalid_signature()
        self.case_unrequested()
        self.case_decompression_bomb()
        self.case_flood()
        self.case_broken_promise()
        self.case_sync_endless()
        self.case_sync_lie()
        # The honest address was never discouraged through all of it.
        self.expect_discouraged("127.0.0.1", False)

    def case_not_offences(self):
        self.log("not offences: unknown command, notfound, a message from the future")
        node = self.nodes[0]
        p2p, _ = self.offender(self.next_source())
        p2p.send_message(msg_raw(b"futurecmd", b"0123"))
        p2p.send_message(msg_notfound([os.urandom(32)]))
        future = make_message(self.key, "honest", "an hour ahead",
                              created_at=int(time.time()) + 3600)
        p2p.announce(future)
        p2p.wait_for_getdata([future])
        wait_until(lambda: node.msg_counters_of(p2p)["msgs_received"] == 1, timeout=10)
        e = self.expect_kept(p2p, {}, 0)
        assert_equal(e["unknown_messages"], 1)
        p2p.peer_disconnect()
        self.check_served()

    def case_bad_frame(self):
        node = self.nodes[0]
        for what, frame in (
                ("bad magic", encode_frame(msg_ping(1), magic=MAGIC["main"])),
                ("invalid command bytes", encode_frame_raw(b"pi\x01ng", struct.pack("<Q", 1))),
                ("a header announcing 5,000,000 bytes",
                 encode_frame_raw(b"ping", b"", length=5000000))):
            self.log("bad-frame (%s): 100 points, disconnect, discouraged" % what)
            p2p, pid = self.offender(self.next_source())
            p2p.send_raw(frame)
            self.expect_gone(p2p, pid, "bad-frame")

    def case_bad_checksum(self):
        self.log("bad-checksum: 10 points, frame dropped; the 10th disconnects")
        p2p, pid = self.offender(self.next_source())
        p2p.send_raw(encode_frame_raw(b"ping", struct.pack("<Q", 77), checksum_override=b"\0" * 4))
        e = self.expect_kept(p2p, {"bad-checksum": 1})
        assert_equal(e["checksum_errors"], 1)
        assert_equal(self.pongs(p2p, 77), [])
        self.check_served()
        bad = encode_frame_raw(b"ping", struct.pack("<Q", 78), checksum_override=b"\0" * 4)
        self.repeat_until_gone(p2p, pid, "bad-checksum", 1, lambda: p2p.send_raw(bad))

    def case_malformed(self):
        self.log("malformed ping (3 bytes): 50 points, dropped")
        p2p, pid = self.offender(self.next_source())
        p2p.send_message(msg_raw(b"ping", b"\x01\x02\x03"))
        e = self.expect_kept(p2p, {"malformed": 1})
        assert_equal(e["malformed"], 1)
        assert_equal(self.pongs(p2p, 0x030201), [])
        self.check_served()
        self.log("malformed inv (50,001 entries): the second malformed message disconnects")
        self.repeat_until_gone(p2p, pid, "malformed", 1, lambda: p2p.send_message(
            msg_inv([os.urandom(32) for _ in range(50001)])))

        self.log("malformed addrv2 (1,001 entries) and msg that does not decode")
        p2p, pid = self.offender(self.next_source())
        p2p.send_message(msg_addrv2(distinct_ipv4_entries(1001)))
        e = self.expect_kept(p2p, {"malformed": 1})
        assert_equal(e["addr_processed"], 0)
        self.repeat_until_gone(p2p, pid, "malformed", 1,
                               lambda: p2p.send_message(msg_msg(b"\x01\x02not a message")))

        self.log("malformed version: 50 points and disconnect, not discouraged")
        node = self.nodes[0]
        p2p = node.add_p2p_connection(source=self.next_source(), send_version=False)
        pid = node.wait_for_peer_of(p2p, state="await_version")["id"]
        p2p.send_message(msg_raw(b"version", msg_version().serialize()[:10]))
        self.expect_gone(p2p, pid, "malformed", discouraged=False)

    def case_protocol_order(self):
        node = self.nodes[0]
        self.log("protocol-order: ping before verack, second version, second verack: 10 each, "
                 "ignored")
        p2p = node.add_p2p_connection(source=self.next_source(), auto_verack=False)
        pid = node.wait_for_peer_of(p2p, state="await_verack")["id"]
        p2p.send_message(msg_ping(0x1234))
        p2p.send_verack()
        self.expect_kept(p2p, {"protocol-order": 1})
        assert_equal(self.pongs(p2p, 0x1234), [])
        p2p.send_message(p2p.make_version(user_agent=b"/second:2/"))
        e = self.expect_kept(p2p, {"protocol-order": 2})
        assert_equal(e["subver"], "/p2pd-test:0.1/")
        p2p.send_message(msg_verack())
        e = self.expect_kept(p2p, {"protocol-order": 3})
        assert_equal(e["protocol_violations"], 3)
        self.check_served()
        self.log("protocol-order: the 10th disconnects")
        self.repeat_until_gone(p2p, pid, "protocol-order", 3,
                               lambda: p2p.send_message(msg_verack()))

    def case_invalid_signature(self):
        node = self.nodes[0]
        self.log("invalid-signature: 100 points, rejected, disconnect, discouraged")
        p2p, pid = self.offender(self.next_source())
        m = make_message(self.key, "bad", "bad signature")
        m.sig = m.sig[:5] + bytes([m.sig[5] ^ 0x80]) + m.sig[6:]
        p2p.announce(m)
        p2p.wait_for_getdata([m])
        self.expect_gone(p2p, pid, "invalid-signature")
        assert not node.has_message(m.id_hex)
        self.log("invalid-signature: the rejected id is remembered (not fetched again)")
        honest = node.add_p2p_connection()
        probe = make_message(self.key, "valid", "probe")
        honest.announce_ids([m.id])
        honest.announce(probe)
        honest.wait_for_getdata([probe])
        wait_until(lambda: node.has_message(probe.id_hex), timeout=10)
        assert_equal(honest.getdata_count(m), 0)
        e = self.expect_kept(honest, {}, 0)
        assert_equal(e["discouraged"], False)
        honest.peer_disconnect()

    def case_unrequested(self):
        node = self.nodes[0]
        self.log("unrequested: 10 points, dropped; the 10th disconnects")
        p2p, pid = self.offender(self.next_source())
        u = make_message(self.key, "valid", "nobody asked")
        p2p.send_unrequested(u)
        e = self.expect_kept(p2p, {"unrequested": 1})
        assert_equal(e["msgs_unrequested"], 1)
        assert not node.has_message(u.id_hex)
        self.check_served()
        counter = [0]

        def send():
            counter[0] += 1
            p2p.send_unrequested(make_message(self.key, "valid", "unasked %d" % counter[0]))
        self.repeat_until_gone(p2p, pid, "unrequested", 1, send)

    def case_decompression_bomb(self):
        self.log("decompression-bomb: 100 points, disconnect, discouraged")
        p2p, pid = self.offender(self.next_source(), send_sendzlib=True)
        p2p.wait_until(lambda: p2p.zlib_negotiated, 10, "sendzlib from the node")
        p2p.sync_with_ping()  # our sendzlib (before verack) is in
        p2p.send_message(zlib_bomb())
        self.expect_gone(p2p, pid, "decompression-bomb")

    def case_flood(self):
        node = self.nodes[0]
        # The burst and 1.5 flood units more, back to back: between 1 and 1.5 units dropped
        # as long as the refill between the messages is under half a unit.
        n = int(DOC.inv_burst) + DOC.flood_items * 3 // 2
        self.log("flood (inv): %d ids, over the burst of %d: 10 points, excess dropped" %
                 (n, DOC.inv_burst))
        p2p, pid = self.offender(self.next_source(), getdata_mode="notfound")
        self.send_invs(p2p, n)
        e = self.expect_kept(p2p, {"flood": 1})
        assert e["msgs_announced"] >= DOC.inv_burst, e["msgs_announced"]
        self.check_served()
        self.log("flood (inv): 50,000 more ids: disconnect, discouraged")
        self.send_invs(p2p, 50000)
        self.expect_gone(p2p, pid, "flood")

        self.log("flood (addrv2): 2,000 addresses from an inbound peer: 10 points, "
                 "addr_rate_limited")
        p2p, pid = self.offender(self.next_source())
        p2p.send_addrs(distinct_ipv4_entries(2000, first_octet=20))
        e = self.expect_kept(p2p, {"flood": 1})
        assert 1000 <= e["addr_rate_limited"] <= 1999, e["addr_rate_limited"]
        assert_equal(e["addr_rate_limited"] + e["addr_processed"], 2000)
        p2p.peer_disconnect()
        self.check_served()

    def case_broken_promise(self):
        node = self.nodes[0]
        self.log("broken-promise: announced, asked, never delivered: 5 points after "
                 "-msgrequesttimeout; the next announcer is asked")
        p2p, pid = self.offender(self.next_source(), getdata_mode="ignore")
        honest = node.add_p2p_connection()
        node.wait_for_peer_of(honest)
        m = make_message(self.key, "valid", "promised")
        p2p.announce(m)
        p2p.wait_for_getdata([m])
        honest.announce(m)
        honest.wait_for_getdata([m], timeout=10)
        wait_until(lambda: node.has_message(m.id_hex), timeout=10)
        self.expect_kept(p2p, {"broken-promise": 1})
        # (Not checked: the honest peer's offences. A loaded machine can make this Python
        # peer itself miss the 1 s timeout.)
        honest.peer_disconnect()
        self.check_served()
        self.log("broken-promise: 19 more: disconnect, discouraged")
        ids = [os.urandom(32) for _ in range(self.needed("broken-promise") - 1)]
        p2p.announce_ids(ids)
        p2p.wait_for_getdata(ids)
        self.expect_gone(p2p, pid, "broken-promise")

    def case_sync_endless(self):
        node = self.nodes[0]
        self.log("sync-endless: a sync peer whose fingerprint never agrees: after %d round "
                 "trips the session is abandoned, 100 points" % recon.MAX_ROUNDS)

        def never_agree(req):
            return recon.encode_syncresp([recon.Range(recon.END, recon.FINGERPRINT,
                                                      fp=os.urandom(recon.FP_LEN))])
        p2p, pid = self.offender(self.next_source(), p2p=SyncResponder(never_agree))
        node.rpc.syncwithpeer(pid)
        self.expect_gone(p2p, pid, "sync-endless")
        assert_equal(p2p.syncreqs, recon.MAX_ROUNDS)

        # Ids that are no progress do not excuse it: ids the node stores (listed where it has
        # none, so the step returns them as needed), or the same two ids of its own it claims
        # to lack every round (announced once; counted once). The node's own messages:
        for i in range(2):
            node.rpc.publish("sync-endless", "mine %d" % i)
        mine = node.rpc.listmessages({"topic": "sync-endless"})
        ids = sorted(bytes.fromhex(m["id"]) for m in mine)
        latest = max(m["created_at"] for m in mine)

        def lists_stored(req):
            since, _, _ = recon.decode_syncreq(req)
            return recon.encode_syncresp([
                recon.Range((since + 1, b""), recon.IDLIST, ids=ids),
                recon.Range(recon.END, recon.FINGERPRINT, fp=os.urandom(recon.FP_LEN))])

        def lacks_the_same(req):
            # An empty list over the node's two messages: the node finds both missing here.
            return recon.encode_syncresp([
                recon.Range((latest + 1, b""), recon.IDLIST, ids=[]),
                recon.Range(recon.END, recon.FINGERPRINT, fp=os.urandom(recon.FP_LEN))])
        for what, answer in (("lists ids the node stores", lists_stored),
                             ("claims to lack the same two ids every round", lacks_the_same)):
            self.log("sync-endless: a sync peer that %s: still 100 points after %d round "
                     "trips, no new session" % (what, recon.MAX_ROUNDS))
            before = node.rpc.getsyncinfo()
            p2p, pid = self.offender(self.next_source(), p2p=SyncResponder(answer))
            node.rpc.syncwithpeer(pid)
            self.expect_gone(p2p, pid, "sync-endless")
            assert_equal(p2p.syncreqs, recon.MAX_ROUNDS)
            after = node.rpc.getsyncinfo()
            assert_equal(after["sessions_continued"], before["sessions_continued"])
            assert_equal(after["sessions_started"], before["sessions_started"] + 1)

    def case_sync_lie(self):
        node = self.nodes[0]
        self.log("sync-lie: a sync peer lists %d ids, then answers notfound for each: the "
                 "first %d are forgiven (pruning), the last costs 20 points" % (
                     SYNC_LIE_GRACE + 1, SYNC_LIE_GRACE))
        fake = [os.urandom(32) for _ in range(SYNC_LIE_GRACE + self.needed("sync-lie"))]
        first = SYNC_LIE_GRACE + 1
        lists = [sorted(fake[:first]), sorted(fake[first:])]

        def lie(req):
            ids = lists.pop(0) if lists else []
            return recon.encode_syncresp([recon.Range(recon.END, recon.IDLIST, ids=ids)])
        p2p, pid = self.offender(self.next_source(), p2p=SyncResponder(lie))
        node.rpc.syncwithpeer(pid)
        p2p.wait_for_getdata(fake[:first])
        self.expect_kept(p2p, {"sync-lie": 1})
        self.log("sync-lie: a second session listing %d more: disconnect, discouraged" % (
            len(fake) - first))
        wait_until(lambda: not any(x["peer"] == pid for x in node.rpc.getsyncinfo()["sessions"]),
                   timeout=10)
        node.rpc.syncwithpeer(pid)
        self.expect_gone(p2p, pid, "sync-lie")


if __name__ == "__main__":
    MisbehaviourTest().main()
