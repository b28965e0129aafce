"""TestNode: one real p2pd process in its own data directory, driven over RPC and p2p-cli."""

import contextlib
import http.client
import json
import os
import re
import subprocess
import time

from .authproxy import AuthServiceProxy, JSONRPCException
from .util import get_free_port, wait_until

# RPC error code of a node that is still starting up.
RPC_IN_WARMUP = -28
# RPC error codes of the message commands (doc/messages.md).
RPC_INVALID_ADDRESS_OR_KEY = -5   # getmessage: "Message not found"
RPC_INVALID_PARAMETER = -8
RPC_DESERIALIZATION_ERROR = -22   # sendrawmessage / decodemessage: malformed
RPC_VERIFY_REJECTED = -26         # sendrawmessage: "<verdict>"

# The per-peer message counters of getpeerinfo (doc/messages.md).
MSG_COUNTERS = ("msgs_announced", "msgs_requested", "msgs_received", "msgs_sent",
                "msgs_duplicate", "msgs_invalid", "msgs_notfound", "msgs_unrequested",
                "msgs_inflight")


class FailedToStartError(Exception):
    """The p2pd process exited (or never answered) while we waited for its RPC."""


class ErrorMatch:
    FULL_TEXT = 1
    PARTIAL = 2
    REGEX = 3


class CliResult:
    """The outcome of one p2p-cli run."""

    def __init__(self, returncode, stdout, stderr, args):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.args = args

    def __iter__(self):  # allow rc, out, err = node.cli(...)
        return iter((self.returncode, self.stdout, self.stderr))

    def json(self):
        return json.loads(self.stdout)

    def __repr__(self):
        return "CliResult(rc=%d, stdout=%r, stderr=%r, args=%r)" % (
            self.returncode, self.stdout[:500], self.stderr[:500], self.args)


