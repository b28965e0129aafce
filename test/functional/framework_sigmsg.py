#!/usr/bin/env python3
"""Check the framework's signed-message code (test_framework/messages.py) on its own.

- The fixed vectors of doc/protocol-vectors.md (also in test/unit/test_sigmsg.c): built here
  from their fields, secret key 0x01..0x20 and all-zero aux randomness, they must give exactly
  the serialization, id, nonce, proof-of-work and signature the document shows; every message
  hex in the document decodes, its signature verifies and its id is shown next to it.
- Round trips, proof-of-work counting, format rules the decoder must refuse.
- inv/getdata/notfound and zlib codecs, bounded inflation (bomb, short and corrupt streams);
  the document's inv and zlib vectors.
No node is started.
"""

import os
import re
import zlib

from test_framework.messages import (
    DeserializationError,
    SignedMessage,
    leading_zero_bits,
    msg_inv,
    msg_ping,
    msg_zlib,
    msg_zlib_raw,
    random_seckey,
    ser_compact_size,
    zlib_bomb,
)
from test_framework.test_framework import REPO_ROOT, P2PDTestFramework, SkipTest
from test_framework.util import assert_equal

SECKEY = bytes(range(1, 33))
AUX = bytes(32)
AUTHOR = "84bf7562262bbd6940085748f3be6afa52ae317155181ece31b66351ccffa4b0"


def vectors():
    """(name, message) of the two fixed vectors, built from their fields."""
    minimal = SignedMessage(topic="a", body=b"", created_at=0, nonce=0).sign(SECKEY, 0, AUX)
    full = SignedMessage(topic="p2pd/test-vector", body=b"hello, p2pd", created_at=1700000000,
                         refs=[b"\xaa" * 32, b"\xbb" * 32]).sign(SECKEY, 8, AUX)
    return [("minimal", minimal), ("full", full)]


class FrameworkSigmsgTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 0

    def needs_binaries(self):
        return False

    def run_test(self):
        self.test_codec()
        self.test_inv_zlib()
        self.test_doc_vectors()  # last: it may skip

    def test_codec(self):
        self.log("vectors built from their fields (values of test/unit/test_sigmsg.c)")
        (_, minimal), (_, full) = vectors()
        assert_equal(minimal.author.hex(), AUTHOR)
        assert_equal(minimal.id_hex,
                     "c65074d7d381b25392317adf8ac3371510967cc5357ed0aa74e7edb9d45c87e5")
        assert_equal(full.id_hex,
                     "00a149e267f407c265bbc73dc2d44f111ac7fde6f0bc7fd7d53a9a5184ad9ae5")
        assert_equal((full.nonce, full.pow, full.size()), (375, 8, 207))
        for m in (minimal, full):
            assert m.verify()
            again = SignedMessage.deserialize(m.serialize())
            assert_equal(again.serialize(), m.serialize())
            assert_equal(again.id, m.id)

        self.log("proof-of-work counting")
        assert_equal(leading_zero_bits(bytes(32)), 256)
        assert_equal(leading_zero_bits(b"\x80" + bytes(31)), 0)
        assert_equal(leading_zero_bits(b"\x00\x01" + bytes(30)), 15)
        assert_equal(leading_zero_bits(b"\x00\x00\x10" + bytes(29)), 19)

        self.log("format rules the decoder refuses")
        key = random_seckey()
        good = SignedMessage(topic="t", body=b"x", created_at=1).sign(key)
        raw = good.serialize()
        SignedMessage.deserialize(raw)
        bad = [raw + b"\x00", raw[:-1], b"\x02" + raw[1:],
               SignedMessage(topic="T", created_at=1).serialize(),
               SignedMessage(topic="", created_at=1).serialize(),
               SignedMessage(topic="a" * 65, created_at=1).serialize(),
               SignedMessage(topic="t", created_at=-1).serialize(),
               SignedMessage(topic="t", refs=[bytes(32)] * 9).serialize(),
               SignedMessage(topic="t", body=bytes(262145)).serialize(),
               # Non-canonical compactsize for the topic length.
               b"\x01\xfd\x01\x00t" + raw[3:]]
        for b in bad:
            try:
                SignedMessage.deserialize(b)
            except DeserializationError:
                continue
            raise AssertionError("decoded a malformed message: %s" % b.hex()[:80])
        big = SignedMessage(topic="z" * 64, body=bytes(262144), created_at=2 ** 63 - 1,
                            refs=[bytes([i]) * 32 for i in range(8)]).sign(key)
        assert_equal(SignedMessage.deserialize(big.serialize()).id, big.id)
        # Tampering breaks the signature.
        t = SignedMessage.deserialize(raw)
        t.body = b"y"
        assert not t.verify()

    def test_inv_zlib(self):
        self.log("inventory and zlib codecs")
        ids = [os.urandom(32) for _ in range(3)]
        inv = msg_inv(ids)
        payload = inv.serialize()
        assert_equal(len(payload), 1 + 36 * 3)
        assert_equal(payload[1:5], b"\x20\x00\x00\x00")
        assert_equal(msg_inv.deserialize(payload).hashes, ids)
        mixed = msg_inv(entries=[(1, ids[0]), (0x20, ids[1])])
        assert_equal(msg_inv.deserialize(mixed.serialize()).hashes, [ids[1]])
        for b in (payload + b"\x00", payload[:-1], ser_compact_size(50001)):
            try:
                msg_inv.deserialize(b)
            except DeserializationError:
                continue
            raise AssertionError("decoded a malformed inv")

        z = msg_zlib(msg_ping(5))
        p = z.serialize()
        assert_equal(p[:5], b"\x04ping")
        assert_equal(p[5:9], (8).to_bytes(4, "little"))
        assert_equal(msg_zlib_raw.deserialize(p).inflate(), msg_ping(5).serialize())
        cases = [zlib_bomb(), msg_zlib_raw(b"ping", 100, zlib.compress(b"a" * 50)),
                 msg_zlib_raw(b"ping", 10, b"not zlib"),
                 msg_zlib_raw(b"ping", 0, zlib.compress(b"x"))]
        for c in cases:
            try:
                c.inflate()
            except DeserializationError:
                continue
            raise AssertionError("inflated %r" % c)
        assert_equal(msg_zlib_raw(b"ping", 0, zlib.compress(b"")).inflate(), b"")

    def test_doc_vectors(self):
        path = os.path.join(REPO_ROOT, "doc", "protocol-vectors.md")
        self.log("the vectors of %s" % path)
        if not os.path.exists(path):
            raise SkipTest("doc/protocol-vectors.md is not there yet: the document's vectors "
                           "were not checked (the framework's own vector checks passed)")
        with open(path, encoding="utf8") as f:
            text = f.read()
        # Hex as the document shows it: fenced code blocks and backticked strings; a message
        # may be split over several lines of one block.
        blobs = set()
        for block in re.findall(r"```[^\n]*\n(.*?)```", text, flags=re.S):
            lines = [ln.strip() for ln in block.splitlines()]
            joined = ""
            for ln in lines + [""]:
                if re.fullmatch(r"[0-9a-fA-F]+", ln):
                    joined += ln
                    continue
                if joined:
                    blobs.add(joined.lower())
                joined = ""
                for tok in re.findall(r"[0-9a-fA-F]{64,}", ln):
                    blobs.add(tok.lower())
        for tok in re.findall(r"`([0-9a-fA-F]{64,})`", text):
            blobs.add(tok.lower())
        flat = re.sub(r"\s", "", text).lower()
        for name, m in vectors():
            h = m.hex()
            assert h in blobs or h in flat, "vector %s: %s not in the document" % (name, h)
            assert m.id_hex in flat, "vector %s: id %s not in the document" % (name, m.id_hex)
        decoded = 0
        for b in sorted(blobs):
            if len(b) <= 64 or len(b) % 2:
                continue
            try:
                m = SignedMessage.deserialize(bytes.fromhex(b))
            except DeserializationError:
                continue
            decoded += 1
            assert m.verify(), "message in the document does not verify: %s" % b[:80]
            assert m.id_hex in flat, "id %s of a message in the document is not shown" % m.id_hex
        assert decoded >= 2, "found %d messages in the document" % decoded

        self.log("the inv and zlib vectors of the document")
        inv = msg_inv(entries=[(0x20, bytes(32)), (1, b"\xff" * 32)]).serialize()
        assert_equal(len(inv), 73)
        shown = ("02\n20000000 " + "00" * 32 + "\n01000000 " + "ff" * 32 + "\n")
        assert shown in text, "inv vector not in the document"
        assert_equal(msg_inv.deserialize(inv).hashes, [bytes(32)])
        ok = "0470696e6708000000789c636080000000080001"
        bomb = "0470696e6708000000789c636080020000090001"
        assert ok in text and bomb in text, "zlib vectors not in the document"
        z = msg_zlib_raw.deserialize(bytes.fromhex(ok))
        assert_equal((z.inner_command, z.declared_len, z.inflate()), (b"ping", 8, bytes(8)))
        z = msg_zlib_raw.deserialize(bytes.fromhex(bomb))
        assert_equal(zlib.decompress(z.stream), bytes(9))
        try:
            z.inflate()
            raise AssertionError("the bomb vector inflated")
        except DeserializationError as e:
            assert "past" in str(e), e


if __name__ == "__main__":
    FrameworkSigmsgTest().main()
