#!/usr/bin/env python3
"""The address book: RPC view, persistence, corrupt records (doc/discovery.md "RPC",
doc/storage.md "Address book").

- addpeeraddress adds to "new", or to "tried" with tried=true; getaddrmaninfo counts them per
  network and in all_networks; getnodeaddresses returns them (count, network filter, errors);
  an address with a port, a bad port or garbage is refused with -8.
- A restart keeps the book: getaddrmaninfo and getnodeaddresses are equal before and after.
- Corrupt records, planted with a LevelDB log file: an entry record with garbage in place of an
  existing one, one with a truncated value, one under a key of the wrong length and one under a
  far-away record number are skipped with a log line; the node starts with the rest, runs, and
  saves and stops normally; the next start loads a clean book with nothing skipped.
- addpeeraddress is regtest-only (-1 on testnet).
"""

import os
import struct

from test_framework.leveldb_log import write_log_file
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import (
    assert_equal,
    assert_greater_than,
    assert_raises_rpc_error,
    wait_until,
)

LOG_NUMBER = 900000
SEQUENCE = 1 << 40
NETS = ("ipv4", "ipv6", "onion", "i2p", "cjdns")


def entry_key(n):
    return b"ae" + struct.pack(">I", n)


class AddrmanTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 2
        # -connect to nowhere useful: no automatic outbound connections to the test addresses
        # (they are routable and this sandbox may accept TCP connections to anything).
        self.extra_args = [["-debug=addrman", "-connect=127.0.0.1:1"], []]

    def setup_nodes(self):
        self.add_nodes(self.num_nodes, self.extra_args)
        self.nodes[0].start()

    def add_until(self, node, make, want, tried=False):
        """Add addresses from make(i) until want were accepted; returns the accepted ones."""
        out = []
        i = 0
        while len(out) < want:
            assert i < want * 10, "only %d of %d accepted" % (len(out), i)
            host, port = make(i)
            if node.rpc.addpeeraddress(host, port, tried)["success"]:
                out.append((host, port))
            i += 1
        return out

    def book(self, node):
        return sorted((a["address"], a["port"], a["network"], a["services"], a["time"])
                      for a in node.rpc.getnodeaddresses(0))

    def run_test(self):
        node = self.nodes[0]
        empty = node.rpc.getaddrmaninfo()
        for net in NETS + ("all_networks",):
            assert_equal(empty[net], {"new": 0, "tried": 0, "total": 0})
        assert_equal(node.rpc.getnodeaddresses(), [])

        self.log("addpeeraddress: new and tried, counted per network")
        # Distinct network groups (IPv4 /16, IPv6 /32), so slots rarely collide.
        v4_new = self.add_until(node, lambda i: ("11.%d.%d.1" % (i % 250, i // 250), 9733), 30)
        v4_tried = self.add_until(node, lambda i: ("12.%d.%d.1" % (i % 250, i // 250), 9733),
                                  5, tried=True)
        v6_new = self.add_until(node, lambda i: ("2a01:%x::1" % (i + 1), 9733), 7)
        info = node.rpc.getaddrmaninfo()
        self.log("getaddrmaninfo: %s" % info)
        assert_equal(info["ipv4"], {"new": 30, "tried": 5, "total": 35})
        assert_equal(info["ipv6"], {"new": 7, "tried": 0, "total": 7})
        assert_equal(info["all_networks"], {"new": 37, "tried": 5, "total": 42})
        for net in ("onion", "i2p", "cjdns"):
            assert_equal(info[net]["total"], 0)

        self.log("getnodeaddresses: count, network filter, errors")
        assert_equal(len(node.rpc.getnodeaddresses()), 1)
        assert_equal(len(node.rpc.getnodeaddresses(10)), 10)
        all_ = node.rpc.getnodeaddresses(0)
        assert_equal(len(all_), 42)
        got = {(a["address"], a["port"]) for a in all_}
        assert_equal(got, set(v4_new) | set(v4_tried) | set(v6_new))
        for a in all_:
            assert_equal(sorted(a), ["address", "network", "port", "services", "time"])
            assert a["network"] in ("ipv4", "ipv6"), a
        assert_equal(len(node.rpc.getnodeaddresses(0, "ipv4")), 35)
        assert_equal({a["network"] for a in node.rpc.getnodeaddresses(0, "ipv6")}, {"ipv6"})
        assert_equal(node.rpc.getnodeaddresses(0, "onion"), [])
        assert_raises_rpc_error(-8, None, node.rpc.getnodeaddresses, 0, "ipv5")
        assert_raises_rpc_error(-8, None, node.rpc.getnodeaddresses, -1)
        for bad in (("not-an-address", 1), ("1.2.3.4:5", 5), ("1.2.3.4", 0),
                    ("1.2.3.4", 65536)):
            assert_raises_rpc_error(-8, None, node.rpc.addpeeraddress, *bad)

        self.log("A restart keeps the address book")
        before_info, before_book = node.rpc.getaddrmaninfo(), self.book(node)
        self.restart_node(0)
        assert_equal(node.rpc.getaddrmaninfo(), before_info)
        assert_equal(self.book(node), before_book)

        self.log("Corrupt records are skipped with a log line, not fatal")
        node.stop_node()
        dbdir = os.path.join(node.netdir, "db")
        write_log_file(os.path.join(dbdir, "%06d.log" % LOG_NUMBER), SEQUENCE, [
            (entry_key(0), b"\xde\xad\xbe\xef" * 5),        # garbage in place of an entry
            (entry_key(1), b"\x01\x04\x0b"),                # truncated
            (b"ae\x00\x01", b"\x00" * 40),                  # key of the wrong length
            (entry_key(1000), b"\xff" * 60),                # beyond the last record
        ])
        with node.assert_debug_log(["address record (6-byte key, 20-byte value)",
                                    "address record (6-byte key, 3-byte value)",
                                    "address record (4-byte key, 40-byte value)",
                                    "address record (6-byte key, 60-byte value)"]):
            node.start()
        info = node.rpc.getaddrmaninfo()
        self.log("after the corrupt records: %s" % info["all_networks"])
        # Records 0 and 1 were two of the 42 addresses.
        assert_equal(info["all_networks"]["total"], 40)
        assert_equal(len(node.rpc.getnodeaddresses(0)), 40)
        assert_greater_than(len(node.rpc.getnodeaddresses(0, "ipv4")), 0)

        self.log("... the node saves and stops normally; the next start loads the same book")
        book = self.book(node)
        node.stop_node()
        with node.assert_debug_log(["addrman: loaded 40 addresses"]):
            node.start()
        assert_equal(self.book(node), book)

        self.log("A record whose number has one high bit flipped (0x80000001): skipped, and "
                 "the node still stops within the usual time")
        node.stop_node()
        # A higher log number than any file LevelDB made since the first planted log.
        write_log_file(os.path.join(dbdir, "%06d.log" % (LOG_NUMBER * 2)), SEQUENCE * 2,
                       [(entry_key(0x80000001), b"\x01\x04\x0b\x00\x00\x01")])
        with node.assert_debug_log(["address record (6-byte key, 6-byte value)"]):
            node.start()
        assert_equal(self.book(node), book)
        node.stop_node()  # waits 30 s at most
        node.start()
        assert_equal(self.book(node), book)

        self.log("addpeeraddress is for regtest only")
        tn = self.nodes[1]
        tn.chain = "testnet"
        tn.start(["-dnsseed=0", "-fixedseeds=0", "-listen=0"])
        assert_raises_rpc_error(-1, "regtest", tn.rpc.addpeeraddress, "11.1.1.1", 19733)
        assert_equal(tn.rpc.getaddrmaninfo()["all_networks"]["total"], 0)


if __name__ == "__main__":
    AddrmanTest().main()
