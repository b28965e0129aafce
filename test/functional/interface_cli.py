#!/usr/bin/env python3
"""p2p-cli: output formats, errors and exit codes, -named, -stdin, -getinfo, -rpcwait."""

import json
import subprocess
import time

from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, assert_in, get_free_port


class CliTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def run_test(self):
        node = self.nodes[0]
        rpc = node.rpc

        self.log("Results: integer, raw string, pretty JSON, null")
        res = node.cli("uptime")
        assert_equal(res.returncode, 0)
        assert res.stdout.rstrip("\n").isdigit(), res
        res = node.cli("help", "uptime")
        assert_equal(res.returncode, 0)
        assert_equal(res.stdout, rpc.help("uptime") + "\n")  # raw, not JSON-quoted
        res = node.cli("getnetworkinfo")
        assert_equal(res.returncode, 0)
        assert_equal(json.loads(res.stdout), rpc.getnetworkinfo())
        lines = res.stdout.splitlines()
        assert_equal(lines[0], "{")
        assert lines[1].startswith('  "') and not lines[1].startswith('   '), \
            "not indented by 2: %r" % lines[1]
        res = node.cli("setmocktime", "0")  # also checks "0" is sent as a number
        assert_equal((res.returncode, res.stdout, res.stderr), (0, "", ""))
        state = node.cli_json("logging", '["net"]', "[]")
        assert_equal(state["net"], True)
        state = node.cli_json("logging", "[]", '["net"]')
        assert_equal(state["net"], False)

        self.log("Errors: code and message on stderr, exit 1")
        res = node.cli("nosuchmethod")
        assert_equal(res.returncode, 1)
        assert_equal(res.stdout, "")
        assert res.stderr.startswith("error code: -32601\nerror message:\n"), res
        res = node.cli("uptime", "1")
        assert_equal(res.returncode, 1)
        assert res.stderr.startswith("error code: -32602\nerror message:\n"), res

        self.log("-named")
        assert_equal(node.cli("-named", "help", "command=uptime").stdout, rpc.help("uptime") + "\n")
        res = node.cli("-named", "help", "nosuchparam=1")
        assert_equal(res.returncode, 1)
        assert res.stderr.startswith("error code: -32602\n"), res

        self.log("-stdin")
        res = node.cli("-stdin", "help", input="uptime\n")
        assert_equal(res.returncode, 0)
        assert_equal(res.stdout, rpc.help("uptime") + "\n")
        res = node.cli("-stdin", "-named", "help", input="command=getrpcinfo\n")
        assert_equal(res.stdout, rpc.help("getrpcinfo") + "\n")

        self.log("-getinfo")
        res = node.cli("-getinfo")
        assert_equal(res.returncode, 0)
        assert_in("regtest", res.stdout)

        self.log("-help, -version, bad usage (exit 2)")
        res = node.cli("-help", base=False)
        assert_equal(res.returncode, 0)
        assert_in("Usage", res.stdout)
        assert_in("-rpcwait", res.stdout)
        res = node.cli("-version", base=False)
        assert_equal(res.returncode, 0)
        assert_in("0.1.0", res.stdout)
        res = node.cli("-nosuchoption", "uptime")
        assert_equal(res.returncode, 2)
        assert_in("nosuchoption", res.stderr)
        res = node.cli()
        assert_equal(res.returncode, 2)
        assert res.stderr.strip(), "no message for a missing command"

        self.log("Wrong password: exit 4")
        res = node.cli("-rpcuser=__cookie__", "-rpcpassword=wrong", "uptime")
        assert_equal(res.returncode, 4)
        assert res.stderr.startswith("error: Authorization failed"), res

        self.log("Node not running: exit 3")
        node.stop_node()
        res = node.cli("uptime")
        assert_equal(res.returncode, 3)
        assert res.stderr.startswith("error: Could not connect to the server"), res
        res = node.cli("-rpcconnect=127.0.0.1", "-rpcport=%d" % get_free_port(), "uptime",
                       base=False)
        assert_equal(res.returncode, 3)

        self.log("-rpcwaittimeout=2 with no node gives up")
        start = time.monotonic()
        res = node.cli("-rpcwait", "-rpcwaittimeout=2", "uptime", timeout=20)
        elapsed = time.monotonic() - start
        assert res.returncode != 0, res
        assert 1.5 <= elapsed < 10, "gave up after %.1fs" % elapsed

        self.log("-rpcwait: cli started before the node gets the answer")
        cmd = [self.binaries["p2pcli"]] + node.cli_base_args() + ["-rpcwait", "help", "uptime"]
        waiter = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert waiter.poll() is None, "p2p-cli -rpcwait exited with no node running"
            node.start()
            out, err = waiter.communicate(timeout=30)
        finally:
            if waiter.poll() is None:
                waiter.kill()
                waiter.wait()
        assert_equal(waiter.returncode, 0)
        assert_equal(out.decode(), node.rpc.help("uptime") + "\n")

        self.log("stop through the cli")
        res = node.cli("stop")
        assert_equal((res.returncode, res.stdout), (0, "p2pd stopping\n"))
        node.wait_until_stopped()


if __name__ == "__main__":
    CliTest().main()
