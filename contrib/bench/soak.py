#!/usr/bin/env python3
"""Load and soak test (issue 9): many concurrent peers and a steady message flood on one node.

A regtest target node gets:
- two publisher p2pd nodes it dials (-connect); a thread publishes on them, alternately, at
  --rate messages per second (signed by the publishers), which they relay to the target;
- --peers scripted peers connecting inbound (one asyncio loop, each from its own loopback
  address 127.77.x.y). Each completes the handshake and answers pings; one in ten (an
  "observer") asks for relay and counts the new ids the target announces to it.

Every --sample seconds the script records the target's resident memory (VmRSS), its open file
descriptors (/proc/<pid>/fd), the number of peers getpeerinfo shows, and how many messages
the observers saw. Throughout, a thread calls getnetworkinfo and getpeerinfo in turn and
records each call's latency.

At the end it checks, and reports as JSON (--json FILE):
- every scripted peer stayed connected (none refused or dropped);
- resident memory stayed under --max-rss-mb (default 200: about 10 MiB at rest, about 8 KiB
  per idle peer, the message store's caches and LevelDB's memtable and block cache, with room);
- file descriptors at the end are within 16 of the steady count once all peers connected
  (no leak: the count does not creep up over the run);
- RPC kept answering: no call failed, p99 latency reported;
- honest peers kept getting messages: every observer received announcements in each quarter
  of the run, and the target stored every published message (getstoreinfo).
Exit status 1 when a check fails.

The full soak (documented in doc/benchmarks.md "Soak"):
    contrib/bench/soak.py --builddir build-release --peers 1000 --duration 600 --json soak.json
CI runs a short version through test/functional/feature_soak.py (200 peers, 30 s).
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import random
import shutil
import statistics
import struct
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "functional"))

from test_framework.messages import (  # noqa: E402
    MAGIC, encode_frame, encode_frame_raw, msg_pong, msg_verack, msg_version)
from test_framework.node import TestNode  # noqa: E402
from test_framework.util import wait_until  # noqa: E402

INV_SIGNED_MSG = 0x20  # doc/protocol.md "inv"
HEADER = 24


def vm_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def percentile(values, p):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


class Peer:
    """One scripted inbound peer: handshake, pongs, and (observers) counting announced ids."""

    def __init__(self, soak, index, observer):
        self.soak, self.index, self.observer = soak, index, observer
        self.source = "127.77.%d.%d" % (index // 250 + 1, index % 250 + 1)
        self.connected = False
        self.closed_by_node = False
        self.seen = 0          # new ids announced to it (observers)
        self.seen_at = []      # monotonic times of those announcements, one per inv

    async def run(self, stop):
        s = self.soak
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", s.target.p2p_port, local_addr=(self.source, 0))
        except OSError as e:
            s.errors.append("peer %d: connect: %s" % (self.index, e))
            return
        ver = msg_version()
        ver.relay = 1 if self.observer else 0
        ver.nonce = random.getrandbits(64)
        writer.write(encode_frame(ver))
        await writer.drain()
        try:
            while not stop.is_set():
                try:
                    hdr = await asyncio.wait_for(reader.readexactly(HEADER), timeout=1.0)
                except asyncio.TimeoutError:
                    continue
                cmd = hdr[4:16].rstrip(b"\x00")
                length = struct.unpack("<I", hdr[16:20])[0]
                payload = await reader.readexactly(length)
                if cmd == b"version":
                    writer.write(encode_frame(msg_verack()))
                elif cmd == b"verack":
                    self.connected = True
                elif cmd == b"ping":
                    writer.write(encode_frame(msg_pong(nonce=struct.unpack("<Q", payload)[0])))
                elif cmd == b"inv" and self.observer:
                    n = (len(payload) - 1) // 36 if payload else 0
                    self.seen += n
                    self.seen_at.append(time.monotonic())
                    # Ask for nothing: the target serves observers announcements only.
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            if not stop.is_set():
                self.closed_by_node = True
        finally:
            writer.close()


class Soak:
    def __init__(self, args):
        self.args = args
        builddir = os.path.abspath(args.builddir)
        self.binaries = {"p2pd": os.path.join(builddir, "src", "p2pd"),
                         "p2pcli": os.path.join(builddir, "src", "p2p-cli"),
                         "p2putil": os.path.join(builddir, "src", "p2p-util")}
        if not os.access(self.binaries["p2pd"], os.X_OK):
            sys.exit("no p2pd at %s (use --builddir)" % self.binaries["p2pd"])
        self.tmpdir = tempfile.mkdtemp(prefix="p2pd_soak_")
        self.t0 = time.monotonic()
        self.errors = []
        self.samples = []
        self.rpc_ms = []
        self.rpc_failures = 0
        self.published = 0
        self.nodes = []

    def log(self, msg):
        print("%7.1fs %s" % (time.monotonic() - self.t0, msg), flush=True)

    def start_nodes(self):
        a = self.args
        pubs = []
        for i in range(2):
            n = TestNode(i + 1, self.tmpdir, self.binaries, log=lambda m: None,
                         extra_args=["-connect=0", "-bind=127.0.2.%d" % (i + 1)])
            n.p2p_in_args = False
            n.extra_args.append("-port=%d" % n.p2p_port)
            pubs.append(n)
        target = TestNode(0, self.tmpdir, self.binaries, log=lambda m: None,
                          extra_args=["-maxconnections=%d" % (a.peers + 20),
                                      "-whitelist=relay@127.0.2.0/24"] +
                          ["-connect=127.0.2.%d:%d" % (i + 1, n.p2p_port)
                           for i, n in enumerate(pubs)])
        self.target, self.pubs = target, pubs
        self.nodes = [target] + pubs
        for n in pubs + [target]:
            n.start(wait=False)
        for n in self.nodes:
            n.wait_for_rpc_connection()
        wait_until(lambda: len([p for p in target.rpc.getpeerinfo()
                                if p["state"] == "established" and not p["inbound"]]) == 2,
                   timeout=30, message="the target connected to both publishers")
        self.pid = target.process.pid
        self.log("target pid %d connected to 2 publishers; VmRSS %d KiB, %d fds" % (
            self.pid, vm_rss_kb(self.pid), open_fds(self.pid)))

    def stop_nodes(self):
        for n in self.nodes:
            if n.running:
                try:
                    n.stop_node(wait=False)
                except Exception:
                    n.kill()
        for n in self.nodes:
            if n.process is not None and n.running:
                try:
                    n.wait_until_stopped(timeout=30, expected_stderr=None)
                except AssertionError:
                    n.kill()
        if not self.args.nocleanup:
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def publisher(self, stop):
        rpcs = [p.proxy(*p.read_cookie()) for p in self.pubs]
        period = 1.0 / self.args.rate
        nxt = time.monotonic()
        while not stop.is_set():
            try:
                rpcs[self.published % 2].publish("soak", "message %d" % self.published)
                self.published += 1
            except Exception as e:
                self.errors.append("publish: %r" % e)
                return
            nxt += period
            time.sleep(max(0.0, nxt - time.monotonic()))

    @staticmethod
    def rpc_prober(url_args, stop, results):
        """In a process of its own (the peers' event loop would delay a thread's timing)."""
        from test_framework.authproxy import AuthServiceProxy
        rpc = AuthServiceProxy(*url_args)
        calls = (rpc.getnetworkinfo, rpc.getpeerinfo)
        ms, failures, errors, i = [], 0, [], 0
        while not stop.is_set():
            t = time.monotonic()
            try:
                calls[i % 2]()
                ms.append((time.monotonic() - t) * 1000.0)
            except Exception as e:
                failures += 1
                errors.append("rpc: %r" % e)
            i += 1
            stop.wait(0.1)
        results.put((ms, failures, errors[:10]))

    async def run_peers(self, peers, stop_async):
        tasks = []
        for i, p in enumerate(peers):
            tasks.append(asyncio.ensure_future(p.run(stop_async)))
            if i % 50 == 49:
                await asyncio.sleep(0.05)  # connect in waves, not a SYN storm
        await stop_async.wait()
        await asyncio.gather(*tasks, return_exceptions=True)

    def run(self):
        a = self.args
        self.start_nodes()
        peers = [Peer(self, i, observer=(i % 10 == 0)) for i in range(a.peers)]
        loop = asyncio.new_event_loop()
        stop_async = asyncio.Event()
        peer_thread = threading.Thread(
            target=lambda: loop.run_until_complete(self.run_peers(peers, stop_async)),
            daemon=True)
        peer_thread.start()
        wait_until(lambda: sum(p.connected for p in peers) == a.peers or self.errors,
                   timeout=120, message="%d peers connected" % a.peers)
        if self.errors:
            raise SystemExit("connecting peers: %s" % self.errors[:3])
        steady_fds = open_fds(self.pid)
        self.log("%d peers connected: VmRSS %d KiB, %d fds" % (
            a.peers, vm_rss_kb(self.pid), steady_fds))

        stop = threading.Event()
        workers = [threading.Thread(target=self.publisher, args=(stop,), daemon=True)]
        for w in workers:
            w.start()
        pstop, presults = multiprocessing.Event(), multiprocessing.Queue()
        prober = multiprocessing.Process(
            target=Soak.rpc_prober, args=((self.target.rpc_url(*self.target.read_cookie()),
                                           30), pstop, presults), daemon=True)
        prober.start()
        start = time.monotonic()
        end = start + a.duration
        while time.monotonic() < end:
            time.sleep(min(a.sample, max(0.0, end - time.monotonic())))
            s = {"t": round(time.monotonic() - start, 1), "rss_kb": vm_rss_kb(self.pid),
                 "fds": open_fds(self.pid), "published": self.published,
                 "observed": sum(p.seen for p in peers if p.observer),
                 "peers_connected": sum(p.connected and not p.closed_by_node for p in peers)}
            self.samples.append(s)
            self.log("rss %d KiB, fds %d, published %d, observed %d, peers %d" % (
                s["rss_kb"], s["fds"], s["published"], s["observed"], s["peers_connected"]))
        stop.set()
        pstop.set()
        for w in workers:
            w.join(30)
        self.rpc_ms, self.rpc_failures, errors = presults.get(timeout=60)
        self.errors += errors
        prober.join(30)
        # Let the last messages arrive before counting.
        want = self.published
        try:
            wait_until(lambda: self.target.rpc.getstoreinfo()["count"] >= want, timeout=30)
        except AssertionError:
            pass
        stored = self.target.rpc.getstoreinfo()["count"]
        peers_at_end = len(self.target.rpc.getpeerinfo())
        loop.call_soon_threadsafe(stop_async.set)
        peer_thread.join(30)
        return self.report(peers, start, steady_fds, stored, peers_at_end)

    def report(self, peers, start, steady_fds, stored, peers_at_end):
        a = self.args
        rss = [s["rss_kb"] for s in self.samples]
        fds = [s["fds"] for s in self.samples]
        observers = [p for p in peers if p.observer]
        quarter = a.duration / 4.0
        starved = []
        for p in observers:
            got = {min(3, int((t - start) // quarter)) for t in p.seen_at if t >= start}
            if got != {0, 1, 2, 3}:
                starved.append(p.index)
        checks = {
            "all_peers_stayed": sum(p.closed_by_node for p in peers) == 0,
            "rss_under_bound": max(rss) <= a.max_rss_mb * 1024 if rss else False,
            "no_fd_leak": (max(fds) - steady_fds) <= 16 if fds else False,
            "rpc_always_answered": self.rpc_failures == 0 and len(self.rpc_ms) > 0,
            "observers_fed_every_quarter": not starved,
            "every_message_stored": stored >= self.published > 0,
        }
        out = {
            "bench": "soak", "peers": a.peers, "duration_s": a.duration, "rate": a.rate,
            "published": self.published, "stored": stored, "peers_at_end": peers_at_end,
            "dropped_by_node": sum(p.closed_by_node for p in peers),
            "rss_kb": {"start": rss[0] if rss else None, "max": max(rss) if rss else None,
                       "end": rss[-1] if rss else None},
            "fds": {"steady": steady_fds, "max": max(fds) if fds else None,
                    "end": fds[-1] if fds else None},
            "rpc_ms": {"calls": len(self.rpc_ms), "failures": self.rpc_failures,
                       "p50": percentile(self.rpc_ms, 50), "p99": percentile(self.rpc_ms, 99),
                       "max": max(self.rpc_ms) if self.rpc_ms else None},
            "observers": len(observers), "starved_observers": starved[:10],
            "checks": checks, "ok": all(checks.values()),
            "errors": self.errors[:10], "samples": self.samples,
            "machine": {"nproc": os.cpu_count(), "kernel": platform.release(),
                        "python": platform.python_version()},
        }
        return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--builddir", default="build")
    p.add_argument("--peers", type=int, default=1000)
    p.add_argument("--duration", type=float, default=600, help="seconds of flood")
    p.add_argument("--rate", type=float, default=20, help="messages published per second")
    p.add_argument("--sample", type=float, default=5, help="seconds between samples")
    p.add_argument("--max-rss-mb", type=float, default=200)
    p.add_argument("--json", help="write the result here")
    p.add_argument("--nocleanup", action="store_true")
    a = p.parse_args()
    soak = Soak(a)
    try:
        out = soak.run()
    finally:
        soak.stop_nodes()
    text = json.dumps(out, indent=1)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    summary = {k: out[k] for k in ("peers", "duration_s", "published", "stored", "rss_kb",
                                   "fds", "rpc_ms", "checks", "ok")}
    print(json.dumps(summary, indent=1))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
