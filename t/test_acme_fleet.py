"""ACME across a fleet: two nginx nodes sharing one Redis behind a
round-robin TCP balancer (nginx stream, TLS passthrough, one worker). The
nodes close every connection after one request (keepalive_timeout 0), so a
client's consecutive requests land on alternating nodes.

- lego issues, renews and revokes through the balancer with no badNonce
  (no 4xx at all) on either node, and both nodes served it;
- a nonce spent on one node is refused on the other (and on the same one);
- twenty concurrent orders of one account (a small Python ACME client, one
  thread each) all reach valid.
"""

import base64
import hashlib
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from conftest import NGINX, free_port, nginx_env, stop_process, wait_for_port
from test_acme import assert_ours, configure_acme, load_cert, run

STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"

pytestmark = pytest.mark.skipif(
    not os.path.exists(STREAM_MODULE) or not shutil.which("redis-server"),
    reason="needs libnginx-mod-stream and redis-server")

BALANCER_CONF = """\
load_module {module};
daemon off;
master_process on;
worker_processes 1;
error_log {prefix}/error.log info;
pid {prefix}/nginx.pid;
events {{
    worker_connections 256;
}}
stream {{
    upstream nodes {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        proxy_pass nodes;
        proxy_connect_timeout 5s;
        proxy_timeout 60s;
    }}
}}
"""


class Balancer:
    """nginx stream, round robin over the nodes (one worker: one rotation)."""

    def __init__(self, base, ports):
        self.prefix = base
        self.port = free_port()
        os.makedirs(os.path.join(base, "conf"))
        with open(os.path.join(base, "conf", "nginx.conf"), "w") as f:
            f.write(BALANCER_CONF.format(
                module=STREAM_MODULE, prefix=base, port=self.port,
                servers="".join("        server 127.0.0.1:%d;\n" % p for p in ports)))
        self.out = open(os.path.join(base, "stdout.log"), "wb")
        self.proc = subprocess.Popen([NGINX, "-p", base, "-c", "conf/nginx.conf"],
                                     stdout=self.out, stderr=subprocess.STDOUT,
                                     env=nginx_env())
        if not wait_for_port(self.port, self.proc):
            self.stop()
            raise AssertionError("balancer did not start")

    def stop(self):
        stop_process(self.proc, signal.SIGQUIT)
        self.out.close()


class AcmeFleet:
    def __init__(self, nodes, balancer):
        self.nodes = nodes
        self.balancer = balancer
        self.port = balancer.port
        self.directory = "https://127.0.0.1:%d/acme/acme/directory" % self.port

    def acme_lines(self):
        """Access log lines of ACME requests, per node."""
        out = []
        for n in self.nodes:
            out.append([l for l in n.read_file("access.log").splitlines()
                        if "/acme/" in l])
        return out


@pytest.fixture
def acme_fleet(nginx_factory, pki, prefix, redis_server):
    http01 = free_port()
    configure_acme(pki, http01)
    nodes = [nginx_factory(name, store=redis_server.uri,
                           http_extra="    keepalive_timeout 0;\n").start()
             for name in ("node-a", "node-b")]
    lb = Balancer(os.path.join(prefix, "balancer"), [n.port for n in nodes])
    f = AcmeFleet(nodes, lb)
    f.http01_port = http01
    yield f
    lb.stop()


