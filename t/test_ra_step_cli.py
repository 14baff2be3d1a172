"""The real `step` CLI 0.19 through our RA (StepCAS mode) in front of the
real step-ca 0.19: bootstrap by the upstream's root fingerprint, the
roots, a certificate through the RA's JWK provisioner, revoke by token and
over mTLS (both forwarded to the upstream); `step ca rekey` (the new CSR
signed by the upstream under the old certificate's names) and renewal by
token (the x5cInsecure token of `step ca renew --mtls=false`, verified
here, then shown to the upstream's /renew; made in Python, since step 0.19
has no --mtls flag). `step ca renew` over mutual TLS is refused with a
clear 400 naming both: the upstream re-signs a key only for a request its
holder signed, and the TLS handshake with the RA cannot be passed on."""

import base64
import json
import os
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tokens import Provisioner, make_csr, sign_jwt

from conftest import Pki, free_port
from test_ra_stepcas import (FIXTURE_FP, RA_JWK, UPSTREAM_JWK, assert_signed_by_upstream,  # noqa: F401
                             der, load_pems, provisioner_name, ra, ra_sign, step_ca_factory, upstream)


@pytest.fixture
def step(step_cli, ra):
    step_cli.run("ca", "bootstrap", "--ca-url", "https://127.0.0.1:%d" % ra.port,
                 "--fingerprint", FIXTURE_FP)
    return step_cli


def certificate(step, pki, cn):
    crt = os.path.join(step.steppath, cn + ".crt")
    key = os.path.join(step.steppath, cn + ".key")
    step.run("ca", "certificate", cn, crt, key, "--provisioner", RA_JWK,
             "--provisioner-password-file", os.path.join(pki.path, "provisioner-password.txt"))
    return crt, key


def test_step_bootstraps_and_reads_the_roots_through_the_ra(step, upstream):
    root = os.path.join(step.steppath, "certs", "root_ca.crt")
    assert open(root).read().strip() == open(upstream.pki.root_crt).read().strip()
    assert step.run("ca", "health").stdout.strip() == "ok"
    out = os.path.join(step.steppath, "roots.pem")
    step.run("ca", "roots", out)
    assert [c.fingerprint(c.signature_hash_algorithm) for c in load_pems(open(out).read())] == \
        [c.fingerprint(c.signature_hash_algorithm) for c in load_pems(open(root).read())]
    listed = json.loads(step.run("ca", "provisioner", "list").stdout)
    assert RA_JWK in {p["name"] for p in listed}  # the RA's provisioners, not the upstream's


def test_step_ca_certificate_through_the_ra(step, pki, upstream):
    crt, key = certificate(step, pki, "cli-via-ra.example.test")
    chain = load_pems(open(crt).read())
    assert len(chain) == 2
    leaf = chain[0]
    assert leaf.issuer == load_pems(open(upstream.pki.intermediate_crt).read())[0].subject
    assert provisioner_name(leaf) == UPSTREAM_JWK
    root = os.path.join(step.steppath, "certs", "root_ca.crt")
    step.run("certificate", "verify", crt, "--roots", root)


def test_step_ca_revoke_by_token_through_the_ra(step, pki, upstream):
    crt, _ = certificate(step, pki, "cli-revoked.example.test")
    serial = str(load_pems(open(crt).read())[0].serial_number)
    # step 0.19's revoke takes a token from `step ca token --revoke`
    ott = step.run("ca", "token", serial, "--revoke", "--provisioner", RA_JWK,
                   "--provisioner-password-file",
                   os.path.join(pki.path, "provisioner-password.txt")).stdout.strip()
    proc = step.run("ca", "revoke", serial, "--token", ott)
    assert "Certificate with Serial Number %s has been revoked." % serial in proc.stdout + proc.stderr
    # the upstream has it revoked too
    again = upstream.jwk.token(serial, upstream.url + "/1.0/revoke", sans=[])
    code, text = upstream.post("/1.0/revoke", {"serial": serial, "ott": again, "passive": True})
    assert code == 400 and "already revoked" in text, text


def test_step_ca_revoke_with_the_certificate_through_the_ra(step, pki, upstream):
    # over mTLS: the RA proves the client certificate against the upstream's
    # root and intermediate, then revokes at the upstream with its own token
    crt, key = certificate(step, pki, "cli-self-revoked.example.test")
    serial = str(load_pems(open(crt).read())[0].serial_number)
    proc = step.run("ca", "revoke", "--cert", crt, "--key", key)
    assert "Certificate with Serial Number %s has been revoked." % serial in proc.stdout + proc.stderr
    again = upstream.jwk.token(serial, upstream.url + "/1.0/revoke", sans=[])
    code, text = upstream.post("/1.0/revoke", {"serial": serial, "ott": again, "passive": True})
    assert code == 400 and "already revoked" in text, text


