"""Catch-up sync by range-based set reconciliation, written from doc/protocol.md
("Catch-up sync (syncreq / syncresp)"): an independent reference of src/wire/recon.c,
src/msg/reconset.c and src/msg/recon.c. Standard library only.

Items are (created_at, id) pairs ordered by created_at, then id bytes; a bound is
(created_at, id prefix) and stands for the smallest item at or above it (missing id bytes are
0x00). A message splits the window [since, until) into consecutive ranges, each ending at a
bound; the last one ends at END, the window's end.

    s = ItemSet(items)                          # items: iterable of (created_at, id)
    init = Initiator(s, since, until)
    req = init.initiate()                       # the first syncreq payload
    while req is not None:
        resp = respond(peer_set, req)           # the peer's syncresp payload
        req = init.step(resp)                   # next syncreq, or None when done
    init.have, init.need                        # ids to announce / to fetch

A malformed payload, or a session that breaks the rules, raises ReconError.
"""

import bisect
import hashlib
import struct

VERSION = 1

SKIP = 0
FINGERPRINT = 1
IDLIST = 2
IDLIST_REPLY = 3

# The limits of include/wire/recon.h and include/msg/recon.h (the reasons are there).
MAX_PAYLOAD = 524288
MAX_RANGES = 16384
MAX_IDS = 256
BRANCH = 4
IDLIST_THRESHOLD = 3
LIST_PARTS = 60
MAX_STEP_IDS = MAX_PAYLOAD // 32
MAX_ROUNDS = 64
# Bytes of a syncreq before its ranges at most: version, flags, since, until, and the range
# count as a compactsize of up to 3 bytes. The ranges of any message stay within
# MAX_PAYLOAD - HEADER_MAX bytes.
HEADER_MAX = 2 + 16 + 3

INT64_MAX = (1 << 63) - 1
ID_LEN = 32
FP_LEN = 16
MOD = 1 << 256

# The bound that ends the last range: the end of the window.
END = None


class ReconError(Exception):
    """A payload or session that breaks the protocol's rules."""


# --- fingerprint ---------------------------------------------------------------------------

def id_value(i):
    return int.from_bytes(i, "little")


def fingerprint_of_sum(total, count):
    """First 16 bytes of SHA-256(sum of ids mod 2^256, 32 bytes LE || count, uint64 LE)."""
    data = (total % MOD).to_bytes(32, "little") + struct.pack("<Q", count)
    return hashlib.sha256(data).digest()[:FP_LEN]


def fingerprint(ids):
    ids = list(ids)
    return fingerprint_of_sum(sum(id_value(i) for i in ids), len(ids))


# --- bounds --------------------------------------------------------------------------------

def bound_key(bound):
    """The smallest item a bound (created_at, prefix) stands for."""
    ts, prefix = bound
    return (ts, prefix + bytes(ID_LEN - len(prefix)))


def bound_between(prev, nxt):
    """The shortest bound b with prev < b <= nxt, for items prev < nxt: created_at alone when
    the times differ, else the shortest prefix of nxt's id that is above prev's id."""
    if prev[0] != nxt[0]:
        return (nxt[0], b"")
    k = 0
    while prev[1][k] == nxt[1][k]:
        k += 1
    return (nxt[0], nxt[1][:k + 1])


# --- codec ---------------------------------------------------------------------------------

def ser_compact_size(n):
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + struct.pack("<H", n)
    if n <= 0xFFFFFFFF:
        return b"\xfe" + struct.pack("<I", n)
    return b"\xff" + struct.pack("<Q", n)


class Range:
    """One range of a message: its upper bound (END or (created_at, prefix)), its mode and
    what the mode carries: fp (FINGERPRINT); ids (IDLIST: the sender's ids in the range;
    IDLIST_REPLY: the responder's ids the initiator's list lacks); n and lacks (IDLIST_REPLY:
    the length of the list answered, and per id of it whether the responder lacks it)."""

    def __init__(self, upper, mode, fp=b"", ids=(), n=0, lacks=()):
        self.upper = upper
        self.mode = mode
        self.fp = fp
        self.ids = list(ids)
        self.n = n
        self.lacks = list(lacks)