class TestNode:
    """A p2pd node for a test.

    index: its number; datadir: <tmpdir>/node<index>; chain: network name.
    binaries: dict with keys p2pd, p2pcli, p2putil (paths).
    extra_args: arguments added to every start().
    """

    def __init__(self, index, tmpdir, binaries, extra_args=None, chain="regtest",
                 timeout_factor=1.0, log=print):
        self.index = index
        self.datadir = os.path.join(tmpdir, "node%d" % index)
        self.chain = chain
        self.binaries = binaries
        self.extra_args = list(extra_args or [])
        self.timeout_factor = timeout_factor
        self.rpc_timeout = int(30 * timeout_factor)
        self.rpc_port = get_free_port()
        # Passed as -port, with -bind=127.0.0.1, so parallel tests never share a P2P port.
        self.p2p_port = get_free_port()
        # False: do not pass -port/-bind (the test sets them itself).
        self.p2p_in_args = True
        # Test peers (P2PInterface) made by add_p2p_connection; closed when the node stops.
        self.p2ps = []
        # False: do not pass -rpcport (the test sets it in a config file); rpc_port must then
        # be set to the port the node is expected to listen on.
        self.rpcport_in_args = True
        self.process = None
        self.running = False
        self.rpc = None
        self.rpc_user = None
        self.rpc_password = None
        self.cookie_file = None  # from -rpccookiefile
        self._log = log
        self._stdout = None
        self._stderr = None
        os.makedirs(self.datadir, exist_ok=True)

    # --- paths -------------------------------------------------------------------

    @property
    def netdir(self):
        """The network directory: datadir for main, datadir/<chain> otherwise."""
        if self.chain == "main":
            return self.datadir
        return os.path.join(self.datadir, self.chain)

    @property
    def debug_log_path(self):
        return os.path.join(self.netdir, "debug.log")

    @property
    def cookie_path(self):
        if self.cookie_file:
            return os.path.join(self.netdir, self.cookie_file)
        return os.path.join(self.netdir, ".cookie")

    @property
    def conf_path(self):
        return os.path.join(self.datadir, "p2pd.conf")

    @property
    def stderr_path(self):
        return os.path.join(self.datadir, "stderr_%s.txt" % self.chain)

    @property
    def stdout_path(self):
        return os.path.join(self.datadir, "stdout_%s.txt" % self.chain)

    def write_config(self, text):
        """Write <datadir>/p2pd.conf with the given text."""
        with open(self.conf_path, "w", encoding="utf8") as f:
            f.write(text)

    # --- arguments ---------------------------------------------------------------

    def base_args(self):
        args = ["-datadir=" + self.datadir, "-printtoconsole=0"]
        if self.rpcport_in_args:
            args.append("-rpcport=%d" % self.rpc_port)
        if self.p2p_in_args:
            args += ["-port=%d" % self.p2p_port, "-bind=127.0.0.1"]
        if self.chain == "regtest":
            args.insert(1, "-regtest")
        elif self.chain != "main":
            args.insert(1, "-chain=" + self.chain)
        return args

    def _command(self, extra_args):
        return [self.binaries["p2pd"]] + self.base_args() + self.extra_args + list(extra_args)

    # --- process control -----------------------------------------------------------

    def start(self, extra_args=None, wait=True, env=None, preexec_fn=None):
        """Start p2pd; if wait, block until its RPC answers (else call wait_for_rpc_connection).
        preexec_fn runs in the child before p2pd (e.g. to set a resource limit)."""
        if self.running:
            raise AssertionError("node%d already running" % self.index)
        extra_args = list(extra_args or [])
        cmd = self._command(extra_args)
        self._credentials_from_args(self.extra_args + extra_args)
        self._stdout = open(self.stdout_path, "w+b")
        self._stderr = open(self.stderr_path, "w+b")
        self._log("node%d: start: %s" % (self.index, " ".join(cmd)))
        self.process = subprocess.Popen(cmd, stdout=self._stdout, stderr=self._stderr,
                                        stdin=subprocess.DEVNULL, env=env,
                                        preexec_fn=preexec_fn)
        self.running = True
        if wait:
            self.wait_for_rpc_connection()

    def _credentials_from_args(self, args):
        self.rpc_user = None
        self.rpc_password = None
        self.cookie_file = None
        for a in args:
            if a.startswith("-rpccookiefile="):
                self.cookie_file = a.split("=", 1)[1]
            if a.startswith("-rpcuser="):
                self.rpc_user = a.split("=", 1)[1]
            if a.startswith("-rpcpassword="):
                self.rpc_password = a.split("=", 1)[1]

    def read_cookie(self):
        """Return (user, password) from the cookie file, or None if it is not there (yet)."""
        try:
            with open(self.cookie_path, "r", encoding="ascii") as f:
                content = f.read()
        except (FileNotFoundError, PermissionError):
            return None
        if ":" not in content:
            return None  # partially written
        user, password = content.strip().split(":", 1)
        return user, password

    def rpc_url(self, user=None, password=None):
        return "http://%s:%s@127.0.0.1:%d" % (user, password, self.rpc_port)

    def proxy(self, user, password, timeout=None):
        """A new RPC proxy to this node with the given credentials."""
        return AuthServiceProxy(self.rpc_url(user, password), timeout=timeout or self.rpc_timeout)

    def proxy_for_thread(self):
        """A new RPC proxy with the running node's credentials (a proxy is not shared between
        threads)."""
        if self.rpc_password is not None:
            return self.proxy(self.rpc_user or "", self.rpc_password)
        return self.proxy(*self.read_cookie())

    def wait_for_rpc_connection(self, timeout=None):
        """Wait until the node answers RPC (using the cookie, or -rpcuser/-rpcpassword).

        Fails fast if the process exits.
        """
        timeout = timeout or 30 * self.timeout_factor
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                rc = self.process.returncode
                self.running = False
                raise FailedToStartError("p2pd node%d exited with status %d during start-up. "
                                         "stderr: %s" % (self.index, rc, self.read_stderr()))
            if self.rpc_password is not None:
                creds = (self.rpc_user or "", self.rpc_password)
            else:
                creds = self.read_cookie()
            if creds is not None:
                rpc = self.proxy(*creds)
                try:
                    rpc.uptime()
                    self.rpc = rpc
                    self.running = True
                    self._log("node%d: RPC up" % self.index)
                    return
                except JSONRPCException as e:
                    # -28: warming up; 401: stale cookie from an earlier run.
                    if e.error.get("code") != RPC_IN_WARMUP and e.http_status != 401:
                        raise
                    last_error = e
                except (OSError, http.client.HTTPException) as e:
                    last_error = e
            time.sleep(0.05)
        self.kill()
        raise FailedToStartError("node%d: RPC did not answer within %gs (last error: %r)" %
                                 (self.index, timeout, last_error))

    def stop_node(self, expected_stderr="", wait=True):
        """Stop the node with RPC stop and wait for its exit (status 0)."""
        self._log("node%d: stop" % self.index)
        self.disconnect_p2ps()
        result = self.rpc.stop()
        if result != "p2pd stopping":
            raise AssertionError("stop returned %r" % (result,))
        if wait:
            self.wait_until_stopped(expected_stderr=expected_stderr)

    def wait_until_stopped(self, timeout=None, expected_ret_code=0, expected_stderr=""):
        timeout = timeout or 30 * self.timeout_factor
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("node%d did not exit within %gs" % (self.index, timeout))
        self.running = False
        self.rpc = None
        rc = self.process.returncode
        stderr = self.read_stderr().strip()
        self._close_outputs()
        if rc != expected_ret_code:
            raise AssertionError("node%d exited with %d, expected %d; stderr: %s" %
                                 (self.index, rc, expected_ret_code, stderr))
        if expected_stderr is not None and stderr != expected_stderr:
            raise AssertionError("node%d: unexpected stderr %r" % (self.index, stderr))
        return rc

    def send_signal(self, sig):
        self.process.send_signal(sig)

    def kill(self):
        """SIGKILL the process (if running) and reap it."""
        self.disconnect_p2ps()
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.running = False
        self.rpc = None
        self._close_outputs()

    def _close_outputs(self):
        for f in (self._stdout, self._stderr):
            if f is not None:
                f.close()
        self._stdout = self._stderr = None

    def read_stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def assert_start_raises_init_error(self, extra_args=None, expected_msg=None,
                                       match=ErrorMatch.PARTIAL, timeout=None, expected_ret=None):
        """Start p2pd and check it exits non-zero with expected_msg on stderr.

        expected_ret: the exact exit status required (default: any non-zero).
        Returns the stderr text.
        """
        timeout = timeout or 20 * self.timeout_factor
        cmd = self._command(list(extra_args or []))
        self._log("node%d: start (expecting failure): %s" % (self.index, " ".join(cmd)))
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("p2pd should have exited with an error but is still running "
                                 "after %gs: %s" % (timeout, cmd))
        stderr = proc.stderr.decode(errors="replace").strip()
        if proc.returncode == 0:
            raise AssertionError("p2pd should have exited with an error; exit 0. stderr: %r" %
                                 stderr)
        if expected_ret is not None and proc.returncode != expected_ret:
            raise AssertionError("p2pd exited with %d, expected %d. stderr: %r" %
                                 (proc.returncode, expected_ret, stderr))
        if expected_msg is not None:
            if match == ErrorMatch.FULL_TEXT:
                ok = stderr == expected_msg
            elif match == ErrorMatch.REGEX:
                ok = re.search(expected_msg, stderr, flags=re.MULTILINE) is not None
            else:
                ok = expected_msg in stderr
            if not ok:
                raise AssertionError("expected error %r not found in stderr %r (exit %d)" %
                                     (expected_msg, stderr, proc.returncode))
        return stderr

    # --- p2p-cli --------------------------------------------------------------------

    def cli_base_args(self):
        args = ["-datadir=" + self.datadir]
        if self.rpcport_in_args:
            args.append("-rpcport=%d" % self.rpc_port)
        if self.chain == "regtest":
            args.insert(1, "-regtest")
        elif self.chain != "main":
            args.insert(1, "-chain=" + self.chain)
        if self.rpc_password is not None:
            args += ["-rpcuser=" + (self.rpc_user or ""), "-rpcpassword=" + self.rpc_password]
        return args

    def cli(self, *args, input=None, base=True, timeout=None):
        """Run p2p-cli with the node's data directory and port; return a CliResult.

        input: text for stdin; base=False drops -datadir/-regtest/-rpcport.
        """
        cmd = [self.binaries["p2pcli"]] + (self.cli_base_args() if base else []) + \
            [str(a) for a in args]
        proc = subprocess.run(cmd, input=(input or "").encode(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout or 60 * self.timeout_factor)
        return CliResult(proc.returncode, proc.stdout.decode(errors="replace"),
                         proc.stderr.decode(errors="replace"), cmd)

    def cli_json(self, *args, **kwargs):
        """Run p2p-cli, require exit 0, return the parsed JSON output (or the raw string)."""
        res = self.cli(*args, **kwargs)
        if res.returncode != 0:
            raise AssertionError("p2p-cli failed: %r" % (res,))
        out = res.stdout.rstrip("\n")
        try:
            return json.loads(out)
        except ValueError:
            return out

    # --- logs ---------------------------------------------------------------------------

    def read_debug_log(self):
        try:
            with open(self.debug_log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    @contextlib.contextmanager
    def assert_debug_log(self, expected_msgs, unexpected_msgs=None, timeout=2):
        """Check that the code in the with-block makes the node log each of expected_msgs.

        Only log written after entering the block counts. Waits up to timeout seconds
        after the block for the lines to appear.
        """
        unexpected_msgs = unexpected_msgs or []
        try:
            start = os.path.getsize(self.debug_log_path)
        except FileNotFoundError:
            start = 0

        def new_log():
            with open(self.debug_log_path, "rb") as f:
                f.seek(start)
                return f.read().decode(errors="replace")

        yield
        deadline = time.monotonic() + timeout * self.timeout_factor
        while True:
            log = new_log() if os.path.exists(self.debug_log_path) else ""
            for msg in unexpected_msgs:
                if msg in log:
                    raise AssertionError("unexpected message %r found in debug.log:\n%s" %
                                         (msg, log))
            missing = [m for m in expected_msgs if m not in log]
            if not missing:
                return
            if time.monotonic() > deadline:
                raise AssertionError("expected messages %r not found in debug.log:\n%s" %
                                     (missing, log[-4000:]))
            time.sleep(0.05)

    def wait_for_log(self, text, timeout=10):
        """Wait until debug.log contains text."""
        wait_until(lambda: text in self.read_debug_log(), timeout=timeout * self.timeout_factor,
                   message="%r in node%d debug.log" % (text, self.index))

    # --- P2P ------------------------------------------------------------------------------

    @property
    def p2p_addr(self):
        """The node's P2P address as getpeerinfo shows it: "127.0.0.1:<port>"."""
        return "127.0.0.1:%d" % self.p2p_port

    def add_p2p_connection(self, p2p=None, send_version=True, wait_for_verack=True,
                           timeout=None, **kwargs):
        """Connect a test peer to the node's P2P port and return it.

        p2p: a P2PInterface (or subclass) to use; else one is made with kwargs (see
        P2PInterface: auto_pong, auto_verack, version_kwargs, ...). send_version: send our
        version (and sendaddrv2) at once; wait_for_verack: wait until the node's verack came
        (the handshake is done from our side; the node is established once it reads our verack).
        rcvbuf/sndbuf in kwargs set the socket buffer sizes; source= the local address to
        connect from (any 127/8 address: test peers in different network groups).
        """
        from .p2p import P2PInterface
        timeout = timeout or 30 * self.timeout_factor
        rcvbuf = kwargs.pop("rcvbuf", None)
        sndbuf = kwargs.pop("sndbuf", None)
        source = kwargs.pop("source", None)
        if p2p is None:
            p2p = P2PInterface(log=self._log, **kwargs)
        p2p.peer_connect("127.0.0.1", self.p2p_port, timeout=timeout, rcvbuf=rcvbuf,
                         sndbuf=sndbuf, source=source)
        self.p2ps.append(p2p)
        if send_version:
            p2p.send_version()
        if send_version and wait_for_verack:
            p2p.wait_for_verack(timeout)
            if p2p.auto_verack:
                p2p.wait_until(lambda: p2p.verack_sent, timeout, "our verack sent")
        return p2p

    def add_outbound_p2p_connection(self, p2p=None, wait_for_verack=True, timeout=None,
                                    **kwargs):
        """Make the node dial a test peer (addnode <127.0.0.1:port> onetry) and return it.

        The test peer listens on a free port, accepts the node's connection and, by default,
        answers its version with version + verack.
        """
        from .p2p import P2PInterface, listen_socket
        timeout = timeout or 30 * self.timeout_factor
        if p2p is None:
            p2p = P2PInterface(log=self._log, **kwargs)
        listener = listen_socket()
        try:
            port = listener.getsockname()[1]
            self.rpc.addnode("127.0.0.1:%d" % port, "onetry")
            p2p.peer_accept(listener, timeout=timeout)
        finally:
            listener.close()
        self.p2ps.append(p2p)
        if wait_for_verack:
            p2p.wait_for_verack(timeout)
        return p2p

    def disconnect_p2ps(self):
        """Close every test peer of this node."""
        for p2p in self.p2ps:
            p2p.peer_disconnect()
        self.p2ps = []

    # --- messages ---------------------------------------------------------------------------

    def has_message(self, msgid):
        """Whether getmessage finds this id (hex)."""
        try:
            self.rpc.getmessage(msgid)
            return True
        except JSONRPCException as e:
            if e.error.get("code") != RPC_INVALID_ADDRESS_OR_KEY:
                raise
            return False

    def msg_counters(self, peers=None):
        """The message counters of getpeerinfo summed over all peers (or the given entries)."""
        peers = self.rpc.getpeerinfo() if peers is None else peers
        return {c: sum(p.get(c, 0) for p in peers) for c in MSG_COUNTERS}

    def msg_counters_of(self, p2p):
        """The message counters of the node's entry for one test peer."""
        p = self.peer_of(p2p)
        if p is None:
            raise AssertionError("node%d: test peer %d not in getpeerinfo" %
                                 (self.index, p2p.local_port))
        return {c: p[c] for c in MSG_COUNTERS}

    def getpeer(self, predicate):
        """The getpeerinfo entries for which predicate(entry) is true."""
        return [p for p in self.rpc.getpeerinfo() if predicate(p)]

    def peer_of(self, p2p):
        """This node's getpeerinfo entry for a test peer (matched by its local port), or None."""
        for p in self.rpc.getpeerinfo():
            if p["addr"] == p2p.local_addr:
                return p
        return None

    # --- address book and discovery (doc/discovery.md) ---------------------------------------

    def addresses(self, network=None):
        """The "address:port" strings of the whole address book (getnodeaddresses 0); IPv6
        addresses in brackets, as P2PInterface and AddrV2Entry print them."""
        args = [0] if network is None else [0, network]
        return {("[%s]:%d" if ":" in a["address"] else "%s:%d") % (a["address"], a["port"])
                for a in self.rpc.getnodeaddresses(*args)}

    def wait_for_addresses(self, wanted, timeout=None):
        """Wait until every "address:port" in wanted is in the address book."""
        wanted = set(wanted)
        timeout = timeout or 30 * self.timeout_factor
        wait_until(lambda: wanted <= self.addresses(), timeout=timeout,
                   message=lambda: "node%d: addresses %s in the book; missing %s" %
                   (self.index, sorted(wanted), sorted(wanted - self.addresses())))

    def add_peer_address(self, hostport, tried=False):
        """addpeeraddress for "ip:port" (or a TestNode: its P2P address); returns success."""
        if isinstance(hostport, TestNode):
            hostport = hostport.p2p_addr
        host, _, port = hostport.rpartition(":")
        return self.rpc.addpeeraddress(host.strip("[]"), int(port), tried)["success"]

    def outbound_peers(self, connection_type=None, established=True):
        """getpeerinfo entries of our outbound connections (of connection_type, if given)."""
        return [p for p in self.rpc.getpeerinfo()
                if not p["inbound"] and
                (connection_type is None or p["connection_type"] == connection_type) and
                (not established or p["state"] == "established")]

    def outbound_addrs(self, connection_type="outbound-full-relay"):
        """The set of "ip:port" we have an established outbound connection of that type to."""
        return {p["addr"] for p in self.outbound_peers(connection_type)}

    def wait_for_outbound(self, addrs, connection_type="outbound-full-relay", timeout=None):
        """Wait until we have established connections of connection_type to every address
        in addrs ("ip:port" strings or TestNodes)."""
        want = {a.p2p_addr if isinstance(a, TestNode) else a for a in addrs}
        timeout = timeout or 30 * self.timeout_factor
        wait_until(lambda: want <= self.outbound_addrs(connection_type), timeout=timeout,
                   message=lambda: "node%d: %s connections to %s; have %s" %
                   (self.index, connection_type, sorted(want),
                    sorted((p["addr"], p["connection_type"], p["state"])
                           for p in self.rpc.getpeerinfo())))

    def wait_for_peer_of(self, p2p, state="established", timeout=None):
        """Wait until the node shows the test peer in getpeerinfo (in state, if given)."""
        timeout = timeout or 30 * self.timeout_factor

        def check():
            p = self.peer_of(p2p)
            return p if p is not None and (state is None or p.get("state") == state) else None
        return wait_until(check, timeout=timeout,
                          message="node%d: test peer %d in state %s" %
                          (self.index, p2p.local_port, state))
