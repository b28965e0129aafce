#!/usr/bin/env python3
"""Signed messages through the RPC interface and p2p-util (doc/messages.md, doc/p2p-util.md).

- publish stores a message signed by the node key: getmessage shows it (verbose and raw), its
  id, proof-of-work and signature check out in Python; publish errors (-8);
- sendrawmessage of Python-signed messages returns the Python id; the node shows exactly the
  fields Python computes; resubmitting is not an error;
- listmessages filters: topic, author, since/until, replies_to, limit, reverse, order;
- decodemessage gives the verdict without storing;
- rejected by sendrawmessage with -26 and the right verdict, and not stored: bad signature,
  too large (-maxmsgsize), too new, expired, low proof-of-work (a node with -minpow=8);
  malformed hex → -22; the rules' edges are accepted; a message breaking several rules gets the
  verdict of the first rule in the documented order;
- a restart keeps every message;
- p2p-util sign / verify / decode agree with the node and with Python.
"""

import json
import os
import time

from test_framework.messages import (
    DEFAULT_MAX_MSG_SIZE,
    DEFAULT_MSG_RETENTION,
    SignedMessage,
    make_message,
    random_seckey,
)
from test_framework.node import (
    RPC_DESERIALIZATION_ERROR,
    RPC_INVALID_ADDRESS_OR_KEY,
    RPC_INVALID_PARAMETER,
    RPC_VERIFY_REJECTED,
)
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import (
    assert_equal,
    assert_greater_than_or_equal,
    assert_raises_rpc_error,
)


def strip_local(obj):
    """A verbose message object without the node-local fields."""
    return {k: v for k, v in obj.items() if k not in ("received_at", "valid")}


class MessagesTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 2
        self.extra_args = [[], ["-minpow=8"]]

    def run_test(self):
        self.node0, self.node1 = self.nodes
        self.stored = {}  # id -> SignedMessage expected on node0
        self.test_publish()
        self.test_sendrawmessage()
        self.test_listmessages()
        self.test_decodemessage()
        self.test_rejections()
        self.test_restart()
        self.test_p2p_util()

    # --- helpers ---------------------------------------------------------------------------

    def check_stored(self, node, m):
        """node shows exactly the fields Python computes for m."""
        got = node.rpc.getmessage(m.id_hex)
        assert_equal(strip_local(got), m.expected_json())
        assert isinstance(got["received_at"], int) and got["received_at"] > 0, got
        assert_equal(node.rpc.getmessage(m.id_hex, False), m.hex())

    def expect_rejected(self, node, m, verdict):
        assert_raises_rpc_error(RPC_VERIFY_REJECTED, verdict, node.rpc.sendrawmessage, m.hex())
        assert not node.has_message(m.id_hex), "%s message was stored" % verdict
        assert_equal(node.rpc.decodemessage(m.hex())["valid"], verdict)

    # --- tests -------------------------------------------------------------------------------

    def test_publish(self):
        node = self.node0
        self.log("publish: signed by the node key, stored, shown by getmessage")
        nodepub = node.rpc.getnetworkinfo()["nodepubkey"]
        before = int(time.time())
        msgid = node.rpc.publish("chat", "hello, world")
        assert len(msgid) == 64 and int(msgid, 16) >= 0, msgid
        got = node.rpc.getmessage(msgid)
        assert_equal(got["id"], msgid)
        assert_equal(got["topic"], "chat")
        assert_equal(got["body"], "hello, world")
        assert_equal(got["body_hex"], b"hello, world".hex())
        assert_equal(got["author"], nodepub)
        assert_equal(got["refs"], [])
        assert_equal(got["version"], 1)
        assert before - 5 <= got["created_at"] <= int(time.time()) + 5, got
        # The raw form decodes in Python to the same id, fields, proof-of-work and a valid
        # signature.
        raw = node.rpc.getmessage(msgid, False)
        m = SignedMessage.from_hex(raw)
        assert_equal(m.id_hex, msgid)
        assert m.verify(), "node signature does not verify in Python"
        assert_equal(strip_local(got), m.expected_json())
        self.stored[m.id] = m
        self.published = m

        self.log("publish with a reference; minpow mining on a -minpow=8 node")
        reply = node.rpc.publish("chat", "a reply", [msgid])
        got = node.rpc.getmessage(reply)
        assert_equal(got["refs"], [msgid])
        self.stored[bytes.fromhex(reply)] = SignedMessage.from_hex(
            node.rpc.getmessage(reply, False))
        mined = self.node1.rpc.publish("pow", "mined")
        assert_greater_than_or_equal(self.node1.rpc.getmessage(mined)["pow"], 8)
        assert mined.startswith("00"), mined

        self.log("publish errors: bad topic, bad reference, body over -maxmsgsize")
        for topic in ("Chat", "", "a" * 65, "sp ace", "caf\u00e9"):
            assert_raises_rpc_error(RPC_INVALID_PARAMETER, None, node.rpc.publish, topic, "x")
        assert_raises_rpc_error(RPC_INVALID_PARAMETER, None, node.rpc.publish, "chat", "x",
                                ["zz"])
        assert_raises_rpc_error(RPC_INVALID_PARAMETER, None, node.rpc.publish, "chat", "x",
                                [msgid] * 9)
        assert_raises_rpc_error(RPC_INVALID_PARAMETER, None, node.rpc.publish, "chat",
                                "x" * (DEFAULT_MAX_MSG_SIZE + 1))
        # The largest allowed body is fine; 64-char topics of every allowed character too.
        big = node.rpc.publish("a" * 64, "y" * DEFAULT_MAX_MSG_SIZE)
        assert_equal(node.rpc.getmessage(big)["size"],
                     len(bytes.fromhex(node.rpc.getmessage(big, False))))
        self.stored[bytes.fromhex(big)] = SignedMessage.from_hex(node.rpc.getmessage(big, False))
        allchars = node.rpc.publish("abc.xyz_0189/-", "charset")
        self.stored[bytes.fromhex(allchars)] = SignedMessage.from_hex(
            node.rpc.getmessage(allchars, False))

        assert_raises_rpc_error(RPC_INVALID_ADDRESS_OR_KEY, "Message not found",
                                node.rpc.getmessage, "00" * 32)

    def test_sendrawmessage(self):
        node = self.node0
        self.log("sendrawmessage: Python-signed messages keep their Python id")
        key = random_seckey()
        now = int(time.time())
        m = make_message(key, "test/raw", b"signed in python", created_at=now - 60,
                         refs=[self.published.id])
        assert_equal(node.rpc.sendrawmessage(m.hex()), m.id_hex)
        self.check_stored(node, m)
        self.stored[m.id] = m
        # Again: already stored, returns the id, not an error.
        assert_equal(node.rpc.sendrawmessage(m.hex()), m.id_hex)
        # A body that is not UTF-8: "body" absent, "body_hex" present.
        b = make_message(key, "test/raw", b"\xff\xfe\x00binary", created_at=now - 50)
        assert_equal(node.rpc.sendrawmessage(b.hex()), b.id_hex)
        got = node.rpc.getmessage(b.id_hex)
        assert "body" not in got, got
        self.check_stored(node, b)
        self.stored[b.id] = b
        # An empty body, 8 references, proof-of-work mined in Python.
        e = make_message(key, "test/raw", b"", created_at=now - 40,
                         refs=[bytes([i]) * 32 for i in range(8)], pow_bits=6)
        assert_equal(node.rpc.sendrawmessage(e.hex()), e.id_hex)
        self.check_stored(node, e)
        self.stored[e.id] = e
        info = node.rpc.getstoreinfo()
        assert_equal(info["count"], len(self.stored))
        assert_equal(info["bytes"], sum(x.size() for x in self.stored.values()))
        assert_equal(info["retention"], DEFAULT_MSG_RETENTION)
        assert_equal(info["maxmsgsize"], DEFAULT_MAX_MSG_SIZE)
        assert_equal(info["minpow"], 0)
        assert_equal(info["pruned"], 0)
        assert_equal(info["oldest"], min(x.created_at for x in self.stored.values()))
        assert_equal(info["newest"], max(x.created_at for x in self.stored.values()))
        assert_equal(self.node1.rpc.getstoreinfo()["minpow"], 8)

    def test_listmessages(self):
        self.log("listmessages: order and every filter")
        node = self.nodes[0]
        k1, k2 = random_seckey(), random_seckey()
        base = int(time.time()) - 100000
        msgs = []
        for i in range(6):
            key = k1 if i % 2 == 0 else k2
            topic = "list/a" if i < 3 else "list/b"
            msgs.append(make_message(key, topic, "item %d" % i, created_at=base + 10 * i))
        # Two with the same created_at: ordered by id.
        twin = make_message(k2, "list/b", "twin", created_at=base + 50)
        msgs.append(twin)
        root = msgs[0]
        replies = [make_message(k1, "list/r", "reply %d" % i, created_at=base + 100 + i,
                                refs=[root.id]) for i in range(2)]
        msgs += replies
        for m in msgs:
            assert_equal(node.rpc.sendrawmessage(m.hex()), m.id_hex)
        for m in msgs:
            self.stored[m.id] = m
        ordered = sorted(msgs, key=lambda m: (m.created_at, m.id))

        def ids(result):
            return [r["id"] for r in result]

        def expect(filt, expected):
            got = node.rpc.listmessages(filt)
            assert_equal(ids(got), [m.id_hex for m in expected])
            return got

        everything = sorted(self.stored.values(), key=lambda m: (m.created_at, m.id))
        got = expect({}, everything)
        assert_equal(strip_local(got[0]), everything[0].expected_json())
        assert_equal(ids(node.rpc.listmessages()), ids(got))
        expect({"topic": "list/a"}, [m for m in ordered if m.topic == b"list/a"])
        expect({"topic": "list/b"}, [m for m in ordered if m.topic == b"list/b"])
        expect({"topic": "nosuch"}, [])
        author2 = msgs[1].author.hex()
        expect({"author": author2}, [m for m in ordered if m.author.hex() == author2])
        expect({"author": author2, "topic": "list/b"},
               [m for m in ordered if m.author.hex() == author2 and m.topic == b"list/b"])
        # since / until are inclusive bounds on created_at.
        expect({"since": base + 10, "until": base + 30},
               [m for m in ordered if base + 10 <= m.created_at <= base + 30])
        expect({"since": base + 50, "until": base + 50}, [m for m in ordered
                                                         if m.created_at == base + 50])
        expect({"replies_to": root.id_hex}, replies)
        expect({"replies_to": "11" * 32}, [])
        expect({"topic": "list/a", "limit": 2}, [m for m in ordered if m.topic == b"list/a"][:2])
        expect({"topic": "list/b", "reverse": True},
               list(reversed([m for m in ordered if m.topic == b"list/b"])))
        expect({"topic": "list/b", "reverse": True, "limit": 1},
               [[m for m in ordered if m.topic == b"list/b"][-1]])
        expect({"limit": 1000}, everything)
        for bad in ({"author": "zz"}, {"author": "00" * 31}, {"topic": "Not Valid"},
                    {"replies_to": "xyz"}, {"limit": -1}, {"limit": 0}, {"limit": 1001},
                    {"since": -1}, {"reverse": 1}, {"nosuchkey": 1}):
            assert_raises_rpc_error(RPC_INVALID_PARAMETER, None, node.rpc.listmessages, bad)

    def test_decodemessage(self):
        self.log("decodemessage: fields and verdict, nothing stored")
        node = self.node0
        key = random_seckey()
        m = make_message(key, "decode", "not stored", created_at=int(time.time()) - 5)
        got = node.rpc.decodemessage(m.hex())
        assert_equal(got["valid"], "valid")
        assert "received_at" not in got, got
        assert_equal(strip_local(got), m.expected_json())
        assert not node.has_message(m.id_hex)
        # The node's -minpow decides: the same message is low-pow on node1 (unless lucky).
        while m.pow >= 8:
            m = make_message(key, "decode", "again", created_at=int(time.time()) - 5)
        assert_equal(self.node1.rpc.decodemessage(m.hex())["valid"], "low-pow")
        assert_equal(node.rpc.decodemessage(m.hex())["valid"], "valid")
        for bad in ("", "zz", "01", m.hex() + "00", m.hex()[:-2]):
            assert_raises_rpc_error(RPC_DESERIALIZATION_ERROR, None, node.rpc.decodemessage, bad)

    def test_rejections(self):
        self.log("sendrawmessage rejections: -26 with the verdict, nothing stored")
        node = self.node0
        key = random_seckey()
        now = int(time.time())
        count = node.rpc.getstoreinfo()["count"]

        m = make_message(key, "bad", "bad signature", created_at=now)
        m.sig = m.sig[:10] + bytes([m.sig[10] ^ 1]) + m.sig[11:]
        self.expect_rejected(node, m, "bad-signature")
        # Signed by another key than the author's.
        m = make_message(key, "bad", "wrong author", created_at=now)
        m.author = make_message(random_seckey(), "bad", "").author
        self.expect_rejected(node, m, "bad-signature")
        # The signature of another message.
        a = make_message(key, "bad", "one", created_at=now)
        b = make_message(key, "bad", "two", created_at=now)
        a.sig = b.sig
        self.expect_rejected(node, a, "bad-signature")

        self.expect_rejected(node, make_message(key, "bad", b"x" * (DEFAULT_MAX_MSG_SIZE + 1),
                                                created_at=now), "too-large")
        self.expect_rejected(node, make_message(key, "bad", "from the future",
                                                created_at=now + 3600), "too-new")
        self.expect_rejected(node, make_message(key, "bad", "long ago",
                                                created_at=now - DEFAULT_MSG_RETENTION - 3600),
                             "expired")
        self.expect_rejected(node, make_message(key, "bad", "epoch", created_at=0), "expired")
        low = make_message(key, "bad", "low pow", created_at=now)
        while low.pow >= 8:
            low = make_message(key, "bad", "low pow %d" % low.nonce, created_at=now)
        self.expect_rejected(self.node1, low, "low-pow")
        self.log("... the same low-pow message is fine on a -minpow=0 node")
        assert_equal(node.rpc.sendrawmessage(low.hex()), low.id_hex)
        self.stored[low.id] = low
        count += 1
        high = make_message(key, "bad", "high pow", created_at=now, pow_bits=8)
        assert_equal(self.node1.rpc.sendrawmessage(high.hex()), high.id_hex)

        self.log("... a message breaking several rules gets the first verdict in the documented "
                 "order: too-new, expired, too-large, low-pow, then the signature")

        def broken(created_at, body=b"x", pow_below=None, bad_sig=False):
            while True:
                m = make_message(key, "order", body, created_at=created_at)
                if pow_below is None or m.pow < pow_below:
                    break
            if bad_sig:
                m.sig = bytes(64)
            return m
        huge = b"h" * (DEFAULT_MAX_MSG_SIZE + 1)
        self.expect_rejected(node, broken(now + 3600, huge, bad_sig=True), "too-new")
        self.expect_rejected(node, broken(0, huge, bad_sig=True), "expired")
        self.expect_rejected(self.node1, broken(now, huge, pow_below=8, bad_sig=True),
                             "too-large")
        self.expect_rejected(self.node1, broken(now, pow_below=8, bad_sig=True), "low-pow")

        self.log("... edges of the time window and sizes are accepted")
        for edge in (make_message(key, "edge", "500 s ahead", created_at=now + 500),
                     make_message(key, "edge", "nearly expired",
                                  created_at=now - DEFAULT_MSG_RETENTION + 300),
                     make_message(key, "edge", b"z" * DEFAULT_MAX_MSG_SIZE, created_at=now)):
            assert_equal(node.rpc.sendrawmessage(edge.hex()), edge.id_hex)
            self.stored[edge.id] = edge
            count += 1

        self.log("... malformed: -22")
        good = make_message(key, "bad", "fine", created_at=now)
        v2 = SignedMessage(topic="bad", body="v2", created_at=now, version=2).sign(key)
        body_too_big = make_message(key, "bad", b"q" * (256 * 1024 + 1), created_at=now)
        upper = SignedMessage(topic="Bad", body="x", created_at=now).sign(key)
        refs9 = SignedMessage(topic="bad", body="x", created_at=now,
                              refs=[b"\x01" * 32] * 9).sign(key)
        negative = SignedMessage(topic="bad", body="x", created_at=-1).sign(key)
        for raw in ("", "00", "nothex", good.hex() + "00", good.hex()[:-2], v2.hex(),
                    body_too_big.hex(), upper.hex(), refs9.hex(), negative.hex()):
            assert_raises_rpc_error(RPC_DESERIALIZATION_ERROR, None, node.rpc.sendrawmessage,
                                    raw)
        assert not node.has_message(good.id_hex)
        assert_equal(node.rpc.getstoreinfo()["count"], count)

    def test_restart(self):
        self.log("restart keeps every message")
        node = self.node0
        info = node.rpc.getstoreinfo()
        listed = node.rpc.listmessages({"limit": 1000})
        assert_equal(info["count"], len(self.stored))
        self.restart_node(0)
        assert_equal(node.rpc.getstoreinfo()["count"], info["count"])
        assert_equal(node.rpc.getstoreinfo()["bytes"], info["bytes"])
        assert_equal(node.rpc.listmessages({"limit": 1000}), listed)
        for m in self.stored.values():
            assert_equal(node.rpc.getmessage(m.id_hex, False), m.hex())

    def test_p2p_util(self):
        self.log("p2p-util sign/verify/decode agree with the node and with Python")
        node = self.node0
        res = self.p2putil("genkey")
        assert_equal(res.returncode, 0)
        secret = res.stdout.strip()
        assert len(secret) == 64, res
        pub = self.p2putil("pubkey", secret).stdout.strip()

        res = self.p2putil("sign", secret, "util/test", "hello from p2p-util")
        assert_equal((res.returncode, res.stderr), (0, ""))
        hexmsg = res.stdout.strip()
        assert res.stdout.endswith("\n"), res
        m = SignedMessage.from_hex(hexmsg)
        assert m.verify(), "p2p-util signature does not verify in Python"
        assert_equal(m.author.hex(), pub)
        assert_equal(m.body, b"hello from p2p-util")
        assert abs(m.created_at - time.time()) < 60, m

        res = self.p2putil("verify", hexmsg)
        assert_equal(res.returncode, 0)
        assert_equal(res.stdout.strip(), "valid %s pow=%d" % (m.id_hex, m.pow))
        res = self.p2putil("decode", hexmsg)
        assert_equal(res.returncode, 0)
        decoded = json.loads(res.stdout)
        assert_equal(decoded, m.expected_json())
        assert_equal(node.rpc.sendrawmessage(hexmsg), m.id_hex)
        assert_equal(strip_local(node.rpc.getmessage(m.id_hex)), decoded)

        self.log("... verify accepts what the node stores (published by the node key)")
        raw = node.rpc.getmessage(self.published.id_hex, False)
        res = self.p2putil("verify", raw)
        assert_equal(res.returncode, 0)
        assert_equal(res.stdout.strip(), "valid %s pow=%d" % (self.published.id_hex,
                                                              self.published.pow))

        self.log("... verify accepts Python-signed messages and refuses tampered ones")
        py = make_message(random_seckey(), "util/py", "python", created_at=int(time.time()))
        res = self.p2putil("verify", py.hex())
        assert_equal((res.returncode, res.stdout.strip()), (0, "valid %s pow=%d" %
                                                            (py.id_hex, py.pow)))
        tampered = SignedMessage.from_hex(py.hex())
        tampered.body = b"pythoN"
        res = self.p2putil("verify", tampered.hex())
        assert_equal(res.returncode, 1)
        assert res.stderr.startswith("invalid:"), res
        assert_equal(res.stdout, "")
        res = self.p2putil("verify", py.hex() + "00")
        assert_equal(res.returncode, 1)
        assert res.stderr.startswith("invalid:"), res
        res = self.p2putil("decode", "00")
        assert_equal(res.returncode, 1)

        self.log("... -pow, -time, -ref, body from stdin and from a file")
        t = int(time.time()) - 1000
        res = self.p2putil("sign", "-pow=10", "-time=%d" % t, "-ref=%s" % self.published.id_hex,
                           secret, "util/opts", "-", input="from stdin\n")
        assert_equal(res.returncode, 0)
        o = SignedMessage.from_hex(res.stdout.strip())
        assert_greater_than_or_equal(o.pow, 10)
        assert_equal(o.created_at, t)
        assert_equal(o.refs, [self.published.id])
        assert_equal(o.body, b"from stdin\n")
        assert o.verify()
        assert_equal(self.node1.rpc.sendrawmessage(o.hex()), o.id_hex)  # -minpow=8 node
        path = os.path.join(self.tmpdir, "body.bin")
        with open(path, "wb") as f:
            f.write(b"\x00\x01file body\xff")
        res = self.p2putil("sign", secret, "util/file", "@" + path)
        assert_equal(res.returncode, 0)
        f_ = SignedMessage.from_hex(res.stdout.strip())
        assert_equal(f_.body, b"\x00\x01file body\xff")
        assert_equal(node.rpc.sendrawmessage(f_.hex()), f_.id_hex)
        assert_equal(node.rpc.getmessage(f_.id_hex)["body_hex"], f_.body.hex())

        self.log("... the full vector of doc/protocol-vectors.md: same id and nonce")
        res = self.p2putil("sign", "-pow=8", "-time=1700000000", "-ref=" + "aa" * 32,
                           "-ref=" + "bb" * 32, bytes(range(1, 33)).hex(), "p2pd/test-vector",
                           "hello, p2pd")
        assert_equal(res.returncode, 0)
        v = SignedMessage.from_hex(res.stdout.strip())
        assert_equal((v.id_hex, v.nonce), (
            "00a149e267f407c265bbc73dc2d44f111ac7fde6f0bc7fd7d53a9a5184ad9ae5", 375))
        assert v.verify()

        self.log("... bad input: exit 1 with a message; bad usage: exit 2")
        for args in (("sign", "zz", "t", "b"), ("sign", "00" * 32, "t", "b"),
                     ("sign", secret, "Bad Topic", "b"), ("sign", "-ref=xyz", secret, "t", "b")):
            res = self.p2putil(*args)
            assert_equal((args, res.returncode), (args, 1))
            assert res.stderr.strip(), res
        res = self.p2putil("nosuchcommand")
        assert_equal(res.returncode, 2)


if __name__ == "__main__":
    MessagesTest().main()
