"""Redis over TLS (issue 18): rediss:// with a CA file, an optional client
certificate and the server name checked. redis-server is started with
--port 0 (no cleartext port) and --tls-port, with certificates this test
makes; the CA works over it, and refuses a server certificate from another
CA and one for another name."""

import json
import os
import socket
import subprocess

import pytest

from conftest import free_port
from redis_procs import REDIS_CLI, RedisProc, have_redis
from test_sign import PROVISIONER_PASSWORD, aud, sign
from tokens import Provisioner, make_csr

pytestmark = pytest.mark.skipif(not have_redis(), reason="redis-server not installed")


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, timeout=60)


def make_ca(d, name):
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=" + name,
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign")
    return key, crt


def make_leaf(d, name, ca_key, ca_crt, san, usage):
    key, csr, crt = (os.path.join(d, name + ext) for ext in (".key", ".csr", ".crt"))
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\nextendedKeyUsage=%s\n" % (san, usage))
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", csr, "-subj", "/CN=" + name)
    openssl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
            "-out", crt, "-days", "1", "-extfile", ext)
    os.chmod(key, 0o644)  # the nginx workers (nobody) read the client key
    return key, crt


@pytest.fixture
def prov(pki):
    return Provisioner(pki.ca_json, PROVISIONER_PASSWORD)


@pytest.fixture
def tls_redis(prefix):
    d = os.path.join(prefix, "tls")
    os.makedirs(d)
    ca_key, ca_crt = make_ca(d, "redis-ca")
    other_key, other_crt = make_ca(d, "other-ca")
    srv_key, srv_crt = make_leaf(d, "redis-server", ca_key, ca_crt,
                                 "IP:127.0.0.1,DNS:redis.test", "serverAuth")
    cli_key, cli_crt = make_leaf(d, "ca-client", ca_key, ca_crt, "DNS:ca-client.test", "clientAuth")
    for p in os.listdir(d):
        os.chmod(os.path.join(d, p), 0o644)
    os.chmod(d, 0o755)
    tls_port = free_port()
    r = RedisProc(os.path.join(prefix, "redis"), "--tls-port", str(tls_port),
                  "--tls-cert-file", srv_crt, "--tls-key-file", srv_key,
                  "--tls-ca-cert-file", ca_crt, "--tls-auth-clients", "optional", port=0)
    r.start(wait_port=tls_port)
    r.tls_port = tls_port
    r.files = dict(ca=ca_crt, other_ca=other_crt, cli_key=cli_key, cli_crt=cli_crt)
    yield r
    r.stop()


def uri(r, **q):
    query = "&".join("%s=%s" % kv for kv in sorted(q.items()))
    return "rediss://127.0.0.1:%d/0?timeout=1s&connect_timeout=1s&%s" % (r.tls_port, query)


def test_no_cleartext_port(tls_redis):
    # A cleartext client on the TLS port gets no answer...
    with socket.create_connection(("127.0.0.1", tls_redis.tls_port), timeout=5) as s:
        s.settimeout(2)
        try:
            s.sendall(b"PING\r\n")
            data = s.recv(100)
        except (socket.timeout, ConnectionResetError):
            data = b""
    assert b"PONG" not in data
    # ...and the server has no cleartext port at all.
    out = subprocess.run([REDIS_CLI, "--tls", "--cacert", tls_redis.files["ca"], "-p",
                          str(tls_redis.tls_port), "CONFIG", "GET", "port"],
                         capture_output=True, text=True, timeout=30).stdout.split()
    assert out == ["port", "0"], out


def test_issues_over_tls(nginx_factory, tls_redis, prov):
    f = tls_redis.files
    n = nginx_factory(store=uri(tls_redis, tls_ca_file=f["ca"])).start()
    csr, _ = make_csr("tls.example.test")
    ott = prov.token("tls.example.test", aud(n))
    status, _, body = sign(n, csr, ott)
    assert status == 201, body
    # The replay is refused: the spent token is in the TLS Redis.
    assert sign(n, csr, ott)[0] == 401


def test_client_certificate_and_server_name(nginx_factory, tls_redis, prov):
    f = tls_redis.files
    n = nginx_factory(store=uri(tls_redis, tls_ca_file=f["ca"], tls_cert_file=f["cli_crt"],
                                tls_key_file=f["cli_key"], tls_server_name="redis.test")).start()
    csr, _ = make_csr("tls2.example.test")
    status, _, body = sign(n, csr, prov.token("tls2.example.test", aud(n)))
    assert status == 201, body


@pytest.mark.allow_error_log
@pytest.mark.parametrize("case", ["wrong-ca", "wrong-name"])
def test_refuses_a_server_it_cannot_verify(nginx_factory, tls_redis, prov, case):
    f = tls_redis.files
    q = dict(tls_ca_file=f["other_ca"]) if case == "wrong-ca" else \
        dict(tls_ca_file=f["ca"], tls_server_name="not-redis.test")
    n = nginx_factory(store=uri(tls_redis, **q)).start()
    csr, _ = make_csr("refused.example.test")
    status, _, body = sign(n, csr, prov.token("refused.example.test", aud(n)))
    assert status == 503, body
    assert "unavailable" in json.loads(body)["message"]
    log = n.read_file("error.log")
    assert "certificate refused" in log, log[-2000:]
    assert "issued certificate" not in log
