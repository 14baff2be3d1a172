"""The OCSP responder on one node (nginxStepca.ocsp in ca.json): `openssl
ocsp` gets good, revoked with its reason, and unknown; GET and POST; the
AIA OCSP URL in leaves; malformed and huge requests get malformedRequest,
never a crash."""

import base64
import json
import os
import subprocess
import urllib.parse

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID

from conftest import free_port
from test_crl import aud, issue, prov, revoke  # noqa: F401 (prov is a fixture)


@pytest.fixture
def ocsp_node(nginx_factory, pki):
    http_port = free_port()
    # OCSP is plain HTTP by custom (RFC 6960 appendix A); the same CA also
    # answers on this port.
    n = nginx_factory(http_extra="    server {\n        listen 127.0.0.1:%d;\n"
                                 "        location / { stepca; }\n    }\n" % http_port)
    n.http_port = http_port
    n.ocsp_url = "http://127.0.0.1:%d/ocsp" % http_port
    doc = pki.read_ca_json()
    doc["nginxStepca"] = {"ocsp": {"path": "/ocsp", "url": n.ocsp_url, "validity": "1h"}}
    pki.write_ca_json(doc)
    return n.start()


def openssl_ocsp(pki, node, *args):
    r = subprocess.run(
        ["openssl", "ocsp", "-issuer", pki.intermediate_crt, "-CAfile", pki.root_crt,
         "-url", node.ocsp_url, "-resp_text"] + list(args),
        capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout, r.stderr


def load(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def test_openssl_ocsp_good_revoked_unknown(ocsp_node, prov, pki, tmp_path):
    n = ocsp_node
    good, good_path = issue(n, prov, tmp_path, "good.example.test")
    bad, bad_path = issue(n, prov, tmp_path, "bad.example.test")
    aia = good.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
    assert [(d.access_method, d.access_location.value) for d in aia] == [
        (AuthorityInformationAccessOID.OCSP, n.ocsp_url)]

    rc, out, err = openssl_ocsp(pki, n, "-cert", good_path)
    assert rc == 0, out + err
    assert "Response verify OK" in out + err, out + err
    assert "%s: good" % good_path in out, out
    assert "Next Update:" in out

    revoke(n, prov, str(bad.serial_number), reason_code=1)
    rc, out, err = openssl_ocsp(pki, n, "-cert", bad_path)
    assert rc == 0, out + err
    assert "Response verify OK" in out + err
    assert "%s: revoked" % bad_path in out, out
    assert "Reason: keyCompromise" in out, out
    assert "Revocation Time:" in out

    rc, out, err = openssl_ocsp(pki, n, "-serial", "0x1234567890abcdef")
    assert rc == 0, out + err
    assert "0x1234567890abcdef: unknown" in out, out

    # The nonce is echoed (openssl checks it and would say "WARNING: no
    # nonce in response" otherwise); without one, none is answered.
    rc, out, err = openssl_ocsp(pki, n, "-cert", good_path)
    assert "WARNING: no nonce in response" not in out + err, out + err
    assert "OCSP Nonce:" in out
    rc, out, err = openssl_ocsp(pki, n, "-cert", good_path, "-no_nonce")
    assert rc == 0 and "OCSP Nonce:" not in out, out


def test_get_and_post_give_the_same_status(ocsp_node, prov, pki, tmp_path):
    n = ocsp_node
    cert, _ = issue(n, prov, tmp_path, "get.example.test")
    inter = load(pki.intermediate_crt)
    req = ocsp.OCSPRequestBuilder().add_certificate(cert, inter, hashes.SHA1()).build()
    der = req.public_bytes(serialization.Encoding.DER)
    status, headers, body = n.request("POST", "/ocsp", body=der,
                                      headers={"Content-Type": "application/ocsp-request"})
    assert status == 200
    assert headers["Content-Type"] == "application/ocsp-response"
    post = ocsp.load_der_ocsp_response(body)
    assert post.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert post.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert post.serial_number == cert.serial_number
    inter.public_key().verify(post.signature, post.tbs_response_bytes,
                              ec.ECDSA(post.signature_hash_algorithm))

    path = "/ocsp/" + urllib.parse.quote(base64.b64encode(der).decode(), safe="")
    status, headers, body = n.get(path)
    assert status == 200
    got = ocsp.load_der_ocsp_response(body)
    assert got.certificate_status == ocsp.OCSPCertStatus.GOOD
    # Served from the cache the POST filled: what is left of half the validity.
    max_age = int(headers["Cache-Control"].split(",")[0].split("=")[1])
    assert 1790 <= max_age <= 1800, headers["Cache-Control"]
    # A nonce-less answer is cached per serial: the same bytes.
    status, _, again = n.get(path)
    assert again == body

    revoke(n, prov, str(cert.serial_number), reason_code=4)
    status, _, body = n.get(path)
    got = ocsp.load_der_ocsp_response(body)
    assert got.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert got.revocation_reason == x509.ReasonFlags.superseded


def ocsp_status(body):
    return ocsp.load_der_ocsp_response(body).response_status


@pytest.mark.parametrize("body", [
    b"", b"hello", b"\x30\x03\x02\x01", b"\x30" + b"\xff" * 9,
    b"\x30\x82\xff\xff" + b"\x00" * 100,
])
def test_malformed_posts_are_malformed_request(ocsp_node, body):
    status, headers, data = ocsp_node.request("POST", "/ocsp", body=body,
                                              headers={"Content-Type": "application/ocsp-request"})
    assert status == 400
    assert ocsp_status(data) == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_huge_and_bad_get_requests(ocsp_node, prov, pki, tmp_path):
    n = ocsp_node
    # Bigger than the responder reads, smaller than stepca_max_body_size.
    status, _, data = n.request("POST", "/ocsp", body=b"\x30" * 20000)
    assert status == 400
    assert ocsp_status(data) == ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    for path in ("/ocsp/not*base64", "/ocsp/" + "A" * 6000, "/ocsp/aGVsbG8="):
        status, _, data = n.get(path)
        assert status == 400, path
        assert ocsp_status(data) == ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    # Every truncation of a real request: an answer each time, the CA lives.
    cert, _ = issue(n, prov, tmp_path, "fuzz.example.test")
    der = ocsp.OCSPRequestBuilder().add_certificate(
        cert, load(pki.intermediate_crt), hashes.SHA1()).build().public_bytes(
        serialization.Encoding.DER)
    for i in range(1, len(der), 3):
        status, _, data = n.request("POST", "/ocsp", body=der[:i])
        assert status == 400
    for i in range(0, len(der), 5):
        m = bytearray(der)
        m[i] ^= 0xff
        status, _, data = n.request("POST", "/ocsp", body=bytes(m))
        assert status in (200, 400), i
        ocsp_status(data)  # an OCSPResponse either way
    status, _, _ = n.get("/health")
    assert status == 200


@pytest.mark.allow_error_log  # nginx logs the refused body at [error]
def test_a_body_above_the_nginx_limit_is_413(ocsp_node):
    status, _, _ = ocsp_node.request("POST", "/ocsp", body=b"\x30" * (2 << 20))
    assert status == 413
    status, _, _ = ocsp_node.get("/health")
    assert status == 200


def test_wrong_method_and_no_responder(ocsp_node, nginx_factory):
    status, _, _ = ocsp_node.request("PUT", "/ocsp", body=b"x")
    assert status == 405
    status, _, _ = ocsp_node.request("POST", "/ocsp/extra", body=b"x")
    assert status == 404


def test_without_the_extension_there_is_no_responder(nginx):
    status, _, data = nginx.request("POST", "/ocsp", body=b"\x30\x00")
    assert status == 404
    assert data == b"404 page not found\n"


def test_bad_ocsp_extension_fails_nginx_t(nginx_factory, pki):
    n = nginx_factory()
    doc = pki.read_ca_json()
    doc["nginxStepca"] = {"ocsp": {"path": "/1.0"}}
    pki.write_ca_json(doc)
    r = n.test_config()
    assert r.returncode != 0
    assert 'field "nginxStepca.ocsp.path": "/1.0" is a CA API path' in r.stderr, r.stderr
