"""The p2pd wire format, written from doc/protocol.md: frames, compactsize, control messages.

Frames (doc/protocol.md, "Frames"):

    magic (4) | command (12, NUL-padded ASCII) | length (uint32 LE) | checksum (4) | payload

    frame = encode_frame(msg_ping(nonce=7))                 # regtest magic by default
    frame = encode_frame_raw(b"ping", b"\\x01\\x02\\x03")      # any command, any payload
    frame = encode_frame_raw(b"ping", b"", checksum=b"xxxx", length=100)  # lies on purpose

Messages are classes with a `command` (bytes), `serialize()` and `deserialize(payload)`;
`msg_raw` carries any command and any payload so tests can send anything, valid or not.
Decoding a received frame gives the message class for a known command, or `msg_raw`.
"""

import hashlib
import io
import random
import socket
import struct
import time

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


MESSAGE_TYPES = {cls.command: cls for cls in
                 (msg_version, msg_verack, msg_sendaddrv2, msg_ping, msg_pong)}


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
