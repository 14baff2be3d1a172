"""The K8sSA provisioner end to end: service-account tokens made by the
test with its own "cluster" signing key, in the two forms Kubernetes
issues (legacy secret-based tokens, and bound tokens from the TokenRequest
API), signed through the module in the stock nginx, and with the real
`step` CLI passing such a token by --token."""

import base64
import json
import os
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from tokens import b64u, make_csr, unsigned_jwt

NAMESPACE = "prod"
ACCOUNT = "web"


def rs256(claims, key, kid="cluster-key"):
    head = {"alg": "RS256", "kid": kid}
    signing_input = (b64u(json.dumps(head).encode()) + "." +
                     b64u(json.dumps(claims).encode())).encode()
    return signing_input.decode() + "." + b64u(key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256()))


def legacy_claims(**over):
    c = {"iss": "kubernetes/serviceaccount",
         "kubernetes.io/serviceaccount/namespace": NAMESPACE,
         "kubernetes.io/serviceaccount/secret.name": ACCOUNT + "-token-x7k2p",
         "kubernetes.io/serviceaccount/service-account.name": ACCOUNT,
         "kubernetes.io/serviceaccount/service-account.uid": "6c1b9f4e-0000-4000-8000-000000000001",
         "sub": "system:serviceaccount:%s:%s" % (NAMESPACE, ACCOUNT)}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def bound_claims(aud, **over):
    now = int(time.time())
    c = {"aud": [aud], "exp": now + 600, "iat": now, "nbf": now,
         "iss": "https://kubernetes.default.svc.cluster.local",
         "kubernetes.io": {"namespace": NAMESPACE,
                           "pod": {"name": "web-6d4cf56db6-2xk9q", "uid": "p-1"},
                           "serviceaccount": {"name": ACCOUNT, "uid": "u-1"}},
         "sub": "system:serviceaccount:%s:%s" % (NAMESPACE, ACCOUNT)}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


@pytest.fixture
def cluster_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def ca(nginx_factory, pki, cluster_key):
    pem = cluster_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    # A second, EC key in the bundle: a cluster rotating its signing key.
    other = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    doc = pki.read_ca_json()
    doc["authority"]["provisioners"].append({
        "type": "K8sSA", "name": "cluster", "publicKeys": base64.b64encode(other + pem).decode(),
        "claims": {"defaultTLSCertDuration": "1h"}})
    pki.write_ca_json(doc)
    return nginx_factory().start()


def sign(n, csr, ott):
    return n.request("POST", "/1.0/sign", body=json.dumps({"csr": csr, "ott": ott}),
                     headers={"Content-Type": "application/json"})


def issued_names(body):
    cert = x509.load_pem_x509_certificate(json.loads(body)["crt"].encode())
    return cert, cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)


def aud(n):
    return "https://127.0.0.1:%d/1.0/sign" % n.port


def test_legacy_token_signs_the_requested_names_and_may_be_reused(ca, cluster_key):
    token = rs256(legacy_claims(), cluster_key)
    for _ in range(2):  # a pod's standing credential, as in step-ca
        status, _, body = sign(ca, make_csr("web.prod.svc.cluster.local")[0], token)
        assert status == 201, body
    cert, dns = issued_names(body)
    assert dns == ["web.prod.svc.cluster.local"]
    life = cert.not_valid_after - cert.not_valid_before
    assert 3500 <= life.total_seconds() <= 3700


def test_bound_token_for_this_ca(ca, cluster_key):
    status, _, body = sign(ca, make_csr("web.prod.svc")[0], rs256(bound_claims(aud(ca)), cluster_key))
    assert status == 201, body
    assert issued_names(body)[1] == ["web.prod.svc"]