def encode_range(r, prev_ts):
    """The bytes of range r whose predecessor bound has created_at prev_ts."""
    if r.upper is END:
        out = b"\x00" + bytes([r.mode])
    else:
        ts, prefix = r.upper
        out = ser_compact_size(ts - prev_ts + 1) + bytes([r.mode | len(prefix) << 2]) + prefix
    if r.mode == FINGERPRINT:
        out += r.fp
    elif r.mode == IDLIST:
        out += ser_compact_size(len(r.ids)) + b"".join(r.ids)
    elif r.mode == IDLIST_REPLY:
        bitmap = bytearray((r.n + 7) // 8)
        for i, lack in enumerate(r.lacks):
            if lack:
                bitmap[i // 8] |= 1 << (i % 8)
        out += ser_compact_size(len(r.ids)) + b"".join(r.ids) + ser_compact_size(r.n) + bitmap
    return out


def encode_ranges(ranges, base):
    out = [ser_compact_size(len(ranges))]
    prev = base
    for r in ranges:
        out.append(encode_range(r, prev))
        if r.upper is not END:
            prev = r.upper[0]
    return b"".join(out)


def encode_syncreq(since, until, ranges):
    return struct.pack("<BBqq", VERSION, 0, since, until) + encode_ranges(ranges, since)


def encode_syncresp(ranges):
    return struct.pack("<BB", VERSION, 0) + encode_ranges(ranges, 0)


class Reader:
    """Bounded reads over a payload; running past the end raises ReconError."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if n > len(self.data) - self.pos:
            raise ReconError("truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self):
        return self.take(1)[0]

    def i64(self):
        return struct.unpack("<q", self.take(8))[0]

    def compact_size(self, maximum):
        first = self.u8()
        if first < 0xFD:
            n, least = first, 0
        elif first == 0xFD:
            n, least = struct.unpack("<H", self.take(2))[0], 0xFD
        elif first == 0xFE:
            n, least = struct.unpack("<I", self.take(4))[0], 0x10000
        else:
            n, least = struct.unpack("<Q", self.take(8))[0], 0x100000000
        if n < least:
            raise ReconError("non-canonical compactsize")
        if n > maximum:
            raise ReconError("%d above %d" % (n, maximum))
        return n


def _decode_range(rd, request, prev_ts):
    t = rd.compact_size(0xFFFFFFFFFFFFFFFF)
    h = rd.u8()
    mode, plen = h & 3, h >> 2
    if plen > ID_LEN:
        raise ReconError("prefix length %d" % plen)
    if t == 0:
        if plen:
            raise ReconError("END bound with a prefix")
        upper = END
    else:
        if t - 1 > INT64_MAX - 1 - prev_ts:
            raise ReconError("bound time overflows")
        upper = (prev_ts + t - 1, rd.take(plen))
    r = Range(upper, mode)
    if mode == FINGERPRINT:
        r.fp = rd.take(FP_LEN)
    elif mode == IDLIST:
        r.ids = [rd.take(ID_LEN) for _ in range(rd.compact_size(MAX_IDS))]
    elif mode == IDLIST_REPLY:
        if request:
            raise ReconError("IDLIST_REPLY in a syncreq")
        r.ids = [rd.take(ID_LEN) for _ in range(rd.compact_size(MAX_IDS))]
        r.n = rd.compact_size(MAX_IDS)
        bitmap = rd.take((r.n + 7) // 8)
        if r.n % 8 and bitmap[-1] >> (r.n % 8):
            raise ReconError("bitmap bits beyond n")
        r.lacks = [bool(bitmap[i // 8] >> (i % 8) & 1) for i in range(r.n)]
    return r


def check_bounds(ranges, since, until):
    """Bounds strictly increasing from (since, "") and below (until, ""), END last and only
    there."""
    prev = bound_key((since, b""))
    for i, r in enumerate(ranges):
        last = i == len(ranges) - 1
        if (r.upper is END) != last:
            raise ReconError("END bound misplaced")
        if last:
            break
        key = bound_key(r.upper)
        if key <= prev:
            raise ReconError("bounds not increasing")
        if r.upper[0] >= until:
            raise ReconError("bound past the window")
        prev = key


def _decode_ranges(rd, request, base):
    count = rd.compact_size(MAX_RANGES)
    if count == 0:
        raise ReconError("no range")
    ranges = []
    prev = base
    for _ in range(count):
        r = _decode_range(rd, request, prev)
        if r.upper is not END:
            prev = r.upper[0]
        ranges.append(r)
    if rd.pos != len(rd.data):
        raise ReconError("trailing bytes")
    return ranges


def decode_syncreq(payload):
    """(since, until, ranges) of a syncreq payload; raises ReconError if it is malformed."""
    if len(payload) > MAX_PAYLOAD:
        raise ReconError("payload too large")
    rd = Reader(payload)
    if rd.u8() != VERSION:
        raise ReconError("version")
    rd.u8()  # flags: reserved, ignored
    since, until = rd.i64(), rd.i64()
    if since < 0 or until <= since:
        raise ReconError("window")
    ranges = _decode_ranges(rd, True, since)
    check_bounds(ranges, since, until)
    return since, until, ranges


def decode_syncresp(payload):
    """The ranges of a syncresp payload; raises ReconError if it is malformed. Its bounds are
    checked against the widest window [0, INT64_MAX) here, against the session's by the
    initiator."""
    if len(payload) > MAX_PAYLOAD:
        raise ReconError("payload too large")
    rd = Reader(payload)
    if rd.u8() != VERSION:
        raise ReconError("version")
    rd.u8()
    ranges = _decode_ranges(rd, False, 0)
    check_bounds(ranges, 0, INT64_MAX)
    return ranges


# --- the item set --------------------------------------------------------------------------

class ItemSet:
    """A sorted set of (created_at, id) items with prefix sums for range fingerprints."""

    def __init__(self, items=()):
        self.items = sorted(set(items))
        self.sums = [0]
        for _, i in self.items:
            self.sums.append(self.sums[-1] + id_value(i))

    def __len__(self):
        return len(self.items)

    def position(self, bound):
        """Index of the first item at or above bound."""
        return bisect.bisect_left(self.items, bound_key(bound))

    def fingerprint(self, lo, hi):
        return fingerprint_of_sum(self.sums[hi] - self.sums[lo], hi - lo)

    def ids(self, lo, hi):
        return [i for _, i in self.items[lo:hi]]


# --- building a message --------------------------------------------------------------------

class Builder:
    """The ranges of a message being built, in order; a SKIP after a SKIP extends it. Tracks
    the encoded size of the ranges (bound times are deltas, so a range's size depends on the
    bound before it)."""

    def __init__(self, base):
        self.base = base
        self.ranges = []
        self.sizes = []
        self.size = 0

    def _prev_ts(self, k):
        """created_at of the bound before range k."""
        for j in range(k - 1, -1, -1):
            if self.ranges[j].upper is not END:
                return self.ranges[j].upper[0]
        return self.base

    def _plan(self, answer):
        """(count, size) after adding answer."""
        count, size = len(self.ranges), self.size
        prev = self._prev_ts(count)
        rest = answer
        if answer[0].mode == SKIP and self.ranges and self.ranges[-1].mode == SKIP:
            size += len(encode_range(answer[0], self._prev_ts(count - 1))) - self.sizes[-1]
            rest = answer[1:]
            prev = answer[0].upper[0] if answer[0].upper is not END else prev
        for r in rest:
            size += len(encode_range(r, prev))
            count += 1
            if r.upper is not END:
                prev = r.upper[0]
        return count, size

    def fits(self, answer):
        """Whether answer can be added and still leave room for one FINGERPRINT range to END
        (the range that covers the rest of the window when a message is cut short)."""
        count, size = self._plan(answer)
        return count + 1 <= MAX_RANGES and size + 2 + FP_LEN <= MAX_PAYLOAD - HEADER_MAX

    def why_not(self, answer):
        """Which limit answer would break: "ranges" or "payload" (None if it fits)."""
        count, size = self._plan(answer)
        if count + 1 > MAX_RANGES:
            return "ranges"
        return None if self.fits(answer) else "payload"

    def add(self, answer):
        for r in answer:
            if r.mode == SKIP and self.ranges and self.ranges[-1].mode == SKIP:
                self.ranges[-1] = r
                self.size -= self.sizes.pop()
            else:
                self.ranges.append(r)
            size = len(encode_range(r, self._prev_ts(len(self.ranges) - 1)))
            self.sizes.append(size)
            self.size += size

    def only_skips(self):
        return all(r.mode == SKIP for r in self.ranges)


def split(s, lo, hi, upper, parts):
    """parts FINGERPRINT ranges over items [lo, hi) of s (at least parts of them): part j
    holds items lo + j*m//parts up to lo + (j+1)*m//parts (m = hi - lo); the bound between two
    parts is the shortest one between their adjacent items; the last part ends at upper."""
    m = hi - lo
    out = []
    for j in range(parts):
        a, b = lo + j * m // parts, lo + (j + 1) * m // parts
        bound = upper if j == parts - 1 else bound_between(s.items[b - 1], s.items[b])
        out.append(Range(bound, FINGERPRINT, fp=s.fingerprint(a, b)))
    return out


def split_list(s, lo, hi, upper):
    """The answer to an IDLIST that lacks more than MAX_IDS of own items [lo, hi): the peer
    has few items there. With at most LIST_PARTS * MAX_IDS items, split into parts of at most
    MAX_IDS items (at least BRANCH parts): the peer answers each with its short list next
    round. With more, LIST_PARTS parts of exactly MAX_IDS items, then one part with the rest,
    which is split the same way next round while the first parts' ids travel."""
    m = hi - lo
    if m <= LIST_PARTS * MAX_IDS:
        return split(s, lo, hi, upper, max(BRANCH, -(-m // MAX_IDS)))
    out = []
    for j in range(LIST_PARTS):
        a, b = lo + j * MAX_IDS, lo + (j + 1) * MAX_IDS
        out.append(Range(bound_between(s.items[b - 1], s.items[b]), FINGERPRINT,
                         fp=s.fingerprint(a, b)))
    out.append(Range(upper, FINGERPRINT, fp=s.fingerprint(lo + LIST_PARTS * MAX_IDS, hi)))
    return out


def _answer_fingerprint(s, lo, hi, r):
    if s.fingerprint(lo, hi) == r.fp:
        return [Range(r.upper, SKIP)]
    if hi - lo <= IDLIST_THRESHOLD:
        return [Range(r.upper, IDLIST, ids=s.ids(lo, hi))]
    return split(s, lo, hi, r.upper, BRANCH)


def _respond_range(s, lo, hi, r):
    if r.mode == SKIP:
        return [Range(r.upper, SKIP)]
    if r.mode == FINGERPRINT:
        return _answer_fingerprint(s, lo, hi, r)
    theirs = set(r.ids)
    mine = s.ids(lo, hi)
    missing = [i for i in mine if i not in theirs]
    if len(missing) > MAX_IDS:
        return split_list(s, lo, hi, r.upper)
    mine = set(mine)
    return [Range(r.upper, IDLIST_REPLY, ids=missing, n=len(r.ids),
                  lacks=[i not in mine for i in r.ids])]


def respond(s, payload, cuts=None):
    """The responder: the syncresp payload answering syncreq payload over item set s.
    Raises ReconError if the syncreq is malformed. cuts, a list, receives "payload" or
    "ranges" when the answer is cut short (for tests)."""
    since, until, ranges = decode_syncreq(payload)
    out = Builder(0)
    lo, end = s.position((since, b"")), s.position((until, b""))
    for r in ranges:
        hi = end if r.upper is END else s.position(r.upper)
        answer = _respond_range(s, lo, hi, r)
        if not out.fits(answer):
            if cuts is not None:
                cuts.append(out.why_not(answer))
            out.add([Range(END, FINGERPRINT, fp=s.fingerprint(lo, end))])
            break
        out.add(answer)
        lo = hi
    return encode_syncresp(out.ranges)


class Initiator:
    """One catch-up session from the initiator's side over item set s and the window
    [since, until). Counters: rounds (syncresp processed), bytes_sent, bytes_recv,
    ranges_sent, ranges_recv; results: have (own ids the peer lacks: announce them), need (the
    peer's ids we lack: fetch them)."""

    def __init__(self, s, since, until):
        self.s = s
        self.since = since
        self.until = until
        self.rounds = 0
        self.bytes_sent = self.bytes_recv = 0
        self.ranges_sent = self.ranges_recv = 0
        self.have = []
        self.need = []
        self.cuts = []  # why the initiator cut a syncreq short, per cut (for tests)
        self.sent = None  # the ranges of the syncreq awaiting its syncresp

    def _window(self):
        return self.s.position((self.since, b"")), self.s.position((self.until, b""))

    def _send(self, ranges):
        payload = encode_syncreq(self.since, self.until, ranges)
        self.sent = ranges
        self.bytes_sent += len(payload)
        self.ranges_sent += len(ranges)
        return payload

    def initiate(self):
        lo, hi = self._window()
        if hi - lo <= IDLIST_THRESHOLD:
            return self._send([Range(END, IDLIST, ids=self.s.ids(lo, hi))])
        return self._send([Range(END, FINGERPRINT, fp=self.s.fingerprint(lo, hi))])

    def _sent_idlist(self, lower, upper):
        """The IDLIST range of the last syncreq from bound key lower to upper, or None."""
        prev = bound_key((self.since, b""))
        for r in self.sent:
            key = (INT64_MAX, bytes(ID_LEN)) if r.upper is END else bound_key(r.upper)
            if prev == lower and key == upper:
                return r if r.mode == IDLIST else None
            prev = key
        return None

    def _answer(self, lo, hi, lower, upper, r):
        """(ranges, have, need) answering range r (from bound key lower to upper) over own
        items [lo, hi)."""
        s = self.s
        if r.mode == SKIP:
            return [Range(r.upper, SKIP)], [], []
        if r.mode == FINGERPRINT:
            return _answer_fingerprint(s, lo, hi, r), [], []
        if r.mode == IDLIST:
            theirs = set(r.ids)
            mine = s.ids(lo, hi)
            have = [i for i in mine if i not in theirs]
            if len(have) > MAX_IDS:
                return split_list(s, lo, hi, r.upper), [], []
            mine = set(mine)
            return [Range(r.upper, SKIP)], have, [i for i in r.ids if i not in mine]
        sent = self._sent_idlist(lower, upper)
        if sent is None or len(sent.ids) != r.n:
            raise ReconError("IDLIST_REPLY answers no IDLIST of ours")
        have = [i for i, lack in zip(sent.ids, r.lacks) if lack]
        return [Range(r.upper, SKIP)], have, list(r.ids)

    def step(self, payload):
        """Process a syncresp; returns the next syncreq payload, or None when the session is
        done. Raises ReconError on a malformed syncresp, and when another round would pass
        MAX_ROUNDS (then this round's have and need are kept, as the C code returns them)."""
        if self.sent is None:
            raise ReconError("no syncreq outstanding")
        self.bytes_recv += len(payload)
        self.rounds += 1
        ranges = decode_syncresp(payload)
        check_bounds(ranges, self.since, self.until)
        self.ranges_recv += len(ranges)
        lo, end = self._window()
        lower = bound_key((self.since, b""))
        out = Builder(self.since)
        have, need = [], []
        for r in ranges:
            hi = end if r.upper is END else self.s.position(r.upper)
            upper = (INT64_MAX, bytes(ID_LEN)) if r.upper is END else bound_key(r.upper)
            answer, h, n = self._answer(lo, hi, lower, upper, r)
            if (not out.fits(answer) or len(have) + len(h) > MAX_STEP_IDS or
                    len(need) + len(n) > MAX_STEP_IDS):
                self.cuts.append(out.why_not(answer) or "step ids")
                out.add([Range(END, FINGERPRINT, fp=self.s.fingerprint(lo, end))])
                break
            out.add(answer)
            have += h
            need += n
            lo, lower = hi, upper
        self.sent = None
        # The last round's ids count even when the session stops there (MAX_ROUNDS).
        self.have += have
        self.need += need
        self.step_have, self.step_need = have, need
        if not out.only_skips() and self.rounds >= MAX_ROUNDS:
            raise ReconError("no convergence after %d rounds" % MAX_ROUNDS)
        if out.only_skips():
            return None
        return self._send(out.ranges)


def reconcile(a, b, since, until, log=None):
    """A whole session in memory, a initiating against b; returns the Initiator, with
    responder_cuts set. log, if given, is a list that receives every payload in order
    (syncreq, syncresp, ...)."""
    init = Initiator(a, since, until)
    init.responder_cuts = []
    req = init.initiate()
    while req is not None:
        resp = respond(b, req, init.responder_cuts)
        if log is not None:
            log += [req, resp]
        req = init.step(resp)
    return init


# --- test vectors (test/vectors/recon-vectors.json) ----------------------------------------

VECTOR_TAG = b"p2pd/recon-vector"


def vector_item(seed, i, t0, span):
    """Item i of a generated set: id = SHA-256(VECTOR_TAG || seed u64 LE || i u64 LE),
    created_at = t0 + (the first 8 bytes of SHA-256(id) as u64 LE) mod span."""
    ident = hashlib.sha256(VECTOR_TAG + struct.pack("<QQ", seed, i)).digest()
    ts = t0 + struct.unpack("<Q", hashlib.sha256(ident).digest()[:8])[0] % span
    return (ts, ident)


def vector_sets(c):
    """The two sets of a session vector: items 0..common-1 in both, the next only_a items in
    a only, the next only_b items in b only."""
    gen = [vector_item(c["seed"], i, c["t0"], c["span"])
           for i in range(c["common"] + c["only_a"] + c["only_b"])]
    common, only_a = gen[:c["common"]], gen[c["common"]:c["common"] + c["only_a"]]
    only_b = gen[c["common"] + c["only_a"]:]
    return ItemSet(common + only_a), ItemSet(common + only_b)


def _digest(chunks):
    return hashlib.sha256(b"".join(chunks)).hexdigest()


def _session_vector(name, seed, t0, span, since, until, common, only_a, only_b):
    c = {"name": name, "seed": seed, "t0": t0, "span": span, "since": since, "until": until,
         "common": common, "only_a": only_a, "only_b": only_b}
    a, b = vector_sets(c)
    log = []
    init = reconcile(a, b, since, until, log)
    for tag, (side, why) in EXPECTED_CUTS.items():
        if tag in name:
            cuts = init.cuts if side == "initiator" else init.responder_cuts
            assert why in cuts, "%s: no %s cut by the %s (%r)" % (name, why, side, cuts)
    c["rounds"] = init.rounds
    c["bytes_sent"], c["bytes_recv"] = init.bytes_sent, init.bytes_recv
    c["have_count"], c["need_count"] = len(init.have), len(init.need)
    if init.bytes_sent + init.bytes_recv <= 16384 and len(init.have) + len(init.need) <= 256:
        c["messages"] = [m.hex() for m in log]
        c["have"] = [i.hex() for i in init.have]
        c["need"] = [i.hex() for i in init.need]
    else:
        # Large sessions: SHA-256 of each message, and of the ids in order.
        c["message_sha256"] = [hashlib.sha256(m).hexdigest() for m in log]
        c["message_sizes"] = [len(m) for m in log]
        c["have_sha256"] = _digest(init.have)
        c["need_sha256"] = _digest(init.need)
    return c


SESSION_CASES = [
    # name, seed, t0, span, since, until, common, only_a, only_b
    ("identical", 1, 1700000000, 1209600, 1700000000, 1701209600, 100, 0, 0),
    ("both empty", 2, 1700000000, 1209600, 1700000000, 1701209600, 0, 0, 0),
    ("initiator empty", 3, 1700000000, 1209600, 1700000000, 1701209600, 0, 0, 50),
    ("responder empty", 4, 1700000000, 1209600, 1700000000, 1701209600, 0, 50, 0),
    ("few items", 5, 1700000000, 1209600, 1700000000, 1701209600, 2, 1, 1),
    ("disjoint", 6, 1700000000, 1209600, 1700000000, 1701209600, 0, 30, 30),
    ("one missing at initiator", 7, 1700000000, 1209600, 1700000000, 1701209600, 1000, 0, 1),
    ("one missing at responder", 8, 1700000000, 1209600, 1700000000, 1701209600, 1000, 1, 0),
    ("random 1%", 9, 1700000000, 1209600, 1700000000, 1701209600, 2000, 10, 10),
    ("equal times", 10, 1700000000, 3, 1700000000, 1700000003, 300, 10, 10),
    ("window", 11, 1000, 1000, 1200, 1700, 400, 40, 40),
    ("random 10% of 2,000", 12, 1700000000, 1209600, 1700000000, 1701209600, 1800, 100, 100),
    ("initiator empty, 40,000 (split in 60 parts and the rest)", 16, 1700000000, 1209600,
     1700000000, 1701209600, 0, 0, 40000),
    ("responder sparse, 20,000 (step id cut)", 13, 1700000000, 1209600, 1700000000,
     1701209600, 300, 20000, 0),
    ("initiator sparse, 20,000 (payload cut)", 14, 1700000000, 1209600, 1700000000,
     1701209600, 300, 0, 20000),
    ("random 10% of 100,000 (range cut)", 15, 1700000000, 1209600, 1700000000, 1701209600,
     95000, 5000, 5000),
]
# The cut each case named "(... cut)" must make: who cuts, and why.
EXPECTED_CUTS = {"step id cut": ("initiator", "step ids"), "payload cut": ("responder", "payload"),
                 "range cut": ("initiator", "ranges")}


def _fingerprint_vectors():
    ones = b"\xff" * 32
    low = b"\xff" * 8 + bytes(24)
    one = b"\x01" + bytes(31)
    sets = [
        [],
        [bytes(32)],
        [one],
        [low, one],                      # carry out of the first limb
        [ones, one],                     # wraps to 0 mod 2^256
        [ones, ones, ones],              # wraps with a large sum left
        [hashlib.sha256(bytes([i])).digest() for i in range(10)],
    ]
    out = []
    for ids in sets:
        total = sum(id_value(i) for i in ids) % MOD
        out.append({"ids": [i.hex() for i in ids], "sum": total.to_bytes(32, "little").hex(),
                    "count": len(ids), "fingerprint": fingerprint(ids).hex()})
    return out


def _bound_vectors():
    a = bytes.fromhex("11" * 32)
    cases = [
        ((5, a), (6, a)),
        ((5, a), (5, b"\x12" + a[1:])),
        ((5, a), (5, a[:5] + b"\x12" + a[6:])),
        ((5, a), (5, a[:31] + b"\x12")),
        ((5, a[:3] + b"\x00" + a[4:]), (5, a[:3] + b"\x01" + bytes(28))),
        ((0, bytes(32)), (0, bytes(31) + b"\x01")),
    ]
    out = []
    for prev, nxt in cases:
        ts, prefix = bound_between(prev, nxt)
        out.append({"prev": [prev[0], prev[1].hex()], "next": [nxt[0], nxt[1].hex()],
                    "bound": [ts, prefix.hex()]})
    return out


def _range_json(r):
    j = {"upper": "end" if r.upper is END else [r.upper[0], r.upper[1].hex()], "mode": r.mode}
    if r.mode == FINGERPRINT:
        j["fp"] = r.fp.hex()
    if r.mode in (IDLIST, IDLIST_REPLY):
        j["ids"] = [i.hex() for i in r.ids]
    if r.mode == IDLIST_REPLY:
        j["n"] = r.n
        j["lacks"] = [int(x) for x in r.lacks]
    return j


def _codec_vectors():
    i1, i2, i3 = (hashlib.sha256(bytes([k])).digest() for k in range(3))
    req = [Range((1700000100, b""), SKIP),
           Range((1700000100, b"\xab"), FINGERPRINT, fp=bytes(range(16))),
           Range((1700070000, b"\xab\xcd"), IDLIST, ids=[i1, i2]),
           Range((1700300000, b""), IDLIST, ids=[]),
           Range(END, FINGERPRINT, fp=b"\xee" * 16)]
    resp = [Range((1700000100, b""), SKIP),
            Range((1700000100, b"\xab"), IDLIST_REPLY, ids=[i3], n=2, lacks=[False, True]),
            Range((1700000101, i3), IDLIST_REPLY, ids=[], n=9, lacks=[True] * 9),
            Range(END, IDLIST, ids=[i1])]
    return [
        {"kind": "syncreq", "since": 1700000000, "until": 1701209600,
         "ranges": [_range_json(r) for r in req],
         "hex": encode_syncreq(1700000000, 1701209600, req).hex()},
        {"kind": "syncresp", "ranges": [_range_json(r) for r in resp],
         "hex": encode_syncresp(resp).hex()},
    ]


def _invalid_vectors():
    """(kind, payload, why) that every decoder must refuse."""
    ok_req = encode_syncreq(100, 200, [Range((150, b""), SKIP), Range(END, SKIP)])
    ok_resp = encode_syncresp([Range((150, b""), SKIP), Range(END, SKIP)])
    head = struct.pack("<BBqq", VERSION, 0, 100, 200)
    rhead = struct.pack("<BB", VERSION, 0)
    end_skip = b"\x00\x00"
    fp = bytes(16)
    # Ranges by hand: time delta t (compactsize), header byte h (mode | prefix length << 2).
    skip_at = b"\x0a\x00"           # (since + 9, "") SKIP
    skip_same = b"\x01\x00"         # the previous bound's time, "" SKIP
    cases = [
        ("syncreq", b"", "empty"),
        ("syncreq", b"\x02" + ok_req[1:], "unknown version"),
        ("syncresp", b"\x00" + ok_resp[1:], "version 0"),
        ("syncreq", ok_req + b"\x00", "trailing byte"),
        ("syncreq", ok_req[:-1], "truncated"),
        ("syncresp", ok_resp[:-1], "truncated"),
        ("syncreq", struct.pack("<BBqq", 1, 0, -1, 200) + b"\x01" + end_skip, "since < 0"),
        ("syncreq", struct.pack("<BBqq", 1, 0, 200, 200) + b"\x01" + end_skip, "until = since"),
        ("syncreq", head + b"\x00", "no range"),
        ("syncresp", rhead + b"\x00", "no range"),
        ("syncreq", head + b"\xfd\x01\x00" + end_skip, "non-canonical range count"),
        ("syncreq", head + b"\xfd\x01\x40" + end_skip * 0x4001, "16,385 ranges"),
        ("syncreq", head + b"\x02\xfd\x0a\x00\x00" + end_skip, "non-canonical time delta"),
        ("syncreq", head + b"\x02" + skip_same + end_skip, "bound at the window start"),
        ("syncreq", head + b"\x02\x65\x00" + end_skip, "bound at the window end"),
        ("syncreq", head + b"\x02\x01\x04\x00" + end_skip, "bound (since, 00) at the start"),
        ("syncreq", head + b"\x03" + skip_at + skip_same + end_skip, "bounds not increasing"),
        ("syncreq", head + b"\x03" + skip_at + b"\x01\x04\x00" + end_skip,
         "bounds equal by value"),
        ("syncreq", head + b"\x01" + skip_at, "last range not END"),
        ("syncreq", head + b"\x02" + end_skip + end_skip, "END before the last range"),
        ("syncreq", head + b"\x02\x0a\x84" + b"\x01" * 33 + end_skip, "prefix length 33"),
        ("syncreq", head + b"\x01\x00\x04\x00", "END with a prefix"),
        ("syncreq", head + b"\x01\x00\x03\x00\x00", "IDLIST_REPLY in a syncreq"),
        ("syncreq", head + b"\x01\x00\x02\xfd\x01\x01" + bytes(32 * 257), "IDLIST of 257"),
        ("syncreq", head + b"\x01\x00\x02\x02" + bytes(32), "IDLIST truncated"),
        ("syncreq", head + b"\x01\x00\x01" + fp[:15], "fingerprint truncated"),
        ("syncresp", rhead + b"\x01\x00\x03\xfd\x01\x01" + bytes(32 * 257) + b"\x00",
         "IDLIST_REPLY of 257 ids"),
        ("syncresp", rhead + b"\x01\x00\x03\x00\xfd\x01\x01" + bytes(33),
         "IDLIST_REPLY answering 257"),
        ("syncresp", rhead + b"\x01\x00\x03\x00\x03\x08", "bitmap bit beyond n"),
        ("syncresp", rhead + b"\x01\x00\x03\x00\x09\x00\x02", "bitmap bit beyond n"),
        ("syncresp", rhead + b"\x01\x00\x03\x00\x09\x00", "bitmap truncated"),
        ("syncresp", rhead + b"\x02\xff" + struct.pack("<Q", 1 << 63) + b"\x00" + end_skip,
         "bound time INT64_MAX"),
        ("syncresp", rhead + b"\x02" + skip_same + end_skip, "bound (0, '') at the start"),
    ]
    for kind, payload, why in cases:
        decode = decode_syncreq if kind == "syncreq" else decode_syncresp
        try:
            decode(payload)
        except ReconError:
            continue
        raise AssertionError("the reference decodes an invalid vector: %s" % why)
    return [{"kind": k, "hex": p.hex(), "why": w} for k, p, w in cases]


def build_vectors(large=True):
    """The content of test/vectors/recon-vectors.json. large=False leaves out the sessions of
    more than 16 KiB (they take seconds in Python)."""
    sessions = []
    for case in SESSION_CASES:
        c = case[6] + case[7] + case[8]
        if large or c <= 4000:
            sessions.append(_session_vector(*case))
    return {
        "comment": "Generated by contrib/devtools/gen-recon-vectors.py from "
                   "test/functional/test_framework/recon.py; doc/protocol.md, 'Catch-up sync'.",
        "limits": {"MAX_PAYLOAD": MAX_PAYLOAD, "MAX_RANGES": MAX_RANGES, "MAX_IDS": MAX_IDS,
                   "BRANCH": BRANCH, "IDLIST_THRESHOLD": IDLIST_THRESHOLD,
                   "LIST_PARTS": LIST_PARTS, "MAX_STEP_IDS": MAX_STEP_IDS,
                   "MAX_ROUNDS": MAX_ROUNDS},
        "fingerprints": _fingerprint_vectors(),
        "bounds": _bound_vectors(),
        "codec": _codec_vectors(),
        "invalid": _invalid_vectors(),
        "sessions": sessions,
    }
