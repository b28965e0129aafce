#!/usr/bin/env python3
"""contrib/testnet/testnet.py, run as a user runs it (contrib/testnet/README.md).

- Topologies: line, ring, full and random (connected, degree-bounded, the same for the same
  seed) and files; links are oriented so that no node dials more than 8 peers (p2pd's manual
  connection limit), and a topology that cannot be is refused.
- `start` 5 nodes in a ring, on ports from the framework's allocator, in a temporary
  directory: `status` shows every node running with its 2 peers; the p2p-cli command that
  `rpc --print` shows works on its own; a second `start` in the same directory is refused.
- `publish` prints an id; `where` shows the message on all 5 nodes.
- `stop 3`: the node's process is gone, its neighbours drop to 1 peer, a message published
  meanwhile reaches the 4 running nodes; `restart 3` relinks it (2 peers each again) and a
  message published on it reaches all 5; `logs` shows both starts of its debug.log.
- `stop` stops every node (no process left), `clean` deletes the directory.
- `start --netns` without root fails, saying that it needs root, and creates nothing.
"""

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

from test_framework.test_framework import REPO_ROOT, P2PDTestFramework
from test_framework.util import (assert_equal, assert_greater_than, assert_in, get_free_port,
                                 wait_until)

TOOL_DIR = os.path.join(REPO_ROOT, "contrib", "testnet")
TOOL = os.path.join(TOOL_DIR, "testnet.py")
NUM_NODES = 5


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


class ToolTestnetTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 0

    def setup_nodes(self):
        self.dir = os.path.join(self.tmpdir, "testnet")

    def tool(self, *args, rc=0, user=None, python=None):
        """Run testnet.py with args (and --dir); check its exit status is rc (unless None).
        Returns (stdout, stderr)."""
        cmd = [python or sys.executable, TOOL] + [str(a) for a in args]
        if "--dir" not in " ".join(cmd):
            cmd.insert(3, "--dir=" + self.dir)
        self.log("run: %s" % " ".join(shlex.quote(c) for c in cmd[1:]))
        kwargs = {"user": user} if user is not None else {}
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=120 * self.options.timeout_factor,
                              **kwargs)
        out, err = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
        if rc is not None and proc.returncode != rc:
            raise AssertionError("%s exited %d (expected %d)\nstdout:\n%s\nstderr:\n%s" %
                                 (" ".join(cmd[1:3]), proc.returncode, rc, out, err))
        return out, err

    def status(self):
        out, _ = self.tool("status", "--json")
        return json.loads(out)["nodes"]

    def where(self, msgid):
        out, _ = self.tool("where", msgid, "--json")
        return json.loads(out)

    def wait_where(self, msgid, holders, running):
        timeout = 30 * self.options.timeout_factor
        last = {}

        def check():
            last["w"] = w = self.where(msgid)
            return w["holders"] == holders and w["running"] == running
        wait_until(check, timeout=timeout, interval=0.1,
                   message=lambda: "message %s on %d of %d nodes; where: %s" %
                   (msgid[:16], holders, running, last.get("w")))
        return last["w"]

    def run_test(self):
        self.check_topologies()
        try:
            self.check_testnet()
        except BaseException:
            self.print_node_logs()
            raise
        finally:
            if os.path.exists(os.path.join(self.dir, "testnet.json")):
                self.tool("stop", rc=None)
        self.check_netns_needs_root()

    def print_node_logs(self):
        if os.path.exists(os.path.join(self.dir, "testnet.json")):
            out, _ = self.tool("logs", "-n", "30", rc=None)
            print("----- testnet.py logs -----\n" + out, flush=True)

    # --- topologies (the module) ---

    def check_topologies(self):
        self.log("topologies: line, ring, full, random, files; links oriented for p2pd")
        sys.path.insert(0, TOOL_DIR)
        sys.dont_write_bytecode = True  # no __pycache__ in the source tree
        import testnet
        assert_equal(testnet.make_topology("line", 4), [(0, 1), (1, 2), (2, 3)])
        assert_equal(testnet.make_topology("ring", 4), [(0, 1), (0, 3), (1, 2), (2, 3)])
        assert_equal(testnet.make_topology("ring", 2), [(0, 1)])
        assert_equal(len(testnet.make_topology("full", 6)), 15)
        for n in (2, 3, 10, 100):
            for degree in (2, 4, 8):
                for seed in range(5):
                    edges = testnet.make_topology("random", n, degree, seed)
                    assert testnet.is_connected(n, edges), (n, degree, seed)
                    deg = [sum(1 for e in edges if i in e) for i in range(n)]
                    assert max(deg) <= degree, (n, degree, seed, deg)
                    assert_equal(edges, testnet.make_topology("random", n, degree, seed))
                    if n >= 10:  # almost every node gets its full degree
                        assert_greater_than(sum(deg), (degree * n) * 9 // 10)
        for kind, n in (("full", 17), ("random", 100)):
            edges = testnet.make_topology(kind, n, 16, 1)
            links = testnet.orient(n, edges)
            assert_equal(sorted(tuple(sorted(x)) for x in links), sorted(edges))
            dials = [sum(1 for a, _ in links if a == i) for i in range(n)]
            assert max(dials) <= testnet.MAX_DIALS, dials
        try:
            testnet.orient(18, testnet.make_topology("full", 18))
            raise AssertionError("a full topology of 18 nodes was accepted")
        except testnet.TestnetError as e:
            assert_in("at most 8 manual connections", str(e))
        path = os.path.join(self.tmpdir, "topology.txt")
        with open(path, "w") as f:
            f.write("# a star and a tail\n0 1\n0 2  # comment\n\n2 0\n3 2\n")
        assert_equal(testnet.read_topology_file(path), ([(0, 1), (0, 2), (2, 3)], 4))
        with open(path, "a") as f:
            f.write("1 one\n")
        try:
            testnet.read_topology_file(path)
            raise AssertionError("a bad topology line was accepted")
        except testnet.TestnetError as e:
            assert_in("topology.txt:7", str(e))

    # --- a testnet of 5 nodes ---

    def check_testnet(self):
        self.log("start: %d nodes in a ring, ports from the framework" % NUM_NODES)
        ports = [get_free_port() for _ in range(2 * NUM_NODES)]
        timeout = int(60 * self.options.timeout_factor)
        out, _ = self.tool("start", "-n", NUM_NODES, "--topology", "ring",
                           "--p2pd", self.binaries["p2pd"],
                           "--ports", ",".join(map(str, ports)), "--no-detach",
                           "--timeout", timeout)
        assert_in("%d nodes running" % NUM_NODES, out)
        assert_in("all %d links up" % NUM_NODES, out)
        nodes = self.status()
        assert_equal(len(nodes), NUM_NODES)
        for i, st in enumerate(nodes):
            assert_equal((i, st["running"], st["peers_in"], st["peers_out"], st["links"]),
                         (i, True, 1, 1, 2))
            assert_equal(st["p2p"], "127.0.0.1:%d" % ports[2 * i])
            assert_equal(st["rpc_port"], ports[2 * i + 1])
            assert_equal(st["messages"], 0)
        out, _ = self.tool("status")
        assert_in("5 running", out)
        rows = [line.split() for line in out.splitlines()[2:]]
        assert_equal([(r[0], r[-1]) for r in rows], [(str(i), "running") for i in range(NUM_NODES)])

        self.log("rpc: the p2p-cli command it shows works on its own")
        out, _ = self.tool("rpc", "--print", 1, "getconnectioncount")
        cli = subprocess.run(shlex.split(out), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=30)
        assert_equal((cli.returncode, cli.stdout.decode().strip()), (0, "2"))
        out, _ = self.tool("rpc", 1, "getconnectioncount")
        assert_equal(out.strip(), "2")

        self.log("a second start in the same directory is refused")
        _, err = self.tool("start", "-n", 2, "--p2pd", self.binaries["p2pd"], rc=1)
        assert_in("a testnet is running in %s" % self.dir, err)

        self.log("publish on node 2; where shows it on every node")
        out, _ = self.tool("publish", "--node", 2, "tool/testnet", "hello, testnet")
        msgid = out.strip()
        assert_equal(len(msgid), 64)
        w = self.wait_where(msgid, NUM_NODES, NUM_NODES)
        assert all(n["has"] and n["received_at"] > 0 for n in w["nodes"]), w
        out, _ = self.tool("where", msgid)
        assert_in("on 5 of 5 running nodes", out)

        self.log("stop node 3: its process ends, its neighbours lose it")
        pid3 = nodes[3]["pid"]
        self.tool("stop", 3)
        assert not alive(pid3), "node 3 (pid %d) still runs" % pid3

        def neighbours_alone():
            st = self.status()
            return (not st[3]["running"] and
                    all(st[i]["peers_in"] + st[i]["peers_out"] == 1 for i in (2, 4)) and
                    all(st[i]["peers_in"] + st[i]["peers_out"] == 2 for i in (0, 1)))
        wait_until(neighbours_alone, timeout=30 * self.options.timeout_factor, interval=0.1,
                   message="node 3 stopped, nodes 2 and 4 with one peer left")
        out, _ = self.tool("publish", "--node", 0, "tool/testnet", "while 3 is down")
        w = self.wait_where(out.strip(), NUM_NODES - 1, NUM_NODES - 1)
        assert_equal([n["node"] for n in w["nodes"] if not n["running"]], [3])

        self.log("restart node 3: relinked per the topology")
        out, _ = self.tool("restart", 3)
        assert_in("5 of 5 nodes running", out)
        nodes = self.status()
        for i, st in enumerate(nodes):
            assert_equal((i, st["running"], st["peers_in"] + st["peers_out"]), (i, True, 2))
        assert nodes[3]["pid"] != pid3
        out, _ = self.tool("publish", "--node", 3, "tool/testnet", "back again")
        self.wait_where(out.strip(), NUM_NODES, NUM_NODES)
        out, _ = self.tool("wait-connected")
        assert_in("5 links up", out)

        self.log("logs: node 3's debug.log shows both starts")
        out, _ = self.tool("logs", 3, "-n", 200)
        assert_equal(out.count("init: done loading"), 2)
        out, _ = self.tool("logs", "-n", 1)
        assert_equal(sorted(line.split(":")[0] for line in out.splitlines()),
                     ["node%d" % i for i in range(NUM_NODES)])

        self.log("stop all: no node process left; clean removes the directory")
        pids = [st["pid"] for st in nodes]
        self.tool("stop")
        assert_equal([p for p in pids if alive(p)], [])
        assert_equal([st["running"] for st in self.status()], [False] * NUM_NODES)
        out, _ = self.tool("clean")
        assert not os.path.exists(self.dir), "clean left %s" % self.dir
        _, err = self.tool("status", rc=1)
        assert_in("no testnet in", err)

    # --- --netns needs root ---

    def check_netns_needs_root(self):
        self.log("start --netns without root fails and says why")
        nsdir = os.path.join(self.tmpdir, "netns-testnet")
        if os.geteuid() != 0:
            _, err = self.tool("start", "--netns", "--dir", nsdir, rc=1)
        else:
            # As root: run the tool as nobody, from a copy it can read.
            copy = tempfile.mkdtemp(prefix="p2pd_tool_testnet_")
            try:
                os.chmod(copy, 0o755)
                for f in ("testnet.py", "testnet_netns.py"):
                    shutil.copy(os.path.join(TOOL_DIR, f), copy)
                nsdir = os.path.join(copy, "netns-testnet")
                python = None
                for cand in (sys.executable, shutil.which("python3"), "/usr/bin/python3"):
                    try:
                        if cand and subprocess.run([cand, "-c", "pass"], user=65534,
                                                   stderr=subprocess.DEVNULL).returncode == 0:
                            python = cand
                            break
                    except OSError:
                        pass  # not executable by nobody (e.g. under /root)
                if python is None:
                    self.log("... skipped: no python3 that the user nobody can run")
                    return
                cmd = [python, os.path.join(copy, "testnet.py"), "start", "--netns", "--dir",
                       nsdir]
                proc = subprocess.run(cmd, user=65534, group=65534, extra_groups=[],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      timeout=60)
                assert_equal(proc.returncode, 1)
                err = proc.stderr.decode()
            finally:
                shutil.rmtree(copy, ignore_errors=True)
        assert_in("--netns needs root", err)
        assert not os.path.exists(nsdir), "%s was created" % nsdir


if __name__ == "__main__":
    ToolTestnetTest().main()
