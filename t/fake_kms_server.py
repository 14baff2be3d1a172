"""What the cloud KMS fakes share: a threaded HTTP server on 127.0.0.1 that
routes to a handler object, JSON in and out, a record of the calls, and
signing with a real private key (cryptography) the way the services do."""

import json
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils


class Reply(Exception):
    """Raised by a route to answer with status and a JSON body."""

    def __init__(self, status, body):
        super().__init__(status)
        self.status = status
        self.body = body


HASHES = {"SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512}


def sign_digest(key, digest, hash_name, pss=False):
    """A signature over a digest the client hashed: ECDSA as DER, RSA raw."""
    h = HASHES[hash_name]()
    if len(digest) != h.digest_size:
        raise ValueError("digest length %d does not fit %s" % (len(digest), hash_name))
    pre = utils.Prehashed(h)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(digest, ec.ECDSA(pre))
    if pss:
        return key.sign(digest, padding.PSS(mgf=padding.MGF1(HASHES[hash_name]()),
                                            salt_length=h.digest_size), pre)
    return key.sign(digest, padding.PKCS1v15(), pre)


class FakeServer:
    """Subclasses define handle(method, path, query, headers, body) and
    return (status, dict) or raise Reply."""

    def __init__(self):
        self.calls = []          # (method, path) of every request answered
        self.lock = threading.Lock()
        self.httpd = None
        self.thread = None
        self.port = None
        self.connections = set()  # open client sockets, closed by stop()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def count(self, predicate):
        with self.lock:
            return sum(1 for c in self.calls if predicate(c))

    def start(self, port=0):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                with fake.lock:
                    fake.connections.add(self.connection)

            def finish(self):
                with fake.lock:
                    fake.connections.discard(self.connection)
                super().finish()

            def _serve(self, method):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                parsed = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parsed.query))
                try:
                    status, reply = fake.handle(method, parsed.path, query, self.headers, body,
                                                raw_path=self.path)
                except Reply as r:
                    status, reply = r.status, r.body
                except Exception as e:  # a bug in the fake: say so to the client
                    status, reply = 500, {"fake_error": repr(e)}
                with fake.lock:
                    fake.calls.append((method, parsed.path, status))
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        """Down: no new connections, and the kept-alive ones are cut."""
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        with self.lock:
            conns = list(self.connections)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def restart(self):
        """Back on the same port after stop()."""
        return self.start(self.port)
