"""Network namespaces for contrib/testnet/testnet.py (--netns; root only).

Each node i runs in the namespace p2pd-t<i> with the address 10.77.x.y/16 (node_address) on
an interface eth0; the host (the root namespace) is 10.77.0.1, so the tool reaches every
node's RPC port directly. Nodes listen on the regtest ports (29733, RPC 29732) of their own
address. Two ways to join the namespaces:

- veth: a veth pair per node, its host end on the bridge p2pd-br. A delay or loss is a
  `tc netem` qdisc on the node's eth0, behind an htb filter so that only packets to other
  nodes get it (the tool's RPC traffic to 10.77.0.1 does not). Needs the kernel's netem
  (CONFIG_NET_SCH_NETEM, module sch_netem).
- tun: a TUN device per node (and p2pd-host for the host), all held by one forwarding
  process of this tool (`testnet.py _hub`) that passes each IPv4 packet to the TUN device of
  its destination, holding packets between nodes for the delay and dropping the loss rate.
  Works on kernels without netem; costs CPU per packet (fine for tests, not for throughput).

In both, a packet from one node to another is delayed once (on its way out of the sender),
so the round trip between two nodes is twice the delay, like netem on every node's egress.
"""

import fcntl
import heapq
import json
import os
import random
import re
import selectors
import signal
import struct
import subprocess
import sys
import time

PREFIX = "p2pd-t"          # namespaces p2pd-t0, p2pd-t1, ...
BRIDGE = "p2pd-br"         # veth: the bridge in the root namespace
VETH_PREFIX = "p2pd-v"     # veth: host ends p2pd-v0, ...
TUN_PREFIX = "p2pd-n"      # tun: node devices before they are moved and renamed eth0
HOST_TUN = "p2pd-host"     # tun: the host's device
HOST_ADDRESS = "10.77.0.1"
PREFIXLEN = 16
P2P_PORT = 29733
RPC_PORT = 29732
NETNS_DIR = "/run/netns"

# Packets a netem qdisc may hold (its default, 1000, drops packets at modest rates once
# they are delayed tens of milliseconds).
NETEM_LIMIT = 100000
# The forwarding process holds at most this many delayed packets; more are dropped (counted
# in hub.log) so a flood cannot take unbounded memory.
HUB_MAX_QUEUED = 200000

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


class TestnetError(Exception):
    """Something the user should be told about, in one message; the tool exits 1."""


def node_address(i):
    """The IPv4 address of node i: 10.77.0.2 for node 0, and up."""
    host = i + 2
    return "10.77.%d.%d" % (host >> 8, host & 255)


def parse_delay(text):
    """Milliseconds from "20ms", "20", "0.5s" or "1500us"."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(us|ms|s)?\s*", str(text))
    if not m:
        raise TestnetError("cannot read the delay %r (e.g. 20ms, 0.5s)" % text)
    value = float(m.group(1))
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, None: 1.0}[m.group(2)]


def parse_loss(text):
    """A loss rate in percent from "0.1%" or "0.1"."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*%?\s*", str(text))
    if not m or float(m.group(1)) > 100:
        raise TestnetError("cannot read the loss rate %r (a percentage, e.g. 0.1%%)" % text)
    return float(m.group(1))


def _run(cmd, check=True):
    """Run a command; raise TestnetError with its stderr when check and it fails."""
    res = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    if check and res.returncode != 0:
        raise TestnetError("`%s` failed: %s" % (" ".join(cmd),
                                                res.stderr.decode(errors="replace").strip()))
    return res


def check_can_run():
    if os.geteuid() != 0:
        raise TestnetError("--netns needs root: it creates network namespaces, virtual links "
                           "and traffic-control rules (run as root, e.g. with sudo)")
    for tool in ("ip", "tc"):
        if not any(os.access(os.path.join(d, tool), os.X_OK)
                   for d in os.environ.get("PATH", "").split(":") + ["/sbin", "/usr/sbin"]):
            raise TestnetError("--netns needs `%s` (Debian package iproute2)" % tool)


def check_free():
    """Raise TestnetError when namespaces or devices of this tool exist already (one --netns
    testnet at a time: they share the names and the subnet)."""
    left = _our_namespaces()
    devs = [d for d in (BRIDGE, HOST_TUN) if _link_exists(d)]
    if left or devs:
        raise TestnetError("namespaces or devices of another --netns testnet exist (%s): stop "
                           "or clean it, or remove leftovers with `testnet.py clean "
                           "--netns-leftovers`" %
                           ", ".join((left[:3] + ["..."] if len(left) > 3 else left) + devs))


