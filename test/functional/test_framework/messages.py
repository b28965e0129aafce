"""The p2pd wire format, written from doc/protocol.md: frames, compactsize, control messages.

Frames (doc/protocol.md, "Frames"):

    magic (4) | command (12, NUL-padded ASCII) | length (uint32 LE) | checksum (4) | payload

    frame = encode_frame(msg_ping(nonce=7))                 # regtest magic by default
    frame = encode_frame_raw(b"ping", b"\\x01\\x02\\x03")      # any command, any payload
    frame = encode_frame_raw(b"ping", b"", checksum=b"xxxx", length=100)  # lies on purpose

Messages are classes with a `command` (bytes), `serialize()` and `deserialize(payload)`;
`msg_raw` carries any command and any payload so tests can send anything, valid or not.
Decoding a received frame gives the message class for a known command, or `msg_raw`.

Signed messages (doc/protocol.md, "Signed messages") are `SignedMessage` objects:

    m = SignedMessage(topic="chat", body=b"hello", created_at=int(time.time()))
    m.sign(seckey, pow_bits=8)         # sets the author, mines the nonce, signs the id
    m.id, m.id_hex, m.pow, m.serialize(), SignedMessage.deserialize(raw)

and travel in `msg_msg`; `msg_inv` / `msg_getdata` / `msg_notfound` carry inventory entries
(type `INV_SIGNED_MSG` with the message id, or any (type, hash) pair); `msg_sendzlib`,
`msg_zlib` (a compressed message) and `msg_zlib_raw` (any declared length, any stream: bombs,
corrupt streams) cover compression.
"""

import base64
import hashlib
import io
import os
import random
import socket
import struct
import time
import zlib

from . import bip340

# Network magic values as they appear on the wire (doc/protocol.md, "Frames").
MAGIC = {
    "main": bytes.fromhex("f7a2d693"),
    "testnet": bytes.fromhex("f8b3c18e"),
    "regtest": bytes.fromhex("fbc4e9a7"),
}
DEFAULT_P2P_PORT = {"main": 9733, "testnet": 19733, "regtest": 29733}

HEADER_SIZE = 24
COMMAND_SIZE = 12
WIRE_MAX_PAYLOAD = 4000000

PROTOCOL_VERSION = 80001
MIN_PEER_PROTO_VERSION = 80001
MAX_USER_AGENT = 256

# Inventory (doc/protocol.md, "inv, getdata, notfound").
INV_SIGNED_MSG = 0x20
WIRE_MAX_INV = 50000

# Signed messages (doc/protocol.md, "Signed messages", "Validation").
SIGMSG_TAG = "p2pd/msg"
SIGMSG_FORMAT_VERSION = 1
SIGMSG_TOPIC_MAX = 64
SIGMSG_TOPIC_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789._/-")
SIGMSG_MAX_REFS = 8
SIGMSG_MAX_BODY = 262144
MSG_MAX_FUTURE_SECS = 600
DEFAULT_MAX_MSG_SIZE = 65536
DEFAULT_MSG_RETENTION = 14 * 24 * 3600

# Compression (doc/protocol.md, "zlib").
ZLIB_MIN_PAYLOAD = 512

# Service bits.
NODE_MSGSTORE = 1 << 0

# What p2pd announces about itself (include/util/version.h).
P2PD_SUBVERSION = "/p2pd:0.1.0/"


class DeserializationError(Exception):
    """A payload that does not decode: too short, non-canonical compactsize, bad field."""


def sha256(data):
    return hashlib.sha256(data).digest()


def sha256d(data):
    return sha256(sha256(data))


def checksum(payload):
    """First 4 bytes of SHA-256(SHA-256(payload))."""
    return sha256d(payload)[:4]


# --- compactsize ---------------------------------------------------------------------------

def ser_compact_size(n):
    """Shortest (canonical) compactsize encoding of n."""
    if n < 0 or n > 0xFFFFFFFFFFFFFFFF:
        raise ValueError("compactsize out of range: %d" % n)
    if n < 0xFD:
        return struct.pack("<B", n)
    if n <= 0xFFFF:
        return b"\xfd" + struct.pack("<H", n)
    if n <= 0xFFFFFFFF:
        return b"\xfe" + struct.pack("<I", n)
    return b"\xff" + struct.pack("<Q", n)


