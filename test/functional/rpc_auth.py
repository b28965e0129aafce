#!/usr/bin/env python3
"""RPC authentication: cookie, -rpcuser/-rpcpassword, -rpcauth, -rpccookiefile, and 401s."""

import base64
import hashlib
import hmac
import os
import secrets
import stat
import time

from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, assert_greater_than_or_equal

UPTIME = b'{"method":"uptime","params":[],"id":1}'


def rpcauth_line(user, password, salt=None):
    """Return "user:salt$hash" as contrib's generator makes it (HMAC-SHA256, key = salt)."""
    salt = salt or secrets.token_hex(16)
    digest = hmac.new(salt.encode(), password.encode(), hashlib.sha256).hexdigest()
    return "%s:%s$%s" % (user, salt, digest)


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


class RpcAuthTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def assert_ok(self, node, user, password):
        resp = node.proxy(user, password).raw(UPTIME, auth=basic(user, password))
        assert_equal(resp.status, 200)
        assert isinstance(resp.json()["result"], int)

    def assert_401(self, node, auth):
        start = time.monotonic()
        resp = node.proxy("x", "x").raw(UPTIME, auth=auth)
        assert_equal(resp.status, 401)
        assert_equal(resp.body, b"")
        return time.monotonic() - start

    def run_test(self):
        node = self.nodes[0]

        self.log("Cookie authentication")
        user, password = node.read_cookie()
        assert_equal(user, "__cookie__")
        assert_equal(oct(stat.S_IMODE(os.stat(node.cookie_path).st_mode)), oct(0o600))
        self.assert_ok(node, user, password)
        elapsed = self.assert_401(node, basic(user, password[:-1] + ("0" if password[-1] != "0" else "1")))
        # Wrong credentials are answered only after a delay (brute-force brake).
        assert_greater_than_or_equal(elapsed, 0.2)
        self.assert_401(node, basic("someone", password))
        self.assert_401(node, False)            # no Authorization header
        self.assert_401(node, "Basic !!!notbase64")
        self.assert_401(node, "Bearer " + password)
        self.assert_401(node, "Basic " + base64.b64encode(b"no-colon").decode())
        self.assert_401(node, basic(user, ""))
        node.rpc.uptime()  # still fine after failures

        self.log("-rpcuser/-rpcpassword: works, no cookie file written")
        node.stop_node()
        node.start(["-rpcuser=alice", "-rpcpassword=s3cret pass"])
        assert not os.path.exists(node.cookie_path), "cookie written despite -rpcpassword"
        self.assert_ok(node, "alice", "s3cret pass")
        self.assert_401(node, basic("alice", "wrong"))
        self.assert_401(node, basic("bob", "s3cret pass"))
        self.assert_401(node, basic(user, password))  # the old cookie is dead
        node.stop_node()

        self.log("-rpcauth with several users (the cookie still works)")
        salt = secrets.token_hex(16)
        bob = rpcauth_line("bob", "bobpass", salt)
        carol = rpcauth_line("carol", "carolpass")
        node.start(["-rpcauth=" + bob, "-rpcauth=" + carol])
        self.assert_ok(node, "bob", "bobpass")
        self.assert_ok(node, "carol", "carolpass")
        self.assert_401(node, basic("bob", "carolpass"))
        self.assert_401(node, basic("carol", "bobpass"))
        self.assert_401(node, basic("bob", "bobpas"))
        # The hash must be used, not the salt or the hash as a password.
        self.assert_401(node, basic("bob", salt))
        self.assert_401(node, basic("bob", bob.split("$")[1]))
        assert os.path.exists(node.cookie_path), "no cookie with only -rpcauth"
        self.assert_ok(node, *node.read_cookie())
        node.stop_node()

        self.log("-rpcauth together with -rpcuser/-rpcpassword")
        node.start(["-rpcauth=" + bob, "-rpcuser=alice", "-rpcpassword=apass"])
        self.assert_ok(node, "alice", "apass")
        self.assert_ok(node, "bob", "bobpass")
        self.assert_401(node, basic("alice", "bobpass"))
        node.stop_node()

        self.log("-rpcauth from the config file")
        node.write_config("[regtest]\nrpcauth=%s\n" % carol)
        node.start()
        self.assert_ok(node, "carol", "carolpass")
        node.stop_node()
        node.write_config("")

        self.log("-rpccookiefile")
        cookie = os.path.join(self.tmpdir, "my.cookie")
        node.start(["-rpccookiefile=" + cookie])
        assert os.path.exists(cookie)
        assert not os.path.exists(os.path.join(node.netdir, ".cookie"))
        assert_equal(oct(stat.S_IMODE(os.stat(cookie).st_mode)), oct(0o600))
        self.assert_ok(node, *node.read_cookie())
        res = node.cli("-rpccookiefile=" + cookie, "uptime")
        assert_equal(res.returncode, 0)
        node.stop_node()
        assert not os.path.exists(cookie), "custom cookie file left after shutdown"

        node.start()


if __name__ == "__main__":
    RpcAuthTest().main()
