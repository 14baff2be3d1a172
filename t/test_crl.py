"""The leaf CRL on one node: ca.json's crl block, /crl and /1.0/crl (DER,
PEM with ?pem=true), the CRL distribution point in issued leaves, and
`openssl verify -crl_check` refusing a revoked leaf and accepting the
others. The fleet side (same CRL from both nodes, the lease) is in
test_crl_fleet.py."""

import json
import os
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtensionOID

from tokens import Provisioner, make_csr

PROVISIONER_PASSWORD = "fixture-provisioner-password"


def aud(port, path):
    return "https://127.0.0.1:%d%s" % (port, path)


@pytest.fixture
def prov(pki):
    return Provisioner(pki.ca_json, PROVISIONER_PASSWORD)


def enable_crl(pki, idp, **crl):
    doc = pki.read_ca_json()
    doc["crl"] = dict({"enabled": True, "generateOnRevoke": True, "cacheDuration": "24h",
                       "idpURL": idp}, **crl)
    doc["nginxStepca"] = {"crlCheckInterval": "200ms"}
    pki.write_ca_json(doc)


@pytest.fixture
def crl_node(nginx_factory, pki):
    n = nginx_factory()
    n.idp = "http://127.0.0.1:%d/1.0/crl" % n.port
    enable_crl(pki, n.idp)
    return n.start()


def issue(n, prov, tmp_path, cn):
    csr, key = make_csr(cn)
    body = json.dumps({"csr": csr, "ott": prov.token(cn, aud(n.port, "/1.0/sign"))})
    status, _, data = n.request("POST", "/1.0/sign", body=body,
                                headers={"Content-Type": "application/json"})
    assert status == 201, data
    resp = json.loads(data)
    path = os.path.join(str(tmp_path), cn + ".crt")
    with open(path, "w") as f:
        f.write(resp["crt"])
    cert = x509.load_pem_x509_certificate(resp["crt"].encode())
    return cert, path


def revoke(n, prov, serial, reason_code=1):
    body = json.dumps({"serial": serial, "reasonCode": reason_code, "passive": True,
                       "ott": prov.token(serial, aud(n.port, "/1.0/revoke"))})
    status, _, data = n.request("POST", "/1.0/revoke", body=body,
                                headers={"Content-Type": "application/json"})
    assert status == 200, data


def get_crl(n, path="/1.0/crl"):
    status, headers, data = n.get(path)
    assert status == 200, data
    return headers, data


