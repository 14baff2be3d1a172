"""POST /sign end to end: the stock nginx with the module, both stores,
step-ca's wire shapes, one-time tokens under concurrency, store outages."""

import concurrent.futures
import json
import os
import subprocess
import time

import pytest

from conftest import FIXTURES
from tokens import Provisioner, make_csr, rsa_key, unb64u, unsigned_jwt

WIRE = os.path.join(FIXTURES, "wire")
PROVISIONER_PASSWORD = "fixture-provisioner-password"


def wire_body(name):
    with open(os.path.join(WIRE, name + ".response"), "rb") as f:
        data = f.read()
    return data[data.index(b"\r\n\r\n") + 4:]


@pytest.fixture
def prov(pki):
    return Provisioner(pki.ca_json, PROVISIONER_PASSWORD)


def aud(n, path="/1.0/sign"):
    # The CA's dnsNames are localhost and 127.0.0.1; the port does not count.
    return "https://127.0.0.1:%d%s" % (n.port, path)


def sign(n, csr, ott, path="/1.0/sign", **extra):
    body = dict(csr=csr, ott=ott, **extra)
    return n.request("POST", path, body=json.dumps(body),
                     headers={"Content-Type": "application/json"})


def openssl_verify(tmp, pki, resp):
    leaf = os.path.join(tmp, "leaf.crt")
    chain = os.path.join(tmp, "chain.crt")
    with open(leaf, "w") as f:
        f.write(resp["crt"])
    with open(chain, "w") as f:
        f.write("".join(resp["certChain"][1:]))
    out = subprocess.run(["openssl", "verify", "-CAfile", pki.root_crt,
                          "-untrusted", chain, leaf],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
    text = subprocess.run(["openssl", "x509", "-in", leaf, "-noout", "-text"],
                          capture_output=True, text=True, timeout=30).stdout
    return text


def check_issued(n, pki, prov, tmp_path, cn="svc.example.test", path="/1.0/sign"):
    csr, _ = make_csr(cn)
    status, headers, body = sign(n, csr, prov.token(cn, aud(n)), path=path)
    assert status == 201, body
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Request-Id"]
    resp = json.loads(body)
    assert list(resp) == ["crt", "ca", "certChain", "tlsOptions"]
    assert resp["certChain"][0] == resp["crt"]
    assert resp["certChain"][1] == resp["ca"]
    assert resp["tlsOptions"]["minVersion"] == 1.2
    text = openssl_verify(str(tmp_path), pki, resp)
    assert "DNS:" + cn in text
    assert "1.3.6.1.4.1.37476.9000.64.1" in text
    assert "TLS Web Server Authentication, TLS Web Client Authentication" in text
    assert "Digital Signature" in text
    return resp


def test_issue_on_lmdb(nginx, pki, prov, tmp_path):
    check_issued(nginx, pki, prov, tmp_path)
    check_issued(nginx, pki, prov, tmp_path, cn="two.example.test", path="/sign")
    assert "issued certificate serial=" in nginx.read_file("error.log")


def test_issue_on_redis(nginx_factory, redis_server, pki, prov, tmp_path):
    n = nginx_factory(store=redis_server.uri).start()
    resp = check_issued(n, pki, prov, tmp_path)
    keys = subprocess.run(["redis-cli", "-p", str(redis_server.port), "--scan"],
                          capture_output=True, text=True, timeout=30).stdout.split()
    assert any(k.startswith("stepca:used_ott/") for k in keys), keys
    certs = [k for k in keys if k.startswith("stepca:x509_certs/")]
    assert len(certs) == 1, keys
    assert resp["crt"]


def test_token_of_a_leaf_key_type(nginx, pki, prov, tmp_path):
    csr, _ = make_csr("rsa.example.test", key=rsa_key(2048))
    status, _, body = sign(nginx, csr, prov.token("rsa.example.test", aud(nginx)))
    assert status == 201, body
    text = openssl_verify(str(tmp_path), pki, json.loads(body))
    assert "Key Encipherment" in text


@pytest.mark.parametrize("store", ["lmdb", "redis"])
def test_one_token_from_50_connections_gives_one_certificate(
        nginx_factory, redis_server, prov, store):
    kw = {"store": redis_server.uri} if store == "redis" else {}
    n = nginx_factory(workers=2, **kw).start()
    csr, _ = make_csr("race.example.test")
    ott = prov.token("race.example.test", aud(n))
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda _: sign(n, csr, ott), range(50)))
    statuses = sorted(r[0] for r in results)
    assert statuses.count(201) == 1, statuses
    assert statuses.count(401) == 49, statuses
    for status, _, body in results:
        if status == 401:
            assert body == wire_body("sign-replay")
    log = n.read_file("error.log")
    assert log.count("issued certificate serial=") == 1
    # The token is a bearer credential until it expires: never in a log.
    jti = json.loads(unb64u(ott.split(".")[1]))["jti"]
    for name in ("error.log", "access.log", "stdout.log"):
        text = n.read_file(name)
        assert ott.split(".")[2] not in text, name
        assert jti not in text, name


