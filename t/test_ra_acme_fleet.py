"""ACME across two registration authority nodes: two of our RAs (StepCAS,
JWK issuer) share one Redis store and sign through one real step-ca 0.19
upstream, behind the round-robin balancer of t/test_acme_fleet.py (nginx
stream, one worker; every connection closed after one request), so a
client's consecutive requests alternate between the RA nodes. certbot and
lego issue, renew and revoke with no badNonce and no 4xx on either node;
every certificate is the upstream's. step-ca's own StepCAS needs a shared
MySQL or PostgreSQL for this and does not support it officially."""

import os
import shutil

import pytest
from cryptography import x509

from conftest import free_port
from test_acme import configure_acme, load_cert, run
from test_acme_fleet import STREAM_MODULE, AcmeFleet, Balancer, assert_no_client_errors
from test_ra_stepcas import (UPSTREAM_JWK, load_pems, provisioner_name, ra_ca_json,  # noqa: F401
                             step_ca_factory, upstream)

pytestmark = pytest.mark.skipif(
    not os.path.exists(STREAM_MODULE) or not shutil.which("redis-server"),
    reason="needs libnginx-mod-stream and redis-server")


@pytest.fixture
def ra_fleet(nginx_factory, pki, prefix, redis_server, upstream):
    ra_ca_json(pki, upstream.url, {"type": "jwk", "provisioner": UPSTREAM_JWK})
    http01 = free_port()
    configure_acme(pki, http01)
    extra = ("    keepalive_timeout 0;\n    stepca_issuer_password_file %s;\n"
             % upstream.provisioner_password_file)
    nodes = [nginx_factory(name, store=redis_server.uri, password_file=None,
                           http_extra=extra).start()
             for name in ("ra-node-a", "ra-node-b")]
    lb = Balancer(os.path.join(prefix, "balancer"), [n.port for n in nodes])
    f = AcmeFleet(nodes, lb)
    f.http01_port = http01
    yield f
    lb.stop()


def assert_upstreams(cert, upstream, name):
    inter = load_pems(open(upstream.pki.intermediate_crt).read())[0]
    assert cert.issuer == inter.subject
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == [name]
    assert provisioner_name(cert) == UPSTREAM_JWK  # the upstream built it


def assert_upstream_revoked(upstream, cert):
    serial = str(cert.serial_number)
    token = upstream.jwk.token(serial, upstream.url + "/1.0/revoke", sans=[])
    code, text = upstream.post("/1.0/revoke", {"serial": serial, "ott": token, "passive": True})
    assert code == 400 and "already revoked" in text, text


@pytest.mark.skipif(shutil.which("lego") is None, reason="lego not installed")
def test_lego_through_two_ra_nodes_no_bad_nonce(ra_fleet, pki, prefix, upstream):
    work = os.path.join(prefix, "lego")
    os.makedirs(work)
    env = dict(os.environ, LEGO_CA_CERTIFICATES=pki.root_crt)
    common = ["lego", "--server", ra_fleet.directory, "--email", "ops@example.test",
              "--accept-tos", "--domains", "localhost", "--http",
              "--http.port", "127.0.0.1:%d" % ra_fleet.http01_port, "--path", work]
    out = run(common + ["run"], env, work)
    crt = os.path.join(work, "certificates", "localhost.crt")
    first = load_cert(crt)
    assert_upstreams(first, upstream, "localhost")
    out2 = run(common + ["renew", "--days", "9999", "--no-random-sleep"], env, work)
    second = load_cert(crt)
    assert second.serial_number != first.serial_number
    assert_upstreams(second, upstream, "localhost")
    out3 = run(common + ["revoke"], env, work)
    for p in (out, out2, out3):
        assert "badNonce" not in p.stdout + p.stderr
    assert_no_client_errors(ra_fleet)
    per_node = ra_fleet.acme_lines()
    assert min(len(x) for x in per_node) >= 5, [len(x) for x in per_node]
    assert_upstream_revoked(upstream, second)


@pytest.mark.skipif(shutil.which("certbot") is None, reason="certbot not installed")
def test_certbot_through_two_ra_nodes_no_bad_nonce(ra_fleet, pki, prefix, upstream):
    work = os.path.join(prefix, "certbot")
    os.makedirs(work)
    env = dict(os.environ, REQUESTS_CA_BUNDLE=pki.root_crt)
    common = ["--server", ra_fleet.directory, "--non-interactive",
              "--config-dir", os.path.join(work, "config"),
              "--work-dir", os.path.join(work, "work"),
              "--logs-dir", os.path.join(work, "logs")]
    issue = ["certbot", "certonly", "--standalone", "--http-01-port",
             str(ra_fleet.http01_port), "--agree-tos",
             "--register-unsafely-without-email", "-d", "localhost"] + common
    outs = [run(issue, env, work)]
    live = os.path.join(work, "config", "live", "localhost")
    first = load_cert(os.path.join(live, "cert.pem"))
    assert_upstreams(first, upstream, "localhost")
    outs.append(run(issue + ["--force-renewal"], env, work))
    second = load_cert(os.path.join(live, "cert.pem"))
    assert second.serial_number != first.serial_number
    assert_upstreams(second, upstream, "localhost")
    outs.append(run(["certbot", "revoke", "--cert-path", os.path.join(live, "cert.pem"),
                     "--no-delete-after-revoke", "--reason", "keycompromise"] + common, env, work))
    for p in outs:
        assert "badNonce" not in p.stdout + p.stderr
    assert_no_client_errors(ra_fleet)
    per_node = ra_fleet.acme_lines()
    assert min(len(x) for x in per_node) >= 5, [len(x) for x in per_node]
    assert_upstream_revoked(upstream, second)
    # certbot's log has every ACME exchange: not one badNonce retried
    logs = os.path.join(work, "logs")
    text = "".join(open(os.path.join(logs, f), errors="replace").read()
                   for f in os.listdir(logs) if f.startswith("letsencrypt.log"))
    assert "badNonce" not in text
