"""CA keys in cloud KMS, end to end, against fakes written here from each
service's public API documentation (no cloud is reachable from the tests):
AWS KMS (t/fake_aws_kms.py: SigV4 checked), Google Cloud KMS
(t/fake_gcp_kms.py: the service-account JWT grant verified, only its own
bearer tokens accepted) and Azure Key Vault (t/fake_azure_kv.py: client
credentials checked, only its own tokens accepted). Each fake holds the
real intermediate key and signs with it; the module issues certificates
through it and openssl verifies them. Faults: wrong credentials, the KMS
down at load and while serving, a key that does not match crt: each a
clear error, no crash, and no secret in any log."""

import json
import os
import re
import subprocess
import time
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import fake_aws_kms
import fake_azure_kv
import fake_gcp_kms
from fake_aws_kms import FakeAwsKms
from fake_azure_kv import FakeAzureKeyVault
from fake_gcp_kms import FakeGcpKms
from ssh_signature import verify_certificate
from tokens import Provisioner, make_csr

PROV_PASSWORD = "fixture-provisioner-password"  # the fixture PKI's JWK provisioner
AWS_KEY_ID = "f879f239-feb6-4596-9ed2-b1606277c7fe"
GCP_KEY = "projects/fake-project/locations/global/keyRings/pki/cryptoKeys/intermediate/cryptoKeyVersions/1"


def decrypted_key(pki, path):
    out = subprocess.run(["openssl", "ec", "-in", path, "-passin", "file:" + pki.password_file],
                         capture_output=True, check=True, timeout=30)
    return serialization.load_pem_private_key(out.stdout, password=None)


@pytest.fixture
def keys(pki):
    """The fixture PKI's intermediate key (matches crt) and root key (does not)."""
    return {"intermediate": decrypted_key(pki, pki.intermediate_key),
            "root": decrypted_key(pki, pki.root_key)}


@pytest.fixture
def fakes():
    started = []

    def start(fake):
        started.append(fake.start())
        return fake

    yield start
    for f in started:
        f.stop()


def configure(pki, key, kms, ssh=None):
    doc = pki.read_ca_json()
    doc["key"] = key
    doc["kms"] = kms
    if ssh is not None:
        doc["ssh"] = ssh
        for p in doc["authority"]["provisioners"]:
            p.setdefault("claims", {})["enableSSHCA"] = True
    pki.write_ca_json(doc)


def aud(n, path="/1.0/sign"):
    return "https://127.0.0.1:%d%s" % (n.port, path)


def sign(n, prov, cn):
    csr, _ = make_csr(cn)
    body = json.dumps({"csr": csr, "ott": prov.token(cn, aud(n))})
    status, _, data = n.request("POST", "/1.0/sign", body=body,
                                headers={"Content-Type": "application/json"})
    return status, data