def _link_exists(name):
    return os.path.exists("/sys/class/net/%s" % name)


def _our_namespaces():
    try:
        return sorted(n for n in os.listdir(NETNS_DIR) if re.fullmatch(PREFIX + r"\d+", n))
    except FileNotFoundError:
        return []


def netem_available():
    """Whether the kernel has the netem qdisc (tried in a scratch namespace)."""
    ns = "p2pd-probe%d" % os.getpid()
    _run(["ip", "netns", "add", ns])
    try:
        return _run(["tc", "-n", ns, "qdisc", "add", "dev", "lo", "root", "netem", "delay",
                     "1ms"], check=False).returncode == 0
    finally:
        _run(["ip", "netns", "del", ns], check=False)


def choose_link(link, delay_ms, loss, log):
    """veth or tun for --link=auto|veth|tun: auto is veth unless a delay or loss is asked for
    and the kernel has no netem."""
    if link == "tun" or not (delay_ms or loss):
        return "veth" if link == "auto" else link
    if netem_available():
        return "veth"
    if link == "veth":
        raise TestnetError("--link=veth with a delay or loss needs the kernel's netem qdisc "
                           "(CONFIG_NET_SCH_NETEM, module sch_netem), which this kernel lacks; "
                           "use --link=tun or --link=auto")
    log("the kernel has no netem qdisc (CONFIG_NET_SCH_NETEM): delay and loss will come from "
        "the tool's forwarding process (--link=tun)")
    return "tun"


def _parallel(fn, items, workers=8):
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for fut in [pool.submit(fn, x) for x in items]:
            fut.result()