def _read_exact(f, n):
    data = f.read(n)
    if len(data) != n:
        raise DeserializationError("truncated: wanted %d bytes, got %d" % (n, len(data)))
    return data


def deser_compact_size(f):
    """Read a compactsize from a binary stream; refuse non-canonical encodings."""
    marker = _read_exact(f, 1)[0]
    if marker < 0xFD:
        return marker
    if marker == 0xFD:
        n, minimum = struct.unpack("<H", _read_exact(f, 2))[0], 0xFD
    elif marker == 0xFE:
        n, minimum = struct.unpack("<I", _read_exact(f, 4))[0], 0x10000
    else:
        n, minimum = struct.unpack("<Q", _read_exact(f, 8))[0], 0x100000000
    if n < minimum:
        raise DeserializationError("non-canonical compactsize")
    return n


def ser_string(b):
    return ser_compact_size(len(b)) + b


def deser_string(f, max_len=None):
    n = deser_compact_size(f)
    if max_len is not None and n > max_len:
        raise DeserializationError("string of %d bytes, at most %d allowed" % (n, max_len))
    return _read_exact(f, n)


# --- addresses -------------------------------------------------------------------------------

class CAddress:
    """The 26-byte address of `version`: services, IPv6 (IPv4-mapped), big-endian port."""

    def __init__(self, ip="0.0.0.0", port=0, services=0):
        self.services = services
        self.ip = ip      # text form: "1.2.3.4" or an IPv6 address
        self.port = port

    def ip_bytes(self):
        if ":" in self.ip:
            return socket.inet_pton(socket.AF_INET6, self.ip)
        return b"\x00" * 10 + b"\xff\xff" + socket.inet_aton(self.ip)

    def serialize(self):
        return struct.pack("<Q", self.services) + self.ip_bytes() + struct.pack(">H", self.port)

    @classmethod
    def deserialize(cls, f):
        services = struct.unpack("<Q", _read_exact(f, 8))[0]
        raw = _read_exact(f, 16)
        if raw[:12] == b"\x00" * 10 + b"\xff\xff":
            ip = socket.inet_ntoa(raw[12:])
        else:
            ip = socket.inet_ntop(socket.AF_INET6, raw)
        port = struct.unpack(">H", _read_exact(f, 2))[0]
        return cls(ip, port, services)

    def is_zero(self):
        return self.services == 0 and self.port == 0 and self.ip in ("0.0.0.0", "::")

    def __eq__(self, other):
        return isinstance(other, CAddress) and self.serialize() == other.serialize()

    def __repr__(self):
        return "CAddress(ip=%s port=%d services=%#x)" % (self.ip, self.port, self.services)


# --- messages -------------------------------------------------------------------------------

class msg_version:
    command = b"version"

    def __init__(self, version=PROTOCOL_VERSION, services=0, timestamp=None, addr_recv=None,
                 addr_from=None, nonce=None, user_agent=b"/p2pd-test:0.1/", start_height=0,
                 relay=1):
        self.version = version
        self.services = services
        self.timestamp = int(time.time()) if timestamp is None else timestamp
        self.addr_recv = addr_recv or CAddress()
        self.addr_from = addr_from or CAddress()
        self.nonce = random.getrandbits(64) | 1 if nonce is None else nonce
        self.user_agent = user_agent if isinstance(user_agent, bytes) else user_agent.encode()
        self.start_height = start_height
        # 0 or 1 (or any byte, to send invalid values); None: omit the byte entirely.
        self.relay = relay

    def serialize(self):
        r = struct.pack("<iQq", self.version, self.services, self.timestamp)
        r += self.addr_recv.serialize() + self.addr_from.serialize()
        r += struct.pack("<Q", self.nonce)
        r += ser_string(self.user_agent)
        r += struct.pack("<i", self.start_height)
        if self.relay is not None:
            r += struct.pack("<B", self.relay)
        return r

    @classmethod
    def deserialize(cls, payload):
        """Decode as p2pd must: missing relay → 1; relay other than 0/1, a user agent over 256
        bytes or with a NUL byte → error; bytes after relay ignored."""
        f = io.BytesIO(payload)
        m = cls.__new__(cls)
        m.version, m.services, m.timestamp = struct.unpack("<iQq", _read_exact(f, 20))
        m.addr_recv = CAddress.deserialize(f)
        m.addr_from = CAddress.deserialize(f)
        m.nonce = struct.unpack("<Q", _read_exact(f, 8))[0]
        m.user_agent = deser_string(f, MAX_USER_AGENT)
        if b"\x00" in m.user_agent:
            raise DeserializationError("NUL byte in the user agent")
        m.start_height = struct.unpack("<i", _read_exact(f, 4))[0]
        relay = f.read(1)
        m.relay_present = len(relay) == 1
        m.relay = relay[0] if relay else 1
        if m.relay not in (0, 1):
            raise DeserializationError("relay byte %d" % m.relay)
        return m

    def __repr__(self):
        return ("msg_version(version=%d services=%#x time=%d recv=%r from=%r nonce=%#x "
                "user_agent=%r start_height=%d relay=%r)" %
                (self.version, self.services, self.timestamp, self.addr_recv, self.addr_from,
                 self.nonce, self.user_agent, self.start_height, self.relay))