def openssl_verify(pki, tmp, resp, name):
    leaf, chain = os.path.join(tmp, name + ".crt"), os.path.join(tmp, name + ".chain")
    with open(leaf, "w") as f:
        f.write(resp["crt"])
    with open(chain, "w") as f:
        f.write("".join(resp["certChain"][1:]))
    out = subprocess.run(["openssl", "verify", "-CAfile", pki.root_crt, "-untrusted", chain, leaf],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr


def issue_and_verify(n, pki, tmp, count=3):
    prov = Provisioner(pki.ca_json, PROV_PASSWORD)
    inter = x509.load_pem_x509_certificate(open(pki.intermediate_crt, "rb").read())
    for i in range(count):
        status, data = sign(n, prov, "kms%d.example.test" % i)
        assert status == 201, data
        resp = json.loads(data)
        openssl_verify(pki, tmp, resp, "leaf%d" % i)
        assert x509.load_pem_x509_certificate(resp["crt"].encode()).issuer == inter.subject


def assert_no_secret(n, *secrets):
    text = n.read_file("error.log") + n.read_file("stdout.log")
    for s in secrets:
        assert s not in text, "a secret is in nginx's log"


def refused(n, *needles, secrets=()):
    t = n.test_config()
    assert t.returncode != 0, t.stdout + t.stderr
    for s in needles:
        assert s in t.stderr, "%r not in:\n%s" % (s, t.stderr)
    for s in secrets:
        assert s not in t.stdout + t.stderr, "a secret is in nginx -t's output"
    return t.stderr


# ---------------------------------------------------------------- AWS KMS


def aws_credentials_file(prefix, secret=fake_aws_kms.SECRET_ACCESS_KEY, profile="stepca"):
    path = os.path.join(prefix, "aws-credentials")
    with open(path, "w") as f:
        f.write("[default]\naws_access_key_id = AKIAWRONGPROFILE0000\n"
                "aws_secret_access_key = not-this-one\n\n"
                "[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                % (profile, fake_aws_kms.ACCESS_KEY_ID, secret))
    os.chmod(path, 0o600)
    return path


def aws_kms(fake, prefix, **kw):
    return {"type": "awskms",
            "uri": "awskms:region=%s;profile=stepca;credentials-file=%s;endpoint=%s"
                   % (fake_aws_kms.REGION, aws_credentials_file(prefix, **kw), fake.url)}


def test_aws_kms_issues_through_sigv4_signed_calls(pki, keys, fakes, nginx_factory, prefix, tmp_path):
    fake = fakes(FakeAwsKms())
    fake.add_key(AWS_KEY_ID, keys["intermediate"])
    configure(pki, "awskms:key-id=" + AWS_KEY_ID, aws_kms(fake, prefix))
    n = nginx_factory()
    t = n.test_config()
    assert t.returncode == 0, t.stderr
    n.start()
    before = fake.signs()
    issue_and_verify(n, pki, str(tmp_path))
    assert fake.signs() >= before + 3
    assert_no_secret(n, fake_aws_kms.SECRET_ACCESS_KEY)


def test_aws_kms_credentials_and_endpoint_from_the_environment(pki, keys, fakes, nginx_factory,
                                                               monkeypatch, tmp_path):
    fake = fakes(FakeAwsKms())
    fake.add_key(AWS_KEY_ID, keys["intermediate"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", fake_aws_kms.ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", fake_aws_kms.SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", fake.url)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    configure(pki, "awskms:key-id=" + AWS_KEY_ID, {"type": "awskms", "region": fake_aws_kms.REGION})
    n = nginx_factory().start()
    issue_and_verify(n, pki, str(tmp_path), count=1)


def test_aws_kms_wrong_secret_fails_nginx_t_naming_the_key(pki, keys, fakes, nginx_factory, prefix):
    fake = fakes(FakeAwsKms())
    fake.add_key(AWS_KEY_ID, keys["intermediate"])
    wrong = "wrong/Secret+Key/0000000000000000000000"
    configure(pki, "awskms:key-id=" + AWS_KEY_ID, aws_kms(fake, prefix, secret=wrong))
    refused(nginx_factory(), 'field "key"', "awskms:key-id=" + AWS_KEY_ID,
            "InvalidSignatureException", secrets=(wrong, fake_aws_kms.SECRET_ACCESS_KEY))


def test_aws_kms_missing_profile_and_region_are_named(pki, fakes, nginx_factory, prefix):
    fake = fakes(FakeAwsKms())
    creds = aws_credentials_file(prefix)
    configure(pki, "awskms:key-id=" + AWS_KEY_ID,
              {"type": "awskms", "uri": "awskms:region=us-west-2;profile=nobody;credentials-file="
                                        + creds + ";endpoint=" + fake.url})
    refused(nginx_factory(), "has no profile [nobody]", secrets=(fake_aws_kms.SECRET_ACCESS_KEY,))
    configure(pki, "awskms:key-id=" + AWS_KEY_ID,
              {"type": "awskms", "uri": "awskms:profile=stepca;credentials-file=" + creds})
    n = nginx_factory("nginx2")
    env_region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if env_region is None:
        refused(n, "awskms: no region")


def test_aws_kms_unknown_key_is_named(pki, keys, fakes, nginx_factory, prefix):
    fake = fakes(FakeAwsKms())
    fake.add_key(AWS_KEY_ID, keys["intermediate"])
    configure(pki, "awskms:key-id=00000000-no-such-key", aws_kms(fake, prefix))
    refused(nginx_factory(), "awskms:key-id=00000000-no-such-key", "NotFoundException")


# ---------------------------------------------------------------- Google Cloud KMS


def gcp_kms(fake, prefix, account_key=None):
    path = os.path.join(prefix, "gcp-credentials.json")
    with open(path, "w") as f:
        json.dump(fake.credentials(account_key), f)
    os.chmod(path, 0o600)
    return {"type": "cloudkms",
            "uri": "cloudkms:credentials-file=%s;endpoint=%s" % (path, fake.url)}


def test_cloud_kms_issues_with_one_cached_oauth_token(pki, keys, fakes, nginx_factory, prefix,
                                                     tmp_path):
    fake = fakes(FakeGcpKms())
    fake.add_key(GCP_KEY, keys["intermediate"])
    configure(pki, GCP_KEY, gcp_kms(fake, prefix))
    n = nginx_factory().start()
    grants = fake.grants()
    assert grants >= 1  # the master read the public key with a token
    before = fake.signs()
    issue_and_verify(n, pki, str(tmp_path), count=4)
    assert fake.signs() >= before + 4
    # The token is cached (the workers inherit the master's): no new grant.
    assert fake.grants() == grants
    log = n.read_file("error.log")
    for token in fake.tokens:
        assert token not in log


def test_cloud_kms_fake_accepts_only_its_own_tokens(fakes):
    fake = fakes(FakeGcpKms())
    fake.add_key(GCP_KEY, ec.generate_private_key(ec.SECP256R1()))
    req = urllib.request.Request(fake.url + "/v1/" + GCP_KEY + "/publicKey",
                                 headers={"Authorization": "Bearer ya29.made-up"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 401


def test_cloud_kms_expired_token_is_fetched_again(pki, keys, fakes, nginx_factory, prefix, tmp_path):
    fake = fakes(FakeGcpKms(token_lifetime=2))
    fake.add_key(GCP_KEY, keys["intermediate"])
    configure(pki, GCP_KEY, gcp_kms(fake, prefix))
    n = nginx_factory(workers=1).start()
    prov = Provisioner(pki.ca_json, PROV_PASSWORD)
    status, data = sign(n, prov, "first.example.test")
    assert status == 201, data
    grants = fake.grants()
    time.sleep(2.5)
    status, data = sign(n, prov, "second.example.test")
    assert status == 201, data
    assert fake.grants() > grants


def test_cloud_kms_wrong_service_account_key_fails_nginx_t(pki, keys, fakes, nginx_factory, prefix):
    fake = fakes(FakeGcpKms())
    fake.add_key(GCP_KEY, keys["intermediate"])
    from cryptography.hazmat.primitives.asymmetric import rsa
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    configure(pki, GCP_KEY, gcp_kms(fake, prefix, account_key=other))
    refused(nginx_factory(), 'field "key"', GCP_KEY, "invalid_grant", "Invalid JWT Signature",
            secrets=("PRIVATE KEY",))


def test_cloud_kms_key_name_must_be_a_version(pki, fakes, nginx_factory, prefix):
    fake = fakes(FakeGcpKms())
    configure(pki, "projects/p/locations/global/keyRings/pki/cryptoKeys/intermediate",
              gcp_kms(fake, prefix))
    refused(nginx_factory(), "must be a key version name")


# ---------------------------------------------------------------- Azure Key Vault


def azure_kms(fake, secret=fake_azure_kv.CLIENT_SECRET, with_credentials=True):
    uri = "azurekms:endpoint=%s;login-endpoint=%s" % (fake.url, fake.url)
    if with_credentials:
        uri = "azurekms:tenant-id=%s;client-id=%s;client-secret=%s;endpoint=%s;login-endpoint=%s" % (
            fake_azure_kv.TENANT_ID, fake_azure_kv.CLIENT_ID, secret, fake.url, fake.url)
    return {"type": "azurekms", "uri": uri}


def test_azure_key_vault_issues_with_client_credentials(pki, keys, fakes, nginx_factory, tmp_path):
    fake = fakes(FakeAzureKeyVault())
    version = fake.add_key("intermediate-ca-key", keys["intermediate"])
    configure(pki, "azurekms:name=intermediate-ca-key;vault=example-vault-0?version=" + version,
              azure_kms(fake))
    n = nginx_factory().start()
    grants = fake.grants()
    before = fake.signs()
    issue_and_verify(n, pki, str(tmp_path))
    assert fake.signs() >= before + 3
    assert fake.grants() == grants
    assert_no_secret(n, fake_azure_kv.CLIENT_SECRET)


def test_azure_key_vault_latest_version_and_environment_credentials(pki, keys, fakes, nginx_factory,
                                                                    monkeypatch, tmp_path):
    fake = fakes(FakeAzureKeyVault())
    fake.add_key("intermediate-ca-key", keys["root"])  # an older version
    fake.add_key("intermediate-ca-key", keys["intermediate"])  # the latest
    monkeypatch.setenv("AZURE_TENANT_ID", fake_azure_kv.TENANT_ID)
    monkeypatch.setenv("AZURE_CLIENT_ID", fake_azure_kv.CLIENT_ID)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", fake_azure_kv.CLIENT_SECRET)
    configure(pki, "azurekms:name=intermediate-ca-key;vault=example-vault-0",
              azure_kms(fake, with_credentials=False))
    n = nginx_factory().start()
    issue_and_verify(n, pki, str(tmp_path), count=1)


def test_azure_key_vault_wrong_secret_fails_nginx_t(pki, keys, fakes, nginx_factory):
    fake = fakes(FakeAzureKeyVault())
    fake.add_key("intermediate-ca-key", keys["intermediate"])
    wrong = "not-the-client-secret-7731"
    configure(pki, "azurekms:name=intermediate-ca-key;vault=example-vault-0",
              azure_kms(fake, secret=wrong))
    refused(nginx_factory(), "azurekms:name=intermediate-ca-key;vault=example-vault-0",
            "invalid_client", secrets=(wrong,))


def test_azure_key_vault_without_credentials_says_where_they_go(pki, fakes, nginx_factory,
                                                                monkeypatch):
    fake = fakes(FakeAzureKeyVault())
    for v in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(v, raising=False)
    configure(pki, "azurekms:name=k;vault=v", azure_kms(fake, with_credentials=False))
    refused(nginx_factory(), "no client credentials", "AZURE_CLIENT_SECRET")


# ---------------------------------------------------------------- faults shared by all


def start_backend(kind, fakes, keys, key_name, prefix):
    """(fake, key URI, kms object) of one backend holding keys[key_name]."""
    if kind == "aws":
        fake = fakes(FakeAwsKms())
        fake.add_key(AWS_KEY_ID, keys[key_name])
        return fake, "awskms:key-id=" + AWS_KEY_ID, aws_kms(fake, prefix)
    if kind == "gcp":
        fake = fakes(FakeGcpKms())
        fake.add_key(GCP_KEY, keys[key_name])
        return fake, GCP_KEY, gcp_kms(fake, prefix)
    fake = fakes(FakeAzureKeyVault())
    version = fake.add_key("intermediate-ca-key", keys[key_name])
    return (fake, "azurekms:name=intermediate-ca-key;vault=example-vault-0?version=" + version,
            azure_kms(fake))


@pytest.mark.parametrize("kind", ["aws", "gcp", "azure"])
def test_key_that_does_not_match_crt_fails_nginx_t_naming_it(kind, pki, keys, fakes, nginx_factory,
                                                             prefix):
    fake, key, kms = start_backend(kind, fakes, keys, "root", prefix)
    configure(pki, key, kms)
    refused(nginx_factory(), 'field "key"', "does not match the certificate in " + pki.intermediate_crt,
            key.split("?")[0])


@pytest.mark.parametrize("kind", ["aws", "gcp", "azure"])
def test_kms_down_at_load_fails_nginx_t_naming_it(kind, pki, keys, fakes, nginx_factory, prefix):
    fake, key, kms = start_backend(kind, fakes, keys, "intermediate", prefix)
    fake.stop()
    configure(pki, key, kms)
    refused(nginx_factory(), 'field "key"', "127.0.0.1:%d cannot be reached" % fake.port,
            key.split("?")[0])


@pytest.mark.allow_error_log
@pytest.mark.parametrize("kind", ["aws", "gcp", "azure"])
def test_kms_down_while_serving_is_503_then_comes_back(kind, pki, keys, fakes, nginx_factory,
                                                       prefix):
    fake, key, kms = start_backend(kind, fakes, keys, "intermediate", prefix)
    configure(pki, key, kms)
    n = nginx_factory().start()
    prov = Provisioner(pki.ca_json, PROV_PASSWORD)
    status, data = sign(n, prov, "before.example.test")
    assert status == 201, data
    fake.stop()
    for i in range(4):
        status, data = sign(n, prov, "down%d.example.test" % i)
        assert status == 503, data
        assert json.loads(data)["status"] == 503
    fake.restart()
    deadline = time.monotonic() + 15
    ok = 0
    while time.monotonic() < deadline and ok < 3:
        status, data = sign(n, prov, "back%d.example.test" % ok)
        if status == 201:
            ok += 1
        else:
            assert status == 503, data
            time.sleep(0.2)
    assert ok == 3, "the CA did not come back with the KMS"
    log = n.read_file("error.log")
    assert "cannot be reached" in log and key.split("?")[0].split(";")[0] in log, log[-2000:]
    # Two workers, and neither was respawned.
    assert len(re.findall(r"start worker process \d+", log)) == 2
    assert "exited on signal" not in log
    assert_no_secret(n, fake_aws_kms.SECRET_ACCESS_KEY, fake_azure_kv.CLIENT_SECRET)


def test_kms_type_must_fit_the_key(pki, nginx_factory):
    configure(pki, "awskms:key-id=" + AWS_KEY_ID, {"type": "cloudkms"})
    refused(nginx_factory(), 'field "kms.type"', '"cloudkms" does not fit key, a awskms key')


# ---------------------------------------------------------------- SSH through a KMS


def test_ssh_user_key_in_aws_kms_signs_certificates_ssh_keygen_reads(pki, keys, fakes,
                                                                     nginx_factory, prefix,
                                                                     tmp_path):
    import shutil
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed")
    fake = fakes(FakeAwsKms())
    fake.add_key(AWS_KEY_ID, keys["intermediate"])
    ssh_ca = ec.generate_private_key(ec.SECP384R1())
    fake.add_key("ssh-user-key", ssh_ca)
    configure(pki, "awskms:key-id=" + AWS_KEY_ID, aws_kms(fake, prefix),
              ssh={"userKey": "awskms:key-id=ssh-user-key"})
    n = nginx_factory().start()
    prov = Provisioner(pki.ca_json, PROV_PASSWORD)
    user = ec.generate_private_key(ec.SECP256R1())
    pub = user.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode().split()[1]
    ott = prov.token("alice@example.test", aud(n, "/1.0/ssh/sign"), sans=[], step={"ssh": {
        "certType": "user", "keyID": "alice@example.test", "principals": ["alice"],
        "validAfter": "", "validBefore": ""}})
    status, _, data = n.request("POST", "/ssh/sign", body=json.dumps(
        {"publicKey": pub, "ott": ott, "certType": "user", "keyID": "alice@example.test",
         "principals": ["alice"]}), headers={"Content-Type": "application/json"})
    assert status == 201, data
    crt = json.loads(data)["crt"]
    path = str(tmp_path / "alice-cert.pub")
    with open(path, "w") as f:
        f.write("ecdsa-sha2-nistp256-cert-v01@openssh.com " + crt + "\n")
    out = subprocess.run(["ssh-keygen", "-L", "-f", path], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    ca_pub = str(tmp_path / "ca.pub")
    with open(ca_pub, "wb") as f:
        f.write(ssh_ca.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                 serialization.PublicFormat.OpenSSH) + b"\n")
    fp = subprocess.run(["ssh-keygen", "-l", "-f", ca_pub], capture_output=True, text=True,
                        timeout=30).stdout.split()[1]
    assert "Signing CA: ECDSA %s (using ecdsa-sha2-nistp384)" % fp in out.stdout, out.stdout
    # The certificate's signature verifies with the CA public key.
    assert verify_certificate(crt, ssh_ca.public_key()) == "ecdsa-sha2-nistp384"


# ---------------------------------------------------------------- RSA keys


def rsa_intermediate(pki, keys, prefix):
    """A 2048-bit RSA intermediate signed by the fixture root, written as
    crt; returns its private key (which the fakes hold)."""
    import datetime
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = x509.load_pem_x509_certificate(open(pki.root_crt, "rb").read())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "RSA KMS Intermediate")]))
            .issuer_name(root.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(keys["root"], hashes.SHA256()))
    path = os.path.join(prefix, "rsa_intermediate.crt")
    with open(path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    os.chmod(path, 0o644)
    doc = pki.read_ca_json()
    doc["crt"] = path
    pki.write_ca_json(doc)
    pki.intermediate_crt = path
    return key


@pytest.mark.parametrize("kind,algorithm,oid", [
    ("aws", None, x509.SignatureAlgorithmOID.RSA_WITH_SHA256),
    ("gcp", "RSA_SIGN_PKCS1_2048_SHA256", x509.SignatureAlgorithmOID.RSA_WITH_SHA256),
    ("gcp", "RSA_SIGN_PSS_2048_SHA256", x509.SignatureAlgorithmOID.RSASSA_PSS),
    ("azure", None, x509.SignatureAlgorithmOID.RSA_WITH_SHA256),
])
def test_rsa_keys_in_a_kms_issue_certificates(kind, algorithm, oid, pki, keys, fakes, nginx_factory,
                                              prefix, tmp_path):
    keys = dict(keys, rsa=rsa_intermediate(pki, keys, prefix))
    fake, key, kms = start_backend(kind, fakes, keys, "rsa", prefix)
    if algorithm:
        fake.add_key(GCP_KEY, keys["rsa"], algorithm)
    configure(pki, key, kms)
    n = nginx_factory().start()
    prov = Provisioner(pki.ca_json, PROV_PASSWORD)
    status, data = sign(n, prov, "rsa.example.test")
    assert status == 201, data
    resp = json.loads(data)
    openssl_verify(pki, str(tmp_path), resp, "rsa")
    cert = x509.load_pem_x509_certificate(resp["crt"].encode())
    assert cert.signature_algorithm_oid == oid
