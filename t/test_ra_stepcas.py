"""Registration authority mode, StepCAS: our module in front of the real
step-ca 0.19 (build/smallstep/bin/step-ca) as its upstream.

The upstream runs on a copy of the fixture PKI. The RA's ca.json has no
root, crt or key: it names the upstream (URL, root fingerprint) and the
upstream provisioner it signs with (certificateIssuer, JWK or X5C), and
keeps its own provisioners for its clients. Every certificate here is
signed by the upstream's intermediate; the RA only authorizes and forwards.
"""

import json
import os
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from conftest import copy_pki
from test_smallstep_compat import FIXTURE_FP, STEP_CA, StepCa, _BUILT
from tokens import Provisioner, make_csr

pytestmark = pytest.mark.skipif(
    not _BUILT, reason="real step-ca not built (scripts/build-smallstep.sh): %s" % STEP_CA)

PROVISIONER_PASSWORD = "fixture-provisioner-password"
UPSTREAM_JWK = "fixture@example.test"   # the upstream's JWK provisioner
UPSTREAM_X5C = "x5c"                    # the upstream's X5C provisioner (fixture root)
RA_JWK = "ra-clients"                   # the RA's own JWK provisioner, for its clients
PROVISIONER_OID = x509.ObjectIdentifier("1.3.6.1.4.1.37476.9000.64.1")


# ---------------------------------------------------------------- helpers


def load_pems(text):
    if isinstance(text, str):
        text = text.encode()
    out, rest = [], text
    marker = b"-----END CERTIFICATE-----"
    while marker in rest:
        i = rest.index(marker) + len(marker)
        out.append(x509.load_pem_x509_certificate(rest[:i].strip() + b"\n"))
        rest = rest[i:]
    return out


def der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def provisioner_name(cert):
    """The name in step's provisioner extension: who the SIGNING CA saw."""
    value = cert.extensions.get_extension_for_oid(PROVISIONER_OID).value.value
    # SEQUENCE { INTEGER type, OCTET STRING name, OCTET STRING credentialID }
    i = 2 if value[1] < 0x80 else 2 + (value[1] & 0x7F)
    i += 2 + value[i + 1]          # skip the INTEGER
    n = value[i + 1]
    return value[i + 2:i + 2 + n].decode()


def post(n, path, doc, **kw):
    return n.request("POST", path, body=json.dumps(doc),
                     headers={"Content-Type": "application/json"}, **kw)


class Upstream:
    """The real step-ca on its own copy of the fixture PKI."""

    def __init__(self, prefix, factory):
        self.pki = copy_pki(os.path.join(prefix, "upstream-pki"))
        os.makedirs(os.path.join(self.pki.path, "db"))
        self.provisioner_password_file = os.path.join(self.pki.path, "provisioner-password.txt")
        self.ca = factory(self.pki.ca_json, self.pki.password_file, prefix)
        self.url = self.ca.url
        self.jwk = Provisioner(self.pki.ca_json, PROVISIONER_PASSWORD)

    def sign(self, cn, sans=None):
        """A certificate straight from the upstream (not through the RA)."""
        csr, key = make_csr(cn, sans)
        token = self.jwk.token(cn, self.url + "/1.0/sign", sans)
        out = subprocess.run(
            ["curl", "-sS", "--cacert", self.pki.root_crt, "-H", "Content-Type: application/json",
             "-d", json.dumps({"csr": csr, "ott": token}), self.url + "/1.0/sign"],
            capture_output=True, text=True, timeout=60, check=True)
        return json.loads(out.stdout), key

    def post(self, path, doc):
        out = subprocess.run(
            ["curl", "-sS", "-w", "\n%{http_code}", "--cacert", self.pki.root_crt,
             "-H", "Content-Type: application/json", "-d", json.dumps(doc), self.url + path],
            capture_output=True, text=True, timeout=60, check=True)
        body, _, code = out.stdout.rpartition("\n")
        return int(code), body


