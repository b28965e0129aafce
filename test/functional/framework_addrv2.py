#!/usr/bin/env python3
"""The framework's address-gossip pieces, without a node: the addrv2 codec of messages.py
against doc/protocol.md "addrv2" (field order, big-endian port, compactsize services, limits,
skipped networks), Tor v3 names, and the test DNS server of test_framework/dns.py."""

import io

from test_framework.dns import DNSServer, resolve
from test_framework.messages import (
    AddrV2Entry,
    DeserializationError,
    NET_I2P,
    NET_TORV2,
    WIRE_MAX_ADDR,
    distinct_ipv4_entries,
    msg_addrv2,
    msg_getaddr,
    onion_v3_name,
)
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal


def must_fail(payload):
    try:
        msg_addrv2.deserialize(payload)
    except DeserializationError:
        return
    raise AssertionError("decoded: %s" % payload.hex())


class FrameworkAddrv2Test(P2PDTestFramework):
    def needs_binaries(self):
        return False

    def setup_nodes(self):
        pass

    def run_test(self):
        self.log("addrv2 entry layout: time LE, services compactsize, net, len+addr, port BE")
        e = AddrV2Entry.ipv4("1.2.3.4", 0x1234, time=0x01020304, services=0xFD)
        assert_equal(e.serialize().hex(), "04030201" + "fdfd00" + "01" + "0401020304" + "1234")
        e6 = AddrV2Entry.ipv6("2001:db8::1", 29733, time=1, services=1)
        assert_equal(e6.serialize().hex(), "01000000" "01" "02" "10" +
                     "20010db8000000000000000000000001" + "7425")
        assert_equal(str(e6), "[2001:db8::1]:29733")
        m = msg_addrv2([e, e6])
        assert_equal(m.serialize()[:1], b"\x02")
        back = msg_addrv2.deserialize(m.serialize())
        assert_equal(back.addrs, [e, e6])
        assert_equal(msg_getaddr().serialize(), b"")

        self.log("limits: 1,000 entries decode, 1,001 do not; lengths; trailing bytes")
        ok = msg_addrv2(distinct_ipv4_entries(WIRE_MAX_ADDR))
        assert_equal(len(msg_addrv2.deserialize(ok.serialize()).addrs), WIRE_MAX_ADDR)
        assert_equal(len({str(a) for a in ok.addrs}), WIRE_MAX_ADDR)
        must_fail(msg_addrv2(distinct_ipv4_entries(WIRE_MAX_ADDR + 1)).serialize())
        must_fail(msg_addrv2([AddrV2Entry(1, b"\x01\x02\x03", 1)]).serialize())   # IPv4, 3 bytes
        must_fail(msg_addrv2([AddrV2Entry(NET_TORV2, b"x" * 16, 1)]).serialize())  # Tor v2, 16
        must_fail(msg_addrv2([AddrV2Entry(9, b"x" * 513, 1)]).serialize())         # > 512
        must_fail(m.serialize() + b"\x00")
        must_fail(m.serialize()[:-1])
        must_fail(b"\xfd\x01\x00")  # non-canonical count

        self.log("Tor v2 and unknown networks are skipped, the rest kept")
        mixed = msg_addrv2([AddrV2Entry(NET_TORV2, b"t" * 10, 1), e,
                            AddrV2Entry(42, b"anything", 2)])
        got = msg_addrv2.deserialize(mixed.serialize())
        assert_equal((got.addrs, got.skipped), ([e], 2))

        self.log("Tor v3 and I2P names")
        ddg = "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad"
        import base64
        key = base64.b32decode(ddg.upper())[:32]
        assert_equal(onion_v3_name(key), ddg + ".onion")
        assert_equal(AddrV2Entry.torv3(key, 1).host, ddg + ".onion")
        assert AddrV2Entry(NET_I2P, b"\x00" * 32, 1).host.endswith(".b32.i2p")
        assert_equal(AddrV2Entry.deserialize(io.BytesIO(e.serialize())), e)

        self.log("The test DNS server: A, AAAA, NXDOMAIN, case echoed")
        dns = DNSServer({"Seed.Test": ["127.0.0.1", "10.0.0.2", "::1"]})
        try:
            rcode, addrs, echoed, sent = resolve(dns.port, "sEEd.tEst", 1)
            assert_equal((rcode, sorted(addrs), echoed), (0, ["10.0.0.2", "127.0.0.1"], sent))
            assert_equal(resolve(dns.port, "seed.test", 28)[:2], (0, ["::1"]))
            assert_equal(resolve(dns.port, "other.test", 1)[:2], (3, []))
            dns.set_records("v6only.test", ["::2"])
            assert_equal(resolve(dns.port, "v6only.test", 1)[:2], (0, []))
            # The server records a query after sending its answer: wait for the last one.
            dns.wait_for_query("v6only.test", "A", timeout=5)
            assert_equal(dns.queries, [("seed.test", "A"), ("seed.test", "AAAA"),
                                       ("other.test", "A"), ("v6only.test", "A")])
            dns.wait_for_query("seed.test", "AAAA", timeout=1)
            assert_equal(dns.errors, [])
        finally:
            dns.close()


if __name__ == "__main__":
    FrameworkAddrv2Test().main()
