"""Helpers for functional tests: assertions, waiting, ports."""

import os
import socket
import time

from .authproxy import JSONRPCException

# Default time a test waits for a condition before failing.
DEFAULT_TIMEOUT = 30


class AssertionFailed(AssertionError):
    pass


def assert_equal(thing1, thing2, *args):
    if thing1 != thing2 or any(thing1 != arg for arg in args):
        raise AssertionError("not(%s)" % " == ".join(repr(a) for a in (thing1, thing2) + args))


def assert_greater_than(thing1, thing2):
    if not thing1 > thing2:
        raise AssertionError("%r <= %r" % (thing1, thing2))


def assert_greater_than_or_equal(thing1, thing2):
    if not thing1 >= thing2:
        raise AssertionError("%r < %r" % (thing1, thing2))


def assert_in(needle, haystack):
    if needle not in haystack:
        raise AssertionError("%r not in %r" % (needle, haystack))


def assert_not_in(needle, haystack):
    if needle in haystack:
        raise AssertionError("%r unexpectedly in %r" % (needle, haystack))


def assert_raises_rpc_error(code, message, fun, *args, **kwargs):
    """Run fun(*args, **kwargs) and check it raises a JSON-RPC error.

    code: the expected error code, or None to not check it.
    message: a substring the error message must contain, or None.
    """
    try:
        fun(*args, **kwargs)
    except JSONRPCException as e:
        err = e.error or {}
        if code is not None and err.get("code") != code:
            raise AssertionError("Unexpected JSONRPC error code %r (expected %r): %r" %
                                 (err.get("code"), code, err))
        if message is not None and message not in str(err.get("message", "")):
            raise AssertionError("Expected substring %r not found in error message %r" %
                                 (message, err.get("message")))
        return e
    except Exception as e:
        raise AssertionError("Unexpected exception raised: %s: %s" % (type(e).__name__, e))
    raise AssertionError("No exception raised")


def wait_until(predicate, timeout=DEFAULT_TIMEOUT, interval=0.05, message=None):
    """Poll predicate() until it returns true; fail after timeout seconds.

    Returns the predicate's (true) value. message: text for the failure, or a function
    returning it (called only on failure, so it can describe what is still missing).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            if callable(message):
                message = message()
            raise AssertionError("wait_until() timed out after %gs%s" %
                                 (timeout, ": " + message if message else ""))
        time.sleep(interval)


# Ports handed to nodes come from below Linux's ephemeral range (32768-60999): a port from
# that range can be taken at any moment as the source port of some outgoing connection (other
# nodes of a parallel test dial out all the time), and a node binding it later fails. Each test
# process walks its own slice of the range, chosen from its pid, so parallel tests rarely meet.
PORT_MIN = 11000
PORT_MAX = 32000
PORT_SLICE = 200
_next_port = [None]


def _port_free(port):
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
    except OSError:
        return False
    return _port_free_v6(port)


def get_free_port():
    """Return a TCP port that is free on 127.0.0.1 (and ::1 when IPv6 is available) right now,
    below the ephemeral range (see PORT_MIN). Successive calls return distinct ports."""
    slices = (PORT_MAX - PORT_MIN) // PORT_SLICE
    if _next_port[0] is None:
        _next_port[0] = PORT_MIN + (os.getpid() % slices) * PORT_SLICE
    for _ in range(PORT_MAX - PORT_MIN):
        port = _next_port[0]
        _next_port[0] = port + 1 if port + 1 < PORT_MAX else PORT_MIN
        if _port_free(port):
            return port
    raise RuntimeError("no free port found")


def _port_free_v6(port):
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        return True
    try:
        s.bind(("::1", port))
        return True
    except OSError as e:
        # No IPv6 loopback on this machine: nothing to collide with.
        return e.errno not in (98,)  # EADDRINUSE
    finally:
        s.close()


def p2p_port(node):
    """The P2P port given to a node (picked at set-up)."""
    return node.p2p_port


def rpc_port(node):
    """The RPC port given to a node (picked at set-up)."""
    return node.rpc_port