def ra_ca_json(pki, upstream_url, issuer, fingerprint=FIXTURE_FP, nginx_stepca=None):
    """The fixture ca.json turned into an RA's: no root, crt, key; the
    upstream and the issuer; its JWK provisioner renamed so that a leaf
    tells which CA's provisioner signed it."""
    doc = pki.read_ca_json()
    for f in ("root", "crt", "key", "db", "address"):
        doc.pop(f, None)
    a = doc["authority"]
    a["type"] = "stepcas"
    a["certificateAuthority"] = upstream_url
    a["certificateAuthorityFingerprint"] = fingerprint
    a["certificateIssuer"] = issuer
    a["provisioners"][0]["name"] = RA_JWK
    if nginx_stepca is not None:
        doc["nginxStepca"] = nginx_stepca
    pki.write_ca_json(doc)


@pytest.fixture
def upstream(prefix, step_ca_factory):
    return Upstream(prefix, step_ca_factory)


@pytest.fixture
def step_ca_factory():
    made = []

    def make(*a):
        s = StepCa(*a)
        made.append(s)
        return s.start()

    yield make
    for s in made:
        s.stop()


def make_ra(nginx_factory, pki, upstream, issuer=None, password_file=None, start=True, **kw):
    if issuer is None:
        issuer = {"type": "jwk", "provisioner": UPSTREAM_JWK}
        if password_file is None:
            password_file = upstream.provisioner_password_file
    ra_ca_json(pki, upstream.url, issuer, **kw)
    extra = ("    stepca_issuer_password_file %s;\n" % password_file) if password_file else ""
    n = nginx_factory(password_file=None, http_extra=extra)
    return n.start() if start else n


@pytest.fixture
def ra(nginx_factory, pki, upstream):
    """Our module as an RA over the real step-ca, JWK issuer."""
    return make_ra(nginx_factory, pki, upstream)


def ra_sign(ra, pki, cn, sans=None):
    prov = Provisioner(pki.ca_json, PROVISIONER_PASSWORD)
    csr, key = make_csr(cn, sans)
    token = prov.token(cn, "https://127.0.0.1:%d/1.0/sign" % ra.port, sans)
    status, _, body = post(ra, "/1.0/sign", {"csr": csr, "ott": token})
    return status, body, csr, token, key


def assert_signed_by_upstream(doc, upstream, cn, provisioner):
    chain = [load_pems(p)[0] for p in doc["certChain"]]
    leaf = chain[0]
    inter = load_pems(open(upstream.pki.intermediate_crt).read())[0]
    assert der(chain[1]) == der(inter)
    assert doc["ca"].strip() == open(upstream.pki.intermediate_crt).read().strip()
    assert leaf.issuer == inter.subject
    assert leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == cn
    # the upstream's provisioner, not the RA's, is in the leaf: the
    # upstream built and signed it
    assert provisioner_name(leaf) == provisioner
    return leaf


# ---------------------------------------------------------------- JWK issuer


def test_ra_serves_the_upstream_root(ra, upstream):
    root = open(upstream.pki.root_crt).read().strip()
    status, _, body = ra.get("/roots")
    assert status == 201, body
    assert [c.strip() for c in json.loads(body)["crts"]] == [root]
    status, _, body = ra.get("/root/" + FIXTURE_FP)
    assert status == 200, body
    assert json.loads(body)["ca"].strip() == root
    status, _, body = ra.get("/federation")
    assert status == 201, body
    assert [c.strip() for c in json.loads(body)["crts"]] == [root]


