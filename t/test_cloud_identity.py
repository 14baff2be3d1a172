"""The AWS, GCP and Azure instance-identity provisioners end to end, with
identity documents the test makes with its own keys in the formats the
providers document and step builds for step-ca:

AWS    the instance identity document and its RSA-SHA256 signature, in a
       step token (HS256 keyed with the signature), verified against the
       test's own "AWS" certificate (iidRoots);
GCP    an RS256 identity token with the google.compute_engine claims, the
       keys served by a local "Google" (certsURL);
Azure  a managed-identity access token (tid, xms_mirid), the keys found
       through a local tenant discovery document (configurationEndpoint).

Trust on first use is observed through the shared store: a second
identity of the same instance is refused, also after a restart."""

import base64
import hashlib
import hmac
import json
import os
import time
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tokens import b64u, make_csr
from test_oidc import Issuer

TENANT = "0b9f5e4a-1c1d-4f6e-9a51-2d6b2f0c7e11"
MIRID = ("/subscriptions/7f8e2d3c-0000-4000-8000-00000000abcd/resourceGroups/prod-rg/providers/"
         "Microsoft.Compute/virtualMachines/web-vm-1")


def sign(n, csr, ott):
    return n.request("POST", "/1.0/sign", body=json.dumps({"csr": csr, "ott": ott}),
                     headers={"Content-Type": "application/json"})


def dns_names(body):
    cert = x509.load_pem_x509_certificate(json.loads(body)["crt"].encode())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return cert, san.get_values_for_type(x509.DNSName)


def assert_401(resp):
    status, _, body = resp
    assert status == 401, body
    assert json.loads(body)["status"] == 401


def add_provisioner(pki, p):
    doc = pki.read_ca_json()
    doc["authority"]["provisioners"].append(p)
    pki.write_ca_json(doc)


# ---------------------------------------------------------------- AWS


class FakeAws:
    """AWS's document signing key and certificate."""

    def __init__(self, directory):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ec2.amazonaws.com")])
        now = __import__("datetime").datetime.now(__import__("datetime").timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self.key.public_key()).serial_number(1)
                .not_valid_before(now - __import__("datetime").timedelta(days=1))
                .not_valid_after(now + __import__("datetime").timedelta(days=1))
                .sign(self.key, hashes.SHA256()))
        self.cert_path = os.path.join(directory, "aws-iid.pem")
        with open(self.cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        os.chmod(self.cert_path, 0o644)

    def document(self, instance="i-0a1b2c3d4e5f60718", ip="10.0.4.17", account="123456789012",
                 pending=None):
        pending = pending or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 120))
        return json.dumps({
            "accountId": account, "architecture": "x86_64", "availabilityZone": "us-east-1a",
            "billingProducts": None, "devpayProductCodes": None, "marketplaceProductCodes": None,
            "imageId": "ami-0abcdef1234567890", "instanceId": instance, "instanceType": "t3.micro",
            "kernelId": None, "pendingTime": pending, "privateIp": ip, "ramdiskId": None,
            "region": "us-east-1", "version": "2017-09-30"}, indent=2).encode()

    def token(self, n, doc, sub="i-0a1b2c3d4e5f60718", name="aws", signer=None):
        sig = (signer or self.key).sign(doc, padding.PKCS1v15(), hashes.SHA256())
        now = int(time.time())
        claims = {"iss": "ec2.amazonaws.com", "sub": sub,
                  "aud": ["https://127.0.0.1:%d/1.0/sign#aws/%s" % (n.port, name)],
                  "nbf": now, "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex,
                  "sans": [], "amazon": {"document": base64.b64encode(doc).decode(),
                                         "signature": base64.b64encode(sig).decode()}}
        head = b64u(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = b64u(json.dumps(claims).encode())
        mac = hmac.new(sig, (head + "." + body).encode(), hashlib.sha256).digest()
        return head + "." + body + "." + b64u(mac)


@pytest.fixture
def aws(pki):
    return FakeAws(pki.path)


def aws_ca(nginx_factory, pki, aws, **over):
    p = {"type": "AWS", "name": "aws", "iidRoots": aws.cert_path, "accounts": ["123456789012"],
         "instanceAge": "1h"}
    p.update(over)
    add_provisioner(pki, p)
    return nginx_factory().start()


def test_aws_instance_is_trusted_on_first_use_only(nginx_factory, pki, aws):
    n = aws_ca(nginx_factory, pki, aws)
    doc = aws.document()
    status, _, body = sign(n, make_csr("i-0a1b2c3d4e5f60718", ["app.internal.test"])[0], aws.token(n, doc))
    assert status == 201, body
    assert dns_names(body)[1] == ["app.internal.test"]
    # The same instance again, with a fresh token: its identity document
    # can be read by anything on the instance, so it is refused.
    assert_401(sign(n, make_csr("i-0a1b2c3d4e5f60718")[0], aws.token(n, doc)))
    # ... also after a restart: the claim is in the store.
    n.stop()
    n.proc = None
    n.start()
    assert_401(sign(n, make_csr("i-0a1b2c3d4e5f60718")[0], aws.token(n, doc)))
    # Another instance is fine.
    other = aws.document(instance="i-0ffff", ip="10.0.4.18")
    assert sign(n, make_csr("i-0ffff")[0], aws.token(n, other, sub="i-0ffff"))[0] == 201


def test_aws_disable_custom_sans_and_tofu(nginx_factory, pki, aws):
    n = aws_ca(nginx_factory, pki, aws, disableCustomSANs=True, disableTrustOnFirstUse=True)
    doc = aws.document()
    dns = "ip-10-0-4-17.us-east-1.compute.internal"
    for _ in range(2):  # without TOFU the instance may come back
        token = aws.token(n, doc, sub=dns)
        status, _, body = sign(n, make_csr(dns, [])[0], token)
        assert status == 201, body
    cert, names = dns_names(body)
    assert names == [dns]
    ips = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.IPAddress)
    assert [str(i) for i in ips] == ["10.0.4.17"]
    # ... but each token only once.
    assert_401(sign(n, make_csr(dns, [])[0], token))
    # Only the instance's own names.
    assert sign(n, make_csr(dns, ["evil.example.com"])[0], aws.token(n, doc, sub=dns))[0] == 403
    assert_401(sign(n, make_csr("evil.example.com")[0], aws.token(n, doc, sub="evil.example.com")))


