#!/usr/bin/env python3
"""Invalid signed messages from a peer (doc/protocol.md, "msg", "Validation", "Relay").

A test peer announces messages and delivers them on getdata; a second test peer watches what
the node relays. Each of these is requested once, rejected (getmessage does not find it) and
never announced to the watcher:
- a bad signature (the sender's fault: msgs_invalid counts it),
- a body over -maxmsgsize, a creation time an hour ahead, one past the retention window
  (honest policy differences: msgs_invalid does not count them).
The rejected ids are remembered: announced again, by the same peer or another, they are not
requested again. A `msg` that does not decode, delivered for a requested id, counts in
msgs_invalid and malformed. A `msg` nobody asked for is dropped and counted (msgs_unrequested).
A valid message sent the same way is stored and relayed, so each check can fail. The test peers
are whitelisted (noban) so the announcer stays connected throughout and this test sees the relay
rules alone; the penalties (a bad signature disconnects and discourages) are p2p_misbehaviour.py's.
"""

import time

from test_framework.messages import (
    DEFAULT_MAX_MSG_SIZE,
    DEFAULT_MSG_RETENTION,
    make_message,
    msg_inv,
    random_seckey,
)
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, wait_until


class InvalidMsgsTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-debug=net", "-whitelist=127.0.0.1"]]

    def run_test(self):
        node = self.nodes[0]
        self.key = random_seckey()
        announcer = node.add_p2p_connection()
        watcher = node.add_p2p_connection()
        node.wait_for_peer_of(announcer)
        node.wait_for_peer_of(watcher)
        self.received = 0

        def deliver_valid(text):
            """Announce a valid message, wait until it is stored and relayed to the watcher."""
            m = make_message(self.key, "valid", text)
            announcer.announce(m)
            announcer.wait_for_getdata([m])
            self.received += 1
            self.wait_for_counter(announcer, "msgs_received", self.received)
            wait_until(lambda: node.has_message(m.id_hex), timeout=10,
                       message="valid message %s stored" % m.id_hex)
            watcher.wait_for_inv([m])
            return m

        self.log("a valid message is requested, stored and relayed (control)")
        deliver_valid("control")
        c = node.msg_counters_of(announcer)
        assert_equal((c["msgs_announced"], c["msgs_requested"], c["msgs_received"]), (1, 1, 1))
        assert_equal(c["msgs_invalid"], 0)

        now = int(time.time())
        bad = [
            ("bad-signature", self.bad_sig(now), 1),
            ("too-large", make_message(self.key, "bad", b"L" * (DEFAULT_MAX_MSG_SIZE + 1),
                                       created_at=now), 0),
            ("too-new", make_message(self.key, "bad", "an hour ahead", created_at=now + 3600), 0),
            ("expired", make_message(self.key, "bad", "too old",
                                     created_at=now - DEFAULT_MSG_RETENTION - 3600), 0),
        ]
        invalid = 0
        for verdict, m, offence in bad:
            self.log("%s: requested once, rejected, not relayed" % verdict)
            announcer.announce(m)
            announcer.wait_for_getdata([m])
            self.received += 1
            invalid += offence
            self.wait_for_counter(announcer, "msgs_received", self.received)
            self.wait_for_counter(announcer, "msgs_invalid", invalid)
            # The verdict is in once the body is counted (bad-signature: once msgs_invalid
            # moved); a valid message after it is relayed, the bad one before it is not.
            deliver_valid("after %s" % verdict)
            assert not node.has_message(m.id_hex), "%s message stored" % verdict
            assert_equal(watcher.inv_count(m), 0)
            assert_equal(announcer.getdata_count(m), 1)
            assert announcer.is_connected
        c = node.msg_counters_of(announcer)
        assert_equal(c["msgs_invalid"], 1)
        assert_equal(c["msgs_received"], self.received)
        assert_equal(c["msgs_duplicate"], 0)
        assert_equal(node.msg_counters_of(watcher)["msgs_received"], 0)

        self.log("recently rejected ids are not requested again (same peer, another peer)")
        for _, m, _ in bad:
            announcer.announce_ids([m.id])
            watcher.announce_ids([m.id])
        # A fresh id after them: once it is requested the earlier invs were handled.
        probe = deliver_valid("probe")
        watcher.send_message(msg_inv([probe.id]))
        watcher.sync_with_ping()
        announcer.sync_with_ping()
        for verdict, m, _ in bad:
            assert_equal((verdict, announcer.getdata_count(m)), (verdict, 1))
            assert_equal((verdict, watcher.getdata_count(m)), (verdict, 0))
        assert_equal(watcher.getdata_count(probe), 0)  # already stored: not requested

        self.log("a msg that does not decode: msgs_invalid and malformed")
        garbage_id = bytes([0xEE]) * 32
        announcer.add_to_store(b"\x01\x02not a message", key=garbage_id)
        announcer.announce_ids([garbage_id])
        announcer.wait_for_getdata([garbage_id])
        invalid += 1
        self.wait_for_counter(announcer, "msgs_invalid", invalid)
        assert_equal(node.peer_of(announcer)["malformed"], 1)
        deliver_valid("after the malformed one")
        assert announcer.is_connected

        self.log("an unrequested msg is dropped and counted")
        u = make_message(self.key, "valid", "nobody asked")
        announcer.send_unrequested(u)
        self.wait_for_counter(announcer, "msgs_unrequested", 1)
        deliver_valid("after the unrequested one")
        assert not node.has_message(u.id_hex), "unrequested message stored"
        assert_equal(watcher.inv_count(u), 0)
        # Announced properly afterwards it is fetched and stored: being dropped is not a
        # rejection.
        announcer.announce(u)
        announcer.wait_for_getdata([u])
        wait_until(lambda: node.has_message(u.id_hex), timeout=10)
        watcher.wait_for_inv([u])
        self.received += 1
        c = node.msg_counters_of(announcer)
        assert_equal(c["msgs_unrequested"], 1)
        assert_equal(c["msgs_invalid"], 2)
        assert announcer.is_connected and watcher.is_connected
        assert_equal(announcer.errors + watcher.errors, [])

    def bad_sig(self, now):
        m = make_message(self.key, "bad", "bad signature", created_at=now)
        m.sig = m.sig[:5] + bytes([m.sig[5] ^ 0x80]) + m.sig[6:]
        return m

    def wait_for_counter(self, p2p, name, value):
        node = self.nodes[0]
        wait_until(lambda: node.msg_counters_of(p2p)[name] >= value, timeout=10,
                   message=lambda: "%s reaches %d (now %s)" % (name, value, node.peer_of(p2p)))
        assert_equal((name, node.msg_counters_of(p2p)[name]), (name, value))


if __name__ == "__main__":
    InvalidMsgsTest().main()
