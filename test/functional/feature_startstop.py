#!/usr/bin/env python3
"""Start-up and clean shutdown: RPC stop, SIGTERM, SIGINT.

While running: RPC answers, the cookie file exists with mode 0600 and the
"__cookie__:<64 hex>" form, debug.log has "init: done loading".
After each clean shutdown: exit status 0, cookie removed, "Shutdown: done" logged.
"""

import os
import re
import signal
import stat

from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, assert_greater_than_or_equal, assert_in


class StartStopTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def check_running(self, node):
        uptime = node.rpc.uptime()
        assert isinstance(uptime, int), "uptime is not an integer: %r" % (uptime,)
        assert_greater_than_or_equal(uptime, 0)
        assert os.path.exists(node.cookie_path), "no cookie file while running"
        mode = stat.S_IMODE(os.stat(node.cookie_path).st_mode)
        assert_equal(oct(mode), oct(0o600))
        with open(node.cookie_path, encoding="ascii") as f:
            cookie = f.read()
        assert re.fullmatch(r"__cookie__:[0-9a-f]{64}\n?", cookie), "bad cookie %r" % cookie
        node.wait_for_log("init: done loading")

    def check_stopped(self, node, shutdowns):
        assert not os.path.exists(node.cookie_path), "cookie file left after clean shutdown"
        log = node.read_debug_log()
        assert_equal(log.count("Shutdown: done"), shutdowns)

    def run_test(self):
        node = self.nodes[0]

        self.log("RPC stop")
        self.check_running(node)
        assert_equal(node.rpc.stop(), "p2pd stopping")
        node.wait_until_stopped()
        self.check_stopped(node, 1)

        self.log("A new cookie on each start")
        node.start()
        self.check_running(node)
        first = self.read(node.cookie_path)
        node.stop_node()
        self.check_stopped(node, 2)
        node.start()
        self.check_running(node)
        assert first != self.read(node.cookie_path), "cookie did not change between runs"

        self.log("SIGTERM")
        node.send_signal(signal.SIGTERM)
        node.wait_until_stopped()
        self.check_stopped(node, 3)

        self.log("SIGINT")
        node.start()
        self.check_running(node)
        node.send_signal(signal.SIGINT)
        node.wait_until_stopped()
        self.check_stopped(node, 4)

        self.log("SIGHUP reopens debug.log; the node keeps running")
        node.start()
        rotated = node.debug_log_path + ".1"
        os.rename(node.debug_log_path, rotated)
        node.send_signal(signal.SIGHUP)
        node.rpc.uptime()
        node.stop_node()
        assert_in("Shutdown: done", node.read_debug_log())
        assert_equal(self.read(rotated).count("Shutdown: done"), 4)
        assert_in("init: done loading", self.read(rotated))

    @staticmethod
    def read(path):
        with open(path, encoding="utf8", errors="replace") as f:
            return f.read()


if __name__ == "__main__":
    StartStopTest().main()