def test_spent_token_stays_spent_after_restart(nginx_factory, prov):
    n = nginx_factory().start()
    csr, _ = make_csr("restart.example.test")
    ott = prov.token("restart.example.test", aud(n))
    assert sign(n, csr, ott)[0] == 201
    n.stop()
    n.proc = None
    n.start()
    status, _, body = sign(n, csr, ott)
    assert status == 401
    assert body == wire_body("sign-replay")


def test_spent_token_stays_spent_after_reload(nginx, prov):
    csr, _ = make_csr("reload.example.test")
    ott = prov.token("reload.example.test", aud(nginx))
    assert sign(nginx, csr, ott)[0] == 201
    nginx.reload()
    assert sign(nginx, csr, ott)[0] == 401


def test_step_ca_error_bodies(nginx, prov):
    csr, _ = make_csr("err.example.test")
    # missing ott: 400 with step-ca's exact body
    status, _, body = nginx.request("POST", "/1.0/sign", body=json.dumps({"csr": csr}))
    assert (status, body) == (400, wire_body("sign-missing-ott"))
    # bad CSR signature: the fixture's own request, its token long expired
    with open(os.path.join(WIRE, "sign-bad-csr.request"), "rb") as f:
        req = f.read()
    status, _, body = nginx.request("POST", "/1.0/sign", body=req[req.index(b"\r\n\r\n") + 4:])
    assert (status, body) == (400, wire_body("sign-bad-csr"))
    # requested notAfter beyond the 24h maximum
    status, _, body = sign(nginx, csr, prov.token("err.example.test", aud(nginx)), notAfter="1000h")
    assert (status, body) == (403, wire_body("sign-not-after-too-long"))
    # CSR for another name than the token's
    other, _ = make_csr("other.example.test")
    status, _, body = sign(nginx, other, prov.token("token-name.example.test", aud(nginx)))
    assert (status, body) == (403, wire_body("sign-san-mismatch"))
    # notAfter must be a string, as in step-ca
    status, _, body = nginx.request("POST", "/sign", body=json.dumps(
        {"csr": csr, "ott": "x", "notAfter": 5}))
    assert status == 400
    assert json.loads(body)["status"] == 400
    # not JSON at all
    status, _, body = nginx.request("POST", "/sign", body=b"{nope")
    assert status == 400


@pytest.mark.parametrize("case", ["sign-token-wrong-audience", "sign-expired-token",
                                  "sign-token-bad-signature", "sign-replay"])
def test_step_ca_refused_tokens_are_401(nginx, case):
    """The captured requests of step-ca's 401 cases, replayed unchanged."""
    with open(os.path.join(WIRE, case + ".request"), "rb") as f:
        req = f.read()
    status, _, body = nginx.request("POST", "/1.0/sign", body=req[req.index(b"\r\n\r\n") + 4:])
    assert status == 401
    assert body == wire_body("sign-replay")


def test_forged_tokens_are_401(nginx, prov):
    from cryptography.hazmat.primitives.asymmetric import ec
    csr, _ = make_csr("forged.example.test")
    bad = {
        "another key": prov.token("forged.example.test", aud(nginx),
                                  key=ec.generate_private_key(ec.SECP256R1())),
        "alg none": unsigned_jwt({"alg": "none", "kid": prov.kid, "typ": "JWT"},
                                 prov.claims("forged.example.test", aud(nginx))),
        "HS256 header": prov.token("forged.example.test", aud(nginx),
                                   header={"alg": "HS256", "kid": prov.kid, "typ": "JWT"}),
        "wrong issuer": prov.token("forged.example.test", aud(nginx), iss="mallory"),
        "lifetime over an hour": prov.token("forged.example.test", aud(nginx), lifetime=7200),
    }
    for name, ott in bad.items():
        status, _, body = sign(nginx, csr, ott)
        assert status == 401, name
        assert body == wire_body("sign-replay"), name


@pytest.mark.allow_error_log
def test_redis_unreachable_gives_503_and_issues_nothing(nginx_factory, redis_server, prov):
    n = nginx_factory(store=redis_server.uri).start()
    redis_server.stop()
    csr, _ = make_csr("down.example.test")
    ott = prov.token("down.example.test", aud(n))
    t0 = time.monotonic()
    status, _, body = sign(n, csr, ott)
    assert time.monotonic() - t0 < 10
    assert status == 503, body
    doc = json.loads(body)
    assert doc["status"] == 503
    assert "unavailable" in doc["message"]
    # Where the store lives is for the operator's log, never the client.
    endpoint = "127.0.0.1:%d" % redis_server.port
    assert endpoint not in doc["message"] and str(redis_server.port) not in doc["message"], doc
    log = n.read_file("error.log")
    assert "issued certificate" not in log
    assert "[error]" in log
    assert endpoint in log
    # The CA's read-only routes keep working without the store.
    assert n.get("/health")[0] == 200
    # The 503 says the token was not spent: the store was never reached.
    assert "the token was not spent" in doc["message"], doc
    # Back again: no worker had reached the store before, and the new one
    # is empty, so nothing could have been spent: the same token works
    # (t/test_redis_durability.py has the case of a store that lost spends).
    redis_server.start()
    deadline = time.monotonic() + 10
    while True:
        status, _, body = sign(n, csr, ott)
        if status != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == 201, body