def test_ra_with_a_jwk_issuer_signs_through_the_real_step_ca(ra, pki, upstream, tmp_path):
    status, body, _, token, _ = ra_sign(ra, pki, "ra-leaf.example.test")
    assert status == 201, body
    doc = json.loads(body)
    assert_signed_by_upstream(doc, upstream, "ra-leaf.example.test", UPSTREAM_JWK)
    leaf = os.path.join(str(tmp_path), "leaf.crt")
    chain = os.path.join(str(tmp_path), "chain.crt")
    open(leaf, "w").write(doc["crt"])
    open(chain, "w").write("".join(doc["certChain"][1:]))
    out = subprocess.run(["openssl", "verify", "-CAfile", upstream.pki.root_crt,
                          "-untrusted", chain, leaf], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
    # the client's token is spent in the RA, as in a CA
    csr, _ = make_csr("ra-leaf.example.test")
    status, _, body = post(ra, "/1.0/sign", {"csr": csr, "ott": token})
    assert status == 401, body
    assert "issued certificate" in ra.read_file("error.log")


def test_ra_authorizes_with_its_own_provisioners(ra, pki, upstream):
    # a token of the UPSTREAM's provisioner means nothing to the RA's
    csr, _ = make_csr("stranger.example.test")
    token = upstream.jwk.token("stranger.example.test", "https://127.0.0.1:%d/1.0/sign" % ra.port)
    status, _, body = post(ra, "/1.0/sign", {"csr": csr, "ott": token})
    assert status == 401, body
    # and a CSR that does not match the RA token is refused by the RA
    # itself, before the upstream is asked
    prov = Provisioner(pki.ca_json, PROVISIONER_PASSWORD)
    csr, _ = make_csr("other.example.test")
    token = prov.token("asked.example.test", "https://127.0.0.1:%d/1.0/sign" % ra.port)
    status, _, body = post(ra, "/1.0/sign", {"csr": csr, "ott": token})
    assert status in (400, 403), body


def test_revoke_through_the_ra_reaches_the_upstream(ra, pki, upstream):
    status, body, _, _, _ = ra_sign(ra, pki, "revoked.example.test")
    assert status == 201, body
    serial = str(load_pems(json.loads(body)["crt"])[0].serial_number)
    prov = Provisioner(pki.ca_json, PROVISIONER_PASSWORD)
    token = prov.token(serial, "https://127.0.0.1:%d/1.0/revoke" % ra.port, sans=[])
    status, _, body = post(ra, "/1.0/revoke", {"serial": serial, "ott": token,
                                               "passive": True, "reasonCode": 1})
    assert status == 200, body
    assert json.loads(body) == {"status": "ok"}
    # the upstream has it revoked: revoking there again is refused
    again = upstream.jwk.token(serial, upstream.url + "/1.0/revoke", sans=[])
    code, text = upstream.post("/1.0/revoke", {"serial": serial, "ott": again, "passive": True})
    assert code == 400, text
    assert "already revoked" in text, text


# ---------------------------------------------------------------- X5C issuer


@pytest.mark.allow_error_log  # the request made while the file is broken
@pytest.mark.parametrize("encrypted", [False, True])
def test_ra_with_an_x5c_issuer_signs_through_the_real_step_ca(
        nginx_factory, pki, upstream, prefix, encrypted):
    # the RA's credential: a certificate of the upstream's own PKI, which
    # its X5C provisioner trusts
    doc, key = upstream.sign("ra.example.test")
    crt_path = os.path.join(prefix, "ra-x5c.crt")
    key_path = os.path.join(prefix, "ra-x5c.key")
    open(crt_path, "w").write("".join(doc["certChain"]))
    password_file = None
    enc = serialization.NoEncryption()
    if encrypted:
        password_file = os.path.join(prefix, "ra-x5c-password.txt")
        open(password_file, "w").write("ra x5c key password\n")
        enc = serialization.BestAvailableEncryption(b"ra x5c key password")
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8, enc))
    os.chmod(key_path, 0o644)
    ra = make_ra(nginx_factory, pki, upstream,
                 issuer={"type": "x5c", "provisioner": UPSTREAM_X5C,
                         "crt": crt_path, "key": key_path},
                 password_file=password_file)
    status, body, _, _, _ = ra_sign(ra, pki, "via-x5c.example.test")
    assert status == 201, body
    assert_signed_by_upstream(json.loads(body), upstream, "via-x5c.example.test", UPSTREAM_X5C)

    # the files are read per request: a credential rotated on disk is used
    # without a reload (here: replaced by garbage, so the next request
    # fails cleanly and says it is the RA's credential)
    shutil.copy(crt_path, crt_path + ".good")
    open(crt_path, "w").write("not a certificate\n")
    status, body, _, _, _ = ra_sign(ra, pki, "after-rotation.example.test")
    assert status == 503, body
    assert "x5c issuer certificate cannot be read" in json.loads(body)["message"]
    assert "the token was spent" in json.loads(body)["message"]
    shutil.copy(crt_path + ".good", crt_path)
    status, body, _, _, _ = ra_sign(ra, pki, "after-rotation.example.test")
    assert status == 201, body


# ---------------------------------------------------------------- faults