def test_aws_bad_documents_are_refused(nginx_factory, pki, aws):
    n = aws_ca(nginx_factory, pki, aws)
    rogue = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    old = aws.document(pending="2020-01-01T00:00:00Z")
    cases = [aws.token(n, aws.document(), signer=rogue),          # not signed by AWS
             aws.token(n, aws.document(account="999999999999")),  # not our account
             aws.token(n, old),                                   # instanceAge
             aws.token(n, aws.document(), name="other")]          # audience of another provisioner
    for token in cases:
        assert_401(sign(n, make_csr("i-0a1b2c3d4e5f60718")[0], token))
    # The CSR's common name must be the token's subject.
    assert sign(n, make_csr("someone.else")[0], aws.token(n, aws.document()))[0] == 403


# ---------------------------------------------------------------- GCP


@pytest.fixture
def google():
    g = Issuer()
    g.add_rsa_key("g1")
    yield g
    g.stop()


def gcp_claims(n, instance="4417262739012345678", name="web-1", **over):
    now = int(time.time())
    c = {"iss": "https://accounts.google.com", "sub": "112233445566778899000",
         "aud": "https://127.0.0.1:%d/1.0/sign#gcp/gcp" % n.port, "azp": "112233445566778899000",
         "email": "ca-client@proj-1.iam.gserviceaccount.com", "email_verified": True,
         "iat": now, "exp": now + 600,
         "google": {"compute_engine": {"instance_creation_timestamp": now - 300, "instance_id": instance,
                                       "instance_name": name, "project_id": "proj-1",
                                       "project_number": 123456789012, "zone": "us-central1-a"}}}
    c.update(over)
    return c