class _msg_empty:
    command = b""

    def serialize(self):
        return b""

    @classmethod
    def deserialize(cls, payload):
        return cls()

    def __repr__(self):
        return "%s()" % type(self).__name__


class msg_verack(_msg_empty):
    command = b"verack"


class msg_sendaddrv2(_msg_empty):
    command = b"sendaddrv2"


class _msg_nonce:
    command = b""

    def __init__(self, nonce=0):
        self.nonce = nonce

    def serialize(self):
        return struct.pack("<Q", self.nonce)

    @classmethod
    def deserialize(cls, payload):
        if len(payload) < 8:
            raise DeserializationError("%s payload of %d bytes" % (cls.command, len(payload)))
        return cls(struct.unpack("<Q", payload[:8])[0])

    def __repr__(self):
        return "%s(nonce=%#x)" % (type(self).__name__, self.nonce)


class msg_ping(_msg_nonce):
    command = b"ping"


class msg_pong(_msg_nonce):
    command = b"pong"


class msg_raw:
    """Any command (bytes, sent as given, up to 12 bytes) with any payload."""

    def __init__(self, command, payload=b""):
        self.command = command if isinstance(command, bytes) else command.encode()
        self.payload = payload

    def serialize(self):
        return self.payload

    def __repr__(self):
        return "msg_raw(command=%r, %d bytes)" % (self.command, len(self.payload))


# --- address gossip (doc/protocol.md, "getaddr", "addrv2"; BIP155) -----------------------------

WIRE_MAX_ADDR = 1000
WIRE_ADDRV2_MAX_ADDRLEN = 512

NET_IPV4 = 1
NET_IPV6 = 2
NET_TORV2 = 3
NET_TORV3 = 4
NET_I2P = 5
NET_CJDNS = 6
# Address length of each network id BIP155 defines (Tor v2 too: it is length-checked).
ADDRV2_NET_LEN = {NET_IPV4: 4, NET_IPV6: 16, NET_TORV2: 10, NET_TORV3: 32, NET_I2P: 32,
                  NET_CJDNS: 16}
# getnodeaddresses' "network" names.
NET_NAMES = {NET_IPV4: "ipv4", NET_IPV6: "ipv6", NET_TORV3: "onion", NET_I2P: "i2p",
             NET_CJDNS: "cjdns"}


def onion_v3_name(pubkey):
    """The ".onion" name of a Tor v3 service key (32 bytes): base32(key | checksum | 0x03),
    checksum = SHA3-256(".onion checksum" | key | 0x03)[:2] (rend-spec-v3)."""
    checksum = hashlib.sha3_256(b".onion checksum" + pubkey + b"\x03").digest()[:2]
    return base64.b32encode(pubkey + checksum + b"\x03").decode().lower() + ".onion"


def i2p_name(dest_hash):
    """The ".b32.i2p" name of an I2P destination hash (32 bytes): base32 without padding."""
    return base64.b32encode(dest_hash).decode().lower().rstrip("=") + ".b32.i2p"


