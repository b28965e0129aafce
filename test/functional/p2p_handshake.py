#!/usr/bin/env python3
"""The version/verack handshake, seen from both ends (doc/protocol.md, "version", "Connection life").

- Two nodes connected with `addnode onetry`: each shows the other in getpeerinfo with version
  80001, subver "/p2pd:0.1.0/", services MSGSTORE, the right direction and connection type,
  state "established", and addr/addrbind naming the same TCP connection from both ends.
- A test peer's own version fields (version, services with an unknown bit, subver, start height,
  relay, timestamp) appear in getpeerinfo as it sent them.
- The node's version to a test peer has the documented layout: 98 bytes, protocol version,
  services, a timestamp from the node clock, addr_recv naming the test peer, a non-zero nonce,
  user agent, start height 0 and a relay byte; then sendaddrv2, sendzlib and verack, in that
  order.
- The same when the node dials the test peer (outbound): it speaks first.
- Per-message byte counters count the 24-byte header.
"""

import time

from test_framework.messages import (
    HEADER_SIZE,
    NODE_MSGSTORE,
    P2PD_SUBVERSION,
    PROTOCOL_VERSION,
    msg_version,
)
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, assert_greater_than, assert_in, wait_until

VERSION_PAYLOAD_SIZE = 4 + 8 + 8 + 26 + 26 + 8 + 1 + len(P2PD_SUBVERSION) + 4 + 1


class HandshakeTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 2
        self.extra_args = [["-debug=net"], ["-debug=net"]]

    def check_p2pd_peer(self, p, inbound, now):
        assert_equal(p["version"], PROTOCOL_VERSION)
        assert_equal(p["subver"], P2PD_SUBVERSION)
        assert_equal(p["services"], "%016x" % NODE_MSGSTORE)
        assert_equal(p["servicesnames"], ["MSGSTORE"])
        assert_equal(p["inbound"], inbound)
        assert_equal(p["connection_type"], "inbound" if inbound else "manual")
        assert_equal(p["state"], "established")
        assert_equal(p["network"], "ipv4")
        assert_equal(p["startingheight"], 0)
        assert_equal(p["relay"], True)
        assert abs(p["conntime"] - now) < 60, "conntime %r far from now %r" % (p["conntime"], now)
        for cmd in ("version", "verack", "sendaddrv2"):
            assert_in(cmd, p["bytessent_per_msg"])
            assert_in(cmd, p["bytesrecv_per_msg"])
        assert_equal(p["bytessent_per_msg"]["verack"], HEADER_SIZE)
        assert_equal(p["bytesrecv_per_msg"]["version"], HEADER_SIZE + VERSION_PAYLOAD_SIZE)
        for counter in ("checksum_errors", "malformed", "protocol_violations",
                        "unknown_messages"):
            assert_equal(p[counter], 0)
        # Address gossip (doc/discovery.md "RPC"): both sides sent sendaddrv2.
        assert_equal(p["addr_relay_enabled"], True)
        assert isinstance(p["addr_processed"], int) and p["addr_processed"] >= 0, p
        assert_equal(p["addr_rate_limited"], 0)

    def check_node_version(self, p2p, v, raw, local_port):
        """The node's version message, as the test peer received it."""
        assert_equal(len(raw), VERSION_PAYLOAD_SIZE)
        assert_equal(v.serialize(), raw)  # decodes and re-encodes to the same bytes
        assert_equal(v.version, PROTOCOL_VERSION)
        assert_equal(v.services, NODE_MSGSTORE)
        assert abs(v.timestamp - time.time()) < 60, "version timestamp %d" % v.timestamp
        assert_equal((v.addr_recv.ip, v.addr_recv.port), ("127.0.0.1", local_port))
        assert v.nonce != 0, "nonce is zero"
        assert_equal(v.user_agent, P2PD_SUBVERSION.encode())
        assert_equal(v.start_height, 0)
        assert v.relay_present, "relay byte missing"
        assert_equal(v.relay, 1)

    def run_test(self):
        node0, node1 = self.nodes

        self.log("Two nodes: handshake fields on both sides")
        pa, pb = self.connect_nodes(0, 1)
        now = int(time.time())
        self.check_p2pd_peer(pa, inbound=False, now=now)
        self.check_p2pd_peer(pb, inbound=True, now=now)
        assert_equal(pa["addr"], node1.p2p_addr)
        assert_equal(pb["addrbind"], node1.p2p_addr)
        assert_equal(pb["addr"], pa["addrbind"])
        assert_equal(node0.rpc.getconnectioncount(), 1)
        assert_equal(node1.rpc.getconnectioncount(), 1)
        self.disconnect_nodes(0, 1)
        assert_equal(node0.rpc.getpeerinfo(), [])

        self.log("A test peer's version fields appear in getpeerinfo")
        offset = -100
        p2p = node0.add_p2p_connection(version_kwargs=dict(
            version=PROTOCOL_VERSION + 1, services=NODE_MSGSTORE | (1 << 42),
            timestamp=int(time.time()) + offset, user_agent=b"/test-peer:9.9/",
            start_height=4242, relay=0))
        p = node0.wait_for_peer_of(p2p)
        assert_equal(p["version"], PROTOCOL_VERSION + 1)
        assert_equal(p["services"], "%016x" % (NODE_MSGSTORE | (1 << 42)))
        assert_in("MSGSTORE", p["servicesnames"])
        assert_equal(p["subver"], "/test-peer:9.9/")
        assert_equal(p["startingheight"], 4242)
        assert_equal(p["relay"], False)
        assert abs(p["timeoffset"] - offset) <= 5, "timeoffset %r" % p["timeoffset"]
        assert_equal(p["inbound"], True)
        assert_equal(p["connection_type"], "inbound")
        assert_equal(p["addrbind"], node0.p2p_addr)
        assert_equal(p["bytesrecv_per_msg"]["version"],
                     HEADER_SIZE + len(p2p.version_sent.serialize()))

        self.log("The node's version to an inbound test peer: layout, then sendaddrv2, sendzlib, "
                 "verack")
        v = p2p.last_message[b"version"]
        raw = dict(p2p.message_log)[b"version"]
        self.check_node_version(p2p, v, raw, p2p.local_port)
        assert_equal(p2p.commands_received()[:4],
                     [b"version", b"sendaddrv2", b"sendzlib", b"verack"])
        assert_equal(p2p.errors, [])
        p2p.sync_with_ping()
        p = node0.peer_of(p2p)
        assert_equal(p["bytessent_per_msg"]["version"], HEADER_SIZE + VERSION_PAYLOAD_SIZE)
        assert_greater_than(p["bytessent"], HEADER_SIZE * 4 + VERSION_PAYLOAD_SIZE)

        self.log("A version without the relay byte is accepted with relay = 1")
        p2p_norelay = node0.add_p2p_connection(version_kwargs=dict(relay=None))
        p = node0.wait_for_peer_of(p2p_norelay)
        assert_equal(p["relay"], True)
        assert_equal(p["bytesrecv_per_msg"]["version"],
                     HEADER_SIZE + len(msg_version(relay=None).serialize()))

        self.log("Outbound to a test peer: the node speaks first")
        out = node1.add_outbound_p2p_connection(auto_verack=True)
        assert_equal(out.commands_received()[0], b"version")
        v = out.last_message[b"version"]
        self.check_node_version(out, v, dict(out.message_log)[b"version"], out.local_port)
        p = node1.wait_for_peer_of(out)
        assert_equal(p["inbound"], False)
        assert_equal(p["connection_type"], "manual")
        assert_equal(p["addr"], "127.0.0.1:%d" % out.local_port)
        out.sync_with_ping()

        self.log("Each connection gets its own nonce")
        nonces = {p2p.last_message[b"version"].nonce, p2p_norelay.last_message[b"version"].nonce,
                  out.last_message[b"version"].nonce}
        assert_equal(len(nonces), 3)

        self.log("Closing a test peer removes it from getpeerinfo")
        p2p.peer_disconnect()
        wait_until(lambda: node0.peer_of(p2p) is None, timeout=10)
        assert_equal(len(node0.rpc.getpeerinfo()), 1)


if __name__ == "__main__":
    HandshakeTest().main()
