"""P2PInterface: a scripted test peer that speaks the p2pd wire protocol to a real node.

In the manner of Bitcoin Core's test_framework/p2p.py, but simpler: one blocking socket and one
reader thread per connection.

    p2p = node.add_p2p_connection()          # connect, handshake, wait for verack
    p2p.send_message(msg_ping(nonce=1))
    p2p.wait_for_message("pong")
    p2p.send_raw(b"garbage")                 # anything at all
    p2p.wait_for_disconnect()

What it does on its own (each toggleable):
- auto_handshake: on the node's `version`, answer with our `version` (if not yet sent) and
  `verack` (if auto_verack);
- auto_pong: answer each `ping` with a `pong` carrying its nonce;
- getdata_mode: how a `getdata` for signed messages is answered: "answer" (default: a `msg` for
  each id the peer holds in `store`, one `notfound` for the rest), "notfound" (everything is
  not found), "ignore" (never answered: an announcer that never delivers).

Signed messages (doc/protocol.md, "Relay"):

    p2p = node.add_p2p_connection(send_sendzlib=True)  # negotiate compression too
    p2p.announce(m)                 # keep m in p2p.store, send inv; getdata is answered
    p2p.announce_ids([id])          # inv only (nothing to deliver)
    p2p.send_unrequested(m)         # a msg nobody asked for
    p2p.wait_for_getdata([m.id])    # the node asked us for it
    p2p.wait_for_inv([m.id])        # the node announced it to us
    p2p.request([m.id])             # send getdata; received bodies land in p2p.received_msgs

With send_sendzlib the peer sends `sendzlib` after its version; `zlib_negotiated` is true once the
node sent it too. Every `zlib` frame received is inflated (bounded by its declared length) and the
inner message handled as if it had come in its own frame (also recorded under b"zlib" and counted
in `zlib_received`); a `zlib` frame from a node we never sent `sendzlib` to is an error.
`send_message(m, compress=True)` wraps m in a `zlib` frame.

Address gossip (doc/protocol.md, "getaddr", "addrv2"):

    p2p.send_getaddr()                        # ask the node for addresses
    p2p.send_addrs([AddrV2Entry.ipv4("11.1.2.3", 29733)])  # one addrv2 (any number of entries)
    p2p.wait_for_addrs(["11.1.2.3:29733"])    # the node sent us these (any of its addrv2s)
    P2PInterface(getaddr_answer=[...])        # a fake seed: every getaddr is answered with these

Received addresses are kept in `addrs_received` (AddrV2Entry, in order, repeats kept);
`addrv2_received` counts addrv2 messages and `getaddr_received` the node's getaddr requests.

Every received message is recorded: `messages[command]` (list, in order), `message_count`,
`last_message`, and `message_log` ((command, payload) in arrival order). A frame whose magic is wrong, or a known message that does not decode, is
recorded in `errors` (the node should never send one).
"""

import collections
import random
import socket
import threading
import time

from .messages import (
    CAddress,
    DeserializationError,
    HEADER_SIZE,
    MAGIC,
    checksum,
    decode_header,
    decode_message,
    encode_frame,
    msg_addrv2,
    msg_getaddr,
    msg_getdata,
    msg_inv,
    msg_msg,
    msg_notfound,
    msg_ping,
    msg_pong,
    msg_sendaddrv2,
    msg_sendzlib,
    msg_verack,
    msg_version,
    msg_zlib,
    msg_zlib_raw,
    SignedMessage,
)
from .util import DEFAULT_TIMEOUT

# Largest payload the test peer accepts from the node before it gives up on the stream.
TEST_PEER_MAX_PAYLOAD = 4000000


