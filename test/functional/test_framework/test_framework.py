"""P2PDTestFramework: the base class of every functional test.

A test subclasses it, sets parameters in set_test_params() and writes run_test():

    class ExampleTest(P2PDTestFramework):
        def set_test_params(self):
            self.num_nodes = 1

        def run_test(self):
            assert_equal(self.nodes[0].rpc.getnetworkinfo()["network"], "regtest")

    if __name__ == "__main__":
        ExampleTest().main()

Exit status: 0 pass, 1 fail, 77 skip (raise SkipTest).
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

from .authproxy import JSONRPCException
from .node import CliResult, TestNode
from .util import wait_until

TEST_EXIT_PASSED = 0
TEST_EXIT_FAILED = 1
TEST_EXIT_SKIPPED = 77

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


class SkipTest(Exception):
    """Raise from a test to skip it (exit status 77)."""


class P2PDTestFramework:
    def __init__(self):
        self.num_nodes = 1
        self.extra_args = None
        self.setup_clean_chain = True
        self.nodes = []
        self.options = None
        self.tmpdir = None
        self.binaries = {}
        self._start_time = time.monotonic()

    # --- to override -----------------------------------------------------------------

    def set_test_params(self):
        """Set num_nodes, extra_args (a list per node)."""

    def add_options(self, parser):
        """Add test-specific command-line options."""

    def setup_nodes(self):
        """Create the nodes and start them (override to start fewer or none)."""
        self.add_nodes(self.num_nodes, self.extra_args)
        self.start_nodes()

    def run_test(self):
        raise NotImplementedError

    # --- main --------------------------------------------------------------------------

    def main(self):
        parser = argparse.ArgumentParser(description=type(self).__doc__)
        parser.add_argument("--nocleanup", action="store_true",
                            help="leave the temporary directory in place when done")
        parser.add_argument("--tmpdir", help="root directory for the test's data directories "
                            "(must not exist or be empty)")
        parser.add_argument("--builddir", default=os.environ.get("BUILDDIR", REPO_ROOT),
                            help="build directory holding src/p2pd etc. (default: env BUILDDIR "
                            "or the repository root)")
        parser.add_argument("--timeout-factor", type=float,
                            default=float(os.environ.get("TIMEOUT_FACTOR", "1")),
                            help="multiply every timeout (for slow sanitizer builds)")
        parser.add_argument("--tracebacklines", type=int, default=40,
                            help="debug.log lines of each node printed on failure")
        self.add_options(parser)
        self.options = parser.parse_args()
        self.set_test_params()

        success = False
        skipped = False
        try:
            self._setup_binaries()
            self._setup_tmpdir()
            self.log("tmpdir: %s" % self.tmpdir)
            self.setup_nodes()
            self.run_test()
            success = True
        except SkipTest as e:
            self.log("SKIPPED: %s" % e)
            skipped = True
        except AssertionError:
            self.log("ASSERTION FAILED:\n" + traceback.format_exc())
        except KeyboardInterrupt:
            self.log("interrupted")
        except Exception:
            self.log("UNEXPECTED EXCEPTION:\n" + traceback.format_exc())

        self._shutdown(success or skipped)
        duration = time.monotonic() - self._start_time
        if skipped:
            self.log("Test skipped (%.1fs)" % duration)
            sys.exit(TEST_EXIT_SKIPPED)
        if success:
            self.log("Test passed (%.1fs)" % duration)
            sys.exit(TEST_EXIT_PASSED)
        self.log("Test FAILED (%.1fs)" % duration)
        sys.exit(TEST_EXIT_FAILED)

    def _setup_binaries(self):
        builddir = os.path.abspath(self.options.builddir)
        self.binaries = {
            "p2pd": os.environ.get("P2PD", os.path.join(builddir, "src", "p2pd")),
            "p2pcli": os.environ.get("P2PCLI", os.path.join(builddir, "src", "p2p-cli")),
            "p2putil": os.environ.get("P2PUTIL", os.path.join(builddir, "src", "p2p-util")),
        }
        if self.needs_binaries():
            for name, path in self.binaries.items():
                if not os.access(path, os.X_OK):
                    raise FileNotFoundError("%s not found at %s (use --builddir or env %s)" %
                                            (name, path, name.upper()))

    def needs_binaries(self):
        return True

    def _setup_tmpdir(self):
        if self.options.tmpdir:
            self.tmpdir = os.path.abspath(self.options.tmpdir)
            os.makedirs(self.tmpdir, exist_ok=True)
            if os.listdir(self.tmpdir):
                raise AssertionError("--tmpdir %s is not empty" % self.tmpdir)
        else:
            self.tmpdir = tempfile.mkdtemp(prefix="p2pd_func_")

    def _shutdown(self, success):
        for node in self.nodes:
            if node.running:
                try:
                    if success:
                        node.stop_node()
                    else:
                        node.kill()
                except Exception:
                    self.log("node%d: failed to stop cleanly:\n%s" %
                             (node.index, traceback.format_exc()))
                    node.kill()
                    success = False
        if not success:
            self._print_logs()
        if self.tmpdir and os.path.isdir(self.tmpdir):
            if success and not self.options.nocleanup:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
            else:
                self.log("leaving tmpdir %s" % self.tmpdir)

    def _print_logs(self):
        n = self.options.tracebacklines
        for node in self.nodes:
            lines = node.read_debug_log().splitlines()
            print("----- node%d debug.log (last %d lines) -----" % (node.index, n))
            for line in lines[-n:]:
                print("  " + line)
            stderr = node.read_stderr().strip()
            if stderr:
                print("----- node%d stderr -----" % node.index)
                print("  " + stderr.replace("\n", "\n  "))
        sys.stdout.flush()

    # --- helpers for tests ------------------------------------------------------------------

    def log(self, msg):
        print("%7.2fs %s" % (time.monotonic() - self._start_time, msg), flush=True)

    def p2putil(self, *args, input=None, timeout=None):
        """Run p2p-util with args (str); return a CliResult (returncode, stdout, stderr)."""
        cmd = [self.binaries["p2putil"]] + [str(a) for a in args]
        proc = subprocess.run(cmd, input=input.encode() if isinstance(input, str) else
                              (input or b""), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout or 60 * self.options.timeout_factor)
        return CliResult(proc.returncode, proc.stdout.decode(errors="replace"),
                         proc.stderr.decode(errors="replace"), cmd)

    def run_contrib(self, relpath, args, show=8):
        """Run the Python script contrib/<relpath> with args (a tool's CI run: the tool starts
        its own nodes); log the command and the last `show` lines of its output. Returns
        (returncode, output)."""
        cmd = [sys.executable, os.path.join(REPO_ROOT, "contrib", relpath)] + \
            [str(a) for a in args]
        self.log("running: %s" % " ".join(cmd))
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=300 * self.options.timeout_factor)
        text = proc.stdout.decode(errors="replace")
        for line in text.splitlines()[-show:]:
            self.log("  " + line)
        return proc.returncode, text

    def add_nodes(self, num_nodes, extra_args=None):
        extra_args = extra_args or [[]] * num_nodes
        assert len(extra_args) == num_nodes, "extra_args needs one list per node"
        for i in range(num_nodes):
            self.nodes.append(TestNode(len(self.nodes), self.tmpdir, self.binaries,
                                       extra_args=extra_args[i],
                                       timeout_factor=self.options.timeout_factor,
                                       log=self.log))

    def start_nodes(self, extra_args=None):
        for i, node in enumerate(self.nodes):
            node.start(extra_args[i] if extra_args else None, wait=False)
        for node in self.nodes:
            node.wait_for_rpc_connection()

    def stop_nodes(self):
        for node in self.nodes:
            if node.running:
                node.stop_node(wait=False)
        for node in self.nodes:
            if node.process is not None and node.running:
                node.wait_until_stopped()

    def connect_nodes(self, a, b, timeout=None):
        """Make node a dial node b (addnode <b> onetry) and wait until both show the connection
        established in getpeerinfo. a, b: node indexes or TestNodes. Returns (peer entry on a,
        peer entry on b)."""
        a, b = self._node(a), self._node(b)
        timeout = timeout or 30 * self.options.timeout_factor
        a.rpc.addnode(b.p2p_addr, "onetry")
        return self.wait_for_link(a, b, timeout)

    def wait_for_link(self, a, b, timeout=None):
        """Wait until a has an established outbound connection to b and b the matching inbound
        one (the same TCP connection: b's addr is a's addrbind). Returns both entries."""
        a, b = self._node(a), self._node(b)
        timeout = timeout or 30 * self.options.timeout_factor
        found = {}

        def linked():
            for pa in a.rpc.getpeerinfo():
                if pa["addr"] != b.p2p_addr or pa["inbound"] or pa["state"] != "established":
                    continue
                for pb in b.rpc.getpeerinfo():
                    if pb["addr"] == pa["addrbind"] and pb["inbound"] and \
                            pb["state"] == "established":
                        found["pair"] = (pa, pb)
                        return True
            return False
        wait_until(linked, timeout=timeout,
                   message="node%d -> node%d established on both sides" % (a.index, b.index))
        return found["pair"]

    def links(self, a, b):
        """(ids on a, ids on b) of the connections between a and b, either direction."""
        a, b = self._node(a), self._node(b)
        pa_all, pb_all = a.rpc.getpeerinfo(), b.rpc.getpeerinfo()
        ids_a, ids_b = [], []
        for x, y, ids_x, ids_y in ((a, b, ids_a, ids_b), (b, a, ids_b, ids_a)):
            px = pa_all if x is a else pb_all
            py = pb_all if x is a else pa_all
            for p in px:
                if p["addr"] == y.p2p_addr and not p["inbound"]:
                    ids_x.append(p["id"])
                    ids_y.extend(q["id"] for q in py if q["addr"] == p.get("addrbind"))
        return ids_a, ids_b

    def disconnect_nodes(self, a, b, timeout=None):
        """Disconnect every connection between nodes a and b (disconnectnode by id on a, and on
        b for what a does not see) and wait until neither shows the other."""
        a, b = self._node(a), self._node(b)
        timeout = timeout or 30 * self.options.timeout_factor
        ids_a, ids_b = self.links(a, b)
        for node, ids in ((a, ids_a), (b, ids_b)):
            for i in ids:
                try:
                    node.rpc.disconnectnode("", i)
                except JSONRPCException as e:
                    if e.error.get("code") != -29:  # already gone: fine
                        raise
        wait_until(lambda: self.links(a, b) == ([], []), timeout=timeout,
                   message="node%d and node%d disconnected" % (a.index, b.index))

    def _node(self, n):
        return self.nodes[n] if isinstance(n, int) else n

    # --- networks of nodes and their messages -------------------------------------------------

    @staticmethod
    def random_topology(n, rng=None, min_degree=2, max_degree=3):
        """Edges (a, b) of a connected random graph on n nodes: a random spanning tree, then
        extra edges until every node has at least min_degree links (when it can), no node more
        than max_degree where avoidable. Each edge means "a dials b"."""
        rng = rng or random.Random()
        order = list(range(n))
        rng.shuffle(order)
        edges = set()
        degree = [0] * n

        def add(a, b):
            edges.add((a, b))
            degree[a] += 1
            degree[b] += 1

        def linked(a, b):
            return (a, b) in edges or (b, a) in edges

        for i in range(1, n):
            # Attach each new node to an earlier one that still has room.
            choices = [x for x in order[:i] if degree[x] < max_degree] or order[:i]
            add(order[i], rng.choice(choices))
        for a in order:
            while degree[a] < min(min_degree, n - 1):
                cands = [b for b in range(n) if b != a and not linked(a, b)]
                roomy = [b for b in cands if degree[b] < max_degree]
                if not cands:
                    break
                add(a, rng.choice(roomy or cands))
        return sorted(edges)

    @staticmethod
    def topology_connected(n, edges):
        seen, todo = {0}, [0]
        while todo:
            x = todo.pop()
            for a, b in edges:
                for u, v in ((a, b), (b, a)):
                    if u == x and v not in seen:
                        seen.add(v)
                        todo.append(v)
        return len(seen) == n

    def connect_topology(self, edges, timeout=None):
        """Wire the nodes: for each (a, b) node a dials node b (addnode onetry); all dials go
        out at once, then every link is waited for on both sides."""
        for a, b in edges:
            self._node(a).rpc.addnode(self._node(b).p2p_addr, "onetry")
        for a, b in edges:
            self.wait_for_link(a, b, timeout)

    def wait_for_messages(self, ids, nodes=None, timeout=None):
        """Wait until every message id (hex) in ids is stored on every node (getmessage)."""
        if isinstance(ids, str):
            ids = [ids]
        nodes = [self._node(n) for n in (nodes if nodes is not None else self.nodes)]
        timeout = timeout or 30 * self.options.timeout_factor
        pending = {(n.index, i) for n in nodes for i in ids}
        by_index = {n.index: n for n in nodes}

        def all_there():
            for key in list(pending):
                if by_index[key[0]].has_message(key[1]):
                    pending.discard(key)
            return not pending
        start = time.monotonic()
        wait_until(all_there, timeout=timeout,
                   message=lambda: "messages on every node; missing (node, id): %s" %
                   sorted((k[0], k[1][:16]) for k in pending)[:10])
        return time.monotonic() - start

    def wait_for_message(self, msgid, nodes=None, timeout=None):
        return self.wait_for_messages([msgid], nodes, timeout)

    def restart_node(self, i, extra_args=None):
        self.nodes[i].stop_node()
        self.nodes[i].start(extra_args)