@pytest.mark.allow_error_log
def test_upstream_stopped_gives_503_and_says_the_token_was_spent(ra, pki, upstream):
    upstream.ca.stop()
    status, body, csr, token, _ = ra_sign(ra, pki, "down.example.test")
    assert status == 503, body
    doc = json.loads(body)
    assert doc["status"] == 503
    assert "upstream CA" in doc["message"] and "did not answer" in doc["message"], doc
    assert "the token was spent; please retry with a new token" in doc["message"], doc
    # the upstream's address is for the operator's log, not the client
    assert str(upstream.ca.port) not in doc["message"]
    log = ra.read_file("error.log")
    assert "issued certificate" not in log
    assert upstream.url in log
    # the RA's own routes still answer
    assert ra.get("/roots")[0] == 201
    # and the message told the truth: the token is spent
    status, _, body = post(ra, "/1.0/sign", {"csr": csr, "ott": token})
    assert status == 401, body


@pytest.mark.allow_error_log  # nginx -t logs its [emerg]
def test_a_wrong_fingerprint_refuses_to_start(nginx_factory, pki, upstream):
    wrong = "00" * 32
    n = make_ra(nginx_factory, pki, upstream, start=False, fingerprint=wrong)
    out = n.test_config()
    assert out.returncode != 0
    assert 'field "authority.certificateAuthorityFingerprint"' in out.stderr, out.stderr
    assert "has no root with fingerprint " + wrong in out.stderr, out.stderr


@pytest.mark.allow_error_log  # nginx -t logs its [emerg]
def test_a_wrong_issuer_password_refuses_to_start(nginx_factory, pki, upstream, prefix):
    bad = os.path.join(prefix, "wrong-issuer-password.txt")
    open(bad, "w").write("not the password\n")
    n = make_ra(nginx_factory, pki, upstream, start=False, password_file=bad)
    out = n.test_config()
    assert out.returncode != 0
    assert "authority.certificateIssuer.password" in out.stderr, out.stderr
    assert "wrong issuer password" in out.stderr, out.stderr
    assert "not the password" not in out.stderr


@pytest.mark.allow_error_log  # nginx -t logs its [emerg]
def test_an_unknown_upstream_provisioner_refuses_to_start(nginx_factory, pki, upstream):
    n = make_ra(nginx_factory, pki, upstream, start=False,
                issuer={"type": "jwk", "provisioner": "nobody@example.test"},
                password_file=upstream.provisioner_password_file)
    out = n.test_config()
    assert out.returncode != 0
    assert 'has no JWK provisioner named "nobody@example.test"' in out.stderr, out.stderr


@pytest.mark.allow_error_log  # nginx -t logs its [emerg]
def test_an_unreachable_upstream_refuses_to_start(nginx_factory, pki, upstream):
    upstream.ca.stop()
    n = make_ra(nginx_factory, pki, upstream, start=False)
    out = n.test_config()
    assert out.returncode != 0
    assert 'field "authority.certificateAuthority"' in out.stderr, out.stderr
    assert "did not answer" in out.stderr, out.stderr


@pytest.mark.allow_error_log  # nginx -t logs its [emerg]
def test_a_root_crt_or_key_left_in_refuses_to_start(nginx_factory, pki, upstream):
    n = make_ra(nginx_factory, pki, upstream, start=False)
    doc = pki.read_ca_json()
    doc["crt"] = pki.intermediate_crt
    doc["key"] = pki.intermediate_key
    pki.write_ca_json(doc)
    out = n.test_config()
    assert out.returncode != 0
    assert 'field "crt": a registration authority' in out.stderr, out.stderr
    assert 'remove "crt" and "key" from ca.json' in out.stderr, out.stderr


@pytest.mark.allow_error_log
@pytest.mark.parametrize("type_, words", [
    ("hsmcas", 'unknown type "hsmcas"'),
    # the other RA types read their own fields: a stepcas ca.json retyped
    # is refused for what it lacks, not for the type
    ("cloudCAS", 'field "authority.certificateAuthority": must be a Google CAS name'),
    ("vaultcas", 'field "authority.config": is required for vaultcas'),
])
def test_other_types_fail_nginx_t(nginx_factory, pki, upstream, type_, words):
    n = make_ra(nginx_factory, pki, upstream, start=False)
    doc = pki.read_ca_json()
    doc["authority"]["type"] = type_
    pki.write_ca_json(doc)
    out = n.test_config()
    assert out.returncode != 0
    assert words in out.stderr, out.stderr