def test_gcp_identity_token(nginx_factory, pki, google):
    add_provisioner(pki, {"type": "GCP", "name": "gcp", "certsURL": google.url + "/jwks",
                          "projectIDs": ["proj-1"],
                          "serviceAccounts": ["ca-client@proj-1.iam.gserviceaccount.com"],
                          "instanceAge": "1h"})
    n = nginx_factory().start()
    status, _, body = sign(n, make_csr("web-1.example.test")[0], google.sign(gcp_claims(n), "g1"))
    assert status == 201, body
    assert dns_names(body)[1] == ["web-1.example.test"]
    # Trust on first use: the same VM again is refused.
    assert_401(sign(n, make_csr("web-1.example.test")[0], google.sign(gcp_claims(n), "g1")))
    bad = [gcp_claims(n, instance="2", iss="https://accounts.evil.test"),
           gcp_claims(n, instance="3", aud="https://127.0.0.1:%d/1.0/sign#gcp/other" % n.port),
           gcp_claims(n, instance="4", email="intruder@proj-2.iam.gserviceaccount.com", sub="9"),
           gcp_claims(n, instance="5", exp=int(time.time()) - 600, iat=int(time.time()) - 1200)]
    bad.append(gcp_claims(n, instance="6"))
    bad[-1]["google"]["compute_engine"]["project_id"] = "proj-2"
    bad.append(gcp_claims(n, instance="7"))
    bad[-1]["google"]["compute_engine"]["instance_creation_timestamp"] = int(time.time()) - 7200
    for claims in bad:
        assert_401(sign(n, make_csr("web-1.example.test")[0], google.sign(claims, "g1")))


# ---------------------------------------------------------------- Azure


@pytest.fixture
def azure_ad():
    a = Issuer()
    a.add_rsa_key("a1")
    yield a
    a.stop()


def azure_claims(issuer, mirid=MIRID, **over):
    now = int(time.time())
    c = {"aud": "https://management.azure.com/", "iss": issuer.url, "iat": now, "nbf": now,
         "exp": now + 3600, "aio": "E2ZgYJ", "appid": "b2a6c3d4-aaaa-4bbb-8ccc-111111111111",
         "appidacr": "2", "idp": issuer.url, "oid": "c3d4e5f6-0000-4000-8000-222222222222",
         "sub": "c3d4e5f6-0000-4000-8000-222222222222", "tid": TENANT, "uti": "x", "ver": "1.0",
         "xms_mirid": mirid}
    c.update(over)
    return c


def test_azure_managed_identity_token(nginx_factory, pki, azure_ad):
    add_provisioner(pki, {"type": "Azure", "name": "azure", "tenantID": TENANT,
                          "configurationEndpoint": azure_ad.url + "/.well-known/openid-configuration",
                          "resourceGroups": ["prod-rg"]})
    n = nginx_factory().start()
    status, _, body = sign(n, make_csr("web-vm-1.example.test")[0], azure_ad.sign(azure_claims(azure_ad), "a1"))
    assert status == 201, body
    assert dns_names(body)[1] == ["web-vm-1.example.test"]
    # The same VM again: refused (trust on first use).
    assert_401(sign(n, make_csr("web-vm-1.example.test")[0],
                    azure_ad.sign(azure_claims(azure_ad, uti="y"), "a1")))
    other_vm = MIRID.replace("web-vm-1", "web-vm-%d")
    bad = [azure_claims(azure_ad, mirid=other_vm % 2, tid="another-tenant"),
           azure_claims(azure_ad, mirid=other_vm % 3, aud="https://vault.azure.net"),
           azure_claims(azure_ad, mirid=other_vm % 4, iss="https://sts.evil.test/"),
           azure_claims(azure_ad, mirid=other_vm.replace("prod-rg", "dev-rg") % 5),
           azure_claims(azure_ad, mirid="/subscriptions/x/resourceGroups/prod-rg"),
           azure_claims(azure_ad, mirid=other_vm % 6, exp=int(time.time()) - 600)]
    for claims in bad:
        assert_401(sign(n, make_csr("vm.example.test")[0], azure_ad.sign(claims, "a1")))


# ---------------------------------------------------------------- SCEP


def test_scep_stays_listed_and_refused_with_a_warning(nginx_factory, pki):
    add_provisioner(pki, {"type": "SCEP", "name": "scep"})
    n = nginx_factory().start()
    log = n.read_file("error.log") + n.read_file("stdout.log")
    assert 'SCEP provisioner "scep"' in log and "refused" in log
    status, _, body = n.get("/1.0/provisioners")
    assert "SCEP" in [p["type"] for p in json.loads(body)["provisioners"]]
