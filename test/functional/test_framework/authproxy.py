"""A small JSON-RPC client over http.client with HTTP Basic auth.

    proxy = AuthServiceProxy("http://user:pass@127.0.0.1:29732")
    proxy.getnetworkinfo()            # positional params
    proxy.help(command="stop")        # named params
    proxy.batch([proxy.req("uptime"), proxy.req("nosuch")])
    proxy.raw(b"{not json", headers={...})   # -> RawResponse(status, headers, body)

Errors returned by the node raise JSONRPCException with .error (the JSON
"error" object: code, message) and .http_status.
"""

import base64
import http.client
import itertools
import json
import urllib.parse

DEFAULT_HTTP_TIMEOUT = 30


class JSONRPCException(Exception):
    def __init__(self, error, http_status=None):
        self.error = error if isinstance(error, dict) else {"code": None, "message": str(error)}
        self.http_status = http_status
        super().__init__("%s (%s) [http %s]" % (self.error.get("message"), self.error.get("code"),
                                                 http_status))


class RawResponse:
    """An HTTP response as received: status, headers (dict, lower-case keys), body bytes."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode())

    def __repr__(self):
        return "RawResponse(status=%d, body=%r)" % (self.status, self.body[:200])


class AuthServiceProxy:
    def __init__(self, url, timeout=DEFAULT_HTTP_TIMEOUT, _method=None, _shared=None):
        self._url = url
        self._timeout = timeout
        self._method = _method
        if _shared is None:
            parsed = urllib.parse.urlparse(url)
            user = urllib.parse.unquote(parsed.username or "")
            password = urllib.parse.unquote(parsed.password or "")
            _shared = {
                "host": parsed.hostname,
                "port": parsed.port or 80,
                "auth": b"Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()),
                "ids": itertools.count(1),
            }
        self._shared = _shared

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        method = name if self._method is None else self._method + "." + name
        return AuthServiceProxy(self._url, self._timeout, method, self._shared)

    # --- building requests ---------------------------------------------------

    def req(self, method, *args, **kwargs):
        """Return a JSON-RPC 1.0-style request object (for batch())."""
        if args and kwargs:
            raise ValueError("use positional or named parameters, not both")
        return {"method": method, "params": dict(kwargs) if kwargs else list(args),
                "id": next(self._shared["ids"])}

    # --- transport --------------------------------------------------------------

    def raw(self, body, headers=None, method="POST", path="/", auth=True):
        """Send any bytes with any headers; return a RawResponse (never raises on HTTP status).

        headers: dict of extra headers; they override the defaults.
        auth: True to send the proxy's credentials, False for none, or a header value string.
        """
        if isinstance(body, str):
            body = body.encode()
        hdrs = {"Host": "%s:%d" % (self._shared["host"], self._shared["port"]),
                "User-Agent": "p2pd-test-authproxy/0.1",
                "Content-Type": "application/json"}
        if auth is True:
            hdrs["Authorization"] = self._shared["auth"].decode()
        elif auth:
            hdrs["Authorization"] = auth
        if headers:
            hdrs.update(headers)
        conn = http.client.HTTPConnection(self._shared["host"], self._shared["port"],
                                          timeout=self._timeout)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for k, v in hdrs.items():
                conn.putheader(k, v)
            if body is not None and "Content-Length" not in hdrs:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders()
            if body:
                try:
                    conn.send(body)
                except OSError:
                    # The server may answer (e.g. 413) and close before reading everything.
                    pass
            resp = conn.getresponse()
            data = resp.read()
            return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            conn.close()

    def _post_json(self, obj):
        resp = self.raw(json.dumps(obj).encode())
        if resp.status == 401:
            raise JSONRPCException({"code": None, "message": "HTTP 401 Unauthorized"}, 401)
        try:
            parsed = json.loads(resp.body.decode()) if resp.body else None
        except ValueError:
            raise JSONRPCException({"code": None,
                                    "message": "non-JSON HTTP response %r" % resp.body[:200]},
                                   resp.status)
        return resp.status, parsed

    # --- calls -------------------------------------------------------------------

    def __call__(self, *args, **kwargs):
        if self._method is None:
            raise TypeError("call a method: proxy.<method>(...)")
        status, reply = self._post_json(self.req(self._method, *args, **kwargs))
        if not isinstance(reply, dict):
            raise JSONRPCException({"code": None, "message": "unexpected reply %r" % (reply,)},
                                   status)
        if reply.get("error") is not None:
            raise JSONRPCException(reply["error"], status)
        if "result" not in reply:
            raise JSONRPCException({"code": -343, "message": "missing JSON-RPC result"}, status)
        return reply["result"]

    def batch(self, requests):
        """Send a list of request objects as one batch; return the list of reply objects."""
        status, reply = self._post_json(list(requests))
        if not isinstance(reply, list):
            if isinstance(reply, dict) and reply.get("error"):
                raise JSONRPCException(reply["error"], status)
            raise JSONRPCException({"code": None, "message": "unexpected reply %r" % (reply,)},
                                   status)
        return reply
