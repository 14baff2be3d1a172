"""The upstream of a registration authority as a dependency: connections
reused per worker (counted), timeouts from ca.json (nginxStepca.upstream),
every call counted by how it ended and how long it took
(stepca_upstream_*), no retries, and the faults the other RA tests do not
cover: an expired X5C issuer certificate, at start and after rotation."""

import datetime
import json
import os
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import copy_pki
from test_metrics import parse_prometheus
from test_ra_stepcas import (UPSTREAM_JWK, UPSTREAM_X5C, fake_upstream_factory,  # noqa: F401
                             make_ra, ra_ca_json, ra_sign, step_ca_factory, upstream)

METRICS = "        location = /metrics {\n            stepca_metrics;\n        }\n"


def scrape(n):
    status, _, body = n.get("/metrics")
    assert status == 200, body
    return parse_prometheus(body.decode())


def sample(families, family, name=None, **labels):
    samples = families[family]["samples"]
    return samples[(name or family, tuple(sorted(labels.items())))]


def metered_ra(nginx_factory, pki, upstream_like, workers=2, ext=None, issuer=None, start=True):
    """An RA over upstream_like with /metrics, and nginxStepca from ext."""
    ra_ca_json(pki, upstream_like.url, issuer or {"type": "jwk", "provisioner": UPSTREAM_JWK})
    if ext is not None:
        doc = pki.read_ca_json()
        doc["nginxStepca"] = ext
        pki.write_ca_json(doc)
    # a JWK issuer decrypts the upstream's key with the provisioner password
    extra = "" if issuer else ("    stepca_issuer_password_file %s;\n"
                               % upstream_like.provisioner_password_file)
    n = nginx_factory(password_file=None, workers=workers, server_extra=METRICS, http_extra=extra)
    return n.start() if start else n


@pytest.mark.allow_error_log  # the stopped upstream
def test_upstream_connections_are_reused_and_every_call_is_counted(nginx_factory, pki, upstream):
    # one worker, whose pool has 4 threads (conftest): each thread keeps
    # one connection to the upstream, so 12 signs open at most 4
    ra = metered_ra(nginx_factory, pki, upstream, workers=1)
    before = scrape(ra)
    assert sample(before, "stepca_upstream_calls_total", result="ok") == 0
    for i in range(12):
        status, body, _, _, _ = ra_sign(ra, pki, "reuse-%d.example.test" % i)
        assert status == 201, body
    after = scrape(ra)
    assert sample(after, "stepca_upstream_calls_total", result="ok") == 12
    for result in ("refused", "failed", "timeout", "unreachable"):
        assert sample(after, "stepca_upstream_calls_total", result=result) == 0
    opened = sample(after, "stepca_upstream_connections_total")
    assert 1 <= opened <= 4, opened
    hist = "stepca_upstream_latency_seconds"
    assert sample(after, hist, hist + "_count") == 12
    assert sample(after, hist, hist + "_bucket", le="+Inf") == 12
    assert 0 < sample(after, hist, hist + "_sum") < 12 * 15

    # the upstream stopped: one call per request, counted as unreachable,
    # none retried
    upstream.ca.stop()
    for i in range(3):
        status, body, _, _, _ = ra_sign(ra, pki, "down-%d.example.test" % i)
        assert status == 503, body
    down = scrape(ra)
    assert sample(down, "stepca_upstream_calls_total", result="unreachable") == 3
    assert sample(down, "stepca_upstream_calls_total", result="ok") == 12


def test_a_local_ca_has_no_upstream_metrics(nginx_factory):
    n = nginx_factory(server_extra=METRICS).start()
    assert not any(f.startswith("stepca_upstream") for f in scrape(n))


@pytest.mark.allow_error_log
@pytest.mark.parametrize("status, body, result", [
    (500, {"status": 500, "message": "The certificate authority encountered an Internal Server Error."},
     "failed"),
    (403, {"status": 403, "message": "The request was forbidden by the certificate authority: "
                                     "dns name counted.example.test not allowed."}, "refused"),
])
def test_upstream_refusals_and_failures_are_counted_once(nginx_factory, pki, prefix,
                                                         fake_upstream_factory, status, body, result):
    fake = fake_upstream_factory(copy_pki(os.path.join(prefix, "fake-upstream-pki")), status, body)
    ra = metered_ra(nginx_factory, pki, fake)
    got, text, _, _, _ = ra_sign(ra, pki, "counted.example.test")
    assert got == (503 if status == 500 else 403), text
    assert len(fake.posts) == 1  # not retried
    m = scrape(ra)
    assert sample(m, "stepca_upstream_calls_total", result=result) == 1
    assert sample(m, "stepca_upstream_calls_total", result="ok") == 0