BAD = {
    "bound token for another audience": lambda n: bound_claims("https://kubernetes.default.svc"),
    "expired bound token": lambda n: bound_claims(aud(n), exp=int(time.time()) - 600, nbf=None, iat=None),
    "bound token without exp": lambda n: bound_claims(aud(n), exp=None),
    "expired legacy token": lambda n: legacy_claims(exp=int(time.time()) - 600),
    "legacy token, other issuer": lambda n: legacy_claims(iss="kubernetes/other"),
    "subject not the service account": lambda n: legacy_claims(sub="system:serviceaccount:kube-system:admin"),
    "no service account": lambda n: legacy_claims(**{"kubernetes.io/serviceaccount/namespace": None}),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_tokens_are_refused(ca, cluster_key, case):
    status, headers, body = sign(ca, make_csr("web.prod.svc")[0], rs256(BAD[case](ca), cluster_key))
    assert status == 401, body
    assert json.loads(body)["status"] == 401


def test_forged_and_unsigned_tokens_are_refused(ca, cluster_key):
    rogue = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for token in (rs256(legacy_claims(), rogue),
                  unsigned_jwt({"alg": "none"}, legacy_claims())):
        status, _, body = sign(ca, make_csr("web.prod.svc")[0], token)
        assert status == 401, body
    assert "k8ssa" in ca.read_file("error.log")


def test_missing_public_keys_fail_the_load(nginx_factory, pki):
    doc = pki.read_ca_json()
    doc["authority"]["provisioners"].append({"type": "K8sSA", "name": "cluster"})
    pki.write_ca_json(doc)
    out = nginx_factory().test_config()
    assert out.returncode != 0
    assert "publicKeys" in out.stderr


def test_step_ca_certificate_with_a_service_account_token(ca, cluster_key, step_cli):
    crt = os.path.join(step_cli.steppath, "web.crt")
    key = os.path.join(step_cli.steppath, "web.key")
    token = rs256(legacy_claims(), cluster_key)
    # step's CSR for a K8sSA token carries the subject as its common name
    # only; step-ca's K8sSA template is the request, so that is the certificate.
    step_cli.run("ca", "certificate", "web.prod.svc", crt, key, "--token", token,
                 "--ca-url", "https://127.0.0.1:%d" % ca.port, "--root", ca.pki.root_crt)
    with open(crt, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    assert cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value == "web.prod.svc"
    # With --san the names are the request's too (the same token again: a
    # service-account token is not one-time).
    step_cli.run("ca", "certificate", "web.prod.svc", crt, key, "--token", token, "--force",
                 "--san", "web.prod.svc", "--san", "web.prod.svc.cluster.local",
                 "--ca-url", "https://127.0.0.1:%d" % ca.port, "--root", ca.pki.root_crt)
    with open(crt, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName) == ["web.prod.svc", "web.prod.svc.cluster.local"]


def test_ssh_certificate_with_a_service_account_token(prefix, module_path, cluster_key):
    """K8sSA signs the SSH certificate the request describes (type, key id
    and principals required), as step-ca does; the token is not spent."""
    from conftest import Nginx, Pki, assert_clean_log
    from test_ssh import SshCert, SshCa, init_ssh_pki
    steppath, pw, ppw = init_ssh_pki(os.path.join(prefix, "ca"))
    p = os.path.join(steppath, "config", "ca.json")
    with open(p) as f:
        doc = json.load(f)
    pem = cluster_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    doc["authority"]["provisioners"].append({
        "type": "K8sSA", "name": "cluster", "publicKeys": base64.b64encode(pem).decode(),
        "claims": {"enableSSHCA": True}})
    with open(p, "w") as f:
        json.dump(doc, f, indent="\t")
    base = os.path.join(prefix, "nginx")
    os.makedirs(base)
    n = Nginx(base, Pki(steppath), os.path.join(steppath, "certs", "tls.crt"),
              os.path.join(steppath, "secrets", "tls.key"), module=module_path, password_file=pw)
    n.start()
    try:
        ca = SshCa(steppath, n, pw, ppw)
        pub = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode().split()[1]
        token = rs256(legacy_claims(), cluster_key)
        for _ in range(2):
            status, body = ca.request("POST", "/1.0/ssh/sign", {
                "publicKey": pub, "ott": token, "certType": "host", "keyID": "web-pod",
                "principals": ["web.prod.svc.cluster.local"]})
            assert status == 201, body
        cert = SshCert(base64.b64decode(body["crt"]))
        assert cert.host and cert.key_id == "web-pod"
        assert cert.principals == ["web.prod.svc.cluster.local"]
        status, body = ca.request("POST", "/1.0/ssh/sign", {
            "publicKey": pub, "ott": token, "certType": "host", "keyID": "web-pod"})
        assert status == 403, body
        rogue = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        status, body = ca.request("POST", "/1.0/ssh/sign", {
            "publicKey": pub, "ott": rs256(legacy_claims(), rogue), "certType": "host",
            "keyID": "web-pod", "principals": ["x"]})
        assert status == 401, body
    finally:
        n.stop()
    assert_clean_log(n.error_log)
