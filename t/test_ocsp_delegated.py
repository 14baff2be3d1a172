"""The OCSP responder signed by a delegated responder certificate
(nginxStepca.ocsp.responderCert/responderKey, RFC 6960 4.2.2.2): `openssl
ocsp` verifies the answers against the root through the delegated
certificate, which travels in them; a certificate that may not sign OCSP
answers, or that another CA issued, is refused at load."""

import datetime
import os
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import free_port
from test_crl import issue, prov, revoke  # noqa: F401 (prov is a fixture)

RESPONDER_CN = "Delegated OCSP Responder"


def make_responder(pki, directory, eku=ExtendedKeyUsageOID.OCSP_SIGNING, self_signed=False):
    """A responder certificate and unencrypted key, issued by the
    intermediate (or by itself): (cert path, key path)."""
    with open(pki.password_file, "rb") as f:
        password = f.read().strip()
    with open(pki.intermediate_key, "rb") as f:
        ca_key = serialization.load_pem_private_key(f.read(), password)
    with open(pki.intermediate_crt, "rb") as f:
        ca = x509.load_pem_x509_certificate(f.read())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.utcnow()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, RESPONDER_CN)])
    b = (x509.CertificateBuilder()
         .subject_name(name)
         .issuer_name(name if self_signed else ca.subject)
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=1))
         .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                      False), critical=True)
         .add_extension(x509.OCSPNoCheck(), critical=False))
    if eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
    cert = b.sign(key if self_signed else ca_key, hashes.SHA256())
    os.makedirs(directory, exist_ok=True)
    crt_path = os.path.join(directory, "responder.crt")
    key_path = os.path.join(directory, "responder.key")
    with open(crt_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(key_path, 0o644)  # the nginx master reads it as the test user
    return crt_path, key_path


def configure(pki, crt, key, url):
    doc = pki.read_ca_json()
    doc["nginxStepca"] = {"ocsp": {"path": "/ocsp", "url": url, "validity": "1h",
                                   "responderCert": crt, "responderKey": key}}
    pki.write_ca_json(doc)


def node(nginx_factory):
    http_port = free_port()
    n = nginx_factory(http_extra="    server {\n        listen 127.0.0.1:%d;\n"
                                 "        location / { stepca; }\n    }\n" % http_port)
    n.ocsp_url = "http://127.0.0.1:%d/ocsp" % http_port
    return n


def openssl_ocsp(pki, n, *args):
    r = subprocess.run(
        ["openssl", "ocsp", "-issuer", pki.intermediate_crt, "-CAfile", pki.root_crt,
         "-url", n.ocsp_url, "-resp_text"] + list(args),
        capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def test_openssl_verifies_answers_signed_by_the_delegated_responder(nginx_factory, pki, prov,
                                                                    tmp_path):
    n = node(nginx_factory)
    crt, key = make_responder(pki, os.path.join(pki.path, "responder"))
    configure(pki, crt, key, n.ocsp_url)
    n.start()
    good, good_path = issue(n, prov, tmp_path, "good.example.test")
    bad, bad_path = issue(n, prov, tmp_path, "bad.example.test")

    rc, out = openssl_ocsp(pki, n, "-cert", good_path)
    assert rc == 0, out
    assert "Response verify OK" in out, out
    assert "%s: good" % good_path in out, out
    assert "Responder Id: CN = %s" % RESPONDER_CN in out, out
    assert RESPONDER_CN in out.split("Certificate:")[1], out  # the certificate travels

    revoke(n, prov, str(bad.serial_number), reason_code=1)
    rc, out = openssl_ocsp(pki, n, "-cert", bad_path)
    assert rc == 0, out
    assert "Response verify OK" in out, out
    assert "%s: revoked" % bad_path in out, out
    assert "Reason: keyCompromise" in out, out

    # The answer itself: signed by the delegated key, which is the only
    # certificate it carries (checked with cryptography, not just openssl).
    from cryptography.x509 import ocsp as x509_ocsp
    req = x509_ocsp.OCSPRequestBuilder().add_certificate(
        good, load_pem(pki.intermediate_crt), hashes.SHA1()).build()
    status, _, body = n.request("POST", "/ocsp", body=req.public_bytes(serialization.Encoding.DER),
                                headers={"Content-Type": "application/ocsp-request"})
    assert status == 200
    resp = x509_ocsp.load_der_ocsp_response(body)
    with open(crt, "rb") as f:
        responder = x509.load_pem_x509_certificate(f.read())
    assert resp.certificates == [responder]
    responder.public_key().verify(resp.signature, resp.tbs_response_bytes,
                                  ec.ECDSA(resp.signature_hash_algorithm))


def load_pem(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


@pytest.mark.parametrize("kind,message", [
    ("no-eku", "has no extended key usage OCSPSigning"),
    ("server-auth", "has no extended key usage OCSPSigning"),
    ("self-signed", "was not issued by the certificate in"),
])
def test_responders_that_relying_parties_would_refuse_are_refused_at_load(
        nginx_factory, pki, kind, message):
    n = node(nginx_factory)
    eku = {"no-eku": None, "server-auth": ExtendedKeyUsageOID.SERVER_AUTH,
           "self-signed": ExtendedKeyUsageOID.OCSP_SIGNING}[kind]
    crt, key = make_responder(pki, os.path.join(pki.path, "responder-" + kind), eku=eku,
                              self_signed=kind == "self-signed")
    configure(pki, crt, key, n.ocsp_url)
    r = n.test_config()
    assert r.returncode != 0
    assert "nginxStepca.ocsp.responderCert" in r.stderr, r.stderr
    assert message in r.stderr, r.stderr


def test_a_key_that_does_not_match_is_refused(nginx_factory, pki):
    n = node(nginx_factory)
    crt, _ = make_responder(pki, os.path.join(pki.path, "responder-a"))
    _, other_key = make_responder(pki, os.path.join(pki.path, "responder-b"))
    configure(pki, crt, other_key, n.ocsp_url)
    r = n.test_config()
    assert r.returncode != 0
    assert "nginxStepca.ocsp.responderKey" in r.stderr and "does not match" in r.stderr, r.stderr