class Netns:
    """The namespaces of one testnet; its state dict lives in testnet.json ("netns")."""

    def __init__(self, directory, state, log):
        self.dir = directory
        self.state = state
        self.log = log
        self._hub = None

    @staticmethod
    def new_state(n, delay_ms, loss, link, log):
        """The state of a new testnet's namespaces; link: auto, veth or tun (see
        choose_link)."""
        return {"n": n, "delay_ms": delay_ms, "loss": loss,
                "link": choose_link(link, delay_ms, loss, log), "up": False, "hub_pid": None}

    def ns_name(self, i):
        return PREFIX + str(i)

    def exec_prefix(self, i):
        return ["ip", "netns", "exec", self.ns_name(i)]

    def is_up(self):
        return bool(self.state["up"]) and os.path.exists(os.path.join(NETNS_DIR,
                                                                      self.ns_name(0)))

    def describe(self):
        s = self.state
        text = "network namespaces %s0..%d, 10.77.0.0/16" % (PREFIX, s["n"] - 1)
        if s["delay_ms"] or s["loss"]:
            text += ", delay %gms loss %g%%" % (s["delay_ms"], s["loss"])
        return text + " (%s links)" % s["link"]

    # --- set-up ---

    def setup(self):
        """Create the namespaces and their links; on failure remove what was made."""
        check_can_run()
        check_free()
        s = self.state
        link = s["link"]
        s["up"] = True  # from here on teardown() has something to remove
        t0 = time.monotonic()
        try:
            _parallel(lambda i: _run(["ip", "netns", "add", self.ns_name(i)]), range(s["n"]))
            if link == "veth":
                self._setup_veth()
            else:
                self._setup_tun()
        except BaseException:
            self.teardown()
            raise
        self.log("network namespaces ready (%s links) in %.1fs" % (link, time.monotonic() - t0))

    def _ns_common(self, i, dev):
        ns = self.ns_name(i)
        _run(["ip", "-n", ns, "addr", "add", "%s/%d" % (node_address(i), PREFIXLEN), "dev",
              dev])
        _run(["ip", "-n", ns, "link", "set", dev, "up"])
        _run(["ip", "-n", ns, "link", "set", "lo", "up"])

    def _setup_veth(self):
        _run(["ip", "link", "add", BRIDGE, "type", "bridge"])
        _run(["ip", "addr", "add", "%s/%d" % (HOST_ADDRESS, PREFIXLEN), "dev", BRIDGE])
        _run(["ip", "link", "set", BRIDGE, "up"])

        def one(i):
            ns, veth = self.ns_name(i), VETH_PREFIX + str(i)
            _run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns",
                  ns])
            _run(["ip", "link", "set", veth, "master", BRIDGE, "up"])
            self._ns_common(i, "eth0")
            if self.state["delay_ms"] or self.state["loss"]:
                self._netem(ns)
        _parallel(one, range(self.state["n"]))

    def _netem(self, ns):
        """htb on eth0: packets to the host (class 1:10) go straight out, packets to other
        nodes (1:20) through netem."""
        tc = ["tc", "-n", ns]
        _run(tc + ["qdisc", "add", "dev", "eth0", "root", "handle", "1:", "htb", "default",
                   "10"])
        for cls in ("1:10", "1:20"):
            _run(tc + ["class", "add", "dev", "eth0", "parent", "1:", "classid", cls, "htb",
                       "rate", "10gbit", "quantum", "60000"])
        netem = ["netem", "limit", str(NETEM_LIMIT)]
        if self.state["delay_ms"]:
            netem += ["delay", "%gms" % self.state["delay_ms"]]
        if self.state["loss"]:
            netem += ["loss", "%g%%" % self.state["loss"]]
        _run(tc + ["qdisc", "add", "dev", "eth0", "parent", "1:20", "handle", "20:"] + netem)
        _run(tc + ["filter", "add", "dev", "eth0", "parent", "1:", "protocol", "ip", "prio",
                   "1", "u32", "match", "ip", "dst", HOST_ADDRESS + "/32", "flowid", "1:10"])
        _run(tc + ["filter", "add", "dev", "eth0", "parent", "1:", "protocol", "ip", "prio",
                   "2", "u32", "match", "ip", "dst", "10.77.0.0/%d" % PREFIXLEN, "flowid",
                   "1:20"])

    def _setup_tun(self):
        s = self.state
        devices = [{"name": TUN_PREFIX + str(i), "address": node_address(i), "node": True}
                   for i in range(s["n"])]
        devices.append({"name": HOST_TUN, "address": HOST_ADDRESS, "node": False})
        hubdir = os.path.join(self.dir, "hub")
        os.makedirs(hubdir, exist_ok=True)
        ready = os.path.join(hubdir, "ready")
        if os.path.exists(ready):
            os.unlink(ready)
        with open(os.path.join(hubdir, "hub.json"), "w", encoding="utf8") as f:
            json.dump({"devices": devices, "delay_ms": s["delay_ms"], "loss": s["loss"]}, f)
        tool = os.path.join(os.path.dirname(os.path.abspath(__file__)), "testnet.py")
        with open(os.path.join(hubdir, "hub.log"), "ab") as logf:
            self._hub = subprocess.Popen([sys.executable, tool, "_hub", hubdir],
                                         stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                         start_new_session=True, close_fds=True)
        s["hub_pid"] = self._hub.pid
        deadline = time.monotonic() + 10
        while not os.path.exists(ready):
            if self._hub.poll() is not None or time.monotonic() > deadline:
                with open(os.path.join(hubdir, "hub.log"), "rb") as f:
                    tail = f.read()[-600:].decode(errors="replace").strip()
                raise TestnetError("the forwarding process did not start: %s" % tail)
            time.sleep(0.02)
        _run(["ip", "addr", "add", "%s/%d" % (HOST_ADDRESS, PREFIXLEN), "dev", HOST_TUN])
        _run(["ip", "link", "set", HOST_TUN, "up"])

        def one(i):
            ns, dev = self.ns_name(i), TUN_PREFIX + str(i)
            _run(["ip", "link", "set", dev, "netns", ns])
            _run(["ip", "-n", ns, "link", "set", dev, "name", "eth0"])
            self._ns_common(i, "eth0")
        _parallel(one, range(s["n"]))

    # --- tear-down ---

    def teardown(self):
        """Remove the forwarding process, the namespaces and the bridge (whatever exists).
        Does nothing unless setup() ran: the names may belong to another testnet."""
        s = self.state
        if not s["up"] and not s.get("hub_pid"):
            return
        pid = s.get("hub_pid")
        if pid:
            _stop_hub(pid, self._hub)
            self._hub = None
            s["hub_pid"] = None
        _parallel(lambda i: _run(["ip", "netns", "del", self.ns_name(i)], check=False)
                  if os.path.exists(os.path.join(NETNS_DIR, self.ns_name(i))) else None,
                  range(s["n"]))
        for dev in (BRIDGE, HOST_TUN):
            if _link_exists(dev):
                _run(["ip", "link", "del", dev], check=False)
        s["up"] = False


