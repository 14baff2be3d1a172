"""ACME end to end: real clients from Debian (certbot, lego) against the
stock nginx with the module, over http-01 on 127.0.0.1.

The CA validates http-01 on a free high port (ca.json provisioner option
"nginxStepca": {"http01Port": N}) where the client's own standalone server
listens. Every client issues, renews and revokes.
"""

import json
import os
import shutil
import subprocess

import pytest
from cryptography import x509

CLIENT_TIMEOUT = 180


def configure_acme(pki, http01_port):
    doc = pki.read_ca_json()
    for p in doc["authority"]["provisioners"]:
        if p["type"] == "ACME":
            p["nginxStepca"] = {"http01Port": http01_port}
    pki.write_ca_json(doc)


def run(cmd, env, cwd):
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=CLIENT_TIMEOUT)
    assert proc.returncode == 0, "%s failed (%d):\n%s\n%s" % (
        cmd[0], proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:])
    return proc


def load_cert(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def assert_ours(cert, pki, name):
    with open(pki.intermediate_crt, "rb") as f:
        inter = x509.load_pem_x509_certificate(f.read())
    assert cert.issuer == inter.subject
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert name in sans.get_values_for_type(x509.DNSName)




@pytest.fixture
def acme_nginx(nginx_factory, pki):
    from conftest import free_port
    port = free_port()
    configure_acme(pki, port)
    n = nginx_factory().start()
    n.http01_port = port
    n.directory = "https://127.0.0.1:%d/acme/acme/directory" % n.port
    return n


def test_directory_over_nginx(acme_nginx):
    status, headers, body = acme_nginx.get("/acme/acme/directory")
    assert status == 200
    d = json.loads(body)
    assert d["newNonce"] == "https://127.0.0.1:%d/acme/acme/new-nonce" % acme_nginx.port
    status, headers, body = acme_nginx.request("HEAD", "/acme/acme/new-nonce")
    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    assert len(headers["Replay-Nonce"]) == 43
    assert headers["Link"].endswith('/acme/acme/directory>;rel="index"')
    status, headers, body = acme_nginx.get("/acme/nope/directory")
    assert status == 404
    assert json.loads(body)["message"] == "provisioner nope not found"


def test_bad_nonce_over_nginx(acme_nginx):
    status, headers, body = acme_nginx.request(
        "POST", "/acme/acme/new-account", body=b'{"protected":"e30","payload":"","signature":""}',
        headers={"Content-Type": "application/jose+json"})
    assert status == 400
    assert headers["Content-Type"] == "application/problem+json"
    assert len(headers["Replay-Nonce"]) == 43


@pytest.mark.skipif(shutil.which("certbot") is None, reason="certbot not installed")
def test_certbot_http01_issue_renew_revoke(acme_nginx, pki, prefix):
    work = os.path.join(prefix, "certbot")
    os.makedirs(work)
    env = dict(os.environ, REQUESTS_CA_BUNDLE=pki.root_crt)
    common = ["--server", acme_nginx.directory, "--non-interactive",
              "--config-dir", os.path.join(work, "config"),
              "--work-dir", os.path.join(work, "work"),
              "--logs-dir", os.path.join(work, "logs")]
    issue = ["certbot", "certonly", "--standalone", "--http-01-port",
             str(acme_nginx.http01_port), "--agree-tos",
             "--register-unsafely-without-email", "-d", "localhost"] + common
    run(issue, env, work)
    live = os.path.join(work, "config", "live", "localhost")
    first = load_cert(os.path.join(live, "cert.pem"))
    assert_ours(first, pki, "localhost")

    run(issue + ["--force-renewal"], env, work)
    second = load_cert(os.path.join(live, "cert.pem"))
    assert_ours(second, pki, "localhost")
    assert second.serial_number != first.serial_number

    run(["certbot", "revoke", "--cert-path", os.path.join(live, "cert.pem"),
         "--no-delete-after-revoke", "--reason", "keycompromise"] + common, env, work)
    # Revoking again is refused (alreadyRevoked; certbot 2.1 then fails on
    # its own while reporting it, so only the exit status is checked).
    proc = subprocess.run(
        ["certbot", "revoke", "--cert-path", os.path.join(live, "cert.pem"),
         "--no-delete-after-revoke"] + common,
        env=env, cwd=work, capture_output=True, text=True, timeout=CLIENT_TIMEOUT)
    assert proc.returncode != 0


@pytest.mark.skipif(shutil.which("lego") is None, reason="lego not installed")
def test_lego_http01_issue_renew_revoke(acme_nginx, pki, prefix):
    work = os.path.join(prefix, "lego")
    os.makedirs(work)
    env = dict(os.environ, LEGO_CA_CERTIFICATES=pki.root_crt)
    common = ["lego", "--server", acme_nginx.directory, "--email", "ops@example.test",
              "--accept-tos", "--domains", "localhost", "--http",
              "--http.port", ":%d" % acme_nginx.http01_port, "--path", work]
    run(common + ["run"], env, work)
    crt = os.path.join(work, "certificates", "localhost.crt")
    first = load_cert(crt)
    assert_ours(first, pki, "localhost")

    run(common + ["renew", "--days", "9999", "--no-random-sleep"], env, work)
    second = load_cert(crt)
    assert_ours(second, pki, "localhost")
    assert second.serial_number != first.serial_number

    run(common + ["revoke"], env, work)
