#!/usr/bin/env python3
"""Propagation benchmark of p2pd (issue 8): the p2pd side of the side-by-side with gossipsub.

Starts N regtest p2pd nodes (contrib/testnet/testnet.py, one process per node), links exactly
the edges of a graph file, publishes messages from the publishers of a plan file at a fixed
rate over RPC `publish`, and measures per message the time until every node has stored it,
the bytes on the wire per delivered message, and the duplicate bodies received. The graph
and the plan come from contrib/bench/gossipsub/graph.py (or its files), so the gossipsub
driver (contrib/bench/gossipsub/run.mjs) runs the identical workload; the result JSON has
its schema, p2pd-bench-propagation/1 (contrib/bench/gossipsub/README.md).

    propagation.py --graph gossipsub/results/graph-n10-k8-seed1.txt \\
                   --plan gossipsub/results/plan-n10-seed1.txt --size 1024 --rate 5
    propagation.py --nodes 10 --max-rate --rate 2          # highest sustained rate
    propagation.py --quick                                 # CI: runs, numbers sane; exit 0/1

Python 3, standard library only. doc/benchmarks.md, "Propagation (p2pd and gossipsub)",
describes the method and the figures.
"""

import argparse
import calendar
import concurrent.futures
import datetime
import hashlib
import http.client
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ next to the imported modules
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "contrib", "testnet"))
sys.path.insert(0, os.path.join(HERE, "gossipsub"))
import graph as benchgraph  # noqa: E402  (contrib/bench/gossipsub/graph.py)
import testnet  # noqa: E402  (contrib/testnet/testnet.py)

SCHEMA = "p2pd-bench-propagation/1"
TOPIC = "bench"
POLL_S = 0.25
# Threads sending `publish` calls: a call blocks for the node's fsync, so a few run at once
# to keep an absolute schedule at high rates.
PUBLISH_THREADS = 16
# The gossipsub benchmark's programs: while one runs, the 2-core machine is not ours to measure.
OTHER_BENCH_MARKS = (b"node.mjs", b"run.mjs")
# Quick mode (CI): small and fast; it checks that the harness runs and its numbers are sane.
QUICK = {"nodes": 5, "messages": 20, "warmup": 5, "rate": 20.0, "size": 1024, "tail": 1.0,
         "drain_timeout": 30.0}

# "2026-11-22T03:40:41.496701Z [msg] accepted message <64 hex> topic=bench" (src/msg/gossip.c)
ACCEPT_RE = re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d):(\d\d):(\d\d)\.(\d{6})Z \[msg\] "
                       rb"accepted message ([0-9a-f]{64}) ")
REJECT_MARK = b"[msg] rejected message "
TIMEOUT_MARK = b"[msg] request for "

_log_quiet = False


def log(msg):
    if not _log_quiet:
        t = datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M:%S.%f")[:12]
        print("[%s] %s" % (t, msg), file=sys.stderr, flush=True)


def rnd(x, d=3):
    return None if x is None else round(x, d)


# --- statistics (as run.mjs) ----------------------------------------------------------------

