#!/usr/bin/env python3
"""Start, wire, watch and stop a local testnet of p2pd regtest nodes.

    testnet.py start -n 20                  # 20 nodes, random topology, connected
    testnet.py publish chat "hello"         # publish on node 0, print the id
    testnet.py where <id>                   # which nodes hold it, since when
    testnet.py status | stop [i|all] | restart [i|all] | logs [i] [-f] | rpc i CMD ... | clean

Every node is a real p2pd process with its own data directory under the testnet directory
(default $TMPDIR/p2pd-testnet, or $P2PD_TESTNET_DIR, or --dir). The state (ports, pids,
topology) is kept in <dir>/testnet.json, so each command can run from a new shell. With
--netns (root only) each node runs in its own network namespace with its own address, and
links between nodes can be given a delay and a loss rate. See contrib/testnet/README.md.

The module is also a library (standard library only):

    sys.path.insert(0, "contrib/testnet"); from testnet import Testnet
    tn = Testnet.create("/tmp/tn", 10, topology="ring", builddir="build")
    tn.start()                              # launch, wire, wait until connected
    msgid = tn.publish(0, "chat", "hi"); tn.wait_for_message(msgid)
    tn.clean()
"""

import argparse
import base64
import collections
import concurrent.futures
import datetime
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import testnet_netns  # noqa: E402  (lives next to this file)

STATE_FILE = "testnet.json"
STATE_VERSION = 1

# p2pd accepts at most 8 manual connections per node (CONNMAN_MAX_MANUAL, `p2pd -help`
# -maxconnections): every link of the topology is one manual connection of its dialling end,
# so the links are oriented so that no node dials more than this.
MAX_DIALS = 8
# Inbound slots of a node with the default -maxconnections=125 (all but 10 may be inbound).
MAX_INBOUND = 115

# Ports are taken below Linux's ephemeral range (32768-60999): a port from that range can be
# taken at any time as the source port of an outgoing connection, and a node binding it later
# would fail to start.
DEFAULT_PORT_BASE = 31000
PORT_LIMIT = 32768

DEFAULT_NODES = 5
DEFAULT_DEGREE = 4
DEFAULT_TIMEOUT = 60

# Options every node gets in its p2pd.conf. connect=0: no automatic outbound connections, no
# feelers, no anchors — a node is linked only to what the topology says (the tool adds the
# links with `addnode <peer> add`). The rest keeps 100 nodes light on a 2-core machine:
# a 4 MiB database cache and signature checks on the event loop (no worker thread).
NODE_CONFIG = [
    ("connect", "0"),
    ("discover", "0"),
    ("dbcache", "4"),
    ("verifythreads", "0"),
    ("printtoconsole", "0"),
]

TOPOLOGIES = ("line", "ring", "random", "full")


# Something the user should be told about, in one message; the tool exits 1.
TestnetError = testnet_netns.TestnetError


def default_dir():
    return os.environ.get("P2PD_TESTNET_DIR") or os.path.join(tempfile.gettempdir(),
                                                              "p2pd-testnet")


# --- topologies ---------------------------------------------------------------------------

def _edge(a, b):
    return (a, b) if a < b else (b, a)


def random_topology(n, degree, rng):
    """Undirected edges of a connected random graph on n nodes where no node has more than
    degree links: a random spanning tree (each node joins one that still has room), then
    random extra edges between nodes with room until none can be added."""
    if n < 2:
        return []
    if degree < 2 and n > 2:
        raise TestnetError("--degree must be at least 2 for a connected random topology "
                           "of more than 2 nodes")
    order = list(range(n))
    rng.shuffle(order)
    deg = [0] * n
    edges = set()

    def add(a, b):
        edges.add(_edge(a, b))
        deg[a] += 1
        deg[b] += 1

    for i in range(1, n):
        add(order[i], rng.choice([x for x in order[:i] if deg[x] < degree] or order[:i]))
    open_nodes = [x for x in range(n) if deg[x] < degree]
    while len(open_nodes) > 1:
        a = rng.choice(open_nodes)
        cands = [b for b in open_nodes if b != a and _edge(a, b) not in edges]
        if not cands:
            open_nodes.remove(a)
            continue
        add(a, rng.choice(cands))
        open_nodes = [x for x in open_nodes if deg[x] < degree]
    return sorted(edges)


