"""The OIDC provisioner end to end: a local OpenID Connect issuer written
here (discovery document, JWKS with key rotation, ID tokens signed by the
test) on 127.0.0.1, the module in the stock nginx, and the real `step`
CLI signing with an ID token (`step ca certificate --token`).

The issuer counts its JWKS fetches so that the refresh on an unknown kid,
and its rate limit, are observed from outside."""

import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from tokens import b64u, make_csr, unsigned_jwt

CLIENT_ID = "oidc-client.apps.example.test"
ADMIN = "boss@example.com"
PROVISIONER_OID = x509.ObjectIdentifier("1.3.6.1.4.1.37476.9000.64.1")


def b64u_int(n):
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


class Issuer:
    """An OpenID Connect issuer: /.well-known/openid-configuration, /jwks,
    and keys to sign ID tokens with."""

    def __init__(self, tls=None):
        self.keys = {}  # kid -> (private key, alg)
        self.hidden = set()  # kids it signs with but does not publish
        self.codes = {}  # authorization code -> nonce
        self.login_email = "alice@example.com"  # who logs in at /authorize
        self.jwks_hits = 0
        self.lock = threading.Lock()
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.startswith("/authorize?"):
                    # The OAuth authorization endpoint: the user "logs in" at
                    # once and is sent back to the client with a code.
                    q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                    code = uuid.uuid4().hex
                    with issuer.lock:
                        issuer.codes[code] = q.get("nonce", [None])[0]
                    self.send_response(302)
                    self.send_header("Location", q["redirect_uri"][0] + "?" + urllib.parse.urlencode(
                        {"code": code, "state": q["state"][0]}))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + "/jwks",
                            "authorization_endpoint": issuer.url + "/authorize",
                            "token_endpoint": issuer.url + "/token"}
                elif self.path == "/jwks":
                    with issuer.lock:
                        issuer.jwks_hits += 1
                    body = {"keys": issuer.jwks()}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "public, max-age=3600")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                # The token endpoint: a code from /authorize for an ID token.
                length = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                with issuer.lock:
                    ok = self.path == "/token" and form.get("code", [""])[0] in issuer.codes
                    nonce = issuer.codes.pop(form.get("code", [""])[0], None)
                if not ok:
                    self.send_error(400)
                    return
                token = issuer.id_token(issuer.login_email, nonce=nonce)
                data = json.dumps({"access_token": "at-" + uuid.uuid4().hex, "token_type": "Bearer",
                                   "expires_in": 300, "id_token": token}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls:
            # (chain, key): step's OAuth flow wants an https provider.
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = "%s://127.0.0.1:%d" % (scheme, self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def add_ec_key(self, kid):
        with self.lock:
            self.keys[kid] = (ec.generate_private_key(ec.SECP256R1()), "ES256")

    def add_rsa_key(self, kid):
        with self.lock:
            self.keys[kid] = (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256")

    def drop_key(self, kid):
        with self.lock:
            del self.keys[kid]

    def jwks(self):
        out = []
        with self.lock:
            for kid, (key, alg) in self.keys.items():
                if kid in self.hidden:
                    continue
                pub = key.public_key().public_numbers()
                if alg == "ES256":
                    out.append({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": alg,
                                "x": b64u(pub.x.to_bytes(32, "big")),
                                "y": b64u(pub.y.to_bytes(32, "big"))})
                else:
                    out.append({"kty": "RSA", "kid": kid, "use": "sig", "alg": alg,
                                "n": b64u_int(pub.n), "e": b64u_int(pub.e)})
        return out

    def claims(self, email, **extra):
        now = int(time.time())
        c = {"iss": self.url, "sub": "user-" + hashlib.sha256(email.encode()).hexdigest()[:8],
             "aud": CLIENT_ID, "azp": CLIENT_ID, "iat": now, "exp": now + 300,
             "email": email, "email_verified": True, "nonce": uuid.uuid4().hex}
        c.update(extra)
        return {k: v for k, v in c.items() if v is not None}

    def id_token(self, email, kid="k1", **extra):
        return self.sign(self.claims(email, **extra), kid)

    def sign(self, claims, kid="k1"):
        key, alg = self.keys[kid]
        head = {"alg": alg, "kid": kid, "typ": "JWT"}
        signing_input = (b64u(json.dumps(head).encode()) + "." +
                         b64u(json.dumps(claims).encode())).encode()
        if alg == "ES256":
            r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
            sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        else:
            sig = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return signing_input.decode() + "." + b64u(sig)


@pytest.fixture
def issuer():
    iss = Issuer()
    iss.add_ec_key("k1")
    yield iss
    iss.stop()


def add_oidc(pki, issuer, **over):
    doc = pki.read_ca_json()
    p = {"type": "OIDC", "name": "sso", "clientID": CLIENT_ID,
         "clientSecret": "not-really-secret", "configurationEndpoint": issuer.url,
         "admins": [ADMIN], "domains": ["example.com"], "listenAddress": "127.0.0.1:10000",
         "claims": {"maxTLSCertDuration": "8h", "defaultTLSCertDuration": "2h"}}
    p.update(over)
    doc["authority"]["provisioners"].append(p)
    pki.write_ca_json(doc)


@pytest.fixture
def ca(nginx_factory, pki, issuer):
    add_oidc(pki, issuer)
    return nginx_factory().start()


def sign(n, csr, ott):
    return n.request("POST", "/1.0/sign", body=json.dumps({"csr": csr, "ott": ott}),
                     headers={"Content-Type": "application/json"})


def email_csr(cn, emails=(), dns=()):
    key = ec.generate_private_key(ec.SECP256R1())
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    names = [x509.RFC822Name(e) for e in emails] + [x509.DNSName(d) for d in dns]
    if names:
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def leaf(body):
    return x509.load_pem_x509_certificate(json.loads(body)["crt"].encode())


def names(cert):
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return (san.get_values_for_type(x509.RFC822Name), san.get_values_for_type(x509.DNSName),
            san.get_values_for_type(x509.UniformResourceIdentifier))


def common_name(cert):
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def assert_401(resp):
    status, headers, body = resp
    assert status == 401, body
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["status"] == 401


# ---------------------------------------------------------------- issuing


def test_provisioner_is_listed_with_its_settings(ca):
    status, _, body = ca.get("/1.0/provisioners")
    assert status == 200
    oidc = [p for p in json.loads(body)["provisioners"] if p["type"] == "OIDC"]
    assert len(oidc) == 1
    assert oidc[0]["clientID"] == CLIENT_ID
    assert oidc[0]["configurationEndpoint"] == ca.pki.read_ca_json()["authority"]["provisioners"][-1]["configurationEndpoint"]
    assert "not-really-secret" not in ca.read_file("error.log")


def test_user_gets_a_certificate_for_their_own_email(ca, issuer):
    token = issuer.id_token("alice@example.com")
    sub = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[1] + "=="))["sub"]
    # Whatever the CSR asks, a non-admin gets their own identity.
    status, _, body = sign(ca, email_csr("root.example.com", dns=["root.example.com"]), token)
    assert status == 201, body
    cert = leaf(body)
    assert common_name(cert) == sub
    emails, dns, uris = names(cert)
    assert emails == ["alice@example.com"]
    assert dns == []
    assert uris == [issuer.url + "#" + sub]
    # The provisioner extension names the OIDC provisioner and its client.
    ext = cert.extensions.get_extension_for_oid(PROVISIONER_OID).value.value
    assert b"sso" in ext and CLIENT_ID.encode() in ext
    life = cert.not_valid_after - cert.not_valid_before
    assert 7100 <= life.total_seconds() <= 7400  # defaultTLSCertDuration 2h


def test_admin_may_ask_for_any_name(ca, issuer):
    status, _, body = sign(ca, email_csr("db.internal.test", dns=["db.internal.test", "db2.internal.test"]),
                           issuer.id_token(ADMIN))
    assert status == 201, body
    cert = leaf(body)
    assert common_name(cert) == "db.internal.test"
    assert names(cert)[1] == ["db.internal.test", "db2.internal.test"]


def test_a_token_is_used_once(ca, issuer):
    token = issuer.id_token("alice@example.com")
    assert sign(ca, email_csr("alice@example.com"), token)[0] == 201
    assert_401(sign(ca, email_csr("alice@example.com"), token))


# ---------------------------------------------------------------- refusals


BAD_CLAIMS = {
    "wrong issuer": {"iss": "https://accounts.evil.test"},
    "wrong audience": {"aud": "someone-else"},
    "wrong azp": {"azp": "someone-else"},
    "expired": {"iat": int(time.time()) - 3600, "exp": int(time.time()) - 600},
    "not yet valid": {"nbf": int(time.time()) + 600},
    "no exp": {"exp": None},
    "other domain": {"email_": "mallory@evil.test"},
}


@pytest.mark.parametrize("case", sorted(BAD_CLAIMS))
def test_bad_id_tokens_are_refused(ca, issuer, case):
    claims = dict(BAD_CLAIMS[case])
    token = issuer.id_token(claims.pop("email_", "alice@example.com"), **claims)
    assert_401(sign(ca, email_csr("alice@example.com"), token))
    assert "oidc" in ca.read_file("error.log")


def test_alg_confusion_is_refused(ca, issuer):
    good = issuer.id_token("alice@example.com")
    payload = good.split(".")[1]
    pub_pem = issuer.keys["k1"][0].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    jwk_text = json.dumps(issuer.jwks()[0]).encode()
    for secret in (pub_pem, jwk_text):
        head = b64u(json.dumps({"alg": "HS256", "kid": "k1", "typ": "JWT"}).encode())
        mac = hmac.new(secret, (head + "." + payload).encode(), hashlib.sha256).digest()
        assert_401(sign(ca, email_csr("alice@example.com"), head + "." + payload + "." + b64u(mac)))
    claims = issuer.claims("alice@example.com")
    assert_401(sign(ca, email_csr("alice@example.com"),
                    unsigned_jwt({"alg": "none", "kid": "k1"}, claims)))
    # A valid signature by a key that is not the issuer's, under its kid.
    rogue = Issuer()
    try:
        rogue.add_ec_key("k1")
        forged = rogue.id_token("alice@example.com", iss=issuer.url)
    finally:
        rogue.stop()
    assert_401(sign(ca, email_csr("alice@example.com"), forged))


def test_key_rotation_and_refresh_rate_limit(ca, issuer):
    # The issuer rotates to an RSA key and retires the old one.
    issuer.add_rsa_key("k2")
    issuer.drop_key("k1")
    hits = issuer.jwks_hits
    token = issuer.id_token("alice@example.com", kid="k2")
    # The first request with the new kid is refused (nothing is fetched
    # while it waits) and schedules a refresh; a later one is accepted.
    status = sign(ca, email_csr("a"), token)[0]
    deadline = time.monotonic() + 20
    while status != 201 and time.monotonic() < deadline:
        assert status == 401
        time.sleep(0.2)
        status, _, body = sign(ca, email_csr("a"), issuer.id_token("alice@example.com", kid="k2"))
    assert status == 201
    workers = ca.params["workers"]
    assert hits < issuer.jwks_hits <= hits + workers
    # Unknown kids right after: refused, and at most one fetch per worker
    # per refresh interval (the worker that refreshed above fetches none).
    settled = issuer.jwks_hits
    issuer.add_ec_key("k3")
    issuer.hidden.add("k3")
    for _ in range(10):
        assert_401(sign(ca, email_csr("a"), issuer.id_token("alice@example.com", kid="k3")))
    time.sleep(0.5)
    assert issuer.jwks_hits <= settled + workers - 1


@pytest.mark.allow_error_log
def test_unreachable_issuer_warns_and_refuses(nginx_factory, pki, issuer):
    url = issuer.url
    issuer.stop()
    add_oidc(pki, issuer, configurationEndpoint=url)
    n = nginx_factory().start()
    log = n.read_file("error.log") + n.read_file("stdout.log")
    assert 'OIDC provisioner "sso"' in log and "cannot load its keys yet" in log
    # Its tokens are refused (no keys), with the JSON error shape.
    assert_401(sign(n, email_csr("a"), issuer.id_token("alice@example.com")))


def test_bad_provisioner_settings_fail_the_load(nginx_factory, pki, issuer):
    add_oidc(pki, issuer, clientID="")
    n = nginx_factory()
    out = n.test_config()
    assert out.returncode != 0
    assert "clientID" in out.stderr


# ---------------------------------------------------------------- step CLI


def test_step_ca_certificate_with_an_id_token(ca, issuer, step_cli):
    url = "https://127.0.0.1:%d" % ca.port
    crt = os.path.join(step_cli.steppath, "alice.crt")
    key = os.path.join(step_cli.steppath, "alice.key")
    token = issuer.id_token("alice@example.com")
    step_cli.run("ca", "certificate", "alice@example.com", crt, key, "--token", token,
                 "--ca-url", url, "--root", ca.pki.root_crt)
    with open(crt, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    assert names(cert)[0] == ["alice@example.com"]
    # The same token again: step reports the CA's refusal.
    proc = step_cli.run("ca", "certificate", "alice@example.com", crt + "2", key + "2",
                        "--token", token, "--ca-url", url, "--root", ca.pki.root_crt, check=False)
    assert proc.returncode != 0
    # An admin's token for a host name.
    step_cli.run("ca", "certificate", "web.internal.test", crt, key, "--token",
                 issuer.id_token(ADMIN), "--ca-url", url, "--root", ca.pki.root_crt, "--force")
    with open(crt, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    assert common_name(cert) == "web.internal.test"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def browse(url, cafile):
    """What the user's browser does: the issuer's login page, then its
    redirect back to step's listener."""
    opener = urllib.request.build_opener(
        NoRedirect, urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=cafile)))
    try:
        opener.open(url, timeout=30)
        raise AssertionError("the authorization endpoint did not redirect")
    except urllib.error.HTTPError as e:
        assert e.code == 302, e
        back = e.headers["Location"]
    with urllib.request.urlopen(back, timeout=30) as resp:
        resp.read()


def run_with_browser(step_cli, args, cafile, timeout=60):
    """Runs step, plays the browser for its OAuth flow, returns
    (returncode, stdout, stderr)."""
    proc = subprocess.Popen([step_cli.exe] + [str(a) for a in args], env=step_cli.env,
                            cwd=step_cli.steppath, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err_lines = []
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            err_lines.append(line)
            m = re.search(r"(https://127\.0\.0\.1:\d+/authorize\?\S+)", line)
            if m:
                browse(m.group(1), cafile)
                break
        out, err = proc.communicate(timeout=max(1, deadline - time.monotonic()))
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc.returncode, out, "".join(err_lines) + err


def test_step_oauth_flow_with_the_provisioner(nginx_factory, pki, server_tls, step_cli, monkeypatch):
    """`step ca certificate --provisioner sso`: step reads the provisioner
    (clientID, clientSecret, configurationEndpoint, listenAddress) from
    /provisioners, runs the OAuth flow against the local issuer (https, as
    step requires; the test plays the browser), and signs with the ID token
    it gets. Both step and the CA trust the issuer through SSL_CERT_FILE."""
    from conftest import free_port
    issuer = Issuer(tls=server_tls)
    try:
        issuer.add_ec_key("k1")
        monkeypatch.setenv("SSL_CERT_FILE", pki.root_crt)
        step_cli.env["SSL_CERT_FILE"] = pki.root_crt
        add_oidc(pki, issuer, listenAddress="127.0.0.1:%d" % free_port())
        ca = nginx_factory().start()
        assert "cannot load its keys" not in ca.read_file("error.log") + ca.read_file("stdout.log")
        oauth_flow(ca, issuer, step_cli, pki.root_crt)
    finally:
        issuer.stop()


def oauth_flow(ca, issuer, step_cli, cafile):
    url = "https://127.0.0.1:%d" % ca.port
    crt = os.path.join(step_cli.steppath, "sso.crt")
    key = os.path.join(step_cli.steppath, "sso.key")
    rc, out, err = run_with_browser(step_cli, [
        "ca", "certificate", "alice@example.com", crt, key, "--provisioner", "sso",
        "--ca-url", url, "--root", ca.pki.root_crt], cafile)
    assert rc == 0, out + err
    with open(crt, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    assert names(cert)[0] == ["alice@example.com"]
    # And `step ca token` prints the ID token the flow got.
    rc, out, err = run_with_browser(step_cli, [
        "ca", "token", "alice@example.com", "--provisioner", "sso", "--ca-url", url,
        "--root", ca.pki.root_crt], cafile)
    assert rc == 0, out + err
    token = out.strip().splitlines()[-1]
    assert sign(ca, email_csr("alice@example.com"), token)[0] == 201


# ---------------------------------------------------------------- SSH


@pytest.fixture
def ssh_oidc_ca(prefix, module_path, issuer):
    """`stepca init --ssh` PKI with the OIDC provisioner (enableSSHCA)."""
    from conftest import Nginx, Pki, assert_clean_log
    from test_ssh import SshCa, init_ssh_pki
    steppath, pw, ppw = init_ssh_pki(os.path.join(prefix, "ca"))
    p = os.path.join(steppath, "config", "ca.json")
    with open(p) as f:
        doc = json.load(f)
    doc["authority"]["provisioners"].append({
        "type": "OIDC", "name": "sso", "clientID": CLIENT_ID, "clientSecret": "",
        "configurationEndpoint": issuer.url, "admins": [ADMIN],
        "claims": {"enableSSHCA": True}})
    with open(p, "w") as f:
        json.dump(doc, f, indent="\t")
    base = os.path.join(prefix, "nginx")
    os.makedirs(base)
    n = Nginx(base, Pki(steppath), os.path.join(steppath, "certs", "tls.crt"),
              os.path.join(steppath, "secrets", "tls.key"), module=module_path, password_file=pw)
    n.start()
    yield SshCa(steppath, n, pw, ppw)
    n.stop()
    assert_clean_log(n.error_log)


def ssh_public_key():
    key = ec.generate_private_key(ec.SECP256R1())
    line = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode()
    return line.split()[1]


def test_ssh_user_certificate_with_an_id_token(ssh_oidc_ca, issuer):
    from test_ssh import SshCert
    ca = ssh_oidc_ca
    # A user gets a user certificate for the principals step-ca derives
    # from the e-mail, keyed by the e-mail.
    status, body = ca.request("POST", "/1.0/ssh/sign", {
        "publicKey": ssh_public_key(), "ott": issuer.id_token("John.Doe@example.com"),
        "certType": "user", "principals": ["johndoe"]})
    assert status == 201, body
    cert = SshCert(base64.b64decode(body["crt"]))
    assert not cert.host
    assert cert.key_id == "John.Doe@example.com"
    assert cert.principals == ["johndoe", "John.Doe", "John.Doe@example.com"]
    # Not another user's name, not a host certificate.
    for ask in ({"certType": "user", "principals": ["root"]}, {"certType": "host", "principals": ["johndoe"]}):
        status, body = ca.request("POST", "/1.0/ssh/sign", dict(
            ask, publicKey=ssh_public_key(), ott=issuer.id_token("John.Doe@example.com")))
        assert status == 403, body
    # A token without an e-mail has no SSH identity.
    no_email = issuer.claims("x@example.com")
    del no_email["email"]
    status, body = ca.request("POST", "/1.0/ssh/sign", {
        "publicKey": ssh_public_key(), "ott": issuer.sign(no_email), "certType": "user"})
    assert status == 401, body


def test_ssh_admin_signs_what_it_asks_for(ssh_oidc_ca, issuer):
    from test_ssh import SshCert
    ca = ssh_oidc_ca
    status, body = ca.request("POST", "/1.0/ssh/sign", {
        "publicKey": ssh_public_key(), "ott": issuer.id_token(ADMIN), "certType": "host",
        "keyID": "web-1", "principals": ["web-1.example.test"]})
    assert status == 201, body
    cert = SshCert(base64.b64decode(body["crt"]))
    assert cert.host and cert.key_id == "web-1" and cert.principals == ["web-1.example.test"]
    # An admin must say what it wants.
    status, body = ca.request("POST", "/1.0/ssh/sign", {
        "publicKey": ssh_public_key(), "ott": issuer.id_token(ADMIN), "certType": "host"})
    assert status == 403, body


def test_step_ssh_certificate_with_an_id_token(ssh_oidc_ca, issuer, step_cli):
    from test_ssh import SshCert
    ca = ssh_oidc_ca
    key = os.path.join(step_cli.steppath, "id_ecdsa")
    step_cli.run("ssh", "certificate", "alice@example.com", key, "--token",
                 issuer.id_token("alice@example.com"), "--ca-url", ca.url, "--root", ca.root,
                 "--no-password", "--insecure", "--no-agent", "--force")
    with open(key + "-cert.pub") as f:
        cert = SshCert(f.read())
    assert cert.key_id == "alice@example.com"
    assert cert.principals == ["alice", "alice@example.com"]
