#!/usr/bin/env python3
"""Configuration: p2pd.conf, network sections, precedence, -conf, bad input, -help, -version.

Observable effects used: -debuglogfile (getrpcinfo "logpath" and where the log
lands) and -rpcport (where the node answers).
"""

import os
import re
import subprocess

from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, assert_in, get_free_port


class ConfigTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def setup_nodes(self):
        self.add_nodes(self.num_nodes)  # started by the test

    def logpath(self, name):
        return os.path.join(self.tmpdir, name)

    def check_logpath(self, extra_args, expected_name):
        node = self.nodes[0]
        node.start(extra_args)
        got = node.rpc.getrpcinfo()["logpath"]
        assert_equal(os.path.realpath(got), os.path.realpath(self.logpath(expected_name)))
        node.stop_node()
        with open(self.logpath(expected_name), encoding="utf8") as f:
            assert_in("init: done loading", f.read())

    def run_test(self):
        node = self.nodes[0]
        conf = node.conf_path

        self.log("Top-level key applies")
        node.write_config("# a comment\n\ndebuglogfile=%s\n" % self.logpath("top.log"))
        self.check_logpath([], "top.log")

        self.log("[regtest] section beats top level")
        node.write_config("debuglogfile=%s\n[main]\ndebuglogfile=%s\n[regtest]\ndebuglogfile=%s\n"
                          "[testnet]\ndebuglogfile=%s\n" %
                          (self.logpath("top.log"), self.logpath("main.log"),
                           self.logpath("section.log"), self.logpath("testnet.log")))
        self.check_logpath([], "section.log")

        self.log("Command line beats the config file")
        self.check_logpath(["-debuglogfile=" + self.logpath("cmdline.log")], "cmdline.log")

        self.log("regtest.key=value form")
        node.write_config("debuglogfile=%s\nmain.debuglogfile=%s\nregtest.debuglogfile=%s\n" %
                          (self.logpath("top.log"), self.logpath("main.log"),
                           self.logpath("prefix.log")))
        self.check_logpath([], "prefix.log")

        self.log("rpcport from the [regtest] section")
        port = get_free_port()
        node.write_config("[regtest]\nrpcport=%d\n" % port)
        node.rpcport_in_args = False
        node.rpc_port = port
        node.start()
        node.rpc.uptime()
        # p2p-cli reads the same file.
        assert_equal(node.cli("uptime").returncode, 0)
        node.stop_node()
        node.rpcport_in_args = True

        self.log("-conf=<other file> (absolute, and relative to the datadir)")
        other = os.path.join(self.tmpdir, "other.conf")
        with open(other, "w") as f:
            f.write("[regtest]\ndebuglogfile=%s\n" % self.logpath("other.log"))
        node.write_config("debuglogfile=%s\n" % self.logpath("top.log"))
        self.check_logpath(["-conf=" + other], "other.log")
        with open(os.path.join(node.datadir, "rel.conf"), "w") as f:
            f.write("debuglogfile=%s\n" % self.logpath("rel.log"))
        self.check_logpath(["-conf=rel.conf"], "rel.log")
        node.assert_start_raises_init_error(["-conf=" + os.path.join(self.tmpdir, "nofile.conf")],
                                            "nofile.conf")

        self.log("-noX and -logtimestamps")
        node.write_config("")
        node.start(["-nologtimestamps"])
        node.stop_node()
        line = [l for l in node.read_debug_log().splitlines() if "init: done loading" in l][-1]
        assert not re.search(r"\d{4}-\d\d-\d\d", line), "timestamp despite -nologtimestamps: %r" % line
        os.remove(node.debug_log_path)
        node.start()
        node.stop_node()
        line = [l for l in node.read_debug_log().splitlines() if "init: done loading" in l][-1]
        assert re.search(r"\d{4}-\d\d-\d\d", line), "no timestamp by default: %r" % line
        os.remove(node.debug_log_path)
        node.start(["-nodebuglogfile"])
        node.stop_node()
        assert not os.path.exists(node.debug_log_path), "-nodebuglogfile still wrote debug.log"

        self.log("Unknown option on the command line")
        node.assert_start_raises_init_error(["-foo"], "Error: unknown option -foo", expected_ret=1)
        node.assert_start_raises_init_error(["-foo=1"], "-foo", expected_ret=1)

        self.log("Bad config file lines name file and line")
        bad_lines = [
            ("foo=1", "foo"),                 # unknown option
            ("justtext", None),               # no '='
            ("[regtest", None),               # bad section header
            ("server=yes", "server"),         # bad boolean
        ]
        for bad, word in bad_lines:
            node.write_config("# line 1\nserver=1\n%s\n" % bad)
            err = node.assert_start_raises_init_error([], expected_ret=1)
            assert re.search(r"^Error: .*p2pd\.conf:3: ", err, re.MULTILINE), \
                "error for %r does not name p2pd.conf:3: %r" % (bad, err)
            if word:
                assert_in(word, err)
        # An unknown key inside the [regtest] section is also refused.
        node.write_config("[regtest]\nbogusopt=1\n")
        err = node.assert_start_raises_init_error([], "p2pd.conf:2: ", expected_ret=1)
        assert_in("bogusopt", err)
        # Errors in a -conf file name that file.
        with open(other, "w") as f:
            f.write("server=1\n\nserver=maybe\n")
        node.write_config("")
        node.assert_start_raises_init_error(["-conf=" + other], "other.conf:3: ", expected_ret=1)
        # Bad booleans on the command line are refused too (only 0/1 are accepted).
        node.assert_start_raises_init_error(["-server=yes"], "server", expected_ret=1)
        # The node still starts after the file is fixed.
        node.write_config("server=1\n")
        node.start()
        node.stop_node()

        self.log("-chain")
        p2pd = self.binaries["p2pd"]
        res = subprocess.run([p2pd, "-datadir=" + node.datadir, "-chain=bogus"],
                             capture_output=True, text=True, timeout=20)
        assert res.returncode != 0, "-chain=bogus accepted"
        assert_in("bogus", res.stderr)
        assert not os.path.exists(os.path.join(node.datadir, "bogus")), "made a bogus netdir"
        # Two networks at once are refused.
        node.assert_start_raises_init_error(["-testnet"], "Error:", expected_ret=1)

        self.log("-help and -version")
        p2pd = self.binaries["p2pd"]
        for flag in ("-help", "-h", "-?"):
            res = subprocess.run([p2pd, flag], capture_output=True, text=True, timeout=20)
            assert_equal(res.returncode, 0)
            for word in ("Usage", "-datadir", "-regtest", "-rpcport", "-daemon", "-conf"):
                assert_in(word, res.stdout)
        res = subprocess.run([p2pd, "-version"], capture_output=True, text=True, timeout=20)
        assert_equal(res.returncode, 0)
        assert_equal(res.stdout.splitlines()[0], "p2pd version 0.1.0")
        # -version must not create the data directory.
        fresh = os.path.join(self.tmpdir, "fresh")
        res = subprocess.run([p2pd, "-datadir=" + fresh, "-version"], capture_output=True,
                             timeout=20)
        assert_equal(res.returncode, 0)
        assert not os.path.exists(fresh), "-version created the data directory"


if __name__ == "__main__":
    ConfigTest().main()