def read_topology_file(path):
    """(edges, n) from a file of lines "a b" (0-based node numbers); '#' starts a comment."""
    edges = set()
    try:
        with open(path, encoding="utf8") as f:
            lines = f.readlines()
    except OSError as e:
        raise TestnetError("cannot read topology file %s: %s" % (path, e.strerror))
    for lineno, line in enumerate(lines, 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        try:
            a, b = (int(w) for w in words)
        except ValueError:
            raise TestnetError("%s:%d: expected two node numbers \"a b\", got %r" %
                               (path, lineno, line.strip()))
        if a < 0 or b < 0 or a == b:
            raise TestnetError("%s:%d: a link joins two different nodes numbered from 0" %
                               (path, lineno))
        edges.add(_edge(a, b))
    n = 1 + max((max(e) for e in edges), default=-1)
    return sorted(edges), n


def make_topology(kind, n, degree=DEFAULT_DEGREE, seed=None):
    """Undirected edges (a < b) of a topology: line, ring, random (degree, seed) or full."""
    if kind == "line":
        return [(i, i + 1) for i in range(n - 1)]
    if kind == "ring":
        return sorted({_edge(i, (i + 1) % n) for i in range(n)} - {(0, 0)}) if n > 1 else []
    if kind == "full":
        return [(a, b) for a in range(n) for b in range(a + 1, n)]
    if kind == "random":
        return random_topology(n, degree, random.Random(seed))
    raise TestnetError("unknown topology %r (line, ring, random, full or a file)" % kind)


def is_connected(n, edges):
    """Whether the undirected graph on n nodes is connected."""
    if n == 0:
        return True
    adj = collections.defaultdict(list)
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    seen, todo = {0}, [0]
    while todo:
        for y in adj[todo.pop()]:
            if y not in seen:
                seen.add(y)
                todo.append(y)
    return len(seen) == n


def orient(n, edges, max_out=MAX_DIALS):
    """Directed links (dialler, target), one per edge, with no node dialling more than max_out.

    Each edge goes first to its end that dials less; while a node dials too many, a path of
    links from it to a node with room is reversed (which moves one dial along the path)."""
    out = [set() for _ in range(n)]
    for a, b in edges:
        if len(out[b]) < len(out[a]):
            a, b = b, a
        out[a].add(b)
    for u in range(n):
        while len(out[u]) > max_out:
            prev = {u: None}
            queue = collections.deque([u])
            end = None
            while queue and end is None:
                x = queue.popleft()
                for y in sorted(out[x]):
                    if y not in prev:
                        prev[y] = x
                        if len(out[y]) < max_out:
                            end = y
                            break
                        queue.append(y)
            if end is None:
                raise TestnetError(
                    "this topology needs a node to dial more than %d peers: p2pd keeps at most "
                    "%d manual connections per node (p2pd -help, -maxconnections). Use fewer "
                    "links (full works up to %d nodes; random --degree up to 16)" %
                    (max_out, max_out, 2 * max_out + 1))
            y = end
            while prev[y] is not None:
                x = prev[y]
                out[x].discard(y)
                out[y].add(x)
                y = x
    links = sorted((a, b) for a in range(n) for b in out[a])
    indeg = collections.Counter(b for _, b in links)
    for node, count in indeg.items():
        if count > MAX_INBOUND:
            raise TestnetError("node %d would need %d inbound connections; p2pd accepts at most "
                               "%d with the default -maxconnections" %
                               (node, count, MAX_INBOUND))
    return links


# --- JSON-RPC -------------------------------------------------------------------------------

class RPCError(Exception):
    """An error answered by the node: .code and .message as in doc/rpc.md."""

    def __init__(self, code, message):
        super().__init__("%s (code %s)" % (message, code))
        self.code = code
        self.message = message


class RPCAuthError(RPCError):
    """HTTP 401: the cookie read is not the node's (yet)."""


class RPC:
    """A JSON-RPC client for one node, authenticated with its cookie file.

    rpc.call("getpeerinfo"), or rpc.getpeerinfo(); rpc.batch([("uptime", []), ...]).
    Raises RPCError for an error answer and OSError when the node cannot be reached."""

    def __init__(self, host, port, cookie_path, timeout=30):
        self.host, self.port, self.cookie_path, self.timeout = host, port, cookie_path, timeout
        self._auth = None

    def _credentials(self, reload=False):
        if self._auth is None or reload:
            try:
                with open(self.cookie_path, encoding="ascii") as f:
                    cookie = f.read().strip()
            except FileNotFoundError:
                raise ConnectionRefusedError("no cookie file %s yet" % self.cookie_path)
            if ":" not in cookie:
                raise ConnectionRefusedError("cookie file %s incomplete" % self.cookie_path)
            self._auth = "Basic " + base64.b64encode(cookie.encode()).decode()
        return self._auth

    def _post(self, body):
        for attempt in (0, 1):
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                conn.request("POST", "/", body, {"Authorization": self._credentials(attempt > 0),
                                                  "Content-Type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
            except http.client.HTTPException as e:
                raise ConnectionError("RPC to %s:%d failed: %r" % (self.host, self.port, e))
            finally:
                conn.close()
            if resp.status == 401 and attempt == 0:
                continue  # a stale cookie from an earlier run: read it again
            if resp.status == 401:
                raise RPCAuthError(None, "RPC authentication failed (HTTP 401)")
            try:
                return json.loads(data.decode())
            except ValueError:
                raise RPCError(None, "HTTP %d with a non-JSON body %r" % (resp.status, data[:200]))

    def call(self, method, *params):
        reply = self._post(json.dumps({"method": method, "params": list(params), "id": 1}))
        if reply.get("error"):
            raise RPCError(reply["error"].get("code"), reply["error"].get("message"))
        return reply.get("result")

    def batch(self, calls):
        """Results of [(method, params), ...] in one request; an error answer raises."""
        req = [{"method": m, "params": list(p), "id": i} for i, (m, p) in enumerate(calls)]
        replies = sorted(self._post(json.dumps(req)), key=lambda r: r["id"])
        for r in replies:
            if r.get("error"):
                raise RPCError(r["error"].get("code"), r["error"].get("message"))
        return [r["result"] for r in replies]

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *params: self.call(name, *params)


# --- helpers --------------------------------------------------------------------------------

def port_free(port):
    """Whether a TCP port can be bound on 127.0.0.1 (and ::1 when there is IPv6) now."""
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            s = socket.socket(family, socket.SOCK_STREAM)
        except OSError:
            continue  # no IPv6 here
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
        except OSError as e:
            if family == socket.AF_INET or e.errno == 98:  # EADDRINUSE
                return False
        finally:
            s.close()
    return True


def pick_ports(count, base):
    """count free ports from base upwards (skipping busy ones), below the ephemeral range."""
    ports = []
    port = base
    while len(ports) < count:
        if port >= PORT_LIMIT:
            raise TestnetError("not enough free ports between %d and %d for %d nodes" %
                               (base, PORT_LIMIT, count // 2))
        if port_free(port):
            ports.append(port)
        port += 1
    return ports


def find_binaries(builddir=None, p2pd=None):
    """{"p2pd": path, "p2pcli": path} from --p2pd, --builddir, $P2PD/$BUILDDIR, the build
    directories of this repository (build/, the source tree) or $PATH."""
    cands = []
    if p2pd:
        cands.append(os.path.abspath(p2pd))
    elif builddir:
        cands.append(os.path.join(os.path.abspath(builddir), "src", "p2pd"))
    else:
        if os.environ.get("P2PD"):
            cands.append(os.path.abspath(os.environ["P2PD"]))
        if os.environ.get("BUILDDIR"):
            cands.append(os.path.join(os.path.abspath(os.environ["BUILDDIR"]), "src", "p2pd"))
        cands += [os.path.join(REPO_ROOT, "build", "src", "p2pd"),
                  os.path.join(REPO_ROOT, "src", "p2pd")]
        on_path = shutil.which("p2pd")
        if on_path:
            cands.append(on_path)
    for c in cands:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            cli = os.environ.get("P2PCLI") if not (p2pd or builddir) else None
            cli = cli or os.path.join(os.path.dirname(c), "p2p-cli")
            return {"p2pd": c, "p2pcli": cli if os.access(cli, os.X_OK) else None}
    raise TestnetError("cannot find p2pd (looked at: %s). Build it (contrib/quickstart.sh, or "
                       "doc/build.md) and pass --builddir=<build dir> or --p2pd=<path>" %
                       ", ".join(cands or ["nothing given"]))


def parallel(fn, items, workers=16):
    """[fn(x) for x in items], run on a thread pool; exceptions are returned, not raised."""
    items = list(items)

    def safe(x):
        try:
            return fn(x)
        except Exception as e:  # noqa: BLE001 (reported by the caller)
            return e
    if len(items) <= 1:
        return [safe(x) for x in items]
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(safe, items))


def _proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return None


def _proc_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except OSError:
        return True


def _tail(path, lines):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 256 * lines))
            text = f.read().decode(errors="replace")
    except FileNotFoundError:
        return []
    return text.splitlines()[-lines:] if lines else []


def _fmt_time(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


# --- the testnet -----------------------------------------------------------------------------

class Testnet:
    """A testnet in a directory: its state (testnet.json) and its nodes.

    Testnet.create(...) makes a new one (nothing runs yet); Testnet.load(dir) opens an existing
    one. start() launches the nodes, links them and waits until every link is up."""

    def __init__(self, directory, state, log=None):
        self.dir = os.path.abspath(directory)
        self.state = state
        self.log = log or (lambda msg: print(msg, flush=True))
        self._procs = {}  # index -> Popen, for nodes this process started
        ns = state.get("netns")
        self.netns = testnet_netns.Netns(self.dir, ns, self.log) if ns else None

    # --- creation and state ---

    @classmethod
    def create(cls, directory, n=None, topology="random", degree=DEFAULT_DEGREE,
               seed=None, builddir=None, p2pd=None, ports=None, port_base=None, netns=False,
               delay_ms=0.0, loss=0.0, link="auto", extra_args=(), detach=True, log=None):
        """Make a new testnet in directory (which must not hold one) and save its state.

        n: number of nodes (default 5; with a topology file, as many as it names).
        topology: line, ring, random, full, or the path of a file of "a b" lines.
        ports: 2n ports (node i: P2P ports[2i], RPC ports[2i+1]); else free ports from
        port_base (default 31000). netns: each node in its own network namespace (root);
        delay_ms/loss (percent) for every packet a node sends to another.
        detach: run each node in its own session (it outlives the caller's terminal);
        False keeps them in the caller's process group (test harnesses)."""
        directory = os.path.abspath(directory)
        if os.path.exists(os.path.join(directory, STATE_FILE)):
            try:
                running = len(cls.load(directory).running())
            except (TestnetError, ValueError, KeyError):
                running = 0
            if running:
                raise TestnetError("a testnet is running in %s (%d nodes): `stop` or `clean` it "
                                   "first, or choose another --dir" % (directory, running))
            raise TestnetError("%s already holds a testnet: `restart` starts it again, `clean` "
                               "removes it (or choose another --dir)" % directory)
        if os.path.isdir(directory) and os.listdir(directory):
            raise TestnetError("%s exists and is not empty; choose another --dir" % directory)
        if topology in TOPOLOGIES:
            if n is None:
                n = DEFAULT_NODES
            if seed is None and topology == "random":
                seed = random.randrange(1 << 31)
            edges = make_topology(topology, n, degree, seed)
        else:
            edges, file_n = read_topology_file(topology)
            topology = os.path.abspath(topology)
            if n is None:
                n = file_n
            elif file_n > n:
                raise TestnetError("topology file %s names node %d but -n is %d" %
                                   (topology, file_n - 1, n))
        if n < 1:
            raise TestnetError("-n must be at least 1")
        if not is_connected(n, edges):
            log_fn = log or print
            log_fn("warning: the topology does not connect all %d nodes" % n)
        links = orient(n, edges)
        binaries = find_binaries(builddir, p2pd)
        ns_state = None
        if netns:
            testnet_netns.check_can_run()
            testnet_netns.check_free()
            ns_state = testnet_netns.Netns.new_state(n, delay_ms, loss, link,
                                                     log or (lambda m: print(m, flush=True)))
            ports = [testnet_netns.P2P_PORT, testnet_netns.RPC_PORT] * n
        elif ports is not None:
            if len(ports) != 2 * n:
                raise TestnetError("--ports needs %d ports (2 per node), got %d" %
                                   (2 * n, len(ports)))
            busy = [p for p in ports if not port_free(p)]
            if busy:
                raise TestnetError("ports in use: %s" % ", ".join(map(str, busy)))
        else:
            ports = pick_ports(2 * n, port_base or DEFAULT_PORT_BASE)
        nodes = []
        for i in range(n):
            host = testnet_netns.node_address(i) if netns else "127.0.0.1"
            nodes.append({"index": i, "datadir": os.path.join(directory, "node%d" % i),
                          "host": host, "p2p_port": ports[2 * i],
                          "rpc_port": ports[2 * i + 1], "pid": None})
        state = {"version": STATE_VERSION, "created": int(time.time()), "n": n,
                 "topology": topology, "degree": degree if topology == "random" else None,
                 "seed": seed if topology == "random" else None,
                 "links": [list(x) for x in links], "binaries": binaries,
                 "extra_args": list(extra_args), "detach": bool(detach), "nodes": nodes,
                 "netns": ns_state}
        os.makedirs(directory, exist_ok=True)
        tn = cls(directory, state, log)
        for node in nodes:
            os.makedirs(node["datadir"], exist_ok=True)
            tn._write_config(node)
        tn.save()
        return tn

    @classmethod
    def load(cls, directory, log=None):
        path = os.path.join(os.path.abspath(directory), STATE_FILE)
        try:
            with open(path, encoding="utf8") as f:
                state = json.load(f)
        except FileNotFoundError:
            raise TestnetError("no testnet in %s (start one with `testnet.py start`, or give "
                               "its --dir)" % os.path.abspath(directory))
        if state.get("version") != STATE_VERSION:
            raise TestnetError("%s: unknown state version %r" % (path, state.get("version")))
        return cls(directory, state, log)

    def save(self):
        path = os.path.join(self.dir, STATE_FILE)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf8") as f:
            json.dump(self.state, f, indent=1)
            f.write("\n")
        os.replace(tmp, path)

    def _write_config(self, node):
        lines = ["# p2pd.conf of node %d of the testnet in %s," % (node["index"], self.dir),
                 "# written by contrib/testnet/testnet.py. Its links are added by the tool over",
                 "# RPC (addnode <peer> add); connect=0 keeps it from dialling anyone else.",
                 "chain=regtest", "[regtest]",
                 "port=%d" % node["p2p_port"], "rpcport=%d" % node["rpc_port"],
                 "bind=%s" % node["host"]]
        if self.netns:
            lines += ["rpcbind=127.0.0.1", "rpcbind=%s" % node["host"],
                      "rpcallowip=%s" % testnet_netns.HOST_ADDRESS]
        lines += ["%s=%s" % kv for kv in NODE_CONFIG]
        with open(os.path.join(node["datadir"], "p2pd.conf"), "w", encoding="utf8") as f:
            f.write("\n".join(lines) + "\n")

    # --- nodes ---

    @property
    def n(self):
        return self.state["n"]

    @property
    def links(self):
        """[(dialler, target)]: the topology's links, each made by its dialler."""
        return [tuple(x) for x in self.state["links"]]

    def node(self, i):
        if not 0 <= i < self.n:
            raise TestnetError("no node %d: the testnet has nodes 0 to %d" % (i, self.n - 1))
        return self.state["nodes"][i]

    def neighbours(self, i):
        return sorted({b for a, b in self.links if a == i} | {a for a, b in self.links if b == i})

    def p2p_addr(self, i):
        node = self.node(i)
        return "%s:%d" % (node["host"], node["p2p_port"])

    def netdir(self, i):
        return os.path.join(self.node(i)["datadir"], "regtest")

    def debug_log(self, i):
        return os.path.join(self.netdir(i), "debug.log")

    def stderr_log(self, i):
        return os.path.join(self.node(i)["datadir"], "stderr.log")

    def rpc(self, i, timeout=30):
        """An RPC client for node i."""
        node = self.node(i)
        return RPC(node["host"], node["rpc_port"], os.path.join(self.netdir(i), ".cookie"),
                   timeout)

    def is_running(self, i):
        """Whether node i's process is alive (its pid runs p2pd on its data directory)."""
        pid = self.node(i)["pid"]
        if not pid:
            return False
        proc = self._procs.get(i)
        if proc is not None:
            # Ours: between fork and exec its command line is still this tool's.
            return proc.poll() is None
        cmd = _proc_cmdline(pid)
        if not cmd or _proc_zombie(pid):
            return False
        want = ("-datadir=" + self.node(i)["datadir"]).encode()
        return want in cmd

    def running(self):
        return [i for i in range(self.n) if self.is_running(i)]

    def _indices(self, nodes):
        if nodes is None or nodes == "all":
            return list(range(self.n))
        if isinstance(nodes, int):
            nodes = [nodes]
        for i in nodes:
            self.node(i)
        return sorted(set(nodes))

    def command(self, i):
        """The command line that runs node i."""
        node = self.node(i)
        cmd = [self.state["binaries"]["p2pd"], "-datadir=" + node["datadir"]]
        cmd += self.state["extra_args"]
        if self.netns:
            cmd = self.netns.exec_prefix(i) + cmd
        return cmd

    def cli_command(self, i):
        """The p2p-cli command line (without the RPC method) that talks to node i."""
        cli = self.state["binaries"].get("p2pcli") or "p2p-cli"
        cmd = [cli, "-datadir=" + self.node(i)["datadir"]]
        if self.netns:
            cmd.append("-rpcconnect=" + self.node(i)["host"])
        return cmd

    def _launch(self, i):
        with open(self.stderr_log(i), "ab") as err:
            proc = subprocess.Popen(self.command(i), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err,
                                    start_new_session=self.state.get("detach", True),
                                    close_fds=True)
        self._procs[i] = proc
        self.node(i)["pid"] = proc.pid

    def _node_failure(self, i, what):
        lines = _tail(self.stderr_log(i), 5) or _tail(self.debug_log(i), 5)
        return "node %d %s%s" % (i, what, (": " + " | ".join(lines)) if lines else "")

    def _wait_rpc(self, indices, deadline):
        pending = set(indices)
        last = {}
        while pending:
            for i in sorted(pending):
                if not self.is_running(i):
                    raise TestnetError(self._node_failure(i, "exited during start-up"))
                try:
                    self.rpc(i, timeout=5).uptime()
                    pending.discard(i)
                except RPCAuthError as e:
                    last[i] = e  # a stale cookie of an earlier run, not rewritten yet
                except RPCError as e:
                    if e.code != -28:  # -28: still warming up
                        raise TestnetError("node %d: RPC error at start-up: %s" % (i, e))
                    last[i] = e
                except OSError as e:
                    last[i] = e
            if pending and time.monotonic() > deadline:
                i = min(pending)
                raise TestnetError("node %d: RPC did not answer in time (last error: %s)" %
                                   (i, last.get(i)))
            if pending:
                time.sleep(0.05)

    def _wire(self, started):
        """Add the links of the nodes in started (their added-node lists start empty), and
        make running diallers of started nodes retry at once (their back-off reset)."""
        started = set(started)
        calls = collections.defaultdict(list)
        for a, b in self.links:
            if a in started:
                calls[a].append((b, False))
            elif b in started and self.is_running(a):
                calls[a].append((b, True))

        def wire_one(a):
            rpc = self.rpc(a)
            for b, reset in calls[a]:
                addr = self.p2p_addr(b)
                if reset:
                    try:
                        info = rpc.getaddednodeinfo(addr)
                        if info and info[0].get("connected"):
                            continue
                        rpc.addnode(addr, "remove")
                    except RPCError as e:
                        if e.code != -24:  # -24: not in the list
                            raise
                try:
                    rpc.addnode(addr, "add")
                except RPCError as e:
                    if e.code != -23:  # -23: already added
                        raise
        for a, res in zip(calls, parallel(wire_one, list(calls))):
            if isinstance(res, Exception):
                raise TestnetError("node %d: adding its links failed: %s" % (a, res))

    def start(self, nodes=None, timeout=DEFAULT_TIMEOUT, wait=True):
        """Launch the given nodes (default all) that are not running, wait until their RPC
        answers, add their links and (wait=True) wait until every link between running nodes
        is up. Returns {"started": seconds, "connected": seconds}. On failure the nodes it
        launched are stopped again and the error raised."""
        indices = [i for i in self._indices(nodes) if not self.is_running(i)]
        t0 = time.monotonic()
        deadline = t0 + timeout
        ns_setup = False
        try:
            if self.netns and not self.netns.is_up():
                self.netns.setup()
                ns_setup = True
                self.save()
            for i in indices:
                self._launch(i)
            self.save()
            self._wait_rpc(indices, deadline)
            t_started = time.monotonic() - t0
            self._wire(indices)
            t_conn = self.wait_connected(max(1.0, deadline - time.monotonic())) if wait else None
        except BaseException:
            self._abort(indices, ns_setup)
            raise
        return {"started": t_started,
                "connected": None if t_conn is None else time.monotonic() - t0}

    def _abort(self, indices, ns_setup):
        self.log("start failed: stopping the nodes it started (logs stay in %s)" % self.dir)
        for i in indices:
            self._kill(i, signal.SIGKILL)
        for i in indices:
            self._reap(i, time.monotonic() + 5)
            self.node(i)["pid"] = None
        if self.netns and (ns_setup or not self.running()):
            self.netns.teardown()
        self.save()

    def _kill(self, i, sig):
        pid = self.node(i)["pid"]
        if pid and self.is_running(i):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def _reap(self, i, deadline):
        """Wait until node i's process is gone; returns whether it is."""
        while self.is_running(i):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        proc = self._procs.pop(i, None)
        if proc is not None:
            proc.wait()
        return True

    def stop(self, nodes=None, timeout=30):
        """Stop the given nodes (default all): RPC stop, then SIGTERM and SIGKILL for those
        that do not exit within timeout. With every node stopped, the network namespaces
        (if any) are removed. Returns the indices that had to be killed."""
        indices = [i for i in self._indices(nodes) if self.is_running(i)]
        parallel(lambda i: self.rpc(i, timeout=10).stop(), indices)
        deadline = time.monotonic() + timeout
        forced = []
        for i in indices:
            if not self._reap(i, deadline):
                forced.append(i)
                self._kill(i, signal.SIGTERM)
        for i in forced:
            if not self._reap(i, time.monotonic() + 10):
                self._kill(i, signal.SIGKILL)
                self._reap(i, time.monotonic() + 10)
        for i in self._indices(nodes):
            if not self.is_running(i):
                self.node(i)["pid"] = None
        if self.netns and not self.running():
            self.netns.teardown()
        self.save()
        return forced

    def restart(self, nodes=None, timeout=DEFAULT_TIMEOUT):
        """Stop the given nodes (default all) if they run, start them again and relink them."""
        self.stop(nodes)
        return self.start(nodes, timeout)

    def clean(self):
        """Stop every node, remove the namespaces (if any) and delete the directory."""
        self.stop()
        if self.netns:
            self.netns.teardown()
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- watching ---

    def link_status(self):
        """(up, missing): the topology's links between running nodes that are established on
        both ends, and those that are not, as lists of (dialler, target)."""
        running = set(self.running())
        want = [(a, b) for a, b in self.links if a in running and b in running]
        idx = sorted({x for link in want for x in link})
        infos = dict(zip(idx, parallel(lambda i: self.rpc(i, timeout=10).getpeerinfo(), idx)))
        up, missing = [], []
        for a, b in want:
            pa, pb = infos[a], infos[b]
            ok = False
            if not isinstance(pa, Exception) and not isinstance(pb, Exception):
                addr = self.p2p_addr(b)
                binds = {p.get("addrbind") for p in pa
                         if p["addr"] == addr and not p["inbound"] and
                         p["state"] == "established"}
                ok = any(p["inbound"] and p["state"] == "established" and p["addr"] in binds
                         for p in pb)
            (up if ok else missing).append((a, b))
        return up, missing

    def wait_connected(self, timeout=DEFAULT_TIMEOUT):
        """Wait until every link of the topology between running nodes is established on both
        ends (polling); returns the seconds waited. Raises TestnetError on timeout."""
        t0 = time.monotonic()
        while True:
            up, missing = self.link_status()
            if not missing:
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise TestnetError("%d of %d links not up after %.0fs: %s" %
                                   (len(missing), len(up) + len(missing), timeout,
                                    ", ".join("%d->%d" % x for x in missing[:20])))
            time.sleep(0.1)

    def node_status(self, i):
        """A dict describing node i: ports, pid, running, peers and its message store."""
        node = self.node(i)
        st = {"node": i, "p2p": self.p2p_addr(i), "rpc_port": node["rpc_port"],
              "pid": node["pid"], "running": self.is_running(i),
              "links": len(self.neighbours(i)), "peers_in": None, "peers_out": None,
              "messages": None, "store_bytes": None, "error": None}
        if self.netns:
            st["netns"] = self.netns.ns_name(i)
        if st["running"]:
            try:
                net, store = self.rpc(i, timeout=10).batch([("getnetworkinfo", []),
                                                            ("getstoreinfo", [])])
                st.update(peers_in=net["connections_in"], peers_out=net["connections_out"],
                          messages=store["count"], store_bytes=store["bytes"])
            except (OSError, RPCError) as e:
                st["error"] = str(e)
        return st

    def status(self):
        return parallel(self.node_status, range(self.n))

    def publish(self, i, topic, body):
        """Publish a message on node i; returns its id."""
        return self.rpc(i).publish(topic, body)

    def where(self, msgid):
        """Per node: {"node", "running", "has", "received_at"} for a message id."""
        def one(i):
            r = {"node": i, "running": self.is_running(i), "has": False, "received_at": None}
            if r["running"]:
                try:
                    r["received_at"] = self.rpc(i, timeout=10).getmessage(msgid)["received_at"]
                    r["has"] = True
                except RPCError as e:
                    if e.code != -5:  # -5: not stored
                        r["error"] = str(e)
                except OSError as e:
                    r["error"] = str(e)
            return r
        return parallel(one, range(self.n))

    def wait_for_message(self, msgid, nodes=None, timeout=30):
        """Wait until the message is stored on the given nodes (default: every running node);
        returns the seconds waited. Raises TestnetError on timeout."""
        t0 = time.monotonic()
        pending = set(self._indices(nodes) if nodes is not None else self.running())
        while True:
            res = parallel(lambda i: (i, self.rpc(i, timeout=10).getmessage(msgid)),
                           sorted(pending))
            for r in res:
                if not isinstance(r, Exception):
                    pending.discard(r[0])
            if not pending:
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise TestnetError("message %s not on node(s) %s after %.0fs" %
                                   (msgid[:16], ", ".join(map(str, sorted(pending))), timeout))
            time.sleep(0.05)

    def describe(self):
        s = self.state
        topo = s["topology"]
        if topo == "random":
            topo = "random topology (degree %d, seed %d)" % (s["degree"], s["seed"])
        elif topo in TOPOLOGIES:
            topo = "%s topology" % topo
        else:
            topo = "topology from %s" % topo
        text = "%d nodes, %s, %d links" % (self.n, topo, len(self.links))
        if self.netns:
            text += "; " + self.netns.describe()
        return text


# --- command line ----------------------------------------------------------------------------

def _node_list(arg, tn):
    if arg in (None, "all"):
        return list(range(tn.n))
    try:
        return [int(x) for x in arg.split(",")]
    except ValueError:
        raise TestnetError("expected a node number, a list like 1,4,7, or all; got %r" % arg)


def _print_table(rows, header):
    """Columns of numbers (and "-") right-aligned, the others left-aligned."""
    widths = [max(len(str(r[c])) for r in rows + [header]) for c in range(len(header))]
    numeric = [all(isinstance(r[c], int) or r[c] == "-" or "/" in str(r[c]) for r in rows)
               for c in range(len(header))]
    for r in [header] + rows:
        print("  ".join(str(v).rjust(w) if numeric[i] else str(v).ljust(w)
                        for i, (v, w) in enumerate(zip(r, widths))).rstrip())


def _dash(v):
    return "-" if v is None else v


def cmd_start(args):
    if args.netns and os.geteuid() != 0:
        raise TestnetError("--netns needs root: it creates network namespaces, virtual links "
                           "and traffic-control rules (run as root, e.g. with sudo)")
    ports = None
    if args.ports:
        try:
            ports = [int(p) for p in args.ports.replace(",", " ").split()]
        except ValueError:
            raise TestnetError("--ports takes a comma-separated list of port numbers")
    n = args.nodes
    if n is None and args.topology in TOPOLOGIES:
        n = DEFAULT_NODES
    tn = Testnet.create(args.dir, n, args.topology, args.degree, args.seed, args.builddir,
                        args.p2pd, ports, args.port_base, args.netns,
                        testnet_netns.parse_delay(args.delay), testnet_netns.parse_loss(args.loss),
                        args.link, args.extra_arg, detach=not args.no_detach)
    print("testnet in %s: %s" % (tn.dir, tn.describe()), flush=True)
    try:
        times = tn.start(timeout=args.timeout)
    except BaseException:
        tn.log("the testnet's files stay in %s; `testnet.py clean --dir %s` removes them" %
               (tn.dir, tn.dir))
        raise
    print("%d nodes running after %.1fs, all %d links up after %.1fs" %
          (tn.n, times["started"], len(tn.links), times["connected"]))
    print("next: testnet.py status | publish TOPIC BODY | where ID | stop | clean%s" %
          ("" if args.dir == default_dir() else "   (with --dir %s)" % tn.dir))
    return 0


def cmd_status(args):
    tn = Testnet.load(args.dir)
    rows = tn.status()
    if args.json:
        print(json.dumps({"dir": tn.dir, "n": tn.n, "topology": tn.state["topology"],
                          "links": tn.links, "nodes": rows}, indent=1))
        return 0
    running = sum(1 for r in rows if r["running"])
    print("testnet in %s: %s; %d running" % (tn.dir, tn.describe(), running))
    table = []
    for r in rows:
        peers = "-" if r["peers_in"] is None else "%d/%d" % (r["peers_in"] + r["peers_out"],
                                                             r["links"])
        state = "running" if r["running"] else "stopped"
        if r["error"]:
            state = "error: " + r["error"][:40]
        table.append([r["node"], r["p2p"], r["rpc_port"], _dash(r["pid"] if r["running"] else None),
                      _dash(r["peers_in"]), _dash(r["peers_out"]), peers, _dash(r["messages"]),
                      _dash(r["store_bytes"]), state])
    _print_table(table, ["node", "p2p", "rpc", "pid", "in", "out", "peers/links", "msgs",
                         "bytes", "state"])
    return 0


def cmd_publish(args):
    tn = Testnet.load(args.dir)
    if not tn.is_running(args.node):
        raise TestnetError("node %d is not running" % args.node)
    msgid = tn.publish(args.node, args.topic, args.body)
    print(msgid, flush=True)
    if args.wait:
        secs = tn.wait_for_message(msgid, timeout=args.timeout)
        print("on all %d running nodes after %.2fs" % (len(tn.running()), secs))
    return 0


def cmd_where(args):
    tn = Testnet.load(args.dir)
    if args.wait:
        tn.wait_for_message(args.id, timeout=args.timeout)
    rows = tn.where(args.id)
    have = [r for r in rows if r["has"]]
    if args.json:
        print(json.dumps({"id": args.id, "nodes": rows, "holders": len(have),
                          "running": sum(1 for r in rows if r["running"])}, indent=1))
        return 0
    first = min((r["received_at"] for r in have), default=None)
    table = []
    for r in rows:
        if not r["running"]:
            table.append([r["node"], "stopped", "-", "-"])
        elif r["has"]:
            table.append([r["node"], "yes", _fmt_time(r["received_at"]),
                          "+%ds" % (r["received_at"] - first)])
        else:
            table.append([r["node"], "no" if not r.get("error") else "error: " + r["error"][:40],
                          "-", "-"])
    _print_table(table, ["node", "has", "received_at", "after first"])
    print("on %d of %d running nodes (%d nodes)" %
          (len(have), sum(1 for r in rows if r["running"]), tn.n))
    return 0


def cmd_stop(args):
    tn = Testnet.load(args.dir)
    nodes = _node_list(args.node, tn)
    forced = tn.stop(nodes, timeout=args.timeout)
    for i in forced:
        print("node %d did not stop by RPC; killed" % i)
    print("stopped %s; %d of %d nodes running" %
          ("all nodes" if args.node in (None, "all") else "node(s) " + args.node,
           len(tn.running()), tn.n))
    return 0


def cmd_restart(args):
    tn = Testnet.load(args.dir)
    nodes = _node_list(args.node, tn)
    times = tn.restart(nodes, timeout=args.timeout)
    print("restarted %s: running after %.1fs, links up after %.1fs; %d of %d nodes running" %
          ("all nodes" if args.node in (None, "all") else "node(s) " + args.node,
           times["started"], times["connected"], len(tn.running()), tn.n))
    return 0


def cmd_wait_connected(args):
    tn = Testnet.load(args.dir)
    secs = tn.wait_connected(args.timeout)
    up, _ = tn.link_status()
    print("%d links up (waited %.1fs)" % (len(up), secs))
    return 0


def cmd_logs(args):
    tn = Testnet.load(args.dir)
    nodes = _node_list(args.node, tn)
    prefix = len(nodes) > 1
    files = {}
    for i in nodes:
        for line in _tail(tn.debug_log(i), args.lines):
            print(("node%d: " % i if prefix else "") + line)
        try:
            files[i] = os.path.getsize(tn.debug_log(i))
        except FileNotFoundError:
            files[i] = 0
    sys.stdout.flush()
    if not args.follow:
        return 0
    try:
        while True:
            for i in nodes:
                path = tn.debug_log(i)
                try:
                    size = os.path.getsize(path)
                except FileNotFoundError:
                    continue
                if size < files[i]:
                    files[i] = 0  # a new log (the node was cleaned)
                if size > files[i]:
                    with open(path, "rb") as f:
                        f.seek(files[i])
                        data = f.read()
                    end = data.rfind(b"\n") + 1
                    files[i] += end
                    for line in data[:end].decode(errors="replace").splitlines():
                        print(("node%d: " % i if prefix else "") + line)
                    sys.stdout.flush()
            time.sleep(0.2)
    except KeyboardInterrupt:
        return 0


def cmd_rpc(args):
    tn = Testnet.load(args.dir)
    tn.node(args.node)
    cmd = tn.cli_command(args.node)
    if args.print:
        print(" ".join(cmd) + " " + " ".join([args.method] + args.params))
        return 0
    if tn.state["binaries"].get("p2pcli"):
        return subprocess.call(cmd + [args.method] + args.params)
    # No p2p-cli: parameters that parse as JSON are passed as JSON, the others as strings.
    params = []
    for p in args.params:
        try:
            params.append(json.loads(p))
        except ValueError:
            params.append(p)
    try:
        res = tn.rpc(args.node).call(args.method, *params)
    except RPCError as e:
        print("error code: %s\nerror message:\n%s" % (e.code, e.message), file=sys.stderr)
        return 1
    print(res if isinstance(res, str) else json.dumps(res, indent=2))
    return 0


def cmd_clean(args):
    if args.netns_leftovers:
        testnet_netns.check_can_run()
        testnet_netns.sweep(print)
    path = os.path.join(os.path.abspath(args.dir), STATE_FILE)
    if not os.path.exists(path):
        if args.netns_leftovers:
            return 0
        raise TestnetError("no testnet in %s (nothing to clean)" % os.path.abspath(args.dir))
    tn = Testnet.load(args.dir)
    running = len(tn.running())
    tn.clean()
    print("stopped %d running nodes and removed %s" % (running, tn.dir))
    return 0


def cmd_hub(args):
    return testnet_netns.hub_main(args.hubdir)


def build_parser():
    parser = argparse.ArgumentParser(
        description="Start, wire, watch and stop a local testnet of p2pd regtest nodes "
                    "(contrib/testnet/README.md).")
    dirarg = argparse.ArgumentParser(add_help=False)
    dirarg.add_argument("--dir", default=default_dir(),
                        help="the testnet's directory (default: $P2PD_TESTNET_DIR or %s)" %
                        os.path.join(tempfile.gettempdir(), "p2pd-testnet"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("start", parents=[dirarg], help="create, start and link N nodes")
    p.add_argument("-n", "--nodes", type=int, default=None,
                   help="number of nodes (default %d; with a topology file: as many as it "
                   "names)" % DEFAULT_NODES)
    p.add_argument("--topology", default="random",
                   help="line, ring, random (default), full, or a file of \"a b\" lines")
    p.add_argument("--degree", type=int, default=DEFAULT_DEGREE,
                   help="random: at most this many links per node (default %d)" %
                   DEFAULT_DEGREE)
    p.add_argument("--seed", type=int, default=None, help="random: the seed (default: random, "
                   "printed by status)")
    p.add_argument("--builddir", help="build directory holding src/p2pd and src/p2p-cli")
    p.add_argument("--p2pd", help="the p2pd binary (p2p-cli is looked for next to it)")
    p.add_argument("--port-base", type=int, default=None,
                   help="take free ports from here up (default %d)" % DEFAULT_PORT_BASE)
    p.add_argument("--ports", help="exactly 2N ports, comma-separated: node i gets P2P port "
                   "number 2i and RPC port 2i+1")
    p.add_argument("--extra-arg", action="append", default=[], metavar="ARG",
                   help="an option for every node, e.g. --extra-arg=-debug=net (repeatable)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help="seconds to wait for the nodes to start and link (default %d)" %
                   DEFAULT_TIMEOUT)
    p.add_argument("--no-detach", action="store_true",
                   help="keep the nodes in this process group instead of their own sessions "
                   "(for test harnesses: killing the group kills the nodes)")
    p.add_argument("--netns", action="store_true",
                   help="each node in its own network namespace with its own address "
                   "(root only)")
    p.add_argument("--delay", default="0", help="--netns: delay of every packet a node sends "
                   "to another, e.g. 20ms (round trip: twice this)")
    p.add_argument("--loss", default="0", help="--netns: loss rate of those packets, e.g. 0.1%%")
    p.add_argument("--link", choices=("auto", "veth", "tun"), default="auto",
                   help="--netns: veth = veth pairs on a bridge with tc netem; tun = TUN "
                   "devices joined by a forwarding process of this tool; auto (default) = veth "
                   "when the kernel has netem or no delay/loss is asked for, else tun")
    p.set_defaults(func=cmd_start)

    p = sub.add_parser("status", parents=[dirarg], help="a table of the nodes")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("publish", parents=[dirarg], help="publish a message on a node")
    p.add_argument("--node", type=int, default=0, help="the node (default 0)")
    p.add_argument("--wait", action="store_true",
                   help="then wait until every running node holds it")
    p.add_argument("--timeout", type=float, default=30, help="seconds for --wait (default 30)")
    p.add_argument("topic")
    p.add_argument("body")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("where", parents=[dirarg], help="which nodes hold a message, since when")
    p.add_argument("id", help="the message id")
    p.add_argument("--wait", action="store_true",
                   help="first wait until every running node holds it")
    p.add_argument("--timeout", type=float, default=30, help="seconds for --wait (default 30)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_where)

    for name, func, what in (("stop", cmd_stop, "stop nodes"),
                             ("restart", cmd_restart, "(re)start nodes and relink them")):
        p = sub.add_parser(name, parents=[dirarg], help=what + " (default: all)")
        p.add_argument("node", nargs="?", default="all",
                       help="a node number, a list like 1,4,7, or all (default)")
        p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT if name == "restart"
                       else 30, help="seconds to wait")
        p.set_defaults(func=func)

    p = sub.add_parser("wait-connected", parents=[dirarg],
                       help="wait until every link between running nodes is up")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds to wait")
    p.set_defaults(func=cmd_wait_connected)

    p = sub.add_parser("logs", parents=[dirarg], help="the end of nodes' debug.log")
    p.add_argument("node", nargs="?", default="all",
                   help="a node number, a list, or all (default; lines prefixed with the node)")
    p.add_argument("-n", "--lines", type=int, default=20, help="lines per node (default 20)")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    p.set_defaults(func=cmd_logs)

    p = sub.add_parser("rpc", parents=[dirarg], help="run an RPC command on a node (p2p-cli)")
    p.add_argument("--print", action="store_true",
                   help="print the p2p-cli command line instead of running it")
    p.add_argument("node", type=int)
    p.add_argument("method")
    p.add_argument("params", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_rpc)

    p = sub.add_parser("clean", parents=[dirarg], help="stop every node and delete the directory")
    p.add_argument("--netns-leftovers", action="store_true",
                   help="also remove namespaces, devices and forwarding processes this tool "
                   "left behind (root)")
    p.set_defaults(func=cmd_clean)

    p = sub.add_parser("_hub")  # the forwarding process of --netns --link=tun
    p.add_argument("hubdir")
    p.set_defaults(func=cmd_hub)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except TestnetError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`status | head`): no traceback, and none at exit either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
