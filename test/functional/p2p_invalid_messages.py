#!/usr/bin/env python3
"""Bad input from a peer gets exactly the reaction doc/protocol.md states.

Disconnect: bad magic; invalid command bytes (non-printable, byte after the NUL padding, empty);
a header announcing 5,000,000 bytes (before any payload is sent); a message before version (ping,
unknown command); a malformed version (too short, relay byte 2, user agent over 256 bytes or
with a NUL byte, non-canonical compactsize); a version below 80001 (70015); sendaddrv2 after
verack; a connection to self.

Kept, and counted in getpeerinfo: bad checksum (checksum_errors); second version
(protocol_violations, fields not changed); ping between version and verack (protocol_violations,
not answered); malformed ping of 3 bytes (malformed, not answered); unknown command
(unknown_messages, bytes under "*other*").

A truncated frame (header says 100 bytes, 50 sent) leaves the peer waiting, connected and
uncounted; the other 50 bytes complete it; closing instead removes the peer.

After each case a fresh, well-behaved test peer is served (sync_with_ping). Each misbehaving peer
connects from a loopback address of its own (127.9.<n>.1): offences cost points, remembered per
address (doc/scoring.md), and the honest peers come from 127.0.0.1.
"""

import re
import struct

from test_framework.messages import (
    MAGIC,
    MAX_USER_AGENT,
    HEADER_SIZE,
    encode_frame,
    encode_frame_raw,
    msg_ping,
    msg_sendaddrv2,
    msg_version,
    msg_raw,
)
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, wait_until

COUNTERS = ("checksum_errors", "malformed", "protocol_violations", "unknown_messages")


class InvalidMessagesTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-debug=net"]]

    # --- helpers ---------------------------------------------------------------------------

    def src(self):
        """A loopback address of its own for each misbehaving peer: offences cost points
        (doc/scoring.md), remembered per address, and at 100 the address is discouraged; the
        honest peers of check_served come from 127.0.0.1, which stays clean."""
        self.nsrc = getattr(self, "nsrc", 0) + 1
        return "127.9.%d.1" % self.nsrc

    def check_served(self):
        """A fresh, well-behaved peer completes the handshake and gets a pong."""
        node = self.nodes[0]
        fresh = node.add_p2p_connection()
        fresh.sync_with_ping()
        node.wait_for_peer_of(fresh)
        fresh.peer_disconnect()
        wait_until(lambda: node.peer_of(fresh) is None, timeout=10)

    def expect_disconnect(self, p2p, what):
        node = self.nodes[0]
        p2p.wait_for_disconnect(timeout=10)
        wait_until(lambda: node.peer_of(p2p) is None, timeout=10,
                   message="%s: peer still in getpeerinfo" % what)
        assert_equal(p2p.errors, [])
        self.check_served()

    def expect_kept(self, p2p, **counters):
        """p2p is still connected (ping round trip) and its counters are as given (others 0)."""
        node = self.nodes[0]
        p2p.sync_with_ping()
        assert p2p.is_connected
        p = node.peer_of(p2p)
        assert_equal(p["state"], "established")
        for name in COUNTERS:
            assert_equal((name, p[name]), (name, counters.get(name, 0)))
        self.check_served()
        return p

    def established(self, **kwargs):
        node = self.nodes[0]
        p2p = node.add_p2p_connection(source=self.src(), **kwargs)
        node.wait_for_peer_of(p2p)
        return p2p

    def pongs(self, p2p, nonce):
        return [m for m in p2p.messages[b"pong"] if m.nonce == nonce]

    # --- cases -----------------------------------------------------------------------------

    def run_test(self):
        node = self.nodes[0]
        self.check_served()

        self.log("Bad magic: disconnect")
        p2p = self.established()
        p2p.send_raw(encode_frame(msg_ping(1), magic=MAGIC["main"]))
        self.expect_disconnect(p2p, "bad magic")

        for cmd in (b"pi\x01ng", b"ping\x00x", b"", b"p\xe9ng", b"ping pong"):
            self.log("Invalid command bytes %r: disconnect" % cmd)
            p2p = self.established()
            p2p.send_raw(encode_frame_raw(cmd, struct.pack("<Q", 1)))
            self.expect_disconnect(p2p, "command %r" % cmd)

        self.log("Header announcing 5,000,000 bytes: disconnect before the payload")
        p2p = self.established()
        p2p.send_raw(encode_frame_raw(b"ping", b"", length=5000000))
        self.expect_disconnect(p2p, "oversized header")

        self.log("Bad checksum: frame dropped, counted, connection kept")
        p2p = self.established()
        p2p.send_raw(encode_frame_raw(b"ping", struct.pack("<Q", 77), checksum_override=b"\0" * 4))
        self.expect_kept(p2p, checksum_errors=1)
        assert_equal(self.pongs(p2p, 77), [])

        self.log("Truncated payload, then nothing: waits, not counted; the rest completes it")
        # No automatic pong: the answer to the node's handshake ping could otherwise be written
        # between the two halves of the frame (the test's reader thread sends it).
        p2p = self.established(auto_pong=False)
        frame = encode_frame_raw(b"trunc", bytes(range(100)))
        p2p.send_raw(frame[:HEADER_SIZE + 50])
        self.check_served()  # the node went on serving others meanwhile
        assert p2p.is_connected
        p = node.peer_of(p2p)
        assert_equal([p[c] for c in COUNTERS], [0, 0, 0, 0])
        assert "*other*" not in p["bytesrecv_per_msg"], p
        p2p.send_raw(frame[HEADER_SIZE + 50:])
        p = self.expect_kept(p2p, unknown_messages=1)
        assert_equal(p["bytesrecv_per_msg"]["*other*"], len(frame))

        self.log("Truncated payload, then close: the peer goes away")
        p2p = self.established()
        p2p.send_raw(frame[:HEADER_SIZE + 50])
        p2p.peer_disconnect()
        wait_until(lambda: node.peer_of(p2p) is None, timeout=10)
        self.check_served()

        self.log("Message before version (ping first): disconnect")
        p2p = node.add_p2p_connection(send_version=False, source=self.src())
        node.wait_for_peer_of(p2p, state="await_version")
        p2p.send_message(msg_ping(5))
        self.expect_disconnect(p2p, "ping before version")
        assert_equal(p2p.message_log, [])

        self.log("Unknown command before version: disconnect")
        p2p = node.add_p2p_connection(send_version=False, source=self.src())
        node.wait_for_peer_of(p2p, state="await_version")
        p2p.send_message(msg_raw(b"hello", b"x"))
        self.expect_disconnect(p2p, "unknown before version")

        self.log("Malformed versions: disconnect")
        good = msg_version().serialize()
        long_ua = msg_version(user_agent=b"u" * (MAX_USER_AGENT + 1)).serialize()
        # The user agent length (1 byte at offset 80) written as fd xx 00 instead.
        noncanon = good[:80] + b"\xfd" + struct.pack("<H", good[80]) + good[81:]
        for name, payload in (("10 bytes", good[:10]),
                              ("cut inside the user agent", good[:85]),
                              ("relay byte 2", good[:-1] + b"\x02"),
                              ("user agent of 257 bytes", long_ua),
                              ("NUL byte in the user agent",
                               msg_version(user_agent=b"/a\x00b/").serialize()),
                              ("non-canonical compactsize", noncanon)):
            self.log("  %s" % name)
            p2p = node.add_p2p_connection(send_version=False, source=self.src())
            p2p.send_message(msg_raw(b"version", payload))
            self.expect_disconnect(p2p, "malformed version: %s" % name)
            assert b"verack" not in p2p.commands_received()

        self.log("Version 70015 (below 80001): disconnect")
        p2p = node.add_p2p_connection(send_version=False, source=self.src())
        p2p.send_version(version=70015)
        self.expect_disconnect(p2p, "old version")
        assert b"verack" not in p2p.commands_received()

        self.log("Duplicate version: ignored (fields unchanged), protocol_violations")
        p2p = self.established(version_kwargs=dict(user_agent=b"/first:1/"))
        p2p.send_message(p2p.make_version(user_agent=b"/second:2/", start_height=99))
        p = self.expect_kept(p2p, protocol_violations=1)
        assert_equal(p["subver"], "/first:1/")
        assert_equal(p["startingheight"], 0)

        self.log("Ping between version and verack: not answered, protocol_violations")
        p2p = node.add_p2p_connection(auto_verack=False, source=self.src())
        node.wait_for_peer_of(p2p, state="await_verack")
        p2p.send_message(msg_ping(0x1234))
        p2p.send_verack()
        p = self.expect_kept(p2p, protocol_violations=1)
        assert_equal(self.pongs(p2p, 0x1234), [])

        self.log("sendaddrv2 between version and verack is fine; after verack: disconnect")
        p2p = self.established()  # sent sendaddrv2 right after its version
        p2p.sync_with_ping()
        assert_equal(node.peer_of(p2p)["protocol_violations"], 0)
        p2p.send_message(msg_sendaddrv2())
        self.expect_disconnect(p2p, "sendaddrv2 after verack")

        self.log("Malformed ping (3 bytes): dropped, counted")
        p2p = self.established()
        p2p.send_message(msg_raw(b"ping", b"\x01\x02\x03"))
        self.expect_kept(p2p, malformed=1)
        assert_equal(self.pongs(p2p, 0x030201), [])

        self.log("Unknown command: ignored, counted under *other*")
        p2p = self.established()
        p2p.send_message(msg_raw(b"futurecmd", b"0123456789"))
        p = self.expect_kept(p2p, unknown_messages=1)
        assert_equal(p["bytesrecv_per_msg"]["*other*"], HEADER_SIZE + 10)
        assert "futurecmd" not in p["bytesrecv_per_msg"], p

        self.log("Self-connection: detected by nonce and dropped")
        node.disconnect_p2ps()
        wait_until(lambda: node.rpc.getpeerinfo() == [], timeout=10)
        log_start = len(node.read_debug_log())
        node.rpc.addnode(node.p2p_addr, "onetry")
        self_conn = re.compile(r"self[- ]connection|connected to self", re.IGNORECASE)
        wait_until(lambda: self_conn.search(node.read_debug_log()[log_start:]), timeout=10,
                   message="self-connection in debug.log")
        wait_until(lambda: node.rpc.getpeerinfo() == [], timeout=10)
        self.check_served()
        assert_equal(node.rpc.getpeerinfo(), [])


if __name__ == "__main__":
    InvalidMessagesTest().main()