class FakeUpstream:
    """A step-ca stand-in on 127.0.0.1 that answers the RA's start-up calls
    as the real one does (the fixture PKI's root, federation, provisioners)
    and then answers /1.0/sign with a chosen status: the faults the real
    step-ca cannot be made to produce on demand."""

    def __init__(self, pki, tls, sign_status, sign_body, sign_delay=0):
        import http.server
        import ssl
        import threading

        root = open(pki.root_crt).read()
        provisioners = pki.read_ca_json()["authority"]["provisioners"]
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def answer(self, code, doc):
                data = json.dumps(doc).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/root/" + FIXTURE_FP:
                    return self.answer(200, {"ca": root})
                if self.path == "/federation":
                    return self.answer(201, {"crts": [root]})
                if self.path.startswith("/1.0/provisioners"):
                    return self.answer(200, {"provisioners": provisioners, "nextCursor": ""})
                self.answer(404, {"status": 404, "message": "not found"})

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                owner.posts.append((self.path, json.loads(self.rfile.read(n))))
                if sign_delay:
                    owner.release.wait(sign_delay)
                self.answer(sign_status, sign_body)

        self.posts = []
        self.release = threading.Event()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.server.server_address[1]
        self.provisioner_password_file = os.path.join(pki.path, "provisioner-password.txt")
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_upstream_factory(server_tls):
    made = []

    def make(pki, status, body, delay=0):
        f = FakeUpstream(pki, server_tls, status, body, delay)
        made.append(f)
        return f

    yield make
    for f in made:
        f.stop()


@pytest.mark.allow_error_log
@pytest.mark.parametrize("status, body, code, words", [
    # the upstream failing is unavailability, never a 500 of ours
    (500, {"status": 500, "message": "The certificate authority encountered an Internal Server Error."},
     503, "the upstream CA could not sign the certificate (HTTP 500)"),
    # the upstream refusing the RA's own token is the RA's fault, not the client's
    (401, {"status": 401, "message": "The request lacked necessary authorization to be completed."},
     503, "the upstream CA did not accept the registration authority's credentials"),
    # the upstream refusing the request itself: its reason is passed on
    (403, {"status": 403, "message": "The request was forbidden by the certificate authority: "
                                     "dns name ra-leaf.example.test not allowed."},
     403, "forbidden by the certificate authority: the upstream CA refused to sign the "
          "certificate: dns name ra-leaf.example.test not allowed."),
    # an answer that is not a certificate
    (201, {"crt": "garbage"}, 503, "the upstream CA gave an answer the registration authority cannot use"),
])
def test_upstream_answers_that_are_not_a_certificate(nginx_factory, pki, prefix, fake_upstream_factory,
                                                     status, body, code, words):
    upstream_pki = copy_pki(os.path.join(prefix, "fake-upstream-pki"))
    fake = fake_upstream_factory(upstream_pki, status, body)
    ra = make_ra(nginx_factory, pki, fake, password_file=fake.provisioner_password_file,
                 issuer={"type": "jwk", "provisioner": UPSTREAM_JWK})
    got, text, _, _, _ = ra_sign(ra, pki, "ra-leaf.example.test")
    assert got == code, text
    doc = json.loads(text)
    assert doc["status"] == code
    assert words in doc["message"], doc
    if code == 503:
        assert "the token was spent" in doc["message"], doc
    assert "issued certificate" not in ra.read_file("error.log")
    # the RA forwarded exactly the client's CSR with a token of its own
    (path, sent), = fake.posts
    assert path == "/1.0/sign"
    assert sent["csr"].startswith("-----BEGIN CERTIFICATE REQUEST-----")
    assert set(sent) == {"csr", "ott", "notAfter"}


