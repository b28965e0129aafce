"""A tiny DNS server for tests: UDP on 127.0.0.1, a free port, one thread.

It answers A and AAAA queries for the names it was given with the addresses it was given,
NXDOMAIN for other names, and an empty answer (NOERROR, no records) for a known name asked for
a type it has no address of. Every query is recorded. The node uses it through
`-dnsserver=127.0.0.1:<port>` and `-dnsseedhost=<name>` (doc/discovery.md).

    dns = DNSServer({"seed.test": ["127.0.0.1"]})
    node.start(["-dnsserver=%s" % dns.addr, "-dnsseedhost=seed.test"])
    dns.wait_for_query("seed.test", "A")
    dns.close()

Wire format: RFC 1035 section 4. The question is echoed byte for byte (resolvers such as
libevent's evdns randomise the letter case of the name and check it comes back unchanged);
names are matched case-insensitively. Answers point back at the question's name (compression
pointer 0xc00c). Additional records of the query (EDNS OPT) are ignored and not echoed.
"""

import socket
import struct
import threading
import time

from .util import DEFAULT_TIMEOUT

QTYPES = {1: "A", 28: "AAAA", 5: "CNAME", 15: "MX", 16: "TXT", 33: "SRV", 255: "ANY"}
RCODE_NOERROR = 0
RCODE_FORMERR = 1
RCODE_NXDOMAIN = 3
RCODE_NOTIMP = 4


def parse_question(data):
    """(id, flags, qname lower-case, qtype, qclass, raw question bytes) of a query.
    Raises ValueError if it is not a single-question query we can read."""
    if len(data) < 12:
        raise ValueError("short DNS header")
    qid, flags, qd, _an, _ns, _ar = struct.unpack(">HHHHHH", data[:12])
    if qd != 1:
        raise ValueError("%d questions" % qd)
    pos = 12
    labels = []
    while True:
        if pos >= len(data):
            raise ValueError("truncated name")
        n = data[pos]
        pos += 1
        if n == 0:
            break
        if n & 0xC0:
            raise ValueError("compressed name in a question")
        labels.append(data[pos:pos + n])
        pos += n
    if pos + 4 > len(data):
        raise ValueError("truncated question")
    qtype, qclass = struct.unpack(">HH", data[pos:pos + 4])
    pos += 4
    name = b".".join(labels).decode("ascii", errors="replace").lower()
    return qid, flags, name, qtype, qclass, data[12:pos]


def build_response(qid, query_flags, question, rcode, answers, qtype, ttl):
    """A response to one question: answers are packed address bytes of type qtype."""
    # QR=1, opcode 0, AA=1, RD copied, RA=1.
    flags = 0x8000 | 0x0400 | (query_flags & 0x0100) | 0x0080 | rcode
    out = struct.pack(">HHHHHH", qid, flags, 1, len(answers), 0, 0) + question
    for rdata in answers:
        out += struct.pack(">HHHIH", 0xC00C, qtype, 1, ttl, len(rdata)) + rdata
    return out


class DNSServer:
    """records: {name: [ip, ...]} (IPv4 and IPv6 text addresses mixed; the A answer carries the
    IPv4 ones, the AAAA answer the IPv6 ones). Change `records` at any time (under no lock: the
    dict is read per query). `queries`: (name, type name) of each query received, in order."""

    def __init__(self, records=None, host="127.0.0.1", ttl=60, log=None):
        self.records = {k.lower().rstrip("."): list(v) for k, v in (records or {}).items()}
        self.ttl = ttl
        self._log = log or (lambda msg: None)
        self.queries = []
        self.errors = []
        self._cond = threading.Condition()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.addr = "%s:%d" % (host, self.port)
        self._closed = False
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name="dns-%d" % self.port)
        self._thread.start()

    def set_records(self, name, ips):
        self.records[name.lower().rstrip(".")] = list(ips)

    def _answers(self, name, qtype):
        """(rcode, [rdata]) for a question."""
        ips = self.records.get(name)
        if ips is None:
            return RCODE_NXDOMAIN, []
        out = []
        for ip in ips:
            if qtype == 1 and ":" not in ip:
                out.append(socket.inet_aton(ip))
            elif qtype == 28 and ":" in ip:
                out.append(socket.inet_pton(socket.AF_INET6, ip))
        return RCODE_NOERROR, out

    def _serve(self):
        self.sock.settimeout(0.2)  # so close() is noticed without waking recvfrom
        while not self._closed:
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                qid, flags, name, qtype, qclass, question = parse_question(data)
            except ValueError as e:
                with self._cond:
                    self.errors.append("%s: %s" % (peer, e))
                if len(data) >= 2:
                    self._send(struct.pack(">HHHHHH", struct.unpack(">H", data[:2])[0],
                                           0x8000 | RCODE_FORMERR, 0, 0, 0, 0), peer)
                continue
            tname = QTYPES.get(qtype, str(qtype))
            if flags & 0x8000 or (flags >> 11) & 0xF:
                rcode, answers = RCODE_NOTIMP, []
            elif qclass != 1:
                rcode, answers = RCODE_NXDOMAIN, []
            else:
                rcode, answers = self._answers(name, qtype)
            self._log("dns %d: %s %s from %s:%d -> rcode %d, %d answer(s)" %
                      (self.port, tname, name, peer[0], peer[1], rcode, len(answers)))
            self._send(build_response(qid, flags, question, rcode, answers, qtype, self.ttl),
                       peer)
            with self._cond:
                self.queries.append((name, tname))
                self._cond.notify_all()

    def _send(self, data, peer):
        try:
            self.sock.sendto(data, peer)
        except OSError:
            pass

    def query_count(self, name=None, qtype=None):
        with self._cond:
            return sum(1 for n, t in self.queries
                       if (name is None or n == name.lower()) and (qtype is None or t == qtype))

    def wait_for_query(self, name, qtype=None, timeout=DEFAULT_TIMEOUT):
        """Wait until a query for name (of qtype "A"/"AAAA", or any) has been answered."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not any(n == name.lower() and (qtype is None or t == qtype)
                          for n, t in self.queries):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("dns %d: no %s query for %s within %gs (got %r)" %
                                         (self.port, qtype or "", name, timeout, self.queries))
                self._cond.wait(min(left, 0.5))

    def close(self):
        self._closed = True
        self._thread.join(timeout=5)
        self.sock.close()


def resolve(server_port, name, qtype=1, host="127.0.0.1", timeout=5):
    """Ask a DNS server for name (stdlib client, for checking the server itself). Returns
    (rcode, [text address, ...], echoed question bytes, sent question bytes)."""
    qid = 0x1234
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"
    question = labels + struct.pack(">HH", qtype, 1)
    query = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + question
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(query, (host, server_port))
        data, _ = s.recvfrom(4096)
    finally:
        s.close()
    rid, flags, qd, an, _ns, _ar = struct.unpack(">HHHHHH", data[:12])
    assert rid == qid and flags & 0x8000 and qd == 1
    echoed = data[12:12 + len(question)]
    pos = 12 + len(question)
    out = []
    for _ in range(an):
        _ptr, rtype, _cls, _ttl, rdlen = struct.unpack(">HHHIH", data[pos:pos + 12])
        rdata = data[pos + 12:pos + 12 + rdlen]
        pos += 12 + rdlen
        out.append(socket.inet_ntoa(rdata) if rtype == 1 else
                   socket.inet_ntop(socket.AF_INET6, rdata))
    return flags & 0xF, out, echoed, question