class AddrV2Entry:
    """One BIP155 address: time (uint32), services (compactsize), network id, address bytes,
    port (big-endian on the wire). Fields are kept as given, so invalid entries can be built.

        AddrV2Entry.ipv4("10.1.2.3", 8333)          # time: now
        AddrV2Entry.ipv6("2001:db8::1", 8333, time=..., services=NODE_MSGSTORE)
        AddrV2Entry(net=NET_TORV3, addr=b"k" * 32, port=9733)
    """

    def __init__(self, net=NET_IPV4, addr=b"\x00" * 4, port=0, time_=None, services=0):
        self.time = int(time.time()) if time_ is None else time_
        self.services = services
        self.net = net
        self.addr = addr
        self.port = port

    @classmethod
    def ipv4(cls, ip, port, time=None, services=0):
        return cls(NET_IPV4, socket.inet_aton(ip), port, time, services)

    @classmethod
    def ipv6(cls, ip, port, time=None, services=0):
        return cls(NET_IPV6, socket.inet_pton(socket.AF_INET6, ip), port, time, services)

    @classmethod
    def torv3(cls, pubkey, port, time=None, services=0):
        return cls(NET_TORV3, pubkey, port, time, services)

    @classmethod
    def parse(cls, hostport, time=None, services=0):
        """From "1.2.3.4:5" or "[::1]:5" (getpeerinfo's addr form)."""
        host, _, port = hostport.rpartition(":")
        if host.startswith("["):
            return cls.ipv6(host[1:-1], int(port), time, services)
        return cls.ipv4(host, int(port), time, services)

    @property
    def host(self):
        """The address as getnodeaddresses prints it (IPv4/IPv6; hex for the others)."""
        if self.net == NET_IPV4 and len(self.addr) == 4:
            return socket.inet_ntoa(self.addr)
        if self.net in (NET_IPV6, NET_CJDNS) and len(self.addr) == 16:
            return socket.inet_ntop(socket.AF_INET6, self.addr)
        if self.net == NET_TORV3 and len(self.addr) == 32:
            return onion_v3_name(self.addr)
        if self.net == NET_I2P and len(self.addr) == 32:
            return i2p_name(self.addr)
        return self.addr.hex()

    @property
    def network(self):
        return NET_NAMES.get(self.net, "unknown")

    def key(self):
        """(network id, address bytes, port): what identifies an address (not time, services)."""
        return (self.net, self.addr, self.port)

    def __str__(self):
        if self.net in (NET_IPV6, NET_CJDNS):
            return "[%s]:%d" % (self.host, self.port)
        return "%s:%d" % (self.host, self.port)

    def serialize(self):
        return (struct.pack("<I", self.time) + ser_compact_size(self.services) +
                struct.pack("<B", self.net) + ser_string(self.addr) + struct.pack(">H", self.port))

    @classmethod
    def deserialize(cls, f):
        """Read one entry; raise DeserializationError as doc/protocol.md says (an address
        longer than 512 bytes, a known network with another length)."""
        t = struct.unpack("<I", _read_exact(f, 4))[0]
        services = deser_compact_size(f)
        net = _read_exact(f, 1)[0]
        addr = deser_string(f, WIRE_ADDRV2_MAX_ADDRLEN)
        if net in ADDRV2_NET_LEN and len(addr) != ADDRV2_NET_LEN[net]:
            raise DeserializationError("network %d with a %d-byte address" % (net, len(addr)))
        port = struct.unpack(">H", _read_exact(f, 2))[0]
        return cls(net, addr, port, t, services)

    def __eq__(self, other):
        return isinstance(other, AddrV2Entry) and self.serialize() == other.serialize()

    def __hash__(self):
        return hash(self.serialize())

    def __repr__(self):
        return "AddrV2Entry(%s net=%d time=%d services=%#x)" % (self, self.net, self.time,
                                                              self.services)


class msg_getaddr:
    """Empty payload ("send me addresses"); payload= sends extra bytes (they are ignored)."""
    command = b"getaddr"

    def __init__(self, payload=b""):
        self.payload = payload

    def serialize(self):
        return self.payload

    @classmethod
    def deserialize(cls, payload):
        return cls(payload)

    def __repr__(self):
        return "msg_getaddr(%d bytes)" % len(self.payload)


