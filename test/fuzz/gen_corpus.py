#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets that take structured or stored input.

Usage: test/fuzz/gen_corpus.py [SRCDIR]   (default: the tree this script is in)

Each seed is a small, valid (or deliberately just-invalid) input named after what it exercises.
Re-running rewrites these seeds and leaves every other file (regression inputs) alone. The
layouts are those of doc/storage.md, doc/protocol.md and each target's header comment.
"""
import base64
import hashlib
import json
import os
import struct
import sys

TOP = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
CORPUS = os.path.join(TOP, "test", "fuzz", "corpus")
NOW = 1700000000  # FUZZ_DB_NOW in test/fuzz/fuzz_db.h


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def compactsize(n):
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + struct.pack("<H", n)
    return b"\xfe" + struct.pack("<I", n)


def record(key, value):
    """One record of fuzz_db_fill: key length, key, compactsize value length, value."""
    return bytes([len(key)]) + key + compactsize(len(value)) + value


def sigmsg_vector(name):
    with open(os.path.join(CORPUS, "sigmsg", name), "rb") as f:
        return f.read()


def sigmsg_fields(raw):
    """(topic, created_at, author, refs) of a serialized signed message."""
    p = 1
    n = raw[p]
    topic = raw[p + 1:p + 1 + n]
    p += 1 + n
    created = struct.unpack("<q", raw[p:p + 8])[0]
    author = raw[p + 8:p + 40]
    p += 40
    nrefs = raw[p]
    p += 1
    refs = [raw[p + 32 * i:p + 32 * (i + 1)] for i in range(nrefs)]
    return topic, created, author, refs


def sigmsg_id(raw):
    tag = hashlib.sha256(b"p2pd/msg").digest()
    return hashlib.sha256(tag + tag + raw[:-64]).digest()


def onion_v3(pubkey):
    check = hashlib.sha3_256(b".onion checksum" + pubkey + b"\x03").digest()[:2]
    return base64.b32encode(pubkey + check + b"\x03").decode().lower() + ".onion"


def i2p(h):
    return base64.b32encode(h).decode().lower().rstrip("=") + ".b32.i2p"


def addr_text():
    for name, mode, text in [
        ("ipv4", 0, "8.8.4.4:9733"),
        ("ipv4-noport", 0, "1.2.3.4"),
        ("ipv6", 0, "[2001:db8::1]:19733"),
        ("ipv6-bare", 0, "2001:4860:4860::8888"),
        ("ipv4-mapped", 0, "[::ffff:1.2.3.4]:5"),
        ("onion", 0, onion_v3(bytes(range(32))) + ":9733"),
        ("onion-badsum", 0, onion_v3(bytes(range(32)))[:-8] + "aaaa.onion"),
        ("i2p", 0, i2p(bytes(range(100, 132))) + ":9733"),
        ("port-0", 0, "1.2.3.4:0"),
        ("netaddr-v4", 1, "127.0.0.1:29733"),
        ("netaddr-v6", 1, "[::1]:1"),
        ("netaddr-mapped", 1, "::ffff:10.0.0.1"),
        ("subnet-v4", 2, "10.1.2.3/8"),
        ("subnet-mask", 2, "192.168.0.0/255.255.0.0"),
        ("subnet-v6", 2, "2001:db8::/32"),
        ("subnet-v6-mask", 2, "fe80::/ffff:ffff::"),
        ("subnet-all", 2, "::/0"),
        ("subnet-badmask", 2, "1.2.3.4/255.0.255.0"),
    ]:
        write("addr_text", name, bytes([mode]) + text.encode())
    for name, net, addr in [
        ("bin-ipv4", 1, bytes([8, 8, 8, 8])),
        ("bin-ipv6", 2, bytes.fromhex("20010db8000000000000000000000001")),
        ("bin-torv3", 4, bytes(range(32))),
        ("bin-i2p", 5, bytes(range(32, 64))),
        ("bin-cjdns", 6, bytes.fromhex("fc000000000000000000000000000001")),
        ("bin-torv2", 3, bytes(10)),
    ]:
        write("addr_text", name, b"\x03" + bytes([net]) + struct.pack("<H", 9733) + addr)


def args():
    hexmac = "ab" * 32
    node_conf = (
        "# p2pd.conf\n"
        "port=9733\n"
        "listen=1\n"
        "nodnsseed=1\n"
        "bantime=3600\n"
        "rpcauth=alice:f00d$" + hexmac + "\n"
        "whitelist=noban,relay@10.0.0.0/8\n"
        "whitelist=192.168.1.1\n"
        "debug=net\n"
        "debug=rpc\n"
        "[regtest]\n"
        "connect=127.0.0.1:29734\n"
        "addnode=[::1]:29735\n"
        "regtest.maxconnections=8\n"
    )
    write("args", "node-conf", b"\x04" + node_conf.encode() + b"\0-regtest\0-nolisten\0-debug=all")
    write("args", "node-cmdline", b"\x00\0-datadir=/tmp/x\0--port=1\0-noconnect\0-printtoconsole")
    write("args", "node-bad-line", b"\x00port\n")
    write("args", "node-bad-section", b"\x00[mainnet]\nport=1\n")
    write("args", "node-range", b"\x00maxconnections=99999999\n")
    write("args", "node-cmdline-only", b"\x00datadir=/tmp\n")
    write("args", "node-nul-in-line", b"\x08port=1\nlisten=\x001\n")
    write("args", "node-negation", b"\x00noconnect=0\nnodebug=1\n\0-connect=1.2.3.4\0-nodebug")
    cli_conf = "rpcuser=u\nrpcpassword=p\nunknownkey=1\n[testnet]\nrpcport=19734\n"
    write("args", "cli-conf", b"\x03" + cli_conf.encode() + b"\0-rpcconnect=[::1]:5\0getpeerinfo")
    write("args", "cli-named", b"\x01\0-named\0publish\0topic=chat\0body=hello\0refs=[]")
    write("args", "cli-positional", b"\x01\0setban\x0010.0.0.0/8\0add\x00600\0false")
    write("args", "cli-badjson", b"\x01\0logging\0[\"net\"\0{")


def rpc():
    vector = sigmsg_vector("vector-full").hex()
    bodies = {
        "help": {"jsonrpc": "2.0", "id": 1, "method": "help", "params": []},
        "help-command": {"jsonrpc": "2.0", "id": "x", "method": "help", "params": ["setban"]},
        "v1": {"id": 7, "method": "uptime", "params": []},
        "named": {"jsonrpc": "2.0", "id": 2, "method": "getnodeaddresses",
                  "params": {"count": 0, "network": "ipv4"}},
        "notification": {"jsonrpc": "2.0", "method": "getrpcinfo"},
        "setban": {"jsonrpc": "2.0", "id": 3, "method": "setban",
                   "params": ["10.0.0.0/8", "add", 3600, False]},
        "addpeeraddress": {"jsonrpc": "2.0", "id": 4, "method": "addpeeraddress",
                           "params": ["8.8.8.8", 9733, True]},
        "decodemessage": {"jsonrpc": "2.0", "id": 5, "method": "decodemessage",
                          "params": [vector]},
        "logging": {"jsonrpc": "2.0", "id": 6, "method": "logging",
                    "params": [["net", "rpc"], ["db"]]},
        "setmocktime": {"jsonrpc": "2.0", "id": 8, "method": "setmocktime",
                        "params": [1700000100]},
        "publish": {"jsonrpc": "2.0", "id": 9, "method": "publish",
                    "params": ["chat", "hello", ["00" * 32]]},
        "bad-version": {"jsonrpc": "3.0", "id": 10, "method": "help"},
        "bad-params": {"jsonrpc": "2.0", "id": 11, "method": "help", "params": 5},
        "unknown-method": {"jsonrpc": "2.0", "id": 12, "method": "nosuchmethod"},
        "unknown-named": {"jsonrpc": "2.0", "id": 13, "method": "help",
                          "params": {"nosuch": 1}},
        "wrong-type": {"jsonrpc": "2.0", "id": 14, "method": "setmocktime",
                       "params": ["soon"]},
    }
    for name, body in bodies.items():
        write("rpc", name, json.dumps(body, separators=(",", ":")))
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "setban", "params": ["1.2.3.4", "add"]},
        {"jsonrpc": "2.0", "id": 2, "method": "listbanned"},
        {"jsonrpc": "2.0", "method": "clearbanned"},
        {"id": 3, "method": "getpeerscores", "params": []},
        5,
        {"jsonrpc": "2.0", "id": 4, "method": "getaddrmaninfo"},
        {"jsonrpc": "2.0", "id": 5, "method": "stop"},
    ]
    write("rpc", "batch", json.dumps(batch, separators=(",", ":")))
    write("rpc", "batch-empty", "[]")
    write("rpc", "not-json", "{\"method\":")
    write("rpc", "duplicate-key", "{\"id\":1,\"id\":2,\"method\":\"help\"}")


def rpc_auth():
    hexmac = hashlib.sha256(b"x").hexdigest()
    basic = base64.b64encode(b"user:pass").decode()
    write("rpc_auth", "password", "user:pass\nBasic " + basic)
    write("rpc_auth", "rpcauth", "alice:f00d$" + hexmac + "\nuser:pass\nbasic   " + basic + " ")
    write("rpc_auth", "wrong-password", "user:pass\nBasic " + base64.b64encode(b"user:x").decode())
    write("rpc_auth", "bad-base64", "user:pass\nBasic dXNlcjpwYXNz=")
    write("rpc_auth", "colon-password", "bob:a:b:c\nBasic " + base64.b64encode(b"bob:a:b:c").decode())
    write("rpc_auth", "malformed", "nouser\n:x\na:b$c$d\nBearer abc")
    # A table filled to its limit: one password and 63 -rpcauth entries, then one more.
    lines = ["user:pass"] + ["u%d:salt$%s" % (i, hexmac) for i in range(64)] + ["Basic " + basic]
    write("rpc_auth", "table-full", "\n".join(lines))


def transport():
    def frame(op, cmd, length, fill):
        return bytes([op, cmd]) + struct.pack("<I", length)[:3] + bytes([fill])

    write("transport", "one-ping", b"\x00" + frame(1, 2, 8, 7))
    write("transport", "two-frames-split", b"\x05" + frame(1, 4, 200, 1) + frame(1, 1, 0, 0))
    write("transport", "bad-checksum", b"\x03" + frame(2, 4, 100, 9) + frame(1, 2, 8, 0))
    write("transport", "large-frame", b"\x11" + frame(1, 4, 150000, 3))
    write("transport", "large-bytewise", b"\x01" + frame(1, 7, 70000, 5))
    write("transport", "too-large", b"\x07" + frame(1, 2, 8, 1) + b"\x03" + struct.pack("<I", 4000001))
    write("transport", "announced-more", b"\x09" + b"\x03" + struct.pack("<I", 1000))
    write("transport", "garbage", b"\x02" + b"\x00\x18" + bytes(range(24)))
    write("transport", "bad-command", b"\x04" + b"\x00\x18" + bytes.fromhex("fbc4e9a7") +
          b"ping\x00x" + bytes(6) + bytes(8))


def entry(net, addr, port, time, services, src_net, src, last_success, last_try, attempts,
          tried, buckets):
    out = bytes([net, len(addr)]) + addr + struct.pack("<HIQ", port, time, services)
    out += bytes([src_net, len(src)]) + src
    out += struct.pack("<qqI", last_success, last_try, attempts)
    out += bytes([1 if tried else 0, len(buckets)])
    out += b"".join(struct.pack("<H", b) for b in buckets)
    return out


def addrman_db():
    key = record(b"k", bytes(range(32)))
    header = record(b"h", struct.pack("<IIII", 1, 3, 2, 1))
    e0 = entry(1, bytes([8, 8, 8, 8]), 9733, NOW - 100, 1, 1, bytes([1, 2, 3, 4]), 0, 0, 0,
               False, [5, 900])
    e1 = entry(2, bytes.fromhex("20010db8000000000000000000000001"), 9733, NOW - 5000, 1, 1,
               bytes([9, 9, 9, 9]), NOW - 3600, NOW - 3600, 0, True, [])
    e2 = entry(4, bytes(range(32)), 9733, NOW, 0, 1, bytes([1, 2, 3, 4]), 0, NOW - 10, 2,
               False, [17])
    recs = key + header + record(b"e\0\0\0\0", e0) + record(b"e\0\0\0\1", e1) + \
        record(b"e\0\0\0\2", e2)
    write("addrman_db", "three", b"\x00" + recs)
    local = entry(1, bytes([127, 0, 0, 1]), 29733, NOW, 1, 1, bytes([127, 0, 0, 1]), 0, 0, 0,
                  False, [1])
    write("addrman_db", "local-allowed", b"\x01" + key + header + record(b"e\0\0\0\0", local))
    write("addrman_db", "no-key", b"\x00" + header + record(b"e\0\0\0\0", e0))
    write("addrman_db", "bad-header", b"\x00" + key + record(b"h", struct.pack("<I", 2)) +
          record(b"e\0\0\0\0", e0))
    write("addrman_db", "trailing-byte", b"\x00" + key + header + record(b"e\0\0\0\0", e0 + b"\0"))
    write("addrman_db", "duplicate", b"\x00" + key + header + record(b"e\0\0\0\0", e0) +
          record(b"e\0\0\0\1", e0))
    write("addrman_db", "bad-key-shape", b"\x00" + key + header + record(b"e\0\0", e0))


def ban(addr16, bits, created, until):
    return record(addr16 + bytes([bits]), struct.pack("<qq", created, until))


def banman_db():
    mapped = bytes(10) + b"\xff\xff"
    write("banman_db", "ipv4-host", ban(mapped + bytes([1, 2, 3, 4]), 128, NOW - 10, NOW + 3600))
    write("banman_db", "subnets",
          ban(mapped + bytes([10, 0, 0, 0]), 104, NOW - 10, NOW + 3600) +
          ban(bytes.fromhex("20010db8") + bytes(12), 32, 0, NOW + 1) +
          ban(bytes(16), 0, NOW, NOW + 86400))
    write("banman_db", "expired", ban(mapped + bytes([5, 6, 7, 8]), 128, NOW - 100, NOW - 1) +
          ban(mapped + bytes([5, 6, 7, 9]), 128, NOW - 100, NOW + 100))
    write("banman_db", "host-bits", ban(mapped + bytes([10, 1, 2, 3]), 104, NOW, NOW + 10))
    write("banman_db", "bad-length", record(mapped + bytes([1, 1, 1, 1, 128]), b"\0" * 15))
    write("banman_db", "until-before-created", ban(mapped + bytes([1, 1, 1, 1]), 128, NOW, NOW - 1))


def rep(addr16, bad, good, updated):
    return record(addr16, struct.pack("<ddq", bad, good, updated))


def reputation_db():
    mapped = bytes(10) + b"\xff\xff"
    write("reputation_db", "two",
          rep(mapped + bytes([1, 2, 3, 4]), 40.0, 2.5, NOW - 3600) +
          rep(bytes.fromhex("20010db8000000000000000000000001"), 0.0, 100.0, NOW))
    write("reputation_db", "future", rep(mapped + bytes([9, 9, 9, 9]), 1.0, 1.0, NOW + 86400))
    write("reputation_db", "nan", rep(mapped + bytes([1, 1, 1, 1]), float("nan"), 0.0, NOW))
    write("reputation_db", "negative", rep(mapped + bytes([1, 1, 1, 2]), -1.0, 0.0, NOW))
    write("reputation_db", "short-key", record(mapped + bytes([1, 1, 1]), bytes(24)))
    write("reputation_db", "old", rep(mapped + bytes([8, 8, 8, 8]), 1e300, 1e-300, 0))


def message_records(raw, received_at):
    """The 'M' record and index keys of a message, as msgstore_put writes them."""
    topic, created, author, refs = sigmsg_fields(raw)
    mid = sigmsg_id(raw)
    t = struct.pack(">Q", created)
    out = record(b"M" + mid, struct.pack("<q", received_at) + raw)
    out += record(b"T" + t + mid, b"")
    out += record(b"A" + author + t + mid, b"")
    out += record(b"P" + bytes([len(topic)]) + topic + t + mid, b"")
    for r in refs:
        out += record(b"R" + r + t + mid, b"")
    return out, len(raw)


def totals(count, nbytes, pruned):
    return record(b"mmsgstats", struct.pack("<QQQ", count, nbytes, pruned))


def msgstore_db():
    full, nfull = message_records(sigmsg_vector("vector-full"), NOW)
    mini, nmini = message_records(sigmsg_vector("vector-minimal"), NOW - 50)
    hours = struct.pack(">H", 24 * 365 * 5)
    write("msgstore_db", "two-messages", b"\x00" + hours + full + mini +
          totals(2, nfull + nmini, 0))
    write("msgstore_db", "reverse-range", b"\x07" + hours + full + mini +
          totals(2, nfull + nmini, 0))
    write("msgstore_db", "prune-size", b"\x18" + b"\x00\x00" + full + mini +
          totals(2, nfull + nmini, 3))
    write("msgstore_db", "no-totals", b"\x00" + hours + full)
    write("msgstore_db", "bad-totals", b"\x00" + hours + record(b"mmsgstats", bytes(23)))
    write("msgstore_db", "empty", b"\x00\x00\x00")
    orphan = record(b"T" + struct.pack(">Q", NOW) + bytes(32), b"")
    write("msgstore_db", "orphan-index", b"\x00" + hours + orphan + totals(0, 0, 0))
    corrupt = record(b"M" + bytes(32), struct.pack("<q", NOW) + b"\x01\x02") + \
        record(b"T" + struct.pack(">Q", 5) + bytes(32), b"")
    write("msgstore_db", "corrupt-record", b"\x00" + hours + corrupt + totals(1, 2, 0))
    write("msgstore_db", "short-time-key", b"\x00" + hours + record(b"T\x00", b"") +
          totals(0, 0, 0))


def nodekey():
    """The node key file (fuzz_nodekey): valid keys with the line ends p2pd allows, and the
    nearest invalid files."""
    one = "0" * 63 + "1"
    n = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"
    bip = "B7E151628AED2A6ABF7158809CF4F3C762E7160F38B4DA56A784D9045190CFEF"
    write("nodekey", "valid-lf", one + "\n")
    write("nodekey", "valid-crlf-upper", bip + "\r\n")
    write("nodekey", "valid-blank-tail", bip.lower() + "  \n\n")
    write("nodekey", "valid-n-minus-1", n[:-1] + "0\n")
    write("nodekey", "order-n", n + "\n")
    write("nodekey", "zero", "0" * 64 + "\n")
    write("nodekey", "all-ff", "f" * 64)
    write("nodekey", "short-63", one[:63] + "\n")
    write("nodekey", "long-66", one + "00\n")
    write("nodekey", "leading-space", " " + one + "\n")
    write("nodekey", "tab-tail", one + "\t\n")
    write("nodekey", "nul-inside", one[:10] + "\0" + one[11:] + "\n")
    write("nodekey", "non-hex", one[:20] + "g" + one[21:] + "\n")
    write("nodekey", "empty", "")


def schema():
    """The schema record's value (fuzz_schema)."""
    write("schema", "v1", struct.pack("<I", 1))
    write("schema", "v0", struct.pack("<I", 0))
    write("schema", "v2-newer", struct.pack("<I", 2))
    write("schema", "max", struct.pack("<I", 0xFFFFFFFF))
    write("schema", "short-3", b"\x01\x00\x00")
    write("schema", "long-5", b"\x01\x00\x00\x00\x00")
    write("schema", "empty", b"")
    write("schema", "text", b"xy")