# ------------------------------------------------------- a small ACME client


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Acme:
    """An ES256 account; every request on a fresh connection to port."""

    def __init__(self, port, cafile, key=None):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=cafile)
        self.key = key or ec.generate_private_key(ec.SECP256R1())
        nums = self.key.public_key().public_numbers()
        self.jwk = {"crv": "P-256", "kty": "EC",
                    "x": b64u(nums.x.to_bytes(32, "big")),
                    "y": b64u(nums.y.to_bytes(32, "big"))}
        self.thumbprint = b64u(hashlib.sha256(
            json.dumps(self.jwk, sort_keys=True, separators=(",", ":")).encode()).digest())
        self.kid = None
        self.nonce = None
        self.dir = None

    def http(self, method, url, body=None, port=None):
        m = re.match(r"https://127\.0\.0\.1:(\d+)(/.*)$", url)
        assert m, url
        conn = http.client.HTTPSConnection("127.0.0.1", port or int(m.group(1)),
                                           timeout=30, context=self.ctx)
        try:
            headers = {"Content-Type": "application/jose+json"} if body is not None else {}
            # straight to a node, still as the balancer's origin (the JWS url)
            headers["Host"] = "127.0.0.1:" + m.group(1)
            conn.request(method, m.group(2), body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.headers.get("Replay-Nonce"):
                self.nonce = resp.headers["Replay-Nonce"]
            return resp.status, resp.headers, data
        finally:
            conn.close()

    def directory(self):
        status, _, body = self.http(
            "GET", "https://127.0.0.1:%d/acme/acme/directory" % self.port)
        assert status == 200
        self.dir = json.loads(body)
        return self.dir

    def new_nonce(self):
        status, headers, _ = self.http("HEAD", self.dir["newNonce"])
        assert status == 200
        return headers["Replay-Nonce"]

    def jws(self, url, payload, nonce, use_jwk=False):
        protected = {"alg": "ES256", "nonce": nonce, "url": url}
        if use_jwk or self.kid is None:
            protected["jwk"] = self.jwk
        else:
            protected["kid"] = self.kid
        p = b64u(json.dumps(protected))
        pl = "" if payload is None else b64u(json.dumps(payload))
        der = self.key.sign(("%s.%s" % (p, pl)).encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        sig = b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
        return json.dumps({"protected": p, "payload": pl, "signature": sig}).encode()

    def post(self, url, payload, use_jwk=False):
        """One signed POST (payload None: POST-as-GET); no badNonce retry:
        an honest client must never see one here."""
        nonce = self.nonce or self.new_nonce()
        self.nonce = None
        status, headers, body = self.http("POST", url, self.jws(url, payload, nonce, use_jwk))
        return status, headers, body

    def register(self):
        status, headers, body = self.post(
            self.dir["newAccount"], {"termsOfServiceAgreed": True,
                                     "contact": ["mailto:ops@example.test"]})
        assert status == 201, body
        self.kid = headers["Location"]

    def poll(self, url, until, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            status, headers, body = self.post(url, None)
            assert status == 200, body
            doc = json.loads(body)
            if doc["status"] in until:
                return doc
            assert doc["status"] in ("pending", "processing", "ready"), doc
            assert time.monotonic() < deadline, "timed out waiting on %s: %s" % (url, doc)
            time.sleep(0.2)

    def issue(self, name, answers):
        """A whole order for name over http-01 (answers: token -> key authz)."""
        status, headers, body = self.post(
            self.dir["newOrder"], {"identifiers": [{"type": "dns", "value": name}]})
        assert status == 201, body
        order_url = headers["Location"]
        order = json.loads(body)
        for az_url in order["authorizations"]:
            status, _, body = self.post(az_url, None)
            assert status == 200, body
            az = json.loads(body)
            if az["status"] == "valid":
                continue
            ch = next(c for c in az["challenges"] if c["type"] == "http-01")
            answers[ch["token"]] = ch["token"] + "." + self.thumbprint
            status, _, body = self.post(ch["url"], {})
            assert status == 200, body
            self.poll(az_url, ("valid",))
        self.poll(order_url, ("ready", "valid"))
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]),
                              critical=False)
               .sign(key, hashes.SHA256()))
        status, _, body = self.post(order["finalize"], {
            "csr": b64u(csr.public_bytes(serialization.Encoding.DER))})
        assert status == 200, body
        order = self.poll(order_url, ("valid",))
        status, _, body = self.post(order["certificate"], None)
        assert status == 200, body
        return x509.load_pem_x509_certificate(body)  # the leaf, first in the chain


class Http01Answers:
    """A threaded HTTP server answering /.well-known/acme-challenge/<token>."""

    def __init__(self, port):
        self.answers = {}
        answers = self.answers

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                token = self.path.rsplit("/", 1)[-1]
                value = answers.get(token)
                if value is None or not self.path.startswith("/.well-known/acme-challenge/"):
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                self.wfile.write(value.encode())

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


# ------------------------------------------------------------------- tests


