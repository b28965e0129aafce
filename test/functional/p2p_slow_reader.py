#!/usr/bin/env python3
"""A peer that floods pings but never reads its socket does not grow the node's memory.

With -maxsendbuffer=100 -maxreceivebuffer=100 (KiB), a test peer with a small SO_RCVBUF stops
reading and sends up to 50 MB of pings from a thread (each send waits at most a few seconds
for room). The node's pongs pile up unread, so the node must stop serving that peer and stop
reading from it (back-pressure, doc/protocol.md "Per-connection limits"):
- the flood stalls well before 50 MB: the node leaves the peer's data unread;
- the node's resident memory (VmRSS) stays within 40 MB of its baseline throughout;
- another peer is served meanwhile, and a new one can connect;
- the stalled peer is still connected, and once it reads again it is served again.
"""

import os
import select
import socket
import struct
import threading
import time

from test_framework.messages import encode_frame, msg_ping
from test_framework.test_framework import P2PDTestFramework, SkipTest
from test_framework.util import assert_greater_than, wait_until

FLOOD_BYTES = 50 * 1000 * 1000
STALL_SECONDS = 3          # a send that finds no room for this long ends the flood
RSS_BOUND_KB = 40 * 1024   # allowed growth of the node's resident memory
PING_FRAME = 24 + 8


def vm_rss_kb(pid):
    with open("/proc/%d/status" % pid, encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


class Flood(threading.Thread):
    """Send FLOOD_BYTES of pings on sock, never blocking longer than STALL_SECONDS."""

    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock = sock
        self.sent = 0
        self.stalled = False
        self.error = None
        chunk = b"".join(encode_frame(msg_ping(i + 1)) for i in range(32768))  # 1 MiB
        self.chunk = memoryview(chunk)

    def run(self):
        off = 0
        try:
            while self.sent < FLOOD_BYTES:
                _, writable, _ = select.select([], [self.sock], [], STALL_SECONDS)
                if not writable:
                    self.stalled = True
                    return
                try:
                    n = self.sock.send(self.chunk[off:], socket.MSG_DONTWAIT)
                except BlockingIOError:
                    continue
                self.sent += n
                off = (off + n) % len(self.chunk)
        except OSError as e:
            self.error = e


class SlowReaderTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-maxsendbuffer=100", "-maxreceivebuffer=100"]]

    def run_test(self):
        if not os.path.exists("/proc/self/status"):
            raise SkipTest("no /proc: cannot read VmRSS")
        node = self.nodes[0]
        pid = node.process.pid

        observer = node.add_p2p_connection()
        observer.sync_with_ping()
        slow = node.add_p2p_connection(rcvbuf=4096)
        slow.sync_with_ping()
        wait_until(lambda: "pingtime" in node.peer_of(slow), timeout=10)
        # From here on the test alone writes to this socket: an automatic pong sent by the
        # reader thread could land inside a ping frame the flood left half-sent.
        slow.auto_pong = False
        baseline = vm_rss_kb(pid)
        self.log("baseline VmRSS %d kB" % baseline)

        self.log("The slow peer stops reading and floods pings")
        slow.stop_reading()
        flood = Flood(slow.sock)
        flood.start()
        peak = baseline
        deadline = time.monotonic() + 60
        while flood.is_alive() and time.monotonic() < deadline:
            peak = max(peak, vm_rss_kb(pid))
            flood.join(timeout=0.1)
        assert not flood.is_alive(), "flood still running after 60 s"
        peak = max(peak, vm_rss_kb(pid))
        self.log("flood sent %.1f MB, stalled=%s, error=%s; peak VmRSS %d kB (+%d kB)" %
                 (flood.sent / 1e6, flood.stalled, flood.error, peak, peak - baseline))
        assert flood.error is None, "flood: %r (was the peer disconnected?)" % flood.error
        assert flood.stalled, "the node read all %d MB: no back-pressure" % (flood.sent // 10**6)
        assert peak - baseline < RSS_BOUND_KB, \
            "VmRSS grew by %d kB (bound %d kB)" % (peak - baseline, RSS_BOUND_KB)

        self.log("Other peers are served meanwhile")
        observer.sync_with_ping()
        newcomer = node.add_p2p_connection()
        newcomer.sync_with_ping()
        p = node.peer_of(slow)
        assert p is not None, "the slow peer was disconnected"
        assert_greater_than(flood.sent, p["bytesrecv"])  # its data is left unread
        assert vm_rss_kb(pid) - baseline < RSS_BOUND_KB

        self.log("Once the slow peer reads again, it is served again")
        slow.resume_reading()
        nonce = struct.unpack("<Q", os.urandom(8))[0] | 1
        # The flood may have stopped inside a 32-byte ping frame: complete it first.
        rest = (-flood.sent) % PING_FRAME
        if rest:
            off = flood.sent % len(flood.chunk)
            slow.send_raw(bytes(flood.chunk[off:off + rest]))
        slow.send_message(msg_ping(nonce))
        slow.wait_until(lambda: nonce in slow.pong_nonces, timeout=30, what="pong after the flood")


if __name__ == "__main__":
    SlowReaderTest().main()