def public_der(cert):
    return cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)


def names(cert):
    cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return cn, sorted(str(n.value) for n in san)


def assert_reissued_by_upstream(old, new, upstream):
    inter = load_pems(open(upstream.pki.intermediate_crt).read())[0]
    assert new.issuer == inter.subject
    assert new.serial_number != old.serial_number
    assert names(new) == names(old)
    # the upstream's provisioner built it, as it built the old one
    assert provisioner_name(new) == UPSTREAM_JWK
    # the same lifetime as the old certificate, from now
    assert abs((new.not_valid_after - new.not_valid_before) -
               (old.not_valid_after - old.not_valid_before)).total_seconds() < 120
    assert new.not_valid_before >= old.not_valid_before


def renew_by_token(ra, crt, key):
    """POST /1.0/renew with the renew token `step ca renew --mtls=false`
    sends (x5cInsecure: the chain, signed by the certificate's key); step
    0.19 has no --mtls flag, so the token is made here as later steps make
    it. Returns (status, body, token)."""
    chain = load_pems(open(crt).read())
    cn = chain[0].subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    now = int(time.time())
    header = {"alg": "ES256", "typ": "JWT",
              "x5cInsecure": [base64.b64encode(der(c)).decode() for c in chain]}
    claims = {"aud": "https://127.0.0.1:%d/1.0/renew" % ra.port, "exp": now + 300, "iat": now,
              "iss": "step-ca-client/1.0", "nbf": now, "sub": cn}
    token = sign_jwt(header, claims, serialization.load_pem_private_key(open(key, "rb").read(), None))
    status, _, body = ra.request("POST", "/1.0/renew", body=b"",
                                 headers={"Authorization": "Bearer " + token})
    return status, body.decode(), token


@pytest.mark.allow_error_log  # the replayed token
def test_renew_by_token_through_the_ra(step, pki, ra, upstream):
    crt, key = certificate(step, pki, "cli-renew.example.test")
    old = load_pems(open(crt).read())[0]
    status, body, token = renew_by_token(ra, crt, key)
    assert status == 201, body
    doc = json.loads(body)
    new = load_pems(doc["crt"])[0]
    assert_reissued_by_upstream(old, new, upstream)
    assert public_der(new) == public_der(old)  # renew keeps the key
    assert doc["ca"].strip() == open(upstream.pki.intermediate_crt).read().strip()
    assert [der(load_pems(c)[0]) for c in doc["certChain"]] == \
        [der(new), der(load_pems(doc["ca"])[0])]
    # the upstream signed it: it can revoke it by its serial
    serial = str(new.serial_number)
    code, text = upstream.post("/1.0/revoke", {
        "serial": serial, "passive": True,
        "ott": upstream.jwk.token(serial, upstream.url + "/1.0/revoke", sans=[])})
    assert code == 200, text
    # the token is one-time, here before the upstream sees it again
    status, _, again = ra.request("POST", "/1.0/renew", body=b"",
                                  headers={"Authorization": "Bearer " + token})
    assert status == 401, again
    assert "token already used" in ra.read_file("error.log")  # a 401 says no more to the client


def test_step_ca_rekey_through_the_ra(step, pki, ra, upstream):
    crt, key = certificate(step, pki, "cli-rekey.example.test")
    old = load_pems(open(crt).read())[0]
    old_key = open(key).read()
    step.run("ca", "rekey", crt, key, "--force")
    new = load_pems(open(crt).read())[0]
    assert open(key).read() != old_key
    assert public_der(new) != public_der(old)  # the new key
    assert_reissued_by_upstream(old, new, upstream)
    new_key = serialization.load_pem_private_key(open(key, "rb").read(), None)
    assert public_der(new) == new_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    step.run("certificate", "verify", crt, "--roots", upstream.pki.root_crt)
    # the rekeyed certificate renews in turn, by token, keeping the new key
    status, body, _ = renew_by_token(ra, crt, key)
    assert status == 201, body
    assert public_der(load_pems(json.loads(body)["crt"])[0]) == public_der(new)