def assert_no_client_errors(fleet):
    per_node = fleet.acme_lines()
    assert all(per_node), "a node served no ACME request: %r" % [len(x) for x in per_node]
    bad = [l for lines in per_node for l in lines if re.search(r'" 4\d\d ', l)]
    assert not bad, "\n".join(bad)


def test_requests_alternate_between_nodes(acme_fleet, pki):
    client = Acme(acme_fleet.port, pki.root_crt)
    client.directory()
    for _ in range(6):
        client.new_nonce()
    counts = [len(x) for x in acme_fleet.acme_lines()]
    assert counts == [4, 3] or counts == [3, 4], counts


@pytest.mark.skipif(shutil.which("lego") is None, reason="lego not installed")
def test_lego_through_balancer_no_bad_nonce(acme_fleet, pki, prefix):
    work = os.path.join(prefix, "lego")
    os.makedirs(work)
    env = dict(os.environ, LEGO_CA_CERTIFICATES=pki.root_crt)
    common = ["lego", "--server", acme_fleet.directory, "--email", "ops@example.test",
              "--accept-tos", "--domains", "localhost", "--http",
              "--http.port", "127.0.0.1:%d" % acme_fleet.http01_port, "--path", work]
    out = run(common + ["run"], env, work)
    crt = os.path.join(work, "certificates", "localhost.crt")
    first = load_cert(crt)
    assert_ours(first, pki, "localhost")
    out2 = run(common + ["renew", "--days", "9999", "--no-random-sleep"], env, work)
    second = load_cert(crt)
    assert second.serial_number != first.serial_number
    out3 = run(common + ["revoke"], env, work)
    for p in (out, out2, out3):
        assert "badNonce" not in p.stdout + p.stderr
    assert_no_client_errors(acme_fleet)
    per_node = acme_fleet.acme_lines()
    assert min(len(x) for x in per_node) >= 5, [len(x) for x in per_node]


def test_replayed_nonce_refused_on_every_node(acme_fleet, pki):
    a, b = acme_fleet.nodes
    client = Acme(acme_fleet.port, pki.root_crt)
    client.directory()
    client.register()
    for first, second in ((a, b), (b, a), (a, a), (b, b)):
        nonce = client.new_nonce()  # minted on whichever node the balancer picked
        body = client.jws(client.kid, None, nonce)
        status, headers, resp = client.http("POST", client.kid, body, port=first.port)
        assert status == 200, resp
        for target in (second, first, None):  # None: through the balancer
            status, headers, resp = client.http(
                "POST", client.kid, body, port=target.port if target else None)
            assert status == 400, resp
            doc = json.loads(resp)
            assert doc["type"] == "urn:ietf:params:acme:error:badNonce", doc
            assert headers["Content-Type"] == "application/problem+json"
            assert len(headers["Replay-Nonce"]) == 43


def test_twenty_concurrent_orders_one_account(acme_fleet, pki):
    answers = Http01Answers(acme_fleet.http01_port)
    try:
        client = Acme(acme_fleet.port, pki.root_crt)
        client.directory()
        client.register()
        results, errors = {}, {}

        def one(i):
            # same account key and kid; nonces per thread
            c = Acme(acme_fleet.port, pki.root_crt, key=client.key)
            c.dir, c.kid = client.dir, client.kid
            try:
                results[i] = c.issue("localhost", answers.answers)
            except BaseException as e:  # reported below
                errors[i] = repr(e)

        t0 = time.monotonic()
        threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(1, 150 - (time.monotonic() - t0)))
        assert not any(t.is_alive() for t in threads), "orders still running after 150s"
        assert not errors, errors
        assert len(results) == 20
        assert len({c.serial_number for c in results.values()}) == 20
        for crt in results.values():
            assert_ours(crt, pki, "localhost")

        # every order is listed on the account, from either node
        listed = set()
        url = client.kid + "/orders"
        while url:
            status, headers, body = client.post(url, None)
            assert status == 200, body
            listed.update(json.loads(body)["orders"])
            m = re.search(r'<([^>]+)>;\s*rel="next"', headers.get("Link", "") or "")
            url = m.group(1) if m else None
        assert len(listed) >= 20
    finally:
        answers.stop()
    assert_no_client_errors(acme_fleet)
