#!/usr/bin/env python3
"""The database: a newer schema, a foreign database, a malformed schema record and a
corrupt database (CURRENT, MANIFEST) are each refused with a clear message and never
overwritten; the node starts again once the original files are put back.

Records are planted with a hand-written LevelDB log file (test_framework/leveldb_log.py):
LevelDB replays it on open. The schema version is "mschema" -> u32 little-endian.
"""

import os
import shutil
import struct

from test_framework.leveldb_log import write_log_file
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, assert_in

SCHEMA_KEY = b"mschema"
# Files LevelDB itself rewrites on every open attempt (its info log, lock file).
VOLATILE = {"LOG", "LOG.old", "LOCK"}
# A file number and sequence far above anything a fresh database uses.
LOG_NUMBER = 900000
SEQUENCE = 1 << 40


def snapshot(dirpath):
    """{name: bytes} of the database files that must not change."""
    out = {}
    for name in sorted(os.listdir(dirpath)):
        if name not in VOLATILE:
            with open(os.path.join(dirpath, name), "rb") as f:
                out[name] = f.read()
    return out


class DbTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def refuse(self, node, words):
        err = node.assert_start_raises_init_error([], expected_ret=1)
        assert_in("Error", err)
        assert "database" in err.lower(), "error does not mention the database: %r" % err
        for w in words:
            assert w in err, "%r not in error %r" % (w, err)
        return err

    def run_test(self):
        node = self.nodes[0]
        dbdir = os.path.join(node.netdir, "db")
        pub = node.rpc.getnetworkinfo()["nodepubkey"]
        node.stop_node()
        assert os.path.exists(os.path.join(dbdir, "CURRENT")), "no LevelDB in %s" % dbdir
        backup = os.path.join(self.tmpdir, "db.backup")
        shutil.copytree(dbdir, backup)

        def restore():
            shutil.rmtree(dbdir)
            shutil.copytree(backup, dbdir)

        self.log("Schema version newer than this build: refused, twice (not overwritten)")
        write_log_file(os.path.join(dbdir, "%06d.log" % LOG_NUMBER), SEQUENCE,
                       [(SCHEMA_KEY, struct.pack("<I", 2))])
        err = self.refuse(node, ["newer"])
        self.log("refused with: %s" % err.strip())
        self.refuse(node, ["newer"])
        restore()

        self.log("Malformed schema record: refused")
        write_log_file(os.path.join(dbdir, "%06d.log" % LOG_NUMBER), SEQUENCE,
                       [(SCHEMA_KEY, b"\x01\x00\x00")])
        self.refuse(node, [])
        self.refuse(node, [])
        restore()

        self.log("LevelDB data without a schema key (not a p2pd database): refused")
        shutil.rmtree(dbdir)
        os.makedirs(dbdir)
        write_log_file(os.path.join(dbdir, "000005.log"), 1, [(b"xsomeone-else", b"data")])
        self.refuse(node, [])
        self.refuse(node, [])
        restore()

        self.log("CURRENT names a missing MANIFEST: refused, files unchanged")
        with open(os.path.join(dbdir, "CURRENT"), "wb") as f:
            f.write(b"MANIFEST-999999\n")
        before = snapshot(dbdir)
        self.refuse(node, [])
        assert_equal(snapshot(dbdir), before)
        restore()

        self.log("Garbled MANIFEST: refused, files unchanged")
        manifests = [n for n in os.listdir(dbdir) if n.startswith("MANIFEST-")]
        assert manifests, "no MANIFEST in %s" % dbdir
        for name in manifests:
            path = os.path.join(dbdir, name)
            size = os.path.getsize(path)
            with open(path, "wb") as f:
                f.write(b"\xde\xad\xbe\xef" * max(4, size // 4))
        before = snapshot(dbdir)
        self.refuse(node, [])
        assert_equal(snapshot(dbdir), before)

        self.log("Truncated CURRENT: refused, files unchanged")
        restore()
        with open(os.path.join(dbdir, "CURRENT"), "wb") as f:
            f.write(b"")
        before = snapshot(dbdir)
        self.refuse(node, [])
        assert_equal(snapshot(dbdir), before)

        self.log("Original files back: the node starts with its data")
        restore()
        node.start()
        assert_equal(node.rpc.getnetworkinfo()["nodepubkey"], pub)


if __name__ == "__main__":
    DbTest().main()