@pytest.mark.allow_error_log
def test_the_upstream_timeout_is_read_from_ca_json(nginx_factory, pki, prefix, fake_upstream_factory):
    fake = fake_upstream_factory(copy_pki(os.path.join(prefix, "slow-upstream-pki")), 500, {}, delay=30)
    ra = metered_ra(nginx_factory, pki, fake,
                    ext={"upstream": {"connectTimeout": "1s", "timeout": "2s"}})
    t0 = time.monotonic()
    got, text, _, _, _ = ra_sign(ra, pki, "slow.example.test")
    took = time.monotonic() - t0
    assert got == 503, text
    assert 1.5 < took < 8, took  # not the 15 s default
    assert "the upstream CA did not answer in time" in json.loads(text)["message"]
    assert len(fake.posts) == 1
    assert sample(scrape(ra), "stepca_upstream_calls_total", result="timeout") == 1


@pytest.mark.allow_error_log  # nginx -t logs its [emerg]
@pytest.mark.parametrize("ext, words", [
    ({"upstream": {"timeout": "soon"}}, 'field "nginxStepca.upstream.timeout": "soon" is not a duration'),
    ({"upstream": {"connectTimeout": "20s", "timeout": "10s"}},
     'field "nginxStepca.upstream.connectTimeout": must not exceed'),
    ({"upstream": {"timeout": "1h"}}, "must be at most 5m"),
])
def test_a_bad_upstream_timeout_fails_nginx_t(nginx_factory, pki, upstream, ext, words):
    n = metered_ra(nginx_factory, pki, upstream, ext=ext, start=False)
    out = n.test_config()
    assert out.returncode != 0
    assert words in out.stderr, out.stderr


def expired_credential(prefix):
    """A certificate and key that expired yesterday (self-signed: the RA
    refuses it before any upstream could look at it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expired-ra.example.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=2))
            .not_valid_after(now - datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    crt_path = os.path.join(prefix, "expired-x5c.crt")
    key_path = os.path.join(prefix, "expired-x5c.key")
    open(crt_path, "wb").write(cert.public_bytes(serialization.Encoding.PEM))
    open(key_path, "wb").write(key.private_bytes(serialization.Encoding.PEM,
                                                 serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    os.chmod(key_path, 0o644)
    return crt_path, key_path


@pytest.mark.allow_error_log  # nginx -t logs its [emerg]
def test_an_expired_x5c_issuer_certificate_refuses_to_start(nginx_factory, pki, upstream, prefix):
    crt, key = expired_credential(prefix)
    n = make_ra(nginx_factory, pki, upstream, start=False,
                issuer={"type": "x5c", "provisioner": UPSTREAM_X5C, "crt": crt, "key": key})
    out = n.test_config()
    assert out.returncode != 0
    assert "authority.certificateIssuer: the RA's x5c issuer certificate has expired" in out.stderr, \
        out.stderr


@pytest.mark.allow_error_log
def test_an_x5c_issuer_certificate_expired_on_disk_is_a_clear_503(nginx_factory, pki, upstream, prefix):
    doc, key = upstream.sign("ra.example.test")
    crt_path = os.path.join(prefix, "ra-x5c.crt")
    key_path = os.path.join(prefix, "ra-x5c.key")
    open(crt_path, "w").write("".join(doc["certChain"]))
    open(key_path, "wb").write(key.private_bytes(serialization.Encoding.PEM,
                                                 serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    os.chmod(key_path, 0o644)
    ra = metered_ra(nginx_factory, pki, upstream,
                    issuer={"type": "x5c", "provisioner": UPSTREAM_X5C, "crt": crt_path, "key": key_path})
    status, body, _, _, _ = ra_sign(ra, pki, "before-expiry.example.test")
    assert status == 201, body
    # rotated on disk to a credential that has expired (read per request)
    expired_crt, expired_key = expired_credential(prefix)
    os.replace(expired_crt, crt_path)
    os.replace(expired_key, key_path)
    status, body, _, _, _ = ra_sign(ra, pki, "after-expiry.example.test")
    assert status == 503, body
    doc = json.loads(body)
    assert "the RA's x5c issuer certificate has expired" in doc["message"], doc
    assert "the token was spent" in doc["message"], doc
    # the RA did not ask the upstream with a credential it knew was dead
    assert sample(scrape(ra), "stepca_upstream_calls_total", result="ok") == 1
    assert sample(scrape(ra), "stepca_upstream_calls_total", result="refused") == 0