class P2PInterface:
    """One connection to (or from) a p2pd node.

    magic: the network magic; version_kwargs: fields of the msg_version we send (see
    messages.msg_version); send_sendaddrv2: send `sendaddrv2` right after our version.
    """

    def __init__(self, magic=MAGIC["regtest"], auto_handshake=True, auto_verack=True,
                 auto_pong=True, send_sendaddrv2=True, version_kwargs=None, log=None,
                 send_sendzlib=False, getdata_mode="answer", getaddr_answer=None):
        self.magic = magic
        # None: ignore the node's getaddr; a list of AddrV2Entry: answer each getaddr with it
        # (in addrv2 messages of at most 1,000).
        self.getaddr_answer = getaddr_answer
        self.send_sendzlib = send_sendzlib
        self.getdata_mode = getdata_mode
        self.auto_handshake = auto_handshake
        self.auto_verack = auto_verack
        self.auto_pong = auto_pong
        self.send_sendaddrv2 = send_sendaddrv2
        self.version_kwargs = dict(version_kwargs or {})
        self._log = log or (lambda msg: None)

        self.sock = None
        self.local_port = None
        self.local_ip = None  # our end's address ("127.0.0.1", or the source= given)
        self.remote = None  # (host, port) of the node's end
        self.version_sent = None  # the msg_version we sent
        self.verack_sent = False
        self.bytes_sent = 0
        self.bytes_recv = 0

        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self._connected = False
        self._closing = False
        self._reader = None
        self._reading = threading.Event()
        self._reading.set()
        self.messages = collections.defaultdict(list)
        self.message_count = collections.Counter()
        self.last_message = {}
        self.message_log = []  # (command, payload) of every message received, in order
        self.pong_nonces = set()  # nonces of every pong received (fast lookup)
        self.errors = []

        # Signed messages.
        self.store = {}             # id -> SignedMessage (or raw bytes) we can deliver
        self.inv_received = []      # ids the node announced to us, in order (repeats kept)
        self.getdata_received = []  # ids the node requested from us, in order (repeats kept)
        self.notfound_received = [] # ids the node answered notfound
        self.received_msgs = {}     # id -> SignedMessage: bodies the node sent us
        self.msgs_served = []       # ids we delivered in answer to getdata
        self.zlib_recv_from_node = False  # the node sent sendzlib
        self.zlib_received = 0      # zlib frames received (inflated)

        # Address gossip.
        self.addrs_received = []    # AddrV2Entry from every addrv2 received, in order
        self.addrv2_received = 0    # addrv2 messages received
        self.getaddr_received = 0   # getaddr messages received
        self.getaddr_answered = 0   # getaddr messages we answered (getaddr_answer)
    # --- connecting ------------------------------------------------------------------------

    def peer_connect(self, host, port, timeout=10, rcvbuf=None, sndbuf=None, source=None):
        """Open a TCP connection to the node; start the reader. Sends nothing.
        source: the local address to connect from (e.g. "127.5.0.1": any 127/8 address is
        loopback on Linux, so test peers can come from different /16 network groups)."""
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                          socket.SOCK_STREAM)
        self._set_bufs(s, rcvbuf, sndbuf)
        if source:
            s.bind((source, 0))
        s.settimeout(timeout)
        s.connect((host, port))
        s.settimeout(None)
        self._attach(s, (host, port))
        return self

    def peer_accept(self, listener, timeout=10, rcvbuf=None, sndbuf=None):
        """Accept one connection (the node dialling us) on a listening socket; start the
        reader. rcvbuf/sndbuf are set on the listener so the accepted socket inherits them."""
        self._set_bufs(listener, rcvbuf, sndbuf)
        listener.settimeout(timeout)
        try:
            s, addr = listener.accept()
        except socket.timeout:
            raise AssertionError("no connection from the node within %gs" % timeout)
        s.settimeout(None)
        self._attach(s, addr[:2])
        return self

    @staticmethod
    def _set_bufs(s, rcvbuf, sndbuf):
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if sndbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)

    def _attach(self, s, remote):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = s
        self.remote = remote
        self.local_ip, self.local_port = s.getsockname()[:2]
        with self._cond:
            self._connected = True
        self._reader = threading.Thread(target=self._read_loop, daemon=True,
                                        name="p2p-reader-%d" % self.local_port)
        self._reader.start()

    @property
    def local_addr(self):
        """Our end as the node's getpeerinfo "addr" shows it: "ip:port"."""
        if self.local_ip and ":" in self.local_ip:
            return "[%s]:%d" % (self.local_ip, self.local_port)
        return "%s:%d" % (self.local_ip or "127.0.0.1", self.local_port)

    @property
    def is_connected(self):
        with self._cond:
            return self._connected

    def peer_disconnect(self):
        """Close our end (both directions) and wait for the reader to end."""
        if self.sock is None:
            return
        self._closing = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._reading.set()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout=10)
        try:
            self.sock.close()
        except OSError:
            pass
        with self._cond:
            self._connected = False
            self._cond.notify_all()

    def stop_reading(self):
        """Stop reading the socket (the node's data piles up in the kernel buffers)."""
        self._reading.clear()

    def resume_reading(self):
        self._reading.set()

    # --- sending -----------------------------------------------------------------------------

    def send_raw(self, data):
        """Send bytes as they are (a frame, a piece of one, or garbage)."""
        with self._send_lock:
            self.sock.sendall(data)
            self.bytes_sent += len(data)

    def send_message(self, msg, compress=False):
        """Frame msg with our magic and send it; compress: wrapped in a `zlib` frame."""
        if compress:
            msg = msg_zlib(msg)
        if msg.command not in (b"ping", b"pong"):
            self._log("p2p %d: send %r" % (self.local_port, msg))
        self.send_raw(encode_frame(msg, self.magic))

    def make_version(self, **overrides):
        """A msg_version from version_kwargs (and overrides), addressed to the node."""
        kwargs = dict(self.version_kwargs)
        kwargs.update(overrides)
        if "addr_recv" not in kwargs and self.remote is not None:
            host = self.remote[0]
            kwargs["addr_recv"] = CAddress(host, self.remote[1])
        return msg_version(**kwargs)

    def send_version(self, **overrides):
        """Send our version (and sendaddrv2 if send_sendaddrv2)."""
        v = self.make_version(**overrides)
        data = encode_frame(v, self.magic)
        if self.send_sendaddrv2:
            data += encode_frame(msg_sendaddrv2(), self.magic)
        if self.send_sendzlib:
            data += encode_frame(msg_sendzlib(), self.magic)
        # One write, under the send lock, so that the reader thread's verack (sent when the
        # node's version arrives) can never come between our version and sendaddrv2.
        with self._send_lock:
            self.version_sent = v
            self._log("p2p %d: send %r%s%s" % (self.local_port, v,
                                                 " + sendaddrv2" if self.send_sendaddrv2 else "",
                                                 " + sendzlib" if self.send_sendzlib else ""))
            self.sock.sendall(data)
            self.bytes_sent += len(data)
        return v

    def send_verack(self):
        self.verack_sent = True
        self.send_message(msg_verack())

    def send_and_ping(self, msg, timeout=DEFAULT_TIMEOUT):
        """Send msg, then sync_with_ping: when this returns, the node has processed msg."""
        self.send_message(msg)
        self.sync_with_ping(timeout)

    def sync_with_ping(self, timeout=DEFAULT_TIMEOUT):
        """Send a ping with a fresh nonce and wait for the matching pong."""
        nonce = random.getrandbits(64) | 1
        self.send_message(msg_ping(nonce))
        self.wait_until(lambda: nonce in self.pong_nonces, timeout, "pong with nonce %#x" % nonce)

    # --- receiving ---------------------------------------------------------------------------

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            self._reading.wait()
            chunk = self.sock.recv(min(n - len(buf), 65536))
            if not chunk:
                return None
            self.bytes_recv += len(chunk)
            buf += chunk
        return buf

    def _read_loop(self):
        why = "closed by the node"
        try:
            while True:
                raw = self._recv_exact(HEADER_SIZE)
                if raw is None:
                    break
                h = decode_header(raw)
                if h.magic != self.magic:
                    self._error("bad magic %s" % h.magic.hex())
                    break
                if h.length > TEST_PEER_MAX_PAYLOAD:
                    self._error("%r announces %d bytes" % (h.command, h.length))
                    break
                payload = self._recv_exact(h.length) if h.length else b""
                if payload is None:
                    break
                self._on_frame(h.command, payload, h.checksum)
        except OSError as e:
            why = "socket error: %s" % e
        if self._closing:
            why = "closed by the test"
        self._log("p2p %s: disconnected (%s)" % (self.local_port, why))
        with self._cond:
            self._connected = False
            self._cond.notify_all()

    def _error(self, text):
        with self._cond:
            self.errors.append(text)

    def _on_frame(self, command, payload, cs):
        if checksum(payload) != cs:
            self._error("bad checksum on %r" % command)
            return
        if command == b"zlib":
            self._on_zlib(payload)
            return
        self._on_payload(command, payload)

    def _on_zlib(self, payload):
        """Inflate a zlib frame (bounded) and handle its inner message."""
        if not self.send_sendzlib:
            self._error("zlib frame although we never sent sendzlib")
            return
        try:
            z = msg_zlib_raw.deserialize(payload)
            inner = z.inflate()
        except DeserializationError as e:
            self._error("malformed zlib: %s" % e)
            return
        if z.inner_command == b"zlib":
            self._error("zlib inside zlib")
            return
        with self._cond:
            self.zlib_received += 1
            self.messages[b"zlib"].append(z)
            self.message_count[b"zlib"] += 1
            self.last_message[b"zlib"] = z
        self._on_payload(z.inner_command, inner)

    def _on_payload(self, command, payload):
        try:
            msg = decode_message(command, payload)
        except DeserializationError as e:
            self._error("malformed %r: %s" % (command, e))
            return
        with self._cond:
            self.messages[command].append(msg)
            self.message_count[command] += 1
            self.last_message[command] = msg
            self.message_log.append((command, payload))
            if isinstance(msg, msg_pong):
                self.pong_nonces.add(msg.nonce)
            elif isinstance(msg, msg_sendzlib):
                self.zlib_recv_from_node = True
            elif isinstance(msg, msg_inv):
                self.inv_received.extend(msg.hashes)
            elif isinstance(msg, msg_getdata):
                self.getdata_received.extend(msg.hashes)
            elif isinstance(msg, msg_notfound):
                self.notfound_received.extend(msg.hashes)
            elif isinstance(msg, msg_msg):
                self.received_msgs[msg.id] = msg.message
            elif isinstance(msg, msg_addrv2):
                self.addrv2_received += 1
                self.addrs_received.extend(msg.addrs)
            elif isinstance(msg, msg_getaddr):
                self.getaddr_received += 1
        try:
            self.on_message(msg)
        finally:
            with self._cond:
                self._cond.notify_all()

    def on_message(self, msg):
        """Called on the reader thread for each received message. Override to script."""
        if isinstance(msg, msg_version) and self.auto_handshake:
            if self.version_sent is None:
                self.send_version()
            if self.auto_verack and not self.verack_sent:
                self.send_verack()
        elif isinstance(msg, msg_ping) and self.auto_pong:
            self.send_message(msg_pong(msg.nonce))
        elif isinstance(msg, msg_getdata):
            self.on_getdata(msg)
        elif isinstance(msg, msg_getaddr) and self.getaddr_answer is not None:
            self.send_addrs(self.getaddr_answer)
            with self._cond:
                self.getaddr_answered += 1

    def on_getdata(self, msg):
        """Answer a getdata as getdata_mode says. Override for other scripts."""
        if self.getdata_mode == "ignore":
            return
        missing = []
        for h in msg.hashes:
            item = self.store.get(h) if self.getdata_mode == "answer" else None
            if item is None:
                missing.append(h)
                continue
            self.send_message(msg_msg(item))
            with self._cond:
                self.msgs_served.append(h)
        if missing:
            self.send_message(msg_notfound(missing))

    # --- signed messages ---------------------------------------------------------------------

    @property
    def zlib_negotiated(self):
        """Both sides sent sendzlib: zlib frames may flow both ways."""
        return self.send_sendzlib and self.zlib_recv_from_node

    def add_to_store(self, messages, key=None):
        """Keep messages (SignedMessage, or raw bytes with key= the id to serve them under)."""
        if isinstance(messages, (SignedMessage, bytes)):
            messages = [messages]
        for m in messages:
            self.store[key if key is not None else m.id] = m

    def announce(self, messages):
        """Keep each message (to answer getdata) and announce all in one inv."""
        if isinstance(messages, SignedMessage):
            messages = [messages]
        self.add_to_store(messages)
        self.send_message(msg_inv([m.id for m in messages]))

    def announce_ids(self, ids):
        """An inv of these ids (bytes or hex), without keeping anything to deliver."""
        self.send_message(msg_inv(ids))

    def send_unrequested(self, m):
        """Send a msg the node did not ask for."""
        self.send_message(msg_msg(m))

    def request(self, ids):
        """Send getdata for ids (bytes or hex)."""
        self.send_message(msg_getdata(ids))

    @staticmethod
    def _ids(ids):
        return [bytes.fromhex(i) if isinstance(i, str) else
                (i.id if isinstance(i, SignedMessage) else i) for i in ids]

    def wait_for_inv(self, ids, timeout=DEFAULT_TIMEOUT):
        """Wait until the node has announced every id in ids to us."""
        ids = self._ids(ids)
        self.wait_until(lambda: all(i in self.inv_received for i in ids), timeout,
                        "inv of %d id(s)" % len(ids))

    def wait_for_getdata(self, ids, timeout=DEFAULT_TIMEOUT):
        """Wait until the node has requested every id in ids from us."""
        ids = self._ids(ids)
        self.wait_until(lambda: all(i in self.getdata_received for i in ids), timeout,
                        "getdata of %d id(s)" % len(ids))

    def wait_for_msgs(self, ids, timeout=DEFAULT_TIMEOUT):
        """Wait until the node has sent us the body of every id in ids; returns them."""
        ids = self._ids(ids)
        self.wait_until(lambda: all(i in self.received_msgs for i in ids), timeout,
                        "msg body of %d id(s)" % len(ids))
        with self._cond:
            return [self.received_msgs[i] for i in ids]

    def wait_for_notfound(self, ids, timeout=DEFAULT_TIMEOUT):
        ids = self._ids(ids)
        self.wait_until(lambda: all(i in self.notfound_received for i in ids), timeout,
                        "notfound of %d id(s)" % len(ids))

    def getdata_count(self, id_):
        """How many times the node requested this id from us."""
        with self._cond:
            return self.getdata_received.count(self._ids([id_])[0])

    def inv_count(self, id_):
        with self._cond:
            return self.inv_received.count(self._ids([id_])[0])

    # --- address gossip ------------------------------------------------------------------------

    def send_getaddr(self):
        self.send_message(msg_getaddr())

    def send_addrs(self, entries, per_msg=1000):
        """Send entries (AddrV2Entry) in addrv2 messages of at most per_msg each (one message,
        possibly empty, when there are none). Returns the number of messages."""
        entries = list(entries)
        batches = [entries[i:i + per_msg] for i in range(0, len(entries), per_msg)] or [[]]
        for b in batches:
            self.send_message(msg_addrv2(b))
        return len(batches)

    def addr_strings(self):
        """The set of "ip:port" (IPv6 as "[ip]:port") of the addresses received so far."""
        with self._cond:
            return {str(a) for a in self.addrs_received}

    def wait_for_addrs(self, wanted, timeout=DEFAULT_TIMEOUT):
        """Wait until every address in wanted ("ip:port" strings or AddrV2Entry) was received."""
        wanted = {w if isinstance(w, str) else str(w) for w in wanted}
        self.wait_until(lambda: wanted <= {str(a) for a in self.addrs_received}, timeout,
                        "addrv2 with %s" % ", ".join(sorted(wanted)[:5]))

    def wait_for_getaddr(self, timeout=DEFAULT_TIMEOUT, count=1):
        self.wait_until(lambda: self.getaddr_received >= count, timeout,
                        "%d getaddr from the node" % count)

    # --- waiting -----------------------------------------------------------------------------

    def wait_until(self, predicate, timeout=DEFAULT_TIMEOUT, what=None):
        """Wait (with the message lock held while testing) until predicate() is true."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("p2p %s: timed out after %gs waiting for %s" %
                                         (self.local_port, timeout, what or "a condition"))
                self._cond.wait(min(left, 0.5))

    def wait_for_message(self, command, timeout=DEFAULT_TIMEOUT, count=1):
        """Wait until at least count messages of command have arrived; return the last."""
        if isinstance(command, str):
            command = command.encode()
        self.wait_until(lambda: self.message_count[command] >= count, timeout,
                        "%d %r message(s)" % (count, command))
        with self._cond:
            return self.last_message[command]

    def wait_for_verack(self, timeout=DEFAULT_TIMEOUT):
        return self.wait_for_message(b"verack", timeout)

    def wait_for_disconnect(self, timeout=DEFAULT_TIMEOUT):
        """Wait until the node has closed the connection (EOF or reset)."""
        self.wait_until(lambda: not self._connected, timeout, "disconnect")

    def clear_messages(self):
        with self._cond:
            self.messages.clear()
            self.message_count.clear()
            self.last_message.clear()
            self.message_log.clear()
            self.pong_nonces.clear()
            self.inv_received.clear()
            self.getdata_received.clear()
            self.notfound_received.clear()
            self.received_msgs.clear()
            self.msgs_served.clear()
            self.addrs_received.clear()
            self.addrv2_received = 0
            self.getaddr_received = 0

    def commands_received(self):
        """The commands received so far, in order (a copy)."""
        with self._cond:
            return [c for c, _ in self.message_log]


def listen_socket(host="127.0.0.1"):
    """A listening TCP socket on a free port, for the node to dial (addnode ... onetry)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, 0))
    s.listen(8)
    return s