class msg_addrv2:
    """A list of AddrV2Entry. Serialization writes whatever it holds (1,001 entries too, for
    tests); deserialization applies every rule of doc/protocol.md: count <= 1,000, lengths,
    canonical compactsizes, no trailing bytes. Tor v2 and unknown-network entries decode but
    are left out of `addrs` (counted in `skipped`), as the node does."""
    command = b"addrv2"

    def __init__(self, addrs=None):
        self.addrs = list(addrs or [])
        self.skipped = 0

    def serialize(self):
        return ser_compact_size(len(self.addrs)) + b"".join(a.serialize() for a in self.addrs)

    @classmethod
    def deserialize(cls, payload):
        f = io.BytesIO(payload)
        n = deser_compact_size(f)
        if n > WIRE_MAX_ADDR:
            raise DeserializationError("addrv2 with %d entries" % n)
        m = cls()
        for _ in range(n):
            e = AddrV2Entry.deserialize(f)
            if e.net not in ADDRV2_NET_LEN or e.net == NET_TORV2:
                m.skipped += 1
            else:
                m.addrs.append(e)
        if f.read(1):
            raise DeserializationError("bytes after the last addrv2 entry")
        return m

    def __repr__(self):
        shown = ", ".join(str(a) for a in self.addrs[:3])
        return "msg_addrv2(%d: %s%s)" % (len(self.addrs), shown,
                                         ", ..." if len(self.addrs) > 3 else "")


def addrv2_batches(entries, per_msg=WIRE_MAX_ADDR):
    """Split entries into msg_addrv2 messages of at most per_msg entries."""
    return [msg_addrv2(entries[i:i + per_msg]) for i in range(0, len(entries), per_msg)]


