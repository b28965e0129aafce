#!/usr/bin/env python3
"""Memory cost of an idle peer: connect N handshaken test peers to one regtest p2pd and measure
the node's resident memory before and after.

Usage: contrib/bench/idle_peers.py [--builddir build] [--peers 1000] [--json out.json]

Prints the node's VmRSS at rest, with N established idle peers, and the difference per peer.
The target (issue 3) is at most 32 KiB of resident memory per idle peer. Every socket here is
on loopback; the script stops its node and closes its sockets when done.
"""

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "functional"))

from test_framework.messages import (  # noqa: E402
    HEADER_SIZE, decode_header, encode_frame, msg_verack, msg_version)


def frames(buf):
    """Split complete frames off buf: returns ([command, ...], rest)."""
    cmds = []
    while len(buf) >= HEADER_SIZE:
        h = decode_header(buf[:HEADER_SIZE])
        if len(buf) < HEADER_SIZE + h.length:
            break
        cmds.append(h.command.decode("ascii", "replace"))
        buf = buf[HEADER_SIZE + h.length:]
    return cmds, buf


def vm_rss_kb(pid):
    with open("/proc/%d/status" % pid, encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def handshake(port):
    """Open a connection and complete the handshake; return the socket."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(encode_frame(msg_version()) + encode_frame(msg_verack()))
    buf = b""
    seen = set()
    deadline = time.monotonic() + 10
    while "verack" not in seen and time.monotonic() < deadline:
        data = s.recv(65536)
        if not data:
            raise RuntimeError("node closed a benchmark connection")
        buf += data
        cmds, buf = frames(buf)
        seen.update(cmds)
    return s


def rpc(cli, *args):
    return subprocess.run(cli + list(args), check=True, capture_output=True,
                          text=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--builddir", default=os.path.join(HERE, "..", "..", "build"))
    ap.add_argument("--peers", type=int, default=1000)
    ap.add_argument("--json", help="write the results here as JSON")
    args = ap.parse_args()

    need = args.peers + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))

    p2pd = os.path.join(args.builddir, "src", "p2pd")
    cli_bin = os.path.join(args.builddir, "src", "p2p-cli")
    tmp = tempfile.mkdtemp(prefix="p2pd-bench-idle-")
    port, rpcport = free_port(), free_port()
    node = subprocess.Popen([p2pd, "-regtest", "-datadir=" + tmp, "-printtoconsole=0",
                             "-port=%d" % port, "-bind=127.0.0.1", "-rpcport=%d" % rpcport,
                             "-maxconnections=%d" % (args.peers + 20)])
    cli = [cli_bin, "-regtest", "-datadir=" + tmp, "-rpcport=%d" % rpcport, "-rpcwait"]
    socks = []
    try:
        rpc(cli, "getnetworkinfo")
        time.sleep(1)
        base = vm_rss_kb(node.pid)
        t0 = time.monotonic()
        for _ in range(args.peers):
            socks.append(handshake(port))
        elapsed = time.monotonic() - t0
        count = int(rpc(cli, "getconnectioncount"))
        time.sleep(2)  # let the first pings settle
        loaded = vm_rss_kb(node.pid)
        per_peer = (loaded - base) * 1024 / args.peers
        res = {
            "peers": args.peers, "connected": count, "rss_base_kib": base,
            "rss_loaded_kib": loaded, "bytes_per_idle_peer": round(per_peer),
            "handshakes_per_s": round(args.peers / elapsed),
        }
        print("idle peers: %d (node reports %d connections)" % (args.peers, count))
        print("VmRSS: %d KiB at rest, %d KiB with peers" % (base, loaded))
        print("per idle peer: %.1f KiB (target <= 32 KiB)" % (per_peer / 1024))
        print("handshakes: %.0f per second" % (args.peers / elapsed))
        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(res, f, indent=2)
        return 0 if count >= args.peers else 1
    finally:
        for s in socks:
            s.close()
        node.terminate()
        node.wait(timeout=30)
        subprocess.run(["rm", "-rf", tmp], check=False)


if __name__ == "__main__":
    sys.exit(main())
