#!/usr/bin/env python3
"""Where the RPC server listens and whom it answers (doc/rpc.md "Connecting"; issue 9).

- A non-loopback -rpcbind without -rpcallowip is refused at start-up, with an explanation that
  names the address and the missing -rpcallowip.
- With -rpcbind on loopback and on this machine's own non-loopback address, and -rpcallowip
  naming another network: a client on loopback is answered; a client connecting from the
  machine's non-loopback address (not in -rpcallowip) gets HTTP 403 before authentication.
  This part needs a non-loopback IPv4 address on the machine; without one it is skipped (and
  says so).
"""

import http.client
import socket

from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, assert_in

UPTIME = b'{"method":"uptime","params":[],"id":1}'


def local_ipv4():
    """This machine's address on its default route (no packet is sent), or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("198.51.100.1", 9))
        ip = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return None if ip.startswith("127.") or ip == "0.0.0.0" else ip


class RpcBindTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def setup_nodes(self):
        self.add_nodes(self.num_nodes, self.extra_args)

    def run_test(self):
        node = self.nodes[0]
        ip = local_ipv4() or "192.0.2.2"
        self.log("-rpcbind=%s without -rpcallowip is refused at start-up" % ip)
        err = node.assert_start_raises_init_error(["-rpcbind=%s" % ip])
        assert_in("-rpcbind=%s is not a loopback address and no -rpcallowip" % ip, err)

        ip = local_ipv4()
        if ip is None:
            self.log("no non-loopback IPv4 address here: the 403 check is skipped")
            return
        self.log("bound on 127.0.0.1 and %s, -rpcallowip=198.51.100.0/24" % ip)
        node.start(["-rpcbind=127.0.0.1", "-rpcbind=%s" % ip, "-rpcallowip=198.51.100.0/24",
                    "-debug=http"])
        assert isinstance(node.rpc.uptime(), int)

        self.log("a client from %s (not allowed) gets 403 before authentication" % ip)
        conn = http.client.HTTPConnection(ip, node.rpc_port, timeout=10,
                                          source_address=(ip, 0))
        conn.request("POST", "/", body=UPTIME, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert_equal(resp.status, 403)
        conn.close()
        node.wait_for_log("address not allowed", timeout=10)
        node.stop_node()


if __name__ == "__main__":
    RpcBindTest().main()
