"""A transport written in Python that speaks HTTPS to a Kubernetes API server with
http.client and ssl (the acceptance test runs it against tests/support/kube_api_server.py).

It is what a Python service plugging its own client would write: real paths, server-side
apply as a PATCH with application/apply-patch+yaml, Status bodies mapped to codes. Request
bodies and Secret responses are never logged or put into messages.
"""

import http.client
import json
import ssl
import urllib.parse

import valkeyaddon

APPLY = "application/apply-patch+yaml"


class KubeHTTPSTransport(valkeyaddon.Transport):
    def __init__(self, host, port, ca, token, timeout=15):
        self.host, self.port, self.token, self.timeout = host, port, token, timeout
        self.tls = ssl.create_default_context(cafile=ca)
        self.conn = None
        self.requests = []  # (method, path without query): what this transport sent
        self.closed = 0
        self.fail_on = None  # (method, plural): raise RuntimeError instead of sending

    def _send(self, method, path, body=None, ctype="application/json"):
        headers = {"Authorization": "Bearer " + self.token, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = ctype
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(self.host, self.port, context=self.tls,
                                                        timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                self.requests.append((method, path.split("?")[0]))
                return resp.status, data
            except (http.client.RemoteDisconnected, http.client.BadStatusLine, ConnectionError) as e:
                # the server closes idle keep-alive connections: one fresh connection
                self.conn.close()
                self.conn = None
                if attempt:
                    raise valkeyaddon.Unavailable(f"{method} {path.split('?')[0]}: {type(e).__name__}") from e
            except ssl.SSLError as e:
                self.conn.close()
                self.conn = None
                raise valkeyaddon.TLSError(f"{method} {path.split('?')[0]}: TLS failed: {e.reason}") from e

    @staticmethod
    def _check(status, data, method, resource, namespace, name):
        if 200 <= status < 300:
            return data
        reason, message = "", ""
        try:
            body = json.loads(data)
            reason, message = body.get("reason", ""), body.get("message", "")
        except ValueError:
            pass
        if resource.kind == "Secret":
            message = ""  # the server may quote the body: never carry Secret data in a message
        what = f"{method} {resource.kind} {namespace}/{name or ''}: HTTP {status} {reason} {message}".strip()
        if status == 404:
            raise valkeyaddon.NotFound(what)
        if status == 409:
            raise (valkeyaddon.Exists if reason == "AlreadyExists" else valkeyaddon.Conflict)(what)
        if status == 401:
            raise valkeyaddon.Unauthorized(what)
        if status == 403:
            raise valkeyaddon.Forbidden(what)
        if status in (400, 415, 422):
            raise valkeyaddon.Rejected(what)
        if status == 429:
            raise valkeyaddon.Throttled(what)
        if status in (502, 503, 504):
            raise valkeyaddon.Unavailable(what)
        raise valkeyaddon.ServerError(what)

    def _maybe_fail(self, method, resource):
        if self.fail_on == (method, resource.plural):
            self.fail_on = None
            raise RuntimeError(f"injected failure on {method} {resource.plural}")

    def get(self, resource, namespace, name):
        self._maybe_fail("GET", resource)
        status, data = self._send("GET", resource.path(namespace, name))
        return self._check(status, data, "GET", resource, namespace, name)

    def create(self, resource, namespace, body):
        self._maybe_fail("POST", resource)
        status, data = self._send("POST", resource.path(namespace), body)
        return self._check(status, data, "POST", resource, namespace, None)

    def apply(self, resource, namespace, name, body, field_manager, force):
        self._maybe_fail("PATCH", resource)
        query = urllib.parse.urlencode({"fieldManager": field_manager, **({"force": "true"} if force else {})})
        status, data = self._send("PATCH", f"{resource.path(namespace, name)}?{query}", body, APPLY)
        return self._check(status, data, "PATCH", resource, namespace, name)

    def remove(self, resource, namespace, name, orphan):
        self._maybe_fail("DELETE", resource)
        policy = "Orphan" if orphan else "Background"
        status, data = self._send("DELETE", f"{resource.path(namespace, name)}?propagationPolicy={policy}")
        self._check(status, data, "DELETE", resource, namespace, name)

    def close(self):
        self.closed += 1
        if self.conn is not None:
            self.conn.close()
            self.conn = None