def cli_reply():
    """Server replies as p2p-cli reads them (fuzz_cli_reply): what to interpret (byte 0: single
    call, -getinfo, -netinfo, batch of 1 + byte0 / 4 % 4), the HTTP status (byte 1: index into
    200, 401, 403, 404, 500, 503, 0, 204), then the body."""
    def w(name, sel, st, body):
        text = body if isinstance(body, str) else json.dumps(body)
        write("cli_reply", name, bytes([sel, st]) + text.encode())

    def ok(r, i):
        return {"result": r, "error": None, "id": i}
    w("reply-string", 0, 0, ok("hello", 1))
    w("reply-object", 0, 0, ok({"a": [1, 2.5, None, True], "b": "x"}, 1))
    w("reply-null", 0, 0, ok(None, 1))
    w("reply-error", 0, 4, {"result": None, "error": {"code": -32601,
                                                       "message": "Method not found"}, "id": 1})
    w("reply-warmup", 0, 4, {"result": None, "error": {"code": -28, "message": "Loading"},
                             "id": 1})
    w("reply-error-odd", 0, 4, {"result": None, "error": "text", "id": 1})
    w("reply-401", 0, 1, "")
    w("reply-not-json", 0, 3, "<html>not found</html>")
    w("reply-empty-500", 0, 4, "")
    w("reply-array", 0, 0, "[1,2,3]")
    net = {"version": 100, "subversion": "/p2pd:0.1.0/", "protocolversion": 80001,
           "network": "regtest", "nodepubkey": "ab" * 32, "connections_in": 1,
           "connections_out": 2, "connections": 3}
    w("getinfo-ok", 1, 0, [ok(net, 0), ok(42, 1)])
    w("getinfo-bad-uptime", 1, 0, [ok(net, 1), ok("x", 0)])
    peer = {"id": 1, "addr": "127.0.0.1:1234", "inbound": True, "connection_type": "inbound",
            "pingtime": 0.001, "lastsend": 1699999990, "lastrecv": 1699999995,
            "conntime": 1699990000, "subver": "/p2pd:0.1.0/"}
    peer2 = {"id": 2, "addr": "[::1]:29733", "inbound": False,
             "connection_type": "outbound-full-relay", "lastsend": 9223372036854775807,
             "lastrecv": 0, "conntime": -5}
    local = {"localaddresses": [{"address": "::1", "port": 29733},
                                {"address": "1.2.3.4", "port": 1}, {"address": 5}]}
    w("netinfo-ok", 2, 0, [ok([peer, peer2], 0), ok(local, 1)])
    w("netinfo-empty", 2, 0, [ok([], 0), ok({}, 1)])
    w("batch4-whole-error", 3 + 4 * 3, 4, {"result": None, "error": {"code": -32600,
                                                                      "message": "x"}, "id": None})
    w("batch2-missing-id", 3 + 4 * 1, 0, [ok(1, 0)])
    w("batch3-one-error", 3 + 4 * 2, 0, [ok(1, 2), {"result": None, "error": {
        "code": -1, "message": "m"}, "id": 1}, ok(0, 0)])


def main():
    addr_text()
    args()
    rpc()
    rpc_auth()
    transport()
    addrman_db()
    banman_db()
    reputation_db()
    msgstore_db()
    nodekey()
    schema()
    cli_reply()


if __name__ == "__main__":
    main()