def pct(sorted_values, p):
    """Nearest-rank percentile: element ceil(p/100*n) (1-based)."""
    if not sorted_values:
        return None
    k = -(-p * len(sorted_values) // 100)  # ceil for integer p
    return sorted_values[max(0, int(k) - 1)]


def dist(values_us):
    s = sorted(values_us)

    def ms(v):
        return None if v is None else round(v / 1000, 3)
    return {"count": len(s), "p50": ms(pct(s, 50)), "p90": ms(pct(s, 90)),
            "p99": ms(pct(s, 99)), "max": ms(s[-1] if s else None),
            "mean": ms(sum(s) / len(s) if s else None)}


def min_mean_max(v):
    v = [x for x in v if x is not None]
    if not v:
        return None
    return {"min": min(v), "mean": round(sum(v) / len(v), 2), "max": max(v)}


# --- clocks ---------------------------------------------------------------------------------

def wall_minus_mono_us():
    """CLOCK_REALTIME - CLOCK_MONOTONIC in µs (the tightest of a few samples)."""
    best = None
    for _ in range(5):
        a = time.monotonic_ns()
        w = time.time_ns()
        b = time.monotonic_ns()
        if best is None or b - a < best[0]:
            best = (b - a, w - (a + b) // 2)
    return best[1] // 1000


# --- the nodes' logs ------------------------------------------------------------------------

class LogTail:
    """Reads a node's debug.log incrementally: the UTC time (µs since the epoch) at which the
    node stored each message ("accepted message <id>", -debug=msg), rejected messages and
    requests that timed out."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.rest = b""
        self.accepted = {}
        self.rejected = 0
        self.request_timeouts = 0
        self._hours = {}

    def _hour_epoch(self, key):
        t = self._hours.get(key)
        if t is None:
            t = calendar.timegm(time.strptime(key.decode(), "%Y-%m-%dT%H"))
            self._hours[key] = t
        return t

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return
        self.offset += len(data)
        data = self.rest + data
        end = data.rfind(b"\n") + 1
        self.rest = data[end:]
        for line in data[:end].split(b"\n"):
            m = ACCEPT_RE.match(line)
            if m:
                hour, mi, se, us, mid = m.groups()
                t = (self._hour_epoch(hour) + int(mi) * 60 + int(se)) * 1000000 + int(us)
                self.accepted.setdefault(mid.decode(), t)
            elif REJECT_MARK in line:
                self.rejected += 1
            elif TIMEOUT_MARK in line and b"timed out" in line:
                self.request_timeouts += 1


# --- publishing -----------------------------------------------------------------------------

class Publisher:
    """`publish` over JSON-RPC with the node's cookie: a new HTTP connection per call, opened
    before the send time is read, so that time is when the request leaves."""

    def __init__(self, tn):
        self.tn = tn
        self.auth = {}

    def _auth(self, i):
        a = self.auth.get(i)
        if a is None:
            a = self.tn.rpc(i)._credentials()
            self.auth[i] = a
        return a

    def publish(self, i, body):
        """(message id or None, send time µs since the epoch, error text or None, µs until
        the answer or None)."""
        node = self.tn.node(i)
        req = json.dumps({"method": "publish", "params": [TOPIC, body], "id": 1})
        conn = http.client.HTTPConnection(node["host"], node["rpc_port"], timeout=60)
        sent_us = None
        try:
            conn.connect()
            sent_us = time.time_ns() // 1000
            conn.request("POST", "/", req, {"Authorization": self._auth(i),
                                             "Content-Type": "application/json"})
            resp = conn.getresponse()
            reply = json.loads(resp.read().decode())
        except (OSError, http.client.HTTPException, ValueError) as e:
            return None, sent_us or time.time_ns() // 1000, "%s" % e, None
        finally:
            conn.close()
        took_us = time.time_ns() // 1000 - sent_us
        if reply.get("error"):
            return None, sent_us, str(reply["error"]), took_us
        return reply.get("result"), sent_us, None, took_us


def make_body(size, seq):
    """size bytes of printable ASCII: a header with the sequence number, then random
    characters (every body distinct)."""
    head = "%08d " % seq
    tail = os.urandom(max(0, size - len(head))).translate(_PRINTABLE).decode("ascii")
    return (head + tail)[:size]


_PRINTABLE = bytes(0x21 + (b % 94) for b in range(256))


# --- node counters --------------------------------------------------------------------------

def proc_cpu_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return None


def proc_rss(pid):
    try:
        with open("/proc/%d/status" % pid, encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


CLK_TCK = os.sysconf("SC_CLK_TCK")


def node_counters(tn, i):
    """One node's counters: getnettotals, getpeerinfo sums, CPU and memory."""
    pid = tn.node(i)["pid"]
    net, peers = tn.rpc(i, timeout=60).batch([("getnettotals", []), ("getpeerinfo", [])])
    c = {"recv": net["totalbytesrecv"], "sent": net["totalbytessent"],
         "saved": net.get("totalbytessaved", 0), "cpu_ticks": proc_cpu_ticks(pid),
         "rss": proc_rss(pid), "connections": len(peers),
         "established": sum(1 for p in peers if p.get("state") == "established"),
         "open_recv": sum(p["bytesrecv"] for p in peers),
         "open_sent": sum(p["bytessent"] for p in peers), "per_cmd": {}}
    for k in ("msgs_received", "msgs_duplicate", "msgs_invalid", "msgs_unrequested",
              "msgs_notfound", "msgs_announced", "msgs_requested", "msgs_sent"):
        c[k] = sum(p.get(k, 0) for p in peers)
    for p in peers:
        for cmd, b in p.get("bytesrecv_per_msg", {}).items():
            c["per_cmd"][cmd] = c["per_cmd"].get(cmd, 0) + b
    return c


def all_counters(tn):
    res = testnet.parallel(lambda i: node_counters(tn, i), range(tn.n), workers=16)
    for i, r in enumerate(res):
        if isinstance(r, Exception):
            raise testnet.TestnetError("node %d: reading its counters failed: %s" % (i, r))
    return res


def sums(cs):
    keys = ("recv", "sent", "saved", "cpu_ticks", "msgs_received", "msgs_duplicate",
            "msgs_invalid", "msgs_unrequested", "msgs_notfound", "msgs_announced",
            "msgs_requested", "msgs_sent")
    s = {k: sum(c[k] or 0 for c in cs) for k in keys}
    s["per_cmd"] = {}
    for c in cs:
        for k, v in c["per_cmd"].items():
            s["per_cmd"][k] = s["per_cmd"].get(k, 0) + v
    return s


def delta(a, b):
    d = {k: b[k] - a[k] for k in a if k != "per_cmd"}
    d["per_cmd"] = {k: v - a["per_cmd"].get(k, 0) for k, v in b["per_cmd"].items()
                    if v - a["per_cmd"].get(k, 0)}
    return d


# --- other benchmarks on the machine ---------------------------------------------------------

def other_bench_pids():
    """Pids of the gossipsub benchmark's processes (node run.mjs, node node.mjs) running on
    this machine."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if os.path.basename(argv[0]) in (b"node", b"nodejs") and \
                any(x.endswith(OTHER_BENCH_MARKS) for x in argv[1:]):
            pids.append(int(d))
    return pids


def wait_machine_free(max_wait_s, poll_s=30, quiet_s=15):
    """Wait while gossipsub benchmark processes run (at most max_wait_s), until none has run
    for quiet_s seconds (sequential runs start one another within a second or two); returns
    the seconds waited."""
    t0 = time.monotonic()
    while True:
        pids = other_bench_pids()
        if not pids:
            time.sleep(quiet_s)
            pids = other_bench_pids()
            if not pids:
                return round(time.monotonic() - t0, 1)
        waited = time.monotonic() - t0
        if waited >= max_wait_s:
            raise testnet.TestnetError(
                "%d gossipsub benchmark process(es) (run.mjs/node.mjs) still running after "
                "%.0f s: not measuring on a machine they share (--wait-idle 0 skips this "
                "check)" % (len(pids), waited))
        log("%d gossipsub benchmark process(es) running: waiting %d s" % (len(pids), poll_s))
        time.sleep(poll_s)


# --- kernel cross-check (ss) ----------------------------------------------------------------

SS_COLS_RE = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\S+)\s+(\S+)")


def ss_sockets(tn):
    """{pid: [(recvq, sendq, local, bytes_received, bytes_acked)]} of established TCP sockets,
    from `ss -tinpH state established` (in each node's namespace with --netns)."""
    cmds = []
    if tn.netns:
        cmds = [["ip", "netns", "exec", tn.netns.ns_name(i), "ss", "-tinpH", "state",
                 "established"] for i in range(tn.n)]
    else:
        cmds = [["ss", "-tinpH", "state", "established"]]
    out = {}
    for cmd in cmds:
        text = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        lines = text.split("\n")
        for li, line in enumerate(lines):
            m = re.search(r"pid=(\d+)", line)
            if not m:
                continue
            head = SS_COLS_RE.match(line)
            if not head:
                continue
            info = line + " " + (lines[li + 1] if li + 1 < len(lines) else "")

            def num(key):
                x = re.search(key + r":(\d+)", info)
                return int(x.group(1)) if x else 0
            out.setdefault(int(m.group(1)), []).append(
                (int(head.group(1)), int(head.group(2)), head.group(3),
                 num("bytes_received"), num("bytes_acked")))
    return out


def wire_check(tn):
    """Compare the kernel's per-socket byte counters with each node's own: getpeerinfo's
    bytesrecv/bytessent summed over its connections, read just before and just after ss."""
    if not shutil.which("ss"):
        return {"ok": None, "error": "ss (iproute2) not found: no kernel cross-check"}
    before = all_counters(tn)
    try:
        socks = ss_sockets(tn)
    except (OSError, subprocess.CalledProcessError) as e:
        return {"ok": None, "error": "ss failed: %s" % e}
    after = all_counters(tn)
    k_recv = k_sent = n_recv = n_sent = n_recv0 = n_sent0 = 0
    sockets = n_sockets = consistent = 0
    closed_bytes = 0
    max_rel = 0.0
    for i in range(tn.n):
        node = tn.node(i)
        kr = kw = 0
        for recvq, sendq, local, received, acked in socks.get(node["pid"], []):
            lport = local.rsplit(":", 1)[-1]
            if lport == str(node["rpc_port"]):
                continue  # an RPC connection (ours), not P2P
            active = lport != str(node["p2p_port"])  # the node dialled: SYN counted in acked
            kr += received - recvq
            kw += acked - (1 if active else 0) + sendq
            sockets += 1
        b, a = before[i], after[i]
        k_recv += kr
        k_sent += kw
        n_recv += a["open_recv"]
        n_sent += a["open_sent"]
        n_recv0 += b["open_recv"]
        n_sent0 += b["open_sent"]
        n_sockets += a["connections"]
        closed_bytes += a["recv"] - a["open_recv"]
        if b["open_recv"] <= kr <= a["open_recv"] and b["open_sent"] <= kw <= a["open_sent"]:
            consistent += 1
        max_rel = max(max_rel, abs(kr - a["open_recv"]) / max(1, a["open_recv"]),
                      abs(kw - a["open_sent"]) / max(1, a["open_sent"]))
    return {
        "ok": consistent == tn.n,
        "nodes_consistent": consistent,
        "note": "kernel = ss bytes_received - Recv-Q and bytes_acked (less 1 for the SYN on "
                "connections the node dialled) + Send-Q over each node pid's established P2P "
                "sockets (its RPC port excluded); node = getpeerinfo bytesrecv/bytessent "
                "summed over its connections, read just before and just after ss; ok when "
                "the kernel figure lies between the two for every node. getnettotals (the "
                "figure the run uses) = those sums + the bytes of connections already closed "
                "(closed_connection_bytes_received)",
        "kernel_sockets": sockets,
        "node_open_sockets": n_sockets,
        "kernel_bytes_received": k_recv,
        "node_bytes_received_before": n_recv0,
        "node_bytes_received": n_recv,
        "kernel_bytes_sent": k_sent,
        "node_bytes_sent_before": n_sent0,
        "node_bytes_sent": n_sent,
        "closed_sockets": None,
        "closed_connection_bytes_received": closed_bytes,
        "max_relative_difference_per_node": round(max_rel, 6),
    }


# --- one measured run -----------------------------------------------------------------------

class Bench:
    def __init__(self, tn, args):
        self.tn = tn
        self.args = args
        self.tails = [LogTail(tn.debug_log(i)) for i in range(tn.n)]
        self.publisher = Publisher(tn)
        self.offset_us = wall_minus_mono_us()
        self.other_bench_seen = False
        self.other_bench_first = self.other_bench_last = None
        self._last_other_check = 0.0

    def poll_logs(self):
        for t in self.tails:
            t.poll()
        self.check_other()

    def check_other(self):
        """Every 5 s: note whether gossipsub benchmark processes run (the result says so)."""
        now = time.monotonic()
        if now - self._last_other_check > 5:
            self._last_other_check = now
            if other_bench_pids():
                self.other_bench_seen = True
                t = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
                self.other_bench_first = self.other_bench_first or t
                self.other_bench_last = t

    def got(self, mid, node):
        return mid in self.tails[node].accepted

    def measure(self, first_seq, publishers, size, rate, drain_timeout, tail, keep_messages):
        """Publish len(publishers) messages at rate/s, wait for delivery, collect; returns
        the schema's summary of one run."""
        tn, n = self.tn, self.tn.n
        count = len(publishers)
        self.poll_logs()
        c0 = all_counters(tn)
        s0 = sums(c0)
        bodies = [make_body(size, first_seq + k) for k in range(count)]
        results = [None] * count
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=PUBLISH_THREADS) as pool:
            futs = []
            for k in range(count):
                wait = t0 + k / rate - time.monotonic()
                if wait > 0.001:
                    time.sleep(wait)
                    self.check_other()
                futs.append(pool.submit(self.publisher.publish, publishers[k], bodies[k]))
            for k, f in enumerate(futs):
                results[k] = f.result()
        sends = [r[1] for r in results]
        publish_s = (max(sends) - min(sends)) / 1e6 if count > 1 else 0.0
        last_pub = max(sends)
        ok = [k for k in range(count) if results[k][0]]
        expected = len(ok) * (n - 1)

        # Wait until every node has every message, or the drain timeout.
        deadline = time.monotonic() + drain_timeout
        timed_out = False
        while True:
            self.poll_logs()
            got = sum(1 for k in ok for j in range(n)
                      if j != publishers[k] and self.got(results[k][0], j))
            if got >= expected:
                break
            if time.monotonic() > deadline:
                log("timeout after %g s waiting for delivery: %d/%d deliveries" %
                    (drain_timeout, got, expected))
                timed_out = True
                break
            time.sleep(POLL_S)
        delivered_s = (time.time_ns() // 1000 - last_pub) / 1e6
        c_w = all_counters(tn)
        if tail > 0:
            time.sleep(tail)
        self.poll_logs()
        c1 = all_counters(tn)

        tta, all_lat, rows, own = [], [], [], []
        to_all = 0
        for k in range(count):
            mid, sent_us, err, _ = results[k]
            lat = []
            if mid and self.got(mid, publishers[k]):
                own.append(self.tails[publishers[k]].accepted[mid] - sent_us)
            if mid:
                for j in range(n):
                    if j != publishers[k] and self.got(mid, j):
                        lat.append(self.tails[j].accepted[mid] - sent_us)
            lat.sort()
            all_lat += lat
            full = mid is not None and len(lat) >= n - 1
            t = lat[-1] if full else None
            if full:
                to_all += 1
                tta.append(t)
            rows.append([first_seq + k, publishers[k], sent_us - self.offset_us, len(lat), t,
                         pct(lat, 50)])
        dw = delta(s0, sums(c_w))
        dt = delta(s0, sums(c1))
        deliveries = len(all_lat)
        rss = [c["rss"] for c in c1 if c["rss"]]
        res = {
            "messages": count,
            "body_bytes": size,
            "rate_target": rate,
            "publish_seconds": round(publish_s, 3),
            "rate_achieved": round((count - 1) / max(publish_s, 1e-9), 2) if count > 1 else None,
            "publish_errors": count - len(ok),
            "expected_deliveries": count * (n - 1),
            "deliveries": deliveries,
            "delivered_fraction": round(deliveries / (count * (n - 1)), 6),
            "messages_to_all": to_all,
            "timed_out": timed_out,
            "drain_seconds_after_last_publish": round(delivered_s, 3),
            "time_to_all_ms": dist(tta),
            "delivery_latency_ms": dist(all_lat),
            "publish_rpc_ms": dist([r[3] for r in results if r[3] is not None]),
            "publisher_stored_ms": dist(own),
            "wire": {
                "method": "p2pd getnettotals totalbytesrecv/totalbytessent (every byte read from "
                          "and written to its P2P sockets, headers included), summed over "
                          "nodes; checked against the kernel's per-socket counters (ss) in "
                          "wire_check",
                "bytes_received": dt["recv"],
                "bytes_sent": dt["sent"],
                "bytes_per_delivery": round(dt["recv"] / max(deliveries, 1), 1),
                "overhead_factor": round(dt["recv"] / max(deliveries, 1) / size, 3),
                "tail_seconds": tail,
                "window_bytes_received": dw["recv"],
                "window_bytes_per_delivery": round(dw["recv"] / max(deliveries, 1), 1),
                "bytes_saved_by_compression": dt["saved"],
                "bytes_received_by_command": dict(sorted(dt["per_cmd"].items())),
            },
            "duplicates": {
                "method": "getpeerinfo msgs_duplicate (bodies received for a message the node "
                          "already had or was verifying), summed over every peer of every node",
                "bodies_received": dt["msgs_received"],
                "first_deliveries": deliveries,
                "total": dt["msgs_duplicate"],
                "per_delivery": round(dt["msgs_duplicate"] / max(deliveries, 1), 3),
                "invalid": dt["msgs_invalid"],
                "unrequested": dt["msgs_unrequested"],
                "notfound": dt["msgs_notfound"],
                "announced_ids": dt["msgs_announced"],
                "requested_ids": dt["msgs_requested"],
            },
            "cpu": {
                "node_cpu_seconds": round(dt["cpu_ticks"] / CLK_TCK, 3),
                "node_cpu_us_per_delivery": round(dt["cpu_ticks"] / CLK_TCK * 1e6 /
                                                  max(deliveries, 1), 1),
            },
            "rss_bytes": {"mean": round(sum(rss) / len(rss)) if rss else None,
                          "max": max(rss) if rss else None},
            "end_state": {"connections": min_mean_max([c["established"] for c in c1]),
                          "mesh_peers": None},
            "log": {"rejected": sum(t.rejected for t in self.tails),
                    "request_timeouts": sum(t.request_timeouts for t in self.tails)},
        }
        if keep_messages:
            res["per_message"] = {
                "columns": ["id", "publisher", "publish_us", "receivers", "time_to_all_us",
                            "median_latency_us"],
                "rows": rows}
        return res

    def wait_backlog(self, timeout=120):
        """After a failed trial: wait until no more bodies arrive anywhere."""
        last = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = sums(all_counters(self.tn))["msgs_received"]
            if s == last:
                return
            last = s
            time.sleep(1)


# --- graph, plan, environment ---------------------------------------------------------------

def graph_info(n, edges):
    adj = [[] for _ in range(n)]
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    deg = [len(x) for x in adj]
    diameter, connected = 0, True
    for s in range(n):
        d = [-1] * n
        d[s] = 0
        q = [s]
        for x in q:
            for y in adj[x]:
                if d[y] < 0:
                    d[y] = d[x] + 1
                    q.append(y)
        if len(q) < n:
            connected = False
        diameter = max(diameter, max(d))
    return {"nodes": n, "edges": len(edges), "degree_min": min(deg),
            "degree_mean": round(sum(deg) / n, 3), "degree_max": max(deg),
            "connected": connected, "diameter": diameter if connected else None}


def read_first(path, pattern=None):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if pattern is None:
                    return line.strip()
                m = re.match(pattern, line)
                if m:
                    return m.group(1).strip()
    except OSError:
        pass
    return None


def environment(binaries, node_args):
    p2pd = binaries["p2pd"]
    try:
        version = subprocess.run([p2pd, "-version"], capture_output=True, text=True,
                                 timeout=10).stdout.strip().split("\n")[0]
    except (OSError, subprocess.SubprocessError):
        version = None
    with open(p2pd, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    commit = None
    try:
        commit = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        pass
    mem = read_first("/proc/meminfo", r"MemTotal:\s+(\d+)")
    return {
        "implementation": "p2pd",
        "versions": {"p2pd": version, "git_commit": commit, "p2pd_sha256": digest,
                     "python": platform.python_version()},
        "stack": "TCP (127.0.0.1, or 10.77.0.0/16 with --netns), p2pd's plain Bitcoin-style "
                 "framing (24-byte header, double-SHA-256 checksum; no encryption); inv/getdata "
                 "relay (each body fetched once per node); BIP340 Schnorr signature per "
                 "message, checked once per node; node options: " + " ".join(node_args) +
                 " plus contrib/testnet's p2pd.conf (connect=0, dbcache=4, verifythreads=0: "
                 "signatures checked on the event loop)",
        "os": read_first("/etc/os-release", r'PRETTY_NAME="([^"]*)"') or platform.system(),
        "debian_version": read_first("/etc/debian_version"),
        "kernel": platform.release(),
        "cpu": read_first("/proc/cpuinfo", r"model name\s*:\s*(.*)"),
        "cores": os.cpu_count(),
        "mem_bytes": int(mem) * 1024 if mem else None,
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "clock": "receive times: each node's debug.log timestamp (UTC, µs) of 'accepted "
                 "message <id>' (stored); publish times: the driver's wall clock just before "
                 "sending the publish RPC (same host). publish_us is shown on CLOCK_MONOTONIC "
                 "(wall clock minus the offset read at start)",
    }


# --- main -----------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Propagation benchmark of p2pd (issue 8); the p2pd side of the "
                    "side-by-side with gossipsub. Writes p2pd-bench-propagation/1 JSON.")
    g = p.add_argument_group("workload (as contrib/bench/gossipsub/run.mjs)")
    g.add_argument("--nodes", type=int, default=10, help="number of nodes (default 10)")
    g.add_argument("--degree", type=int, default=8, help="degree of the random graph (8)")
    g.add_argument("--seed", type=int, default=1, help="seed of graph and plan (default 1)")
    g.add_argument("--graph", help="read the edge list from this file (graph.py's format)")
    g.add_argument("--plan", help="read the publishers from this file (one index per line)")
    g.add_argument("--messages", type=int, default=1000, help="measured messages (1000)")
    g.add_argument("--size", type=int, default=1024, help="body bytes (default 1024)")
    g.add_argument("--rate", type=float, default=20, help="publish rate, msgs/s (default 20)")
    g.add_argument("--warmup", type=int, default=20, help="unmeasured messages first (20)")
    g.add_argument("--drain-timeout", type=float, default=60,
                   help="seconds after the last publish to wait for delivery (60)")
    g.add_argument("--tail", type=float, default=5,
                   help="seconds of traffic still counted after delivery (5)")
    g.add_argument("--max-rate", action="store_true",
                   help="search the highest sustained rate instead of one run")
    g.add_argument("--trial-seconds", type=float, default=10, help="max-rate trial length (10)")
    g.add_argument("--max-latency-ms", type=float, default=2000,
                   help="max-rate pass criterion: p99 time-to-all (2000)")
    g.add_argument("--bisect", type=int, default=4, help="bisection steps (default 4)")
    g.add_argument("--quick", action="store_true",
                   help="CI: %d nodes, %d messages, checks that the numbers are sane; exit 1 "
                   "if not" % (QUICK["nodes"], QUICK["messages"]))
    n = p.add_argument_group("p2pd")
    n.add_argument("--builddir", help="build directory with src/p2pd")
    n.add_argument("--p2pd", help="the p2pd binary")
    n.add_argument("--relaydelay", type=int, default=None,
                   help="-relaydelay=MS for every node (default: regtest's 0; main's is 2000)")
    n.add_argument("--compress", action="store_true",
                   help="leave zlib compression on (p2pd's default). Off by default here: "
                   "bodies are random printable ASCII, which zlib shrinks by ~20%%, while the "
                   "gossipsub side's bodies are random bytes that nothing can compress")
    n.add_argument("--node-arg", action="append", default=[], metavar="ARG",
                   help="another option for every node, e.g. --node-arg=-verifythreads=1")
    n.add_argument("--netns", action="store_true",
                   help="each node in its own network namespace (root; contrib/testnet)")
    n.add_argument("--delay", default="0", help="--netns: delay per link, e.g. 20ms")
    n.add_argument("--link", choices=("auto", "veth", "tun"), default="auto",
                   help="--netns: how namespaces are joined (contrib/testnet/README.md)")
    n.add_argument("--port-base", type=int, default=None, help="first port to try (31000)")
    n.add_argument("--ports", help="2N comma-separated ports (P2P, RPC per node)")
    o = p.add_argument_group("run")
    o.add_argument("--json", "--out", dest="out",
                   help="result file (default results/p2pd-n{N}-k{K}-s{B}-r{R}[...].json)")
    o.add_argument("--dir", help="testnet directory (default: a new temporary directory)")
    o.add_argument("--keep", action="store_true", help="keep the nodes' directory at the end")
    o.add_argument("--wait-idle", type=float, default=20,
                   help="minutes to wait while gossipsub benchmark nodes (node.mjs) run before "
                   "measuring, polling every 30 s; 0 = do not check (default 20)")
    o.add_argument("--no-ss-check", action="store_true", help="skip the kernel (ss) check")
    o.add_argument("--quiet", action="store_true", help="no progress on stderr")
    a = p.parse_args(argv)
    if a.quick:
        a.nodes, a.messages, a.warmup = QUICK["nodes"], QUICK["messages"], QUICK["warmup"]
        a.rate, a.size, a.tail = QUICK["rate"], QUICK["size"], QUICK["tail"]
        a.drain_timeout = QUICK["drain_timeout"]
        a.graph = a.plan = None
        a.max_rate = False
        a.wait_idle = 0
    if a.size < 16:
        p.error("--size must be at least 16")
    if a.rate <= 0:
        p.error("--rate must be positive")
    return a


def default_out(a, n, rate):
    name = "p2pd-n%d-k%d-s%d" % (n, a.degree, a.size)
    name += "-maxrate" if a.max_rate else "-r%g" % rate
    if a.relaydelay is not None:
        name += "-rd%d" % a.relaydelay
    if a.compress:
        name += "-zlib"
    if a.netns:
        name += "-netns-d%s" % a.delay
    return os.path.join(HERE, "results", name + ".json")


def sanity(result, a):
    """Quick mode's checks: the harness ran and its numbers are sane (never a timing limit)."""
    r = result["run"]
    n = result["params"]["nodes"]
    bad = []
    if r["delivered_fraction"] != 1 or r["messages_to_all"] != r["messages"]:
        bad.append("not every message reached every node (%s delivered)" %
                   r["delivered_fraction"])
    if r["publish_errors"]:
        bad.append("%d publish errors" % r["publish_errors"])
    t = r["time_to_all_ms"]
    if not t["count"] or not (0 < t["p50"] <= t["p99"] <= t["max"]):
        bad.append("time-to-all not positive and ordered: %s" % t)
    if not (0 < r["delivery_latency_ms"]["p50"] <= t["max"]):
        bad.append("delivery latency out of order: %s" % r["delivery_latency_ms"])
    bpd = r["wire"]["bytes_per_delivery"]
    if not (a.size <= bpd <= 10 * a.size + 8192):
        bad.append("bytes per delivery %s not between the body (%d) and 10 bodies + 8 KiB" %
                   (bpd, a.size))
    d = r["duplicates"]
    if not (0 <= d["per_delivery"] <= n) or d["invalid"] or r["log"]["rejected"]:
        bad.append("duplicates/invalid not sane: %s" % d)
    if d["bodies_received"] < r["deliveries"]:
        bad.append("fewer bodies received (%d) than deliveries (%d)" %
                   (d["bodies_received"], r["deliveries"]))
    wc = result.get("wire_check")
    if wc and wc.get("ok") is False:
        bad.append("kernel byte counters disagree with the nodes': %s" % wc)
    if not (r["cpu"]["node_cpu_seconds"] >= 0):
        bad.append("cpu: %s" % r["cpu"])
    return bad


def run(a):
    global _log_quiet
    _log_quiet = a.quiet
    if a.graph:
        with open(a.graph, "rb") as f:
            text = f.read()
        n, edges = benchgraph.read_graph(a.graph)
        gsrc = {"file": os.path.relpath(os.path.abspath(a.graph), HERE),
                "sha256": hashlib.sha256(text).hexdigest()}
        graph_file = os.path.abspath(a.graph)
    else:
        n = a.nodes
        edges = benchgraph.generate_graph(n, a.degree, a.seed)
        gsrc = {"generated": "graph.py: splitmix64 spanning tree + extra edges", "seed":
                str(a.seed), "degree": a.degree}
        graph_file = None
    ginfo = graph_info(n, edges)
    if not ginfo["connected"]:
        raise testnet.TestnetError("the graph is not connected")
    plan_len = (1 << 16) if a.max_rate else a.warmup + a.messages
    if a.plan:
        with open(a.plan, encoding="utf-8") as f:
            plan = [int(x) for x in f.read().split()]
        if any(not 0 <= x < n for x in plan):
            raise testnet.TestnetError("%s: a publisher outside 0..%d" % (a.plan, n - 1))
    else:
        plan = benchgraph.make_plan(n, plan_len, a.seed)

    node_args = ["-debug=msg"]
    if not a.compress:
        node_args.append("-compress=0")
    if a.relaydelay is not None:
        node_args.append("-relaydelay=%d" % a.relaydelay)
    node_args += a.node_arg
    # Quick mode (CI) writes a file only when asked to.
    out = a.out or (None if a.quick else default_out(a, n, a.rate))
    waited = wait_machine_free(a.wait_idle * 60) if a.wait_idle > 0 else None

    tmp = None
    directory = a.dir
    if directory is None:
        tmp = tempfile.mkdtemp(prefix="p2pd-prop-")
        directory = os.path.join(tmp, "net")
    if graph_file is None:
        graph_file = os.path.join(tmp or os.path.dirname(os.path.abspath(directory)),
                                  "graph-n%d-k%d-seed%d.txt" % (n, a.degree, a.seed))
        with open(graph_file, "w", encoding="utf-8") as f:
            f.write(benchgraph.format_graph(n, a.degree, a.seed, edges))
    ports = [int(x) for x in a.ports.split(",")] if a.ports else None
    delay_ms = testnet.testnet_netns.parse_delay(a.delay)
    tn = testnet.Testnet.create(directory, n, topology=graph_file, builddir=a.builddir,
                                p2pd=a.p2pd, ports=ports, port_base=a.port_base,
                                netns=a.netns, delay_ms=delay_ms, link=a.link,
                                extra_args=node_args, detach=False, log=log)
    env = environment(tn.state["binaries"], node_args)
    env["waited_for_other_benchmark_s"] = waited
    started_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    setup = {}
    result = None
    try:
        log("starting %d nodes, %d edges (%s)" % (n, len(edges), tn.describe()))
        times = tn.start(timeout=60 + n)
        setup["start_seconds"] = round(times["started"], 3)
        c = all_counters(tn)
        setup["rss_bytes_started"] = {"mean": round(sum(x["rss"] for x in c) / n),
                                      "max": max(x["rss"] for x in c)}
        setup["dial_failures"] = 0
        setup["connect_seconds"] = round(times["connected"] - times["started"], 3)
        setup["redialed_edges"] = 0
        setup["mesh_seconds"] = None
        setup["mesh_peers"] = None
        setup["connections"] = min_mean_max([x["established"] for x in c])
        log("linked in %.1f s: connections %s" % (setup["connect_seconds"],
                                                  setup["connections"]))
        bench = Bench(tn, a)
        pos = 0

        def take(k):
            nonlocal pos
            s = [plan[(pos + i) % len(plan)] for i in range(k)]
            pos += k
            return s
        seq = 0
        if a.warmup > 0:
            log("warm-up: %d messages" % a.warmup)
            w = bench.measure(seq, take(a.warmup), a.size, a.rate, 30, 0, False)
            seq += a.warmup
            setup["warmup"] = {"messages": a.warmup,
                               "delivered_fraction": w["delivered_fraction"],
                               "time_to_all_ms": w["time_to_all_ms"]}
        tn.wait_connected(120)
        result = {
            "schema": SCHEMA,
            "implementation": "p2pd",
            "started_at": started_at,
            "command": " ".join(shlex.quote(x) for x in
                                ["contrib/bench/propagation.py"] + sys.argv[1:]),
            "params": {"nodes": n, "degree": a.degree, "seed": str(a.seed),
                       "messages": a.messages, "body_bytes": a.size, "rate": a.rate,
                       "warmup": a.warmup, "drain_timeout_s": a.drain_timeout,
                       "tail_s": a.tail, "topic": TOPIC,
                       "relaydelay_ms": a.relaydelay if a.relaydelay is not None else 0,
                       "compress": a.compress, "node_args": node_args,
                       "netns": ({"delay_ms": delay_ms, "link": tn.netns.state["link"]}
                                 if a.netns else None),
                       "plan": (os.path.relpath(os.path.abspath(a.plan), HERE) if a.plan
                                else "graph.py make_plan(seed)")},
            "graph": dict(gsrc, **{k: v for k, v in ginfo.items() if k != "connected"}),
            "environment": env,
            "setup": setup,
        }
        if not a.max_rate:
            log("run: %d messages of %d B at %g/s from random publishers" %
                (a.messages, a.size, a.rate))
            r = bench.measure(seq, take(a.messages), a.size, a.rate, a.drain_timeout, a.tail,
                              True)
            seq += a.messages
            result["run"] = r
            log("delivered %s, time-to-all p50 %s ms p99 %s ms max %s ms, %s B/delivery, "
                "%s dup/delivery" % (r["delivered_fraction"], r["time_to_all_ms"]["p50"],
                                     r["time_to_all_ms"]["p99"], r["time_to_all_ms"]["max"],
                                     r["wire"]["bytes_per_delivery"],
                                     r["duplicates"]["per_delivery"]))
        else:
            trials = []

            def trial(rate):
                nonlocal seq
                tn.wait_connected(120)
                count = max(50, round(rate * a.trial_seconds))
                m = bench.measure(seq, take(count), a.size, rate,
                                  max(10, a.trial_seconds), 2, False)
                seq += count
                ok = (m["delivered_fraction"] == 1 and m["publish_errors"] == 0 and
                      m["time_to_all_ms"]["p99"] is not None and
                      m["time_to_all_ms"]["p99"] <= a.max_latency_ms and
                      m["rate_achieved"] >= 0.9 * rate)
                trials.append(dict({"rate": rate, "pass": ok, "edges_redialed_before": 0}, **m))
                log("trial %g/s (%d msgs): %s: delivered %s, p99 %s ms, achieved %s/s" %
                    (rate, count, "pass" if ok else "FAIL", m["delivered_fraction"],
                     m["time_to_all_ms"]["p99"], m["rate_achieved"]))
                if not ok:
                    bench.wait_backlog()
                return ok
            lo = hi = None
            r = a.rate
            if trial(r):
                lo = r
                while r < 100000:
                    r *= 2
                    if trial(r):
                        lo = r
                    else:
                        hi = r
                        break
            else:
                hi = r
                while r > 1:
                    r = max(1, r // 2)
                    if trial(r):
                        lo = r
                        break
                    hi = r
            for _ in range(a.bisect):
                if lo is None or hi is None or hi - lo <= max(1, lo * 0.05):
                    break
                mid = round((lo + hi) / 2)
                if trial(mid):
                    lo = mid
                else:
                    hi = mid
            result["max_rate"] = {
                "criterion": "every message reaches every node, p99 time-to-all <= %g ms, no "
                             "publish error, achieved rate >= 90%% of target; trials of %g s "
                             "(at least 50 messages); doubling from --rate, then %d bisection "
                             "steps" % (a.max_latency_ms, a.trial_seconds, a.bisect),
                "max_rate_msgs_per_s": lo,
                "first_failing_rate": hi,
                "trials": trials,
            }
            log("max sustained rate: %s msgs/s (first failing %s)" % (lo, hi))
        if not a.no_ss_check:
            result["wire_check"] = wire_check(tn)
            wc = result["wire_check"]
            log("ss check: ok=%s, %s/%d nodes consistent, max relative difference %s" %
                (wc.get("ok"), wc.get("nodes_consistent"), n,
                 wc.get("max_relative_difference_per_node")))
        env["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        env["other_benchmark_seen_during_run"] = bench.other_bench_seen
        env["other_benchmark_seen_first_last"] = [bench.other_bench_first,
                                                  bench.other_bench_last]
        result["finished_at"] = datetime.datetime.now(
            datetime.timezone.utc).isoformat(timespec="seconds")
        if out:
            os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
            with open(out, "w", encoding="utf-8") as f:
                json.dump(result, f, indent=1)
                f.write("\n")
            log("wrote %s" % out)
    finally:
        if a.keep:
            log("nodes' files kept in %s" % tn.dir)
            tn.stop()
        else:
            tn.clean()
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)
    return result


def main(argv=None):
    a = parse_args(argv)
    try:
        result = run(a)
    except testnet.TestnetError as e:
        print("propagation.py: error: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if a.quick:
        bad = sanity(result, a)
        for b in bad:
            print("propagation.py: quick check failed: %s" % b, file=sys.stderr)
        if bad:
            return 1
        r = result["run"]
        print("quick: ok: %d nodes, %d messages, time-to-all p50 %s ms, %s B/delivery, "
              "%s duplicates/delivery, ss check %s" %
              (result["params"]["nodes"], r["messages"], r["time_to_all_ms"]["p50"],
               r["wire"]["bytes_per_delivery"], r["duplicates"]["per_delivery"],
               result.get("wire_check", {}).get("ok")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