@pytest.mark.allow_error_log
def test_a_slow_upstream_is_given_up_after_the_timeout(nginx_factory, pki, prefix, fake_upstream_factory):
    """The RA waits 15 s in all for an upstream call (README), then answers
    503; the upstream here would take 30 s."""
    import time
    upstream_pki = copy_pki(os.path.join(prefix, "slow-upstream-pki"))
    fake = fake_upstream_factory(upstream_pki, 500, {}, delay=30)
    ra = make_ra(nginx_factory, pki, fake, password_file=fake.provisioner_password_file,
                 issuer={"type": "jwk", "provisioner": UPSTREAM_JWK})
    import concurrent.futures
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        slow = ex.submit(ra_sign, ra, pki, "slow.example.test")
        while not fake.posts and time.monotonic() - t0 < 10:
            time.sleep(0.05)
        assert fake.posts, "the RA never called the upstream"
        # while the upstream call waits (on a pool thread), the event loop
        # still serves other requests at once
        t1 = time.monotonic()
        assert ra.get("/health")[0] == 200
        assert time.monotonic() - t1 < 2
        got, text, _, _, _ = slow.result()
    took = time.monotonic() - t0
    assert got == 503, text
    assert 14 < took < 25, took
    doc = json.loads(text)
    assert "the upstream CA did not answer in time" in doc["message"], doc
    assert "the token was spent" in doc["message"], doc
    assert "timed out" in ra.read_file("error.log")


# ---------------------------------------------------------------- stepca init --ra


def test_stepca_init_ra_writes_an_ra_the_module_serves(nginx_factory, upstream, prefix):
    from conftest import BUILD, Pki, free_port
    cli = os.path.join(BUILD, "stepca")
    pw = os.path.join(prefix, "ra-admin-password.txt")
    open(pw, "w").write("ra admin password\n")
    steppath = os.path.join(prefix, "stepca-init-ra")
    base = [cli, "init", "--ra", "stepcas", "--issuer", upstream.url,
            "--issuer-provisioner", UPSTREAM_JWK, "--dns", "127.0.0.1",
            "--address", "127.0.0.1:%d" % free_port(), "--provisioner", "ra-admin",
            "--password-file", pw, "--steppath", steppath]
    # a wrong fingerprint writes nothing
    bad = subprocess.run(base + ["--issuer-fingerprint", "11" * 32],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0
    assert "error downloading the root certificate" in bad.stderr, bad.stderr
    assert not os.path.exists(steppath)
    out = subprocess.run(base + ["--issuer-fingerprint", FIXTURE_FP],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    ca_json = os.path.join(steppath, "config", "ca.json")
    doc = json.load(open(ca_json))
    a = doc["authority"]
    assert (a["type"], a["certificateAuthority"], a["certificateAuthorityFingerprint"]) == \
        ("stepcas", upstream.url, FIXTURE_FP)
    assert a["certificateIssuer"] == {"type": "JWK", "provisioner": UPSTREAM_JWK}
    assert doc["crt"] == "" and doc["key"] == ""
    assert open(doc["root"]).read().strip() == open(upstream.pki.root_crt).read().strip()
    defaults = json.load(open(os.path.join(steppath, "config", "defaults.json")))
    assert defaults["fingerprint"] == FIXTURE_FP

    for root, dirs, files in os.walk(steppath):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    n = nginx_factory(name="stepca-init-ra", password_file=None,
                      http_extra="    stepca_issuer_password_file %s;\n" % upstream.provisioner_password_file)
    pki = Pki(steppath)
    pki.root_crt = doc["root"]
    n.pki = pki
    n.params["ca_json"] = ca_json
    n.write_conf()
    n.start()
    prov = Provisioner(ca_json, "ra admin password")
    csr, _ = make_csr("from-stepca-init.example.test")
    token = prov.token("from-stepca-init.example.test", "https://127.0.0.1:%d/1.0/sign" % n.port)
    status, _, body = post(n, "/1.0/sign", {"csr": csr, "ott": token})
    assert status == 201, body
    assert_signed_by_upstream(json.loads(body), upstream, "from-stepca-init.example.test", UPSTREAM_JWK)


def test_stepca_init_ra_refuses_an_unknown_type_and_writes_nothing(prefix):
    """vaultcas and cloudcas are written too (t/test_ra_vault.py,
    t/test_ra_google_cas.py); any other --ra is refused."""
    from conftest import BUILD
    steppath = os.path.join(prefix, "hsmcas")
    out = subprocess.run([os.path.join(BUILD, "stepca"), "init", "--ra", "hsmcas", "--issuer", "https://x",
                          "--steppath", steppath],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "invalid value 'hsmcas' for flag '--ra' (stepcas, vaultcas or cloudcas)" in out.stderr, out.stderr
    assert not os.path.exists(steppath)