def _is_hub(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return b"_hub" in f.read().split(b"\0")
    except OSError:
        return False


def _stop_hub(pid, proc=None):
    if not _is_hub(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while _is_hub(pid) and time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.02)
    if _is_hub(pid) and (proc is None or proc.poll() is None):
        os.kill(pid, signal.SIGKILL)
    if proc is not None:
        proc.wait()


def sweep(log):
    """Remove every namespace, device and forwarding process of this tool (leftovers of a
    testnet whose directory is gone), and the nodes still running in those namespaces."""
    for ns in _our_namespaces():
        pids = [int(p) for p in _run(["ip", "netns", "pids", ns], check=False).stdout.split()]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while any(os.path.exists("/proc/%d" % p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.02)
        _run(["ip", "netns", "del", ns], check=False)
        log("removed namespace %s (and %d processes in it)" % (ns, len(pids)))
    for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
        if _is_hub(pid):
            _stop_hub(pid)
            log("stopped forwarding process %d" % pid)
    for dev in (BRIDGE, HOST_TUN):
        if _link_exists(dev):
            _run(["ip", "link", "del", dev], check=False)
            log("removed device %s" % dev)


# --- the forwarding process (--link=tun) ------------------------------------------------------

def _open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


def hub_main(hubdir):
    """Create the TUN devices named in <hubdir>/hub.json, write <hubdir>/ready, then forward
    IPv4 packets between them until SIGTERM. Packets between two nodes wait delay_ms and are
    dropped with probability loss percent; packets to or from the host pass at once."""
    with open(os.path.join(hubdir, "hub.json"), encoding="utf8") as f:
        cfg = json.load(f)
    delay = cfg["delay_ms"] / 1000.0
    loss = cfg["loss"] / 100.0
    fds, is_node, by_addr = [], [], {}
    for dev in cfg["devices"]:
        fd = _open_tun(dev["name"])
        fds.append(fd)
        is_node.append(dev["node"])
        by_addr[bytes(int(x) for x in dev["address"].split("."))] = len(fds) - 1
    stats = {"forwarded": 0, "delayed": 0, "lost": 0, "unroutable": 0, "overflow": 0}

    def on_term(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, on_term)
    with open(os.path.join(hubdir, "ready.tmp"), "w") as f:
        f.write("%d\n" % os.getpid())
    os.replace(os.path.join(hubdir, "ready.tmp"), os.path.join(hubdir, "ready"))
    print("hub %d: %d devices, delay %gms, loss %g%%" %
          (os.getpid(), len(fds), cfg["delay_ms"], cfg["loss"]), flush=True)

    sel = selectors.DefaultSelector()
    for idx, fd in enumerate(fds):
        sel.register(fd, selectors.EVENT_READ, idx)
    queue = []  # (due, seq, out fd, packet): FIFO per link since the delay is constant
    seq = 0
    rng = random.Random()

    def send(fd, pkt):
        try:
            os.write(fd, pkt)
            stats["forwarded"] += 1
        except OSError:
            stats["unroutable"] += 1  # the device is down (not configured yet, or going)
    try:
        while True:
            timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else None
            for key, _ in sel.select(timeout):
                src = key.data
                while True:
                    try:
                        pkt = os.read(key.fd, 65536)
                    except BlockingIOError:
                        break
                    except OSError:
                        break
                    if len(pkt) < 20 or pkt[0] >> 4 != 4:
                        continue  # IPv4 only (IPv6 router solicitations and the like)
                    dst = by_addr.get(pkt[16:20])
                    if dst is None or dst == src:
                        stats["unroutable"] += 1
                        continue
                    if is_node[src] and is_node[dst]:
                        if loss and rng.random() < loss:
                            stats["lost"] += 1
                            continue
                        if delay:
                            if len(queue) >= HUB_MAX_QUEUED:
                                stats["overflow"] += 1
                                continue
                            seq += 1
                            heapq.heappush(queue, (time.monotonic() + delay, seq, fds[dst], pkt))
                            stats["delayed"] += 1
                            continue
                    send(fds[dst], pkt)
            now = time.monotonic()
            while queue and queue[0][0] <= now:
                _, _, fd, pkt = heapq.heappop(queue)
                send(fd, pkt)
    except SystemExit:
        pass
    finally:
        print("hub %d exiting: %s" % (os.getpid(), json.dumps(stats)), flush=True)
    return 0
