#!/usr/bin/env python3
"""The node key: created on first start (mode 0600), kept across restarts, shown by
getnetworkinfo; a corrupt key file stops start-up and is left as it was."""

import os
import re
import stat

from test_framework import bip340
from test_framework.node import TestNode
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, assert_in

N = bip340.N


class NodeKeyTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def run_test(self):
        node = self.nodes[0]
        keyfile = os.path.join(node.netdir, "nodekey")

        self.log("Key file created with mode 0600; getnetworkinfo shows its public key")
        pub = node.rpc.getnetworkinfo()["nodepubkey"]
        assert os.path.exists(keyfile)
        assert_equal(oct(stat.S_IMODE(os.stat(keyfile).st_mode)), oct(0o600))
        content = self.read(keyfile)
        assert re.fullmatch(rb"[0-9a-fA-F]{64}\n", content), "bad key file %r" % content
        secret = bytes.fromhex(content.decode().strip())
        assert_equal(bip340.pubkey_gen(secret).hex(), pub)

        self.log("Restart keeps the key")
        node.stop_node()
        node.start()
        assert_equal(node.rpc.getnetworkinfo()["nodepubkey"], pub)
        assert_equal(self.read(keyfile), content)
        node.stop_node()
        node.start()
        assert_equal(node.rpc.getnetworkinfo()["nodepubkey"], pub)

        self.log("Another node has another key")
        other = TestNode(1, self.tmpdir, self.binaries, timeout_factor=self.options.timeout_factor,
                         log=self.log)
        self.nodes.append(other)
        other.start()
        assert other.rpc.getnetworkinfo()["nodepubkey"] != pub
        other.stop_node()
        node.stop_node()

        self.log("Corrupt key files stop start-up and are not overwritten")
        bad_contents = [
            b"zz\n",
            b"",
            content[:63] + b"\n",                              # one hex digit short
            content.strip() + b"00\n",                          # too long
            b"00" * 32 + b"\n",                                 # zero is not a valid key
            (N).to_bytes(32, "big").hex().encode() + b"\n",     # the group order is not either
        ]
        for bad in bad_contents:
            with open(keyfile, "wb") as f:
                f.write(bad)
            err = node.assert_start_raises_init_error([], expected_ret=1)
            assert_in("Error", err)
            assert "nodekey" in err or "node key" in err.lower(), \
                "error for key file %r does not mention the node key: %r" % (bad, err)
            assert_equal(self.read(keyfile), bad)

        self.log("A missing key file gets a new key")
        os.remove(keyfile)
        node.start()
        new_pub = node.rpc.getnetworkinfo()["nodepubkey"]
        assert new_pub != pub
        assert_equal(bip340.pubkey_gen(bytes.fromhex(self.read(keyfile).decode().strip())).hex(),
                     new_pub)

        self.log("A valid key written by the operator is used")
        node.stop_node()
        mine = (0xC0FFEE).to_bytes(32, "big")
        with open(keyfile, "w") as f:
            f.write(mine.hex() + "\n")
        os.chmod(keyfile, 0o600)
        node.start()
        assert_equal(node.rpc.getnetworkinfo()["nodepubkey"], bip340.pubkey_gen(mine).hex())


if __name__ == "__main__":
    NodeKeyTest().main()