def distinct_ipv4_entries(n, first_octet=11, port=None, time=None):
    """n AddrV2Entry with distinct routable IPv4 addresses first_octet.x.y.7 (256 per /16
    group); port: fixed, or None for 1000 + i; time: None for now."""
    out = []
    for i in range(n):
        ip = "%d.%d.%d.%d" % (first_octet + i // 65536, (i // 256) % 256, i % 256, 7)
        out.append(AddrV2Entry.ipv4(ip, port if port is not None else 1000 + i % 60000,
                                    time=time))
    return out


# --- signed messages ---------------------------------------------------------------------------

def random_seckey():
    """A random valid secret key (32 bytes)."""
    while True:
        k = os.urandom(32)
        if 1 <= int.from_bytes(k, "big") < bip340.N:
            return k


def leading_zero_bits(h):
    """Leading zero bits of a hash, bytes in order, most significant bit first (0-256)."""
    n = 0
    for b in h:
        if b == 0:
            n += 8
            continue
        return n + 8 - b.bit_length()
    return n


_TAG_PREFIX = hashlib.sha256(SIGMSG_TAG.encode()).digest() * 2


def sigmsg_id(unsigned):
    """The id of a message from its serialization without the signature."""
    return bip340.tagged_hash(SIGMSG_TAG, unsigned)


class SignedMessage:
    """A signed message. Fields are kept as given (so invalid messages can be built too):
    version (int), topic (bytes), created_at (int), author (32 bytes), refs (list of 32-byte
    ids), body (bytes), nonce (int), sig (64 bytes)."""

    def __init__(self, topic=b"test", body=b"", created_at=None, author=None, refs=(),
                 nonce=0, sig=None, version=SIGMSG_FORMAT_VERSION):
        self.version = version
        self.topic = topic.encode() if isinstance(topic, str) else topic
        self.created_at = int(time.time()) if created_at is None else created_at
        self.author = author or b"\x00" * 32
        self.refs = [bytes.fromhex(r) if isinstance(r, str) else r for r in refs]
        self.body = body.encode() if isinstance(body, str) else body
        self.nonce = nonce
        self.sig = sig or b"\x00" * 64

    # serialization
    def _prefix(self):
        """Everything before the nonce."""
        r = struct.pack("<B", self.version)
        r += ser_string(self.topic)
        r += struct.pack("<q", self.created_at)
        r += self.author
        r += ser_compact_size(len(self.refs)) + b"".join(self.refs)
        r += ser_string(self.body)
        return r

    def serialize_unsigned(self):
        return self._prefix() + struct.pack("<Q", self.nonce)

    def serialize(self):
        return self.serialize_unsigned() + self.sig

    @classmethod
    def deserialize(cls, data):
        """Decode as a node must: every format rule of doc/protocol.md; raises
        DeserializationError for a malformed message."""
        f = io.BytesIO(data)
        m = cls.__new__(cls)
        m.version = _read_exact(f, 1)[0]
        if m.version != SIGMSG_FORMAT_VERSION:
            raise DeserializationError("format version %d" % m.version)
        m.topic = deser_string(f, SIGMSG_TOPIC_MAX)
        if not topic_valid(m.topic):
            raise DeserializationError("bad topic %r" % m.topic)
        m.created_at = struct.unpack("<q", _read_exact(f, 8))[0]
        if m.created_at < 0:
            raise DeserializationError("negative created_at")
        m.author = _read_exact(f, 32)
        nrefs = deser_compact_size(f)
        if nrefs > SIGMSG_MAX_REFS:
            raise DeserializationError("%d references" % nrefs)
        m.refs = [_read_exact(f, 32) for _ in range(nrefs)]
        m.body = deser_string(f, SIGMSG_MAX_BODY)
        m.nonce = struct.unpack("<Q", _read_exact(f, 8))[0]
        m.sig = _read_exact(f, 64)
        if f.read(1):
            raise DeserializationError("trailing bytes")
        return m

    @classmethod
    def from_hex(cls, h):
        return cls.deserialize(bytes.fromhex(h))

    def hex(self):
        return self.serialize().hex()

    # id, proof-of-work, signature
    @property
    def id(self):
        return sigmsg_id(self.serialize_unsigned())

    @property
    def id_hex(self):
        return self.id.hex()

    @property
    def pow(self):
        return leading_zero_bits(self.id)

    def mine(self, pow_bits, start=0):
        """Set the nonce to the first one from start whose id has >= pow_bits zero bits."""
        h = hashlib.sha256(_TAG_PREFIX + self._prefix())
        nonce = start
        while True:
            c = h.copy()
            c.update(struct.pack("<Q", nonce))
            if leading_zero_bits(c.digest()) >= pow_bits:
                self.nonce = nonce
                return nonce
            nonce = (nonce + 1) & 0xFFFFFFFFFFFFFFFF

    def sign(self, seckey, pow_bits=0, aux_rand=None):
        """Set the author from seckey, mine pow_bits, sign the id. Returns self."""
        self.author = bip340.pubkey_gen(seckey)
        if pow_bits:
            self.mine(pow_bits)
        self.sig = bip340.sign(seckey, self.id, aux_rand)
        return self

    def verify(self):
        return bip340.verify(self.author, self.id, self.sig)

    def size(self):
        return len(self.serialize())

    def expected_json(self):
        """What getmessage / decodemessage / p2p-util decode show (doc/messages.md), without
        received_at and valid."""
        d = {
            "id": self.id_hex,
            "version": self.version,
            "topic": self.topic.decode(),
            "created_at": self.created_at,
            "author": self.author.hex(),
            "refs": [r.hex() for r in self.refs],
            "body_hex": self.body.hex(),
            "size": self.size(),
            "pow": self.pow,
            "nonce": self.nonce,
            "sig": self.sig.hex(),
        }
        try:
            d["body"] = self.body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        return d

    def __repr__(self):
        return "SignedMessage(id=%s topic=%r created_at=%d body=%d bytes refs=%d pow=%d)" % (
            self.id_hex[:16], self.topic, self.created_at, len(self.body), len(self.refs),
            self.pow)


msg_signed = SignedMessage  # the name the issue-4 brief uses


def topic_valid(topic):
    if isinstance(topic, str):
        topic = topic.encode()
    return 1 <= len(topic) <= SIGMSG_TOPIC_MAX and all(c in SIGMSG_TOPIC_CHARS for c in topic)


def make_message(seckey, topic="test", body=b"", created_at=None, refs=(), pow_bits=0,
                 **kwargs):
    """A signed message in one call."""
    return SignedMessage(topic=topic, body=body, created_at=created_at, refs=refs,
                         **kwargs).sign(seckey, pow_bits)


# --- inventory -------------------------------------------------------------------------------

class _msg_inv_base:
    """inv / getdata / notfound: entries of (type, 32-byte hash).

    msg_inv([id1, id2])                      # type INV_SIGNED_MSG
    msg_inv(entries=[(1, h), (0x20, h2)])    # any types
    """
    command = b""

    def __init__(self, hashes=(), entries=None):
        if entries is None:
            entries = [(INV_SIGNED_MSG, h.id if isinstance(h, SignedMessage) else
                        (bytes.fromhex(h) if isinstance(h, str) else h)) for h in hashes]
        self.entries = list(entries)

    @property
    def hashes(self):
        """The hashes of the INV_SIGNED_MSG entries."""
        return [h for t, h in self.entries if t == INV_SIGNED_MSG]

    def serialize(self):
        return ser_compact_size(len(self.entries)) + b"".join(
            struct.pack("<I", t) + h for t, h in self.entries)

    @classmethod
    def deserialize(cls, payload):
        f = io.BytesIO(payload)
        n = deser_compact_size(f)
        if n > WIRE_MAX_INV:
            raise DeserializationError("%d inventory entries" % n)
        entries = []
        for _ in range(n):
            t = struct.unpack("<I", _read_exact(f, 4))[0]
            entries.append((t, _read_exact(f, 32)))
        if f.read(1):
            raise DeserializationError("trailing bytes")
        return cls(entries=entries)

    def __repr__(self):
        shown = ", ".join("%#x:%s" % (t, h.hex()[:12]) for t, h in self.entries[:4])
        more = " ..." if len(self.entries) > 4 else ""
        return "%s(%d: %s%s)" % (type(self).__name__, len(self.entries), shown, more)


class msg_inv(_msg_inv_base):
    command = b"inv"


class msg_getdata(_msg_inv_base):
    command = b"getdata"


class msg_notfound(_msg_inv_base):
    command = b"notfound"


class msg_msg:
    """A `msg`: one serialized signed message, or (to send garbage) any bytes.

    msg_msg(signed_message) / msg_msg(b"raw bytes"). Received ones carry .message (a
    SignedMessage) and .payload."""
    command = b"msg"

    def __init__(self, message=None):
        if isinstance(message, (bytes, bytearray)):
            self.message = None
            self.payload = bytes(message)
        else:
            self.message = message
            self.payload = message.serialize() if message is not None else b""

    def serialize(self):
        return self.payload

    @classmethod
    def deserialize(cls, payload):
        m = cls(SignedMessage.deserialize(payload))
        m.payload = payload
        return m

    @property
    def id(self):
        return self.message.id if self.message is not None else None

    def __repr__(self):
        return "msg_msg(%r)" % (self.message if self.message is not None else
                                "%d raw bytes" % len(self.payload))


# --- compression -------------------------------------------------------------------------------

class msg_sendzlib(_msg_empty):
    command = b"sendzlib"


class msg_zlib_raw:
    """A `zlib` payload built field by field: any inner command (bytes, any length), any
    declared length, any stream. For bombs, corrupt and truncated streams."""
    command = b"zlib"

    def __init__(self, inner_command, declared_len, stream):
        self.inner_command = (inner_command.encode() if isinstance(inner_command, str)
                              else inner_command)
        self.declared_len = declared_len
        self.stream = stream

    def serialize(self):
        return (ser_string(self.inner_command) + struct.pack("<I", self.declared_len) +
                self.stream)

    @classmethod
    def deserialize(cls, payload):
        f = io.BytesIO(payload)
        cmd = deser_string(f, COMMAND_SIZE)
        if not cmd or not all(0x21 <= c <= 0x7E for c in cmd):
            raise DeserializationError("bad inner command %r" % cmd)
        declared = struct.unpack("<I", _read_exact(f, 4))[0]
        if declared > WIRE_MAX_PAYLOAD:
            raise DeserializationError("declared length %d" % declared)
        return cls(cmd, declared, f.read())

    def inflate(self):
        """The inner payload, inflating at most the declared length: raises
        DeserializationError for a bomb (more data), a corrupt or a short stream."""
        d = zlib.decompressobj()
        try:
            # max_length 0 means "no limit" to zlib: ask for one byte instead.
            out = d.decompress(self.stream, self.declared_len) if self.declared_len else b""
            if not d.eof:
                rest = d.unconsumed_tail if self.declared_len else self.stream
                if d.decompress(rest, 1):
                    raise DeserializationError("zlib stream inflates past the declared %d "
                                               "bytes" % self.declared_len)
                if not d.eof:
                    raise DeserializationError("zlib stream ends short (%d of %d bytes)" %
                                               (len(out), self.declared_len))
        except zlib.error as e:
            raise DeserializationError("corrupt zlib stream: %s" % e)
        if len(out) != self.declared_len:
            raise DeserializationError("zlib stream inflates to %d bytes, %d declared" %
                                       (len(out), self.declared_len))
        return out

    def __repr__(self):
        return "%s(%r, declared=%d, stream=%d bytes)" % (type(self).__name__, self.inner_command,
                                                        self.declared_len, len(self.stream))


class msg_zlib(msg_zlib_raw):
    """A well-formed `zlib` message wrapping inner (any message object)."""

    def __init__(self, inner, level=6):
        payload = inner.serialize()
        super().__init__(inner.command, len(payload), zlib.compress(payload, level))
        self.inner = inner


def zlib_bomb(inner_command=b"ping", declared_len=1000, inflated_len=4000000):
    """A `zlib` message declaring declared_len bytes whose stream inflates to inflated_len."""
    return msg_zlib_raw(inner_command, declared_len, zlib.compress(b"\x00" * inflated_len, 9))


MESSAGE_TYPES = {cls.command: cls for cls in
                 (msg_version, msg_verack, msg_sendaddrv2, msg_ping, msg_pong, msg_inv,
                  msg_getdata, msg_notfound, msg_msg, msg_sendzlib, msg_zlib_raw,
                  msg_getaddr, msg_addrv2)}


# --- frames ---------------------------------------------------------------------------------

def encode_frame_raw(command, payload, magic=MAGIC["regtest"], checksum_override=None,
                     length=None):
    """One frame. command: bytes, NUL-padded (or cut) to 12. The checksum and length can be
    overridden to build invalid frames; payload is appended as given in any case."""
    if isinstance(command, str):
        command = command.encode()
    cmd = command[:COMMAND_SIZE].ljust(COMMAND_SIZE, b"\x00")
    n = len(payload) if length is None else length
    cs = checksum(payload) if checksum_override is None else checksum_override
    return magic + cmd + struct.pack("<I", n) + cs + payload


def encode_frame(msg, magic=MAGIC["regtest"]):
    return encode_frame_raw(msg.command, msg.serialize(), magic)


class FrameHeader:
    def __init__(self, magic, command, length, checksum_):
        self.magic = magic
        self.command = command  # bytes, NULs stripped
        self.length = length
        self.checksum = checksum_


def decode_header(data):
    """Parse 24 header bytes (no checks); the command loses its NUL padding."""
    if len(data) != HEADER_SIZE:
        raise DeserializationError("header of %d bytes" % len(data))
    magic, cmd, length, cs = data[:4], data[4:16], struct.unpack("<I", data[16:20])[0], data[20:24]
    return FrameHeader(magic, cmd.rstrip(b"\x00"), length, cs)


def command_valid(raw12):
    """Whether 12 command bytes are valid: 1-12 printable ASCII (0x21-0x7e), then NULs only."""
    name = raw12.rstrip(b"\x00")
    return (len(raw12) == COMMAND_SIZE and 1 <= len(name) and
            all(0x21 <= c <= 0x7E for c in name))


def decode_message(command, payload):
    """The message object for a received frame: a known class, or msg_raw. A known command
    whose payload does not decode raises DeserializationError."""
    cls = MESSAGE_TYPES.get(command)
    if cls is None:
        return msg_raw(command, payload)
    return cls.deserialize(payload)