def wait_for_serial(n, serial, timeout=10):
    """The CRL once it lists serial (bounded); the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        _, der = get_crl(n)
        crl = x509.load_der_x509_crl(der)
        if crl.get_revoked_certificate_by_serial_number(serial) is not None:
            return crl, time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError("serial %d not in the CRL after %ss" % (serial, timeout))


def openssl_verify(pki, crl_pem, leaf):
    return subprocess.run(
        ["openssl", "verify", "-crl_check", "-CAfile", pki.root_crt,
         "-untrusted", pki.intermediate_crt, "-CRLfile", crl_pem, leaf],
        capture_output=True, text=True, timeout=30)


def test_crl_refuses_the_revoked_leaf_and_accepts_the_others(crl_node, prov, pki, tmp_path):
    n = crl_node
    bad, bad_path = issue(n, prov, tmp_path, "revoked.example.test")
    good, good_path = issue(n, prov, tmp_path, "good.example.test")
    # The default leaf profile carries the CRL distribution point.
    dp = good.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS).value
    assert [g.value for g in dp[0].full_name] == [n.idp]

    headers, first = get_crl(n)
    assert headers["Content-Type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(first)
    assert len(crl) == 0
    number_before = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number

    revoke(n, prov, str(bad.serial_number), reason_code=1)
    crl, took = wait_for_serial(n, bad.serial_number)
    assert took < 5, took  # crlCheckInterval is 200ms
    entry = crl.get_revoked_certificate_by_serial_number(bad.serial_number)
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == \
        x509.ReasonFlags.key_compromise
    assert crl.get_revoked_certificate_by_serial_number(good.serial_number) is None
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number > number_before
    idp = crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint)
    assert idp.critical and [g.value for g in idp.value.full_name] == [n.idp]
    inter = x509.load_pem_x509_certificate(open(pki.intermediate_crt, "rb").read())
    assert crl.issuer == inter.subject
    assert crl.is_signature_valid(inter.public_key())

    # /crl and /1.0/crl are the same CRL; ?pem=true is its PEM.
    _, der = get_crl(n, "/crl")
    headers, pem = get_crl(n, "/1.0/crl?pem=true")
    assert headers["Content-Type"] == "application/x-pem-file"
    assert pem.startswith(b"-----BEGIN X509 CRL-----\n")
    assert x509.load_pem_x509_crl(pem).public_bytes(serialization.Encoding.DER) == der

    crl_pem = os.path.join(str(tmp_path), "crl.pem")
    with open(crl_pem, "wb") as f:
        f.write(pem)
    text = subprocess.run(["openssl", "crl", "-in", crl_pem, "-noout", "-text"],
                          capture_output=True, text=True, timeout=30).stdout
    assert "X509v3 CRL Reason Code" in text and "Key Compromise" in text, text
    r = openssl_verify(pki, crl_pem, bad_path)
    assert r.returncode != 0
    assert "certificate revoked" in r.stdout + r.stderr, r.stdout + r.stderr
    r = openssl_verify(pki, crl_pem, good_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().endswith(": OK")


def test_crl_is_regenerated_before_it_expires(nginx_factory, pki):
    n = nginx_factory()
    enable_crl(pki, "", cacheDuration="4s", renewPeriod="1s")
    n.start()
    _, der = get_crl(n)
    first = x509.load_der_x509_crl(der)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        _, der = get_crl(n)
        crl = x509.load_der_x509_crl(der)
        if crl.last_update > first.last_update:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the CRL was not renewed")
    num = lambda c: c.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert num(crl) > num(first)
    assert (crl.next_update - crl.last_update).total_seconds() == 4
    # No idpURL: no IDP in the CRL.
    with pytest.raises(x509.ExtensionNotFound):
        crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint)


def test_crl_disabled_and_wrong_method(nginx, prov, tmp_path):
    status, _, data = nginx.get("/1.0/crl")
    assert status == 404
    assert json.loads(data)["status"] == 404
    # Without a crl block, leaves carry no CRL distribution point.
    cert, _ = issue(nginx, prov, tmp_path, "plain.example.test")
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS)


def test_crl_post_is_405(crl_node):
    status, _, _ = crl_node.request("POST", "/crl", body=b"x")
    assert status == 405


@pytest.mark.parametrize("crl,want", [
    ({"enabled": "yes"}, 'field "crl.enabled": must be true or false'),
    ({"enabled": True, "cacheDuration": "1h", "renewPeriod": "2h"},
     'field "crl.renewPeriod": must be shorter than crl.cacheDuration'),
    ({"enabled": True, "idpURL": "ftp://x"}, 'field "crl.idpURL": must be an http'),
])
def test_bad_crl_block_fails_nginx_t(nginx_factory, pki, crl, want):
    n = nginx_factory()
    doc = pki.read_ca_json()
    doc["crl"] = crl
    pki.write_ca_json(doc)
    r = n.test_config()
    assert r.returncode != 0
    assert want in r.stderr, r.stderr
    assert pki.ca_json in r.stderr


def stepca(*args):
    from conftest import BUILD
    return subprocess.run([os.path.join(BUILD, "stepca")] + list(args),
                          capture_output=True, text=True, timeout=60)


def test_root_crl_revokes_the_intermediate(crl_node, prov, pki, tmp_path):
    """Part 3: `stepca crl` makes the root's CRL; with it and the leaf CRL,
    `openssl verify -crl_check_all` accepts a leaf until the intermediate is
    revoked, then refuses it."""
    d = str(tmp_path)
    db, root_crl = os.path.join(d, "root-crl.json"), os.path.join(d, "ca.crl")
    sign = ["crl", "sign", "--db", db, "--ca", pki.root_crt, "--ca-key", pki.root_key,
            "--ca-password-file", pki.password_file, "--out", root_crl]
    r = stepca(*sign)
    assert r.returncode == 0, r.stderr
    assert "CRL number 1 with 0 entries" in r.stdout
    root = x509.load_pem_x509_certificate(open(pki.root_crt, "rb").read())
    crl = x509.load_der_x509_crl(open(root_crl, "rb").read())
    assert crl.issuer == root.subject and crl.is_signature_valid(root.public_key())
    assert len(crl) == 0
    assert (crl.next_update - crl.last_update).days == 30

    leaf, leaf_path = issue(crl_node, prov, tmp_path, "leaf.example.test")
    _, leaf_crl = get_crl(crl_node, "/1.0/crl?pem=true")
    leaf_crl_path = os.path.join(d, "leaf-crl.pem")
    with open(leaf_crl_path, "wb") as f:
        f.write(leaf_crl)
    root_crl_pem = os.path.join(d, "ca.crl.pem")

    def verify():
        subprocess.run(["openssl", "crl", "-inform", "DER", "-in", root_crl, "-out", root_crl_pem],
                       check=True, timeout=30)
        return subprocess.run(
            ["openssl", "verify", "-crl_check_all", "-CAfile", pki.root_crt,
             "-untrusted", pki.intermediate_crt, "-CRLfile", leaf_crl_path,
             "-CRLfile", root_crl_pem, leaf_path], capture_output=True, text=True, timeout=30)

    r = verify()
    assert r.returncode == 0, r.stdout + r.stderr

    r = stepca("crl", "revoke", pki.intermediate_crt, "--db", db, "--reason", "keyCompromise",
               "--ca", pki.root_crt)
    assert r.returncode == 0, r.stderr
    # Twice is refused; the leaf is not the root's to revoke.
    r2 = stepca("crl", "revoke", pki.intermediate_crt, "--db", db, "--ca", pki.root_crt)
    assert r2.returncode == 1 and "already revoked" in r2.stderr, r2.stderr
    r2 = stepca("crl", "revoke", leaf_path, "--db", db, "--ca", pki.root_crt)
    assert r2.returncode == 1 and "was not issued by" in r2.stderr, r2.stderr
    r = stepca(*sign)
    assert r.returncode == 0, r.stderr
    assert "CRL number 2 with 1 entry" in r.stdout
    crl = x509.load_der_x509_crl(open(root_crl, "rb").read())
    inter = x509.load_pem_x509_certificate(open(pki.intermediate_crt, "rb").read())
    entry = crl.get_revoked_certificate_by_serial_number(inter.serial_number)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == \
        x509.ReasonFlags.key_compromise
    r = verify()
    assert r.returncode != 0
    assert "certificate revoked" in r.stdout + r.stderr, r.stdout + r.stderr
    # Wrong key, wrong password: refused, nothing written.
    r = stepca("crl", "sign", "--db", db, "--ca", pki.root_crt, "--ca-key", pki.intermediate_key,
               "--ca-password-file", pki.password_file, "--out", root_crl)
    assert r.returncode == 1 and "does not match" in r.stderr, r.stderr
    assert json.load(open(db))["number"] == 2
