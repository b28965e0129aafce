#!/usr/bin/env python3
"""RPC hardening (doc/rpc.md "Authentication", "Limits"; issue 9), one check per rule:

- every method needs authentication: each command `help` lists, called without credentials,
  gets 401 with an empty body (and is not run: `stop` does not stop the node);
- request headers are bounded (8 KiB): a request with a 16 KiB header is refused, and the
  server goes on answering;
- concurrent requests are bounded by -rpcworkqueue (2 here): with two waitformessage
  long-polls holding both slots, a third request gets 503; once they end, requests are
  answered again;
- connections are bounded in time (-rpcservertimeout, 2 s here): a client that sends half a
  request and then nothing is disconnected, not kept forever.
(Request bodies, 1 MiB, are checked in rpc_misc.py; the 250 ms brake on wrong credentials and
the cookie's mode in rpc_auth.py; -rpcbind/-rpcallowip in rpc_bind.py.)
"""

import json
import re
import socket
import threading
import time

from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, wait_until

UPTIME = b'{"method":"uptime","params":[],"id":1}'
SERVER_TIMEOUT = 2  # -rpcservertimeout, seconds


class RpcLimitsTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-rpcworkqueue=2", "-rpcservertimeout=%d" % SERVER_TIMEOUT]]

    def run_test(self):
        node = self.nodes[0]
        anon = node.proxy("x", "x")

        self.log("every method needs authentication")
        methods = re.findall(r"^([a-z]+)(?: |$)", node.rpc.help(), flags=re.MULTILINE)
        assert len(methods) > 25 and "stop" in methods, methods
        for m in methods + ["addpeeraddress", "setmocktime"]:
            body = json.dumps({"method": m, "params": [], "id": 1}).encode()
            r = anon.raw(body, auth=False)
            assert_equal((m, r.status, r.body), (m, 401, b""))
        assert isinstance(node.rpc.uptime(), int)  # stop was not run

        self.log("a 16 KiB header is refused; the server goes on")
        try:
            r = anon.raw(UPTIME, headers={"X-Filler": "a" * 16384})
            assert r.status in (400, 413, 431), r.status
        except (ConnectionError, OSError):
            pass  # refused by closing the connection: also a refusal
        assert isinstance(node.rpc.uptime(), int)

        self.log("-rpcworkqueue=2: two long-polls hold both slots; a third request gets 503")
        creds = node.read_cookie()
        results = []

        def poll(tag):
            p = node.proxy(*creds, timeout=60)
            results.append(p.waitformessage({"topic": "limits.%s" % tag, "timeout": 3}))
        threads = [threading.Thread(target=poll, args=(t,)) for t in ("a", "b")]
        for t in threads:
            t.start()
        # Once both long-polls are registered, any further request is refused: even the
        # getrpcinfo that could show them.
        wait_until(lambda: node.proxy(*creds).raw(UPTIME).status == 503, timeout=10)
        r = node.proxy(*creds).raw(UPTIME)
        assert_equal(r.status, 503)
        for t in threads:
            t.join(30)
        assert_equal(len(results), 2)
        assert isinstance(node.rpc.uptime(), int)

        self.log("-rpcservertimeout=%d: half a request, then silence: disconnected" %
                 SERVER_TIMEOUT)
        limit = 30 * self.options.timeout_factor
        with socket.create_connection(("127.0.0.1", node.rpc_port), timeout=limit) as s:
            start = time.monotonic()
            s.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            try:
                while s.recv(4096):
                    pass  # a reply (408) is fine too; what matters is the close
            except ConnectionResetError:
                pass
            except socket.timeout:
                raise AssertionError("a silent client was still connected after %d s" % limit)
            elapsed = time.monotonic() - start
        # Not closed at once for being incomplete: closed for being idle.
        assert elapsed >= SERVER_TIMEOUT - 0.5, elapsed
        self.log("... closed after %.1f s" % elapsed)
        assert isinstance(node.rpc.uptime(), int)


if __name__ == "__main__":
    RpcLimitsTest().main()
