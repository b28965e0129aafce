#!/usr/bin/env python3
"""JSON-RPC protocol and the issue-2 commands.

1.0 and 2.0 requests, notifications, batches, parse errors, invalid requests,
the body size limit, parameter checking (types, counts, named), help, uptime,
getnetworkinfo, logging, setmocktime, getrpcinfo.
"""

import json
import os
import re

from test_framework import bip340
from test_framework.node import TestNode
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import (assert_equal, assert_greater_than_or_equal, assert_in,
                                 assert_raises_rpc_error, wait_until)

MAX_BODY = 1024 * 1024
COMMANDS = ["getnetworkinfo", "getrpcinfo", "help", "logging", "setmocktime", "stop", "uptime"]
CATEGORIES = ["net", "msg", "addrman", "rpc", "db", "http", "crypto", "config"]


class RpcMiscTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def post(self, obj_or_bytes):
        body = obj_or_bytes if isinstance(obj_or_bytes, bytes) else json.dumps(obj_or_bytes).encode()
        return self.nodes[0].rpc.raw(body)

    def run_test(self):
        self.test_protocol()
        self.test_batch()
        self.test_size_limit()
        self.test_params()
        self.test_help()
        self.test_commands()
        self.test_setmocktime_other_network()

    def test_protocol(self):
        self.log("JSON-RPC 1.0 style")
        r = self.post({"method": "uptime", "params": [], "id": 1})
        assert_equal(r.status, 200)
        reply = r.json()
        assert_equal(reply["error"], None)
        assert_equal(reply["id"], 1)
        assert isinstance(reply["result"], int)
        assert_in("application/json", r.headers.get("content-type", ""))

        # A string id and a missing params member are fine.
        r = self.post({"method": "uptime", "id": "abc"})
        assert_equal(r.status, 200)
        assert_equal(r.json()["id"], "abc")

        self.log("Unknown method: -32601, HTTP 404")
        r = self.post({"method": "nosuchmethod", "params": [], "id": 2})
        assert_equal(r.status, 404)
        reply = r.json()
        assert_equal(reply["result"], None)
        assert_equal(reply["error"]["code"], -32601)
        assert_equal(reply["id"], 2)
        e = assert_raises_rpc_error(-32601, None, self.nodes[0].rpc.nosuchmethod)
        assert_equal(e.http_status, 404)

        self.log("Malformed JSON: -32700, HTTP 500")
        for body in (b"{not json", b"", b'{"method": "uptime"', b"\xff\xfe"):
            r = self.post(body)
            assert_equal(r.status, 500)
            assert_equal(r.json(), {"result": None, "error": {"code": -32700,
                                                              "message": "Parse error"},
                                    "id": None})
        self.log("Invalid requests: -32600, HTTP 400")
        for req in ({"params": [], "id": 3}, {"method": 5, "id": 3},
                    {"method": "uptime", "params": 5, "id": 3}):
            r = self.post(req)
            assert_equal(r.status, 400)
            assert_equal(r.json()["error"]["code"], -32600)

        self.log("JSON-RPC 2.0")
        r = self.post({"jsonrpc": "2.0", "method": "uptime", "params": [], "id": 7})
        assert_equal(r.status, 200)
        reply = r.json()
        assert_equal(reply["jsonrpc"], "2.0")
        assert_equal(reply["id"], 7)
        assert isinstance(reply["result"], int)
        assert "error" not in reply, "2.0 success reply has an error member: %r" % reply
        r = self.post({"jsonrpc": "2.0", "method": "nosuchmethod", "id": 8})
        assert_equal(r.status, 200)
        reply = r.json()
        assert_equal(reply["jsonrpc"], "2.0")
        assert_equal(reply["error"]["code"], -32601)
        assert_equal(reply["id"], 8)
        assert "result" not in reply, "2.0 error reply has a result member: %r" % reply

        self.log("Notification: HTTP 204, no body")
        r = self.post({"jsonrpc": "2.0", "method": "uptime", "params": []})
        assert_equal(r.status, 204)
        assert_equal(r.body, b"")

    def test_batch(self):
        self.log("Batch: replies in order, errors inside")
        rpc = self.nodes[0].rpc
        replies = rpc.batch([rpc.req("uptime"), rpc.req("nosuchmethod"), rpc.req("uptime", 1),
                             rpc.req("help", "uptime"), rpc.req("setmocktime", "x")])
        assert_equal(len(replies), 5)
        assert isinstance(replies[0]["result"], int) and replies[0]["error"] is None
        assert_equal(replies[1]["error"]["code"], -32601)
        assert_equal(replies[2]["error"]["code"], -32602)
        assert_in("uptime", replies[3]["result"])
        assert_equal(replies[4]["error"]["code"], -3)
        ids = [r["id"] for r in replies]
        assert_equal(ids, sorted(ids))
        r = self.post([{"method": "uptime", "id": 1}, {"jsonrpc": "2.0", "method": "uptime", "id": 2}])
        assert_equal(r.status, 200)
        assert_equal([x["id"] for x in r.json()], [1, 2])
        assert_equal(r.json()[1]["jsonrpc"], "2.0")

        self.log("Empty batch: -32600")
        r = self.post(b"[]")
        reply = r.json()
        assert isinstance(reply, dict), "empty batch should get one error object: %r" % reply
        assert_equal(reply["error"]["code"], -32600)
        assert r.status in (200, 400), r

    def test_size_limit(self):
        self.log("Body size limit: 1 MiB accepted, 1 MiB + 1 refused with 413")
        base = json.dumps({"method": "uptime", "params": [], "id": 9}).encode()
        at_limit = base + b" " * (MAX_BODY - len(base))
        assert_equal(len(at_limit), MAX_BODY)
        r = self.post(at_limit)
        assert_equal(r.status, 200)
        assert_equal(r.json()["id"], 9)
        r = self.post(at_limit + b" ")
        assert_equal(r.status, 413)
        r = self.post(b"[" + b"1," * (2 * MAX_BODY) + b"1]")
        assert_equal(r.status, 413)
        self.nodes[0].rpc.uptime()

    def test_params(self):
        rpc = self.nodes[0].rpc
        self.log("Parameter checking")
        assert_raises_rpc_error(-3, None, rpc.setmocktime, "abc")
        assert_raises_rpc_error(-3, None, rpc.help, 5)
        assert_raises_rpc_error(-3, None, rpc.logging, "net")
        assert_raises_rpc_error(-32602, None, rpc.uptime, 1)
        assert_raises_rpc_error(-32602, None, rpc.help, "a", "b")
        assert_raises_rpc_error(-32602, None, rpc.setmocktime)  # required param missing
        self.log("Named parameters")
        assert_equal(rpc.help(command="uptime"), rpc.help("uptime"))
        assert_raises_rpc_error(-32602, None, rpc.help, nosuchparam="x")
        assert_equal(rpc.setmocktime(timestamp=0), None)
        assert_equal(rpc.logging(include=["db"])["db"], True)
        assert_equal(rpc.logging(exclude=["db"])["db"], False)

    def test_help(self):
        rpc = self.nodes[0].rpc
        self.log("help")
        text = rpc.help()
        # setmocktime is a hidden test command, as in Bitcoin Core: it need not be listed.
        for cmd in (c for c in COMMANDS if c != "setmocktime"):
            assert re.search(r"^%s\b" % cmd, text, re.MULTILINE), "help does not list %s" % cmd
        for cmd in COMMANDS:
            detail = rpc.help(cmd)
            assert detail.startswith(cmd), "help %s starts with %r" % (cmd, detail[:40])
        net = rpc.help("getnetworkinfo")
        for field in ("nodepubkey", "network", "subversion", "Result"):
            assert_in(field, net)
        e = assert_raises_rpc_error(None, None, rpc.help, "nosuchcommand")
        assert_in("nosuchcommand", e.error["message"])

    def test_commands(self):
        node = self.nodes[0]
        rpc = node.rpc
        self.log("uptime")
        up = rpc.uptime()
        assert isinstance(up, int) and up >= 0
        wait_until(lambda: rpc.uptime() >= up + 1, timeout=5)

        self.log("getnetworkinfo")
        info = rpc.getnetworkinfo()
        expected = {"version": 100, "subversion": "/p2pd:0.1.0/", "protocolversion": 80001,
                    "network": "regtest", "connections": 0, "connections_in": 0,
                    "connections_out": 0, "networkactive": True,
                    "localservices": "0000000000000001", "localservicesnames": ["MSGSTORE"],
                    "warnings": ""}
        for k, v in expected.items():
            assert_equal(info.get(k), v)
        assert re.fullmatch(r"[0-9a-f]{64}", info["nodepubkey"]), info["nodepubkey"]
        assert bip340._lift_x(int(info["nodepubkey"], 16)) is not None, "not a curve point"
        assert_equal(sorted(info.keys()),
                     sorted(list(expected.keys()) + ["nodepubkey", "localaddresses"]))
        assert_equal(info["localaddresses"], [{"address": "127.0.0.1", "port": node.p2p_port}])

        self.log("logging")
        cats = rpc.logging()
        for c in CATEGORIES:
            assert c in cats and isinstance(cats[c], bool), "category %s: %r" % (c, cats)
        assert_equal(rpc.logging(["net", "http"])["net"], True)
        state = rpc.logging()
        assert_equal((state["net"], state["http"]), (True, True))
        state = rpc.logging([], ["net"])
        assert_equal((state["net"], state["http"]), (False, True))
        state = rpc.logging(["all"])
        assert all(state[c] for c in CATEGORIES), state
        state = rpc.logging([], ["all"])
        assert not any(state[c] for c in CATEGORIES), state
        assert_raises_rpc_error(-8, "bogus", rpc.logging, ["bogus"])
        # The rpc category really goes to debug.log.
        rpc.logging(["rpc"])
        with node.assert_debug_log(["getrpcinfo"]):
            rpc.getrpcinfo()
        rpc.logging([], ["rpc"])

        self.log("setmocktime (regtest)")
        assert_equal(rpc.setmocktime(2000000000), None)
        assert_equal(rpc.setmocktime(0), None)
        assert_raises_rpc_error(-8, None, rpc.setmocktime, -1)

        self.log("getrpcinfo")
        info = rpc.getrpcinfo()
        assert_equal(len(info["active_commands"]), 1)
        assert_equal(info["active_commands"][0]["method"], "getrpcinfo")
        assert isinstance(info["active_commands"][0]["duration"], int)
        assert_greater_than_or_equal(info["active_commands"][0]["duration"], 0)
        assert_equal(os.path.realpath(info["logpath"]), os.path.realpath(node.debug_log_path))

    def test_setmocktime_other_network(self):
        self.log("setmocktime is refused off regtest (testnet node)")
        node = TestNode(1, self.tmpdir, self.binaries, chain="testnet",
                        timeout_factor=self.options.timeout_factor, log=self.log)
        self.nodes.append(node)
        node.start()
        assert_equal(node.rpc.getnetworkinfo()["network"], "testnet")
        assert os.path.exists(os.path.join(node.datadir, "testnet", "debug.log"))
        assert_raises_rpc_error(-1, None, node.rpc.setmocktime, 2000000000)
        node.stop_node()


if __name__ == "__main__":
    RpcMiscTest().main()