class P2PListener:
    """A listening test peer "node": accepts every connection a p2pd node makes to it (outbound
    selection, -seednode, -connect, addnode) on its own thread, and makes a P2PInterface for each
    with factory() (default: P2PInterface(**kwargs)).

        lst = P2PListener(getaddr_answer=[...])          # a fake seed node
        node.start(["-seednode=%s" % lst.addr])
        p2p = lst.wait_for_connection()                   # the first one accepted
        lst.close()                                       # stop listening, close all

    `port`, `addr` ("127.0.0.1:<port>"), `connections` (accepted P2PInterfaces, in order).
    """

    def __init__(self, factory=None, host="127.0.0.1", log=None, **kwargs):
        self._log = log or (lambda msg: None)
        self._factory = factory or (lambda: P2PInterface(log=self._log, **kwargs))
        self.sock = listen_socket(host)
        self.port = self.sock.getsockname()[1]
        self.addr = "%s:%d" % (host, self.port)
        self.connections = []
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._accept_loop, daemon=True,
                                        name="p2p-listener-%d" % self.port)
        self._thread.start()

    def _accept_loop(self):
        while True:
            try:
                s, addr = self.sock.accept()
            except OSError:
                return
            p2p = self._factory()
            s.settimeout(None)
            p2p._attach(s, addr[:2])
            with self._cond:
                self.connections.append(p2p)
                self._cond.notify_all()

    def wait_for_connection(self, count=1, timeout=DEFAULT_TIMEOUT):
        """Wait until count connections were accepted; return the count-th one."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.connections) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("listener %d: %d connection(s) within %gs, wanted %d" %
                                         (self.port, len(self.connections), timeout, count))
                self._cond.wait(min(left, 0.5))
            return self.connections[count - 1]

    def connected(self):
        """The accepted connections that are still open."""
        with self._cond:
            return [p for p in self.connections if p.is_connected]

    def close(self):
        """Stop listening and close every accepted connection."""
        self._closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._thread.join(timeout=5)
        for p in list(self.connections):
            p.peer_disconnect()
