#!/usr/bin/env python3
"""Negotiated zlib compression (doc/protocol.md, "sendzlib", "zlib").

- node0 and node1 (compression on) negotiate it ("zlib": true in getpeerinfo on both ends); a
  32 KiB text message crosses the link in far fewer bytes and totalbytessaved grows on both.
- node2 (-compress=0) linked to node0: "zlib" false on both ends, no byte saved on node2, and
  large messages still relay both ways, uncompressed.
- A test peer that sent sendzlib: the node's answers to it come compressed and inflate to the
  right message; a compressed ping is answered; a corrupt stream is dropped and counted
  (malformed); a decompression bomb (declared 1000 bytes, inflating to 4 MB) disconnects it,
  and the node goes on serving its other peers.
- A test peer sending a zlib frame to node2 (which never sent sendzlib): ignored, counted in
  protocol_violations.
"""

from test_framework.messages import (
    msg_ping,
    msg_raw,
    msg_zlib,
    msg_zlib_raw,
    zlib_bomb,
)
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, assert_greater_than, wait_until

TEXT_SIZE = 32 * 1024


def big_text(tag):
    """About 32 KiB of compressible text."""
    words = ("gossip relay inventory message signature node peer compress zlib %s " % tag)
    out, i = [], 0
    while sum(len(w) for w in out) < TEXT_SIZE:
        out.append("%s%d\n" % (words, i))
        i += 1
    return "".join(out)[:TEXT_SIZE]


class CompressionTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 3
        # node0's test peers are whitelisted (noban): two malformed frames would otherwise reach
        # the misbehaviour threshold (doc/scoring.md) before the bomb check; a bomb still
        # disconnects whatever the permissions.
        self.extra_args = [["-debug=net", "-whitelist=127.0.0.1"], ["-debug=net"],
                           ["-debug=net", "-compress=0"]]

    def run_test(self):
        node0, node1, node2 = self.nodes

        self.log("two nodes with compression on: zlib negotiated, a 32 KiB message saved bytes")
        p0, p1 = self.connect_nodes(0, 1)
        assert_equal((p0["zlib"], p1["zlib"]), (True, True))
        assert_equal(node0.rpc.getnettotals()["totalbytessaved"], 0)
        before1 = self.link_entry(node1, node0)["bytesrecv"]
        msgid = node0.rpc.publish("big", big_text("a"))
        self.wait_for_message(msgid, nodes=[node1], timeout=15)
        saved0 = node0.rpc.getnettotals()["totalbytessaved"]
        saved1 = node1.rpc.getnettotals()["totalbytessaved"]
        self.log("... saved: node0 %d, node1 %d bytes" % (saved0, saved1))
        assert_greater_than(saved0, TEXT_SIZE // 2)
        assert_greater_than(saved1, TEXT_SIZE // 2)
        # The body crossed the link compressed: node1 received far less than 32 KiB from node0.
        got = self.link_entry(node1, node0)["bytesrecv"] - before1
        assert got < TEXT_SIZE // 2, "node1 received %d bytes for a 32 KiB message" % got

        self.log("a node with -compress=0: zlib false, messages still relay, uncompressed")
        q2, q0 = self.connect_nodes(2, 0)
        assert_equal((q2["zlib"], q0["zlib"]), (False, False))
        before0 = self.link_entry(node0, node2)["bytesrecv"]
        from2 = node2.rpc.publish("big", big_text("b"))
        self.wait_for_message(from2, nodes=[node0, node1], timeout=15)
        assert_greater_than(self.link_entry(node0, node2)["bytesrecv"] - before0, TEXT_SIZE)
        before2 = self.link_entry(node2, node0)["bytesrecv"]
        from0 = node0.rpc.publish("big", big_text("c"))
        self.wait_for_message(from0, nodes=[node1, node2], timeout=15)
        assert_greater_than(self.link_entry(node2, node0)["bytesrecv"] - before2, TEXT_SIZE)
        assert_equal(node2.rpc.getnettotals()["totalbytessaved"], 0)
        assert "zlib" not in self.link_entry(node2, node0)["bytesrecv_per_msg"]
        # node0 -> node1 stayed compressed.
        assert_greater_than(node0.rpc.getnettotals()["totalbytessaved"], saved0 + TEXT_SIZE // 2)

        self.log("a test peer that sent sendzlib gets compressed answers and may compress")
        peer = node0.add_p2p_connection(send_sendzlib=True)
        peer.wait_until(lambda: peer.zlib_negotiated, what="sendzlib from the node")
        entry = node0.wait_for_peer_of(peer)
        assert_equal(entry["zlib"], True)
        peer.request([msgid])
        (m,) = peer.wait_for_msgs([msgid])
        assert_equal(m.body, big_text("a").encode())
        assert_greater_than(peer.zlib_received, 0)
        # A compressed ping (nonce + padding: bytes after the nonce are ignored) is answered.
        padded = msg_raw(b"ping", (0x5A5A).to_bytes(8, "little") + b"\x00" * 1000)
        peer.send_message(msg_zlib(padded))
        peer.wait_until(lambda: 0x5A5A in peer.pong_nonces, what="pong to a compressed ping")
        assert_equal(peer.errors, [])

        self.log("... a corrupt stream is dropped and counted (malformed)")
        peer.send_message(msg_zlib_raw(b"ping", 1008, b"\x78\x9c" + b"\xff" * 40))
        peer.sync_with_ping()
        assert_equal(node0.peer_of(peer)["malformed"], 1)
        # A stream shorter than declared, too.
        short = msg_zlib(msg_ping(7))
        short.declared_len += 10
        peer.send_message(short)
        peer.sync_with_ping()
        assert_equal(node0.peer_of(peer)["malformed"], 2)
        assert 7 not in peer.pong_nonces

        self.log("... a decompression bomb disconnects it; the node serves the others")
        other = node0.add_p2p_connection(send_sendzlib=True)
        bomb = zlib_bomb(b"ping", declared_len=1000, inflated_len=4000000)
        assert len(bomb.serialize()) < 10000
        peer.send_message(bomb)
        peer.wait_for_disconnect(timeout=10)
        wait_until(lambda: node0.peer_of(peer) is None, timeout=10)
        other.sync_with_ping()
        later = node1.rpc.publish("after-bomb", "still relaying")
        self.wait_for_message(later, nodes=[node0, node2], timeout=15)
        other.wait_for_inv([later])

        self.log("a zlib frame to a node that never sent sendzlib: protocol violation")
        plain = node2.add_p2p_connection(send_sendzlib=True)
        node2.wait_for_peer_of(plain)
        assert not plain.zlib_negotiated
        assert_equal(node2.peer_of(plain)["zlib"], False)
        plain.send_message(msg_zlib(msg_ping(0x77)))
        plain.sync_with_ping()
        assert 0x77 not in plain.pong_nonces
        assert_equal(node2.peer_of(plain)["protocol_violations"], 1)
        assert plain.is_connected
        assert_equal(plain.errors + other.errors, [])

    def link_entry(self, node, other):
        """node's getpeerinfo entry for its connection with the node other."""
        ids, _ = self.links(node, other)
        assert len(ids) == 1, "node%d: %d links to node%d" % (node.index, len(ids), other.index)
        return [p for p in node.rpc.getpeerinfo() if p["id"] == ids[0]][0]


if __name__ == "__main__":
    CompressionTest().main()
