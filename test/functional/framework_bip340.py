#!/usr/bin/env python3
"""Check the framework's pure-Python BIP340 against the official test vectors.

Every row of test/vectors/bip340-test-vectors.csv: signing rows must produce the
exact signature, and every row must verify (or not) as the file says. Then
sign() with random aux data must verify, and any tampering must fail.
"""

import csv
import os

from test_framework import bip340
from test_framework.test_framework import REPO_ROOT, P2PDTestFramework
from test_framework.util import assert_equal


class FrameworkBip340Test(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 0

    def needs_binaries(self):
        return False

    def run_test(self):
        vectors_dir = os.environ.get("TEST_VECTORS_DIR", os.path.join(REPO_ROOT, "test", "vectors"))
        path = os.path.join(vectors_dir, "bip340-test-vectors.csv")
        with open(path, newline="", encoding="ascii") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) >= 15, "expected the full official vector set, got %d rows" % len(rows)

        signed = 0
        for row in rows:
            index = row["index"]
            pubkey = bytes.fromhex(row["public key"])
            msg = bytes.fromhex(row["message"])
            sig = bytes.fromhex(row["signature"])
            expected = row["verification result"] == "TRUE"
            if row["secret key"]:
                seckey = bytes.fromhex(row["secret key"])
                aux = bytes.fromhex(row["aux_rand"])
                assert_equal(bip340.pubkey_gen(seckey).hex().upper(), row["public key"].upper())
                assert_equal(bip340.sign(seckey, msg, aux).hex().upper(),
                             row["signature"].upper())
                signed += 1
            result = bip340.verify(pubkey, msg, sig)
            assert result == expected, "vector %s (%s): verify gave %s, expected %s" % (
                index, row["comment"], result, expected)
        self.log("%d vectors checked (%d signed)" % (len(rows), signed))
        assert signed >= 4

        # Messages of other lengths (BIP340 allows any length), random aux data.
        seckey = bytes.fromhex("B7E151628AED2A6ABF7158809CF4F3C762E7160F38B4DA56A784D9045190CFEF")
        pubkey = bip340.pubkey_gen(seckey)
        for msg in (b"", b"\x00", b"hello p2pd", bytes(range(100))):
            sig = bip340.sign(seckey, msg)
            assert_equal(len(sig), 64)
            assert bip340.verify(pubkey, msg, sig), "fresh signature does not verify"
            # Flip one bit in each part: signature R, signature s, message, public key.
            bad_sig_r = bytes([sig[0] ^ 1]) + sig[1:]
            bad_sig_s = sig[:63] + bytes([sig[63] ^ 1])
            assert not bip340.verify(pubkey, msg, bad_sig_r)
            assert not bip340.verify(pubkey, msg, bad_sig_s)
            assert not bip340.verify(pubkey, msg + b"\x01", sig)
            other = bip340.pubkey_gen((3).to_bytes(32, "big"))
            assert not bip340.verify(other, msg, sig)
            assert not bip340.verify(pubkey, msg, sig[:63])
        # The tagged hash is as the BIP defines it.
        import hashlib
        t = hashlib.sha256(b"BIP0340/challenge").digest()
        assert_equal(bip340.tagged_hash("BIP0340/challenge", b"x"),
                     hashlib.sha256(t + t + b"x").digest())


if __name__ == "__main__":
    FrameworkBip340Test().main()
