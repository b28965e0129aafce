#!/usr/bin/env python3
"""-daemon: the parent returns once the node is up, the pid file names the running node,
stop removes it; a start-up failure (bad option, locked datadir) makes the parent exit non-zero.
"""

import os
import subprocess
import time

from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, assert_in, wait_until


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is not alive.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class DaemonTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def setup_nodes(self):
        self.add_nodes(self.num_nodes)
        self.daemon_pids = []

    def run_daemon(self, node, extra_args):
        """Run p2pd -daemon; return (exit status, seconds taken, stdout+stderr text)."""
        out_path = os.path.join(self.tmpdir, "daemon_out.txt")
        cmd = [self.binaries["p2pd"]] + node.base_args() + ["-daemon"] + extra_args
        self.log("run: %s" % " ".join(cmd))
        start = time.monotonic()
        with open(out_path, "w+b") as out:
            # Files, not pipes: a detached child would keep pipes open.
            rc = subprocess.call(cmd, stdout=out, stderr=out, stdin=subprocess.DEVNULL, timeout=30)
        with open(out_path, "rb") as f:
            return rc, time.monotonic() - start, f.read().decode(errors="replace")

    def run_test(self):
        try:
            self.daemon_tests()
        finally:
            for pid in self.daemon_pids:
                if alive(pid):
                    self.log("killing leftover daemon %d" % pid)
                    os.kill(pid, 9)

    def daemon_tests(self):
        node = self.nodes[0]
        pidfile = os.path.join(node.netdir, "p2pd.pid")

        self.log("-daemon returns promptly once the node is up")
        rc, took, out = self.run_daemon(node, [])
        assert_equal(rc, 0)
        assert took < 20, "parent took %.1fs" % took
        assert os.path.exists(pidfile), "no pid file"
        with open(pidfile) as f:
            pid = int(f.read().strip())
        self.daemon_pids.append(pid)
        assert alive(pid), "pid file names pid %d which is not running" % pid
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            assert_in(b"p2pd", f.read())
        # The node is up when the parent returns: cookie present, RPC answering at once.
        node.process = None
        node.rpc_password = None
        user, password = node.read_cookie()
        node.rpc = node.proxy(user, password)
        assert isinstance(node.rpc.uptime(), int)
        node.wait_for_log("init: done loading")
        assert_equal(node.rpc.stop(), "p2pd stopping")
        wait_until(lambda: not alive(pid), timeout=30, message="daemon exits after stop")
        assert not os.path.exists(pidfile), "pid file left after stop"
        assert not os.path.exists(node.cookie_path), "cookie left after stop"
        assert_in("Shutdown: done", node.read_debug_log())

        self.log("-daemon with -pid=<file>")
        custom = os.path.join(self.tmpdir, "custom.pid")
        rc, took, out = self.run_daemon(node, ["-pid=" + custom])
        assert_equal(rc, 0)
        with open(custom) as f:
            pid = int(f.read().strip())
        self.daemon_pids.append(pid)
        assert alive(pid)
        assert not os.path.exists(pidfile)
        user, password = node.read_cookie()
        node.proxy(user, password).stop()
        wait_until(lambda: not alive(pid), timeout=30, message="daemon exits after stop")
        assert not os.path.exists(custom), "custom pid file left after stop"

        self.log("-daemon with a bad option exits non-zero")
        rc, took, out = self.run_daemon(node, ["-nosuchoption"])
        assert rc != 0, "exit 0 with a bad option"
        assert_in("nosuchoption", out)

        self.log("-daemon whose start-up fails after detaching exits non-zero (locked datadir)")
        node.start()
        cookie_before = node.read_cookie()
        rc, took, out = self.run_daemon(node, [])
        assert_equal(rc, 1)
        assert took < 20
        # The running node is untouched.
        assert_equal(node.read_cookie(), cookie_before)
        node.rpc.uptime()
        node.stop_node()


if __name__ == "__main__":
    DaemonTest().main()