@pytest.mark.allow_error_log
def test_a_rekey_csr_naming_other_names_is_refused(step, pki, ra):
    crt, key = certificate(step, pki, "cli-rekey-names.example.test")
    csr, _ = make_csr("cli-rekey-names.example.test", ["other.example.test"])
    status, _, body = ra.request("POST", "/1.0/rekey", body=json.dumps({"csr": csr}),
                                 headers={"Content-Type": "application/json"}, cert=crt, key=key)
    assert status == 400, body
    doc = json.loads(body)
    assert "must name what the certificate names" in doc["message"], doc
    assert "other.example.test" in doc["message"], doc


@pytest.mark.allow_error_log
def test_renew_by_token_with_the_upstream_down_says_the_token_was_spent(step, pki, ra, upstream):
    crt, key = certificate(step, pki, "cli-renew-down.example.test")
    upstream.ca.stop()
    status, body, token = renew_by_token(ra, crt, key)
    assert status == 503, body
    doc = json.loads(body)
    assert "the upstream CA did not answer" in doc["message"], doc
    assert "the token was spent" in doc["message"], doc
    # it was: the same token is refused, nothing was recorded as renewed
    status, _, _ = ra.request("POST", "/1.0/renew", body=b"",
                              headers={"Authorization": "Bearer " + token})
    assert status == 401
    assert "renewed certificate" not in ra.read_file("error.log")


@pytest.mark.allow_error_log
def test_step_ca_renew_over_mtls_through_the_ra_is_refused_clearly(step, pki):
    crt, key = certificate(step, pki, "cli-renew-mtls.example.test")
    before = open(crt).read()
    proc = step.run("ca", "renew", "--force", crt, key, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "renewing over mutual TLS cannot be forwarded" in out, out
    assert "--mtls=false" in out and "step ca rekey" in out, out
    assert open(crt).read() == before


@pytest.mark.allow_error_log
def test_a_revoked_certificate_is_refused_renewal_and_rekey_through_the_ra(step, pki, ra):
    crt, key = certificate(step, pki, "cli-revoked-renew.example.test")
    before = open(crt).read()
    step.run("ca", "revoke", "--cert", crt, "--key", key)
    status, body, _ = renew_by_token(ra, crt, key)
    assert status == 401, body
    assert "certificate has been revoked" in ra.read_file("error.log")
    proc = step.run("ca", "rekey", crt, key, "--force", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert open(crt).read() == before


def test_a_ca_json_written_by_step_ca_init_ra_is_served(step_cli, nginx_factory, upstream, prefix):
    """`step ca init --ra StepCAS` (the real step) writes the RA's ca.json:
    the downloaded upstream root as "root", "crt" and "key" empty, the
    issuer and a JWK provisioner of the RA's own. Our module serves it
    unchanged, with the issuer password in stepca_issuer_password_file."""
    ra_dir = os.path.join(prefix, "step-init-ra")
    pw = os.path.join(prefix, "ra-provisioner-password.txt")
    with open(pw, "w") as f:
        f.write("ra provisioner password\n")
    init = step_cli.run("ca", "init", "--ra", "StepCAS", "--issuer", upstream.url,
                        "--issuer-fingerprint", FIXTURE_FP,
                        "--issuer-provisioner", UPSTREAM_JWK,
                        "--name", "RA", "--dns", "127.0.0.1", "--address", "127.0.0.1:%d" % free_port(),
                        "--provisioner", "ra-admin", "--password-file", pw)
    ca_json = os.path.join(step_cli.steppath, "config", "ca.json")
    doc = json.load(open(ca_json))
    assert doc["authority"]["type"] == "stepcas", init.stdout
    assert doc["crt"] == "" and doc["key"] == "" and doc["root"]
    os.makedirs(ra_dir)
    for root, dirs, files in os.walk(step_cli.steppath):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    pki = Pki(step_cli.steppath)
    pki.root_crt = doc["root"]
    n = nginx_factory(name="ra-from-step", password_file=None,
                      http_extra="    stepca_issuer_password_file %s;\n" % upstream.provisioner_password_file)
    n.pki = pki
    n.params["ca_json"] = ca_json
    n.write_conf()
    n.start()
    prov = Provisioner(ca_json, "ra provisioner password")
    csr, _ = make_csr("from-step-init.example.test")
    token = prov.token("from-step-init.example.test", "https://127.0.0.1:%d/1.0/sign" % n.port)
    status, _, body = n.request("POST", "/1.0/sign", body=json.dumps({"csr": csr, "ott": token}),
                                headers={"Content-Type": "application/json"})
    assert status == 201, body
    assert_signed_by_upstream(json.loads(body), upstream, "from-step-init.example.test", UPSTREAM_JWK)
