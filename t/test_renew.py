"""Renew, rekey and revoke end to end, in the three ways nginx fleets are
deployed: nginx terminates TLS itself; nginx sits behind an L4 balancer
that passes TLS through with the PROXY protocol (a second nginx with the
stream module); a front tier of nginx terminates TLS and forwards the
client certificate in a header to the CA node over plain HTTP."""

import base64
import datetime
import http.client
import json
import os
import signal
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import (FIXTURES, NGINX, free_port, make_readable, nginx_env,
                      stop_process, wait_for_port, assert_clean_log)
from tokens import Provisioner, make_csr, sign_jwt

WIRE = os.path.join(FIXTURES, "wire")
PROVISIONER_PASSWORD = "fixture-provisioner-password"
STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"
PROVISIONER_OID = x509.ObjectIdentifier("1.3.6.1.4.1.37476.9000.64.1")


def wire(name, part):
    with open(os.path.join(WIRE, "%s.%s" % (name, part)), "rb") as f:
        data = f.read()
    return data[data.index(b"\r\n\r\n") + 4:]


@pytest.fixture
def prov(pki):
    return Provisioner(pki.ca_json, PROVISIONER_PASSWORD)


def aud(port, path):
    return "https://127.0.0.1:%d%s" % (port, path)


class Holder:
    """A certificate issued by the CA, with its key, written to files."""

    def __init__(self, d, name, resp, key):
        self.pem = resp["crt"]
        self.chain = "".join(resp["certChain"])
        self.cert = x509.load_pem_x509_certificate(self.pem.encode())
        self.serial = str(self.cert.serial_number)
        self.key = key
        self.crt_path = os.path.join(d, name + ".crt")
        self.key_path = os.path.join(d, name + ".key")
        with open(self.crt_path, "w") as f:
            f.write(self.chain)
        with open(self.key_path, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))


def issue(n, prov, tmp_path, cn):
    csr, key = make_csr(cn)
    body = json.dumps({"csr": csr, "ott": prov.token(cn, aud(n.port, "/1.0/sign"))})
    status, _, data = n.request("POST", "/1.0/sign", body=body,
                                headers={"Content-Type": "application/json"})
    assert status == 201, data
    return Holder(str(tmp_path), cn, json.loads(data), key)


def load_pems(text):
    out = []
    for block in text.split("-----END CERTIFICATE-----")[:-1]:
        out.append(x509.load_pem_x509_certificate((block + "-----END CERTIFICATE-----\n").encode()))
    return out


def renew_token(holder, port, path="/renew", key=None, der_chain=None):
    """step's x5cInsecure renew token (step ca renew --mtls=false)."""
    certs = der_chain or [c.public_bytes(serialization.Encoding.DER) for c in
                          load_pems(holder.chain)]
    now = int(time.time())
    header = {"alg": "ES256", "typ": "JWT",
              "x5cInsecure": [base64.b64encode(c).decode() for c in certs]}
    cn = holder.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    claims = {"aud": aud(port, path), "exp": now + 300, "iat": now,
              "iss": "step-ca-client/1.0", "nbf": now, "sub": cn}
    return sign_jwt(header, claims, key or holder.key)


def post(n, path, body=b"", headers=None, **kw):
    return n.request("POST", path, body=body, headers=headers or {}, **kw)


def check_renewed(old, data):
    resp = json.loads(data)
    assert list(resp) == ["crt", "ca", "certChain", "tlsOptions"]
    new = x509.load_pem_x509_certificate(resp["crt"].encode())
    assert new.subject == old.cert.subject
    assert new.serial_number != old.cert.serial_number
    san = x509.SubjectAlternativeName
    assert (new.extensions.get_extension_for_class(san).value ==
            old.cert.extensions.get_extension_for_class(san).value)
    assert new.extensions.get_extension_for_oid(PROVISIONER_OID)
    return new, resp


# ---------------------------------------------------------------- plain nginx


class PlainNginx:
    """An nginx without the CA module: the L4 balancer or the TLS front."""

    def __init__(self, base, body, port):
        self.prefix = base
        self.port = port
        os.makedirs(os.path.join(base, "conf"), exist_ok=True)
        os.makedirs(os.path.join(base, "tmp"), exist_ok=True)
        with open(os.path.join(base, "conf", "nginx.conf"), "w") as f:
            f.write(body.format(prefix=base, port=port))
        make_readable(base)
        self.proc = None

    def start(self):
        self.out = open(os.path.join(self.prefix, "stdout.log"), "wb")
        self.proc = subprocess.Popen([NGINX, "-p", self.prefix, "-c", "conf/nginx.conf"],
                                     stdout=self.out, stderr=subprocess.STDOUT,
                                     env=nginx_env())
        assert wait_for_port(self.port, self.proc), open(
            os.path.join(self.prefix, "error.log")).read()
        return self

    def stop(self):
        stop_process(self.proc, signal.SIGQUIT)
        self.out.close()


@pytest.fixture
def plain_nginx(prefix):
    made = []

    def make(name, body, port=None):
        n = PlainNginx(os.path.join(prefix, name), body, port or free_port())
        made.append(n)
        return n.start()

    yield make
    for n in made:
        n.stop()
    for n in made:
        assert_clean_log(os.path.join(n.prefix, "error.log"))


BALANCER_CONF = """\
load_module %s;
daemon off;
master_process on;
worker_processes 1;
error_log {prefix}/error.log info;
pid {prefix}/nginx.pid;
events {{ worker_connections 64; }}
stream {{
    map $ssl_preread_server_name $ca_nodes {{
        default ca;
    }}
    upstream ca {{
        server 127.0.0.1:%d;
    }}
    server {{
        listen 127.0.0.1:{port};
        ssl_preread on;
        proxy_pass $ca_nodes;
        proxy_protocol on;
    }}
}}
"""

FRONT_CONF = """\
daemon off;
master_process on;
worker_processes 1;
error_log {prefix}/error.log info;
pid {prefix}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/tmp/client_body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate %s;
        ssl_certificate_key %s;
        ssl_verify_client optional_no_ca;
        location / {{
            proxy_pass http://127.0.0.1:%d;
            proxy_set_header Host $host;
            proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;
        }}
    }}
}}
"""


def https(port, root, cert=None, key=None, source=None):
    import ssl
    ctx = ssl.create_default_context(cafile=root)
    if cert:
        ctx.load_cert_chain(cert, key)
    return http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=ctx,
                                       source_address=(source, 0) if source else None)


def do(conn, method, path, body=b"", headers=None):
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


# ---------------------------------------------------------------- direct


def test_renew_and_rekey_over_mtls_direct(nginx, prov, tmp_path, pki):
    old = issue(nginx, prov, tmp_path, "svc.example.test")
    status, _, data = post(nginx, "/renew", cert=old.crt_path, key=old.key_path)
    assert status == 201, data
    new, resp = check_renewed(old, data)
    assert new.public_key().public_numbers() == old.key.public_key().public_numbers()
    # The same lifetime, now.
    assert (new.not_valid_after - new.not_valid_before ==
            old.cert.not_valid_after - old.cert.not_valid_before)
    # Extension order as step-ca: AKI moved first.
    assert new.extensions[0].oid == x509.oid.ExtensionOID.AUTHORITY_KEY_IDENTIFIER
    with open(os.path.join(str(tmp_path), "renewed.crt"), "w") as f:
        f.write(resp["crt"])
    out = subprocess.run(["openssl", "verify", "-CAfile", pki.root_crt, "-untrusted",
                          pki.intermediate_crt, os.path.join(str(tmp_path), "renewed.crt")],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr

    # /1.0/rekey and the legacy /re-sign.
    csr, newkey = make_csr("ignored.example.test")
    status, _, data = post(nginx, "/1.0/rekey", body=json.dumps({"csr": csr}),
                           headers={"Content-Type": "application/json"},
                           cert=old.crt_path, key=old.key_path)
    assert status == 201, data
    rekeyed, _ = check_renewed(old, data)
    assert rekeyed.public_key().public_numbers() == newkey.public_key().public_numbers()
    assert rekeyed.extensions[0].oid == x509.oid.ExtensionOID.SUBJECT_KEY_IDENTIFIER
    status, _, data = post(nginx, "/1.0/re-sign", cert=old.crt_path, key=old.key_path)
    assert status == 201, data
    log = nginx.read_file("error.log")
    assert "renewed certificate serial=" in log
    assert "rekeyed certificate serial=" in log


def test_wire_replays_without_a_certificate(nginx):
    for name in ("renew-no-cert", "rekey-no-cert", "revoke-no-cert-no-ott"):
        with open(os.path.join(WIRE, name + ".request"), "rb") as f:
            line = f.readline().split()
        headers = {"Content-Type": "application/json"} if name != "renew-no-cert" else {}
        status, _, data = post(nginx, line[1].decode(), body=wire(name, "request"),
                               headers=headers)
        assert status == 400
        assert data == wire(name, "response")


def test_certificate_of_another_ca_is_refused(nginx, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "svc.example.test")])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .sign(key, hashes.SHA256()))
    crt = os.path.join(str(tmp_path), "self.crt")
    kp = os.path.join(str(tmp_path), "self.key")
    with open(crt, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(kp, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    status, _, data = post(nginx, "/renew", cert=crt, key=kp)
    assert status == 401, data


# ---------------------------------------------------------------- bearer token


def test_renew_with_bearer_token(nginx, prov, tmp_path):
    old = issue(nginx, prov, tmp_path, "svc.example.test")
    token = renew_token(old, nginx.port)
    status, _, data = post(nginx, "/renew", headers={"Authorization": "Bearer " + token})
    assert status == 201, data
    check_renewed(old, data)
    # One-time use.
    status, _, data = post(nginx, "/renew", headers={"Authorization": "Bearer " + token})
    assert status == 401
    # Signed by another key; alg none.
    other = ec.generate_private_key(ec.SECP256R1())
    status, _, _ = post(nginx, "/renew",
                        headers={"Authorization": "Bearer " + renew_token(old, nginx.port, key=other)})
    assert status == 401
    head, payload, _ = renew_token(old, nginx.port).split(".")
    hdr = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    hdr["alg"] = "none"
    none = base64.urlsafe_b64encode(json.dumps(hdr).encode()).rstrip(b"=").decode()
    status, _, _ = post(nginx, "/renew", headers={"Authorization": "Bearer %s.%s." % (none, payload)})
    assert status == 401
    # A token for another audience path.
    status, _, _ = post(nginx, "/renew", headers={
        "Authorization": "Bearer " + renew_token(old, nginx.port, path="/1.0/sign")})
    assert status == 401


def expired_leaf(pki, tmp_path, cn):
    """An already expired leaf signed with the fixture intermediate key and
    carrying the JWK provisioner's extension (as if issued by /sign)."""
    plain = os.path.join(str(tmp_path), "int.key")
    subprocess.run(["openssl", "ec", "-in", pki.intermediate_key, "-passin",
                    "file:" + pki.password_file, "-out", plain],
                   check=True, capture_output=True, timeout=30)
    with open(plain, "rb") as f:
        ca_key = serialization.load_pem_private_key(f.read(), password=None)
    os.unlink(plain)
    with open(pki.intermediate_crt, "rb") as f:
        ca = x509.load_pem_x509_certificate(f.read())
    now = datetime.datetime.utcnow()
    # Stay inside the (young) fixture intermediate's validity.
    nb = max(now - datetime.timedelta(minutes=20), ca.not_valid_before + datetime.timedelta(minutes=1))
    na = now - datetime.timedelta(minutes=5)
    if na <= nb:
        pytest.skip("the fixture intermediate is too young for an expired leaf")
    key = ec.generate_private_key(ec.SECP256R1())
    name = b"fixture@example.test"
    kid = b"dGow9tg6f8QNmFNqqdT7UCUC4Ehxuz5RGW4EMf84lFg"
    ext = (b"\x30" + bytes([3 + 2 + len(name) + 2 + len(kid)]) + b"\x02\x01\x01" +
           b"\x04" + bytes([len(name)]) + name + b"\x04" + bytes([len(kid)]) + kid)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(nb).not_valid_after(na)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                         False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
            .add_extension(x509.UnrecognizedExtension(PROVISIONER_OID, ext), critical=False)
            .sign(ca_key, hashes.SHA256()))
    resp = {"crt": cert.public_bytes(serialization.Encoding.PEM).decode(),
            "certChain": [cert.public_bytes(serialization.Encoding.PEM).decode(),
                          ca.public_bytes(serialization.Encoding.PEM).decode()]}
    return Holder(str(tmp_path), cn + "-expired", resp, key)


def test_expired_certificate_renews_by_token_only_where_allowed(nginx, pki, tmp_path):
    old = expired_leaf(pki, tmp_path, "old.example.test")
    status, _, data = post(nginx, "/renew",
                           headers={"Authorization": "Bearer " + renew_token(old, nginx.port)})
    assert status == 401, data
    # Over mTLS an expired certificate never reaches the CA: nginx answers
    # 400 itself, as step-ca's Go TLS refuses the handshake.
    status, _, data = post(nginx, "/renew", cert=old.crt_path, key=old.key_path)
    assert status == 400 and b"The SSL certificate error" in data, data

    doc = pki.read_ca_json()
    doc["authority"]["provisioners"][0].setdefault("claims", {})["allowRenewalAfterExpiry"] = True
    pki.write_ca_json(doc)
    nginx.reload()
    # The old workers may still accept until they have begun to shut down.
    deadline = time.monotonic() + 15
    while (nginx.read_file("error.log").count("gracefully shutting down") < 2
           and time.monotonic() < deadline):
        time.sleep(0.05)
    status, _, data = post(nginx, "/renew",
                           headers={"Authorization": "Bearer " + renew_token(old, nginx.port)})
    assert status == 201, data
    new, _ = check_renewed(old, data)
    assert new.not_valid_after > datetime.datetime.utcnow()
    assert (new.not_valid_after - new.not_valid_before ==
            old.cert.not_valid_after - old.cert.not_valid_before)


# ---------------------------------------------------------------- revoke


def test_revoked_certificate_cannot_renew_or_rekey(nginx, prov, tmp_path):
    h = issue(nginx, prov, tmp_path, "svc.example.test")
    body = json.dumps({"serial": h.serial, "reasonCode": 4, "reason": "superseded",
                       "passive": True,
                       "ott": prov.token(h.serial, aud(nginx.port, "/1.0/revoke"))})
    status, _, data = post(nginx, "/1.0/revoke", body=body,
                           headers={"Content-Type": "application/json"})
    assert status == 200, data
    assert data == wire("revoke-token", "response")
    status, _, data = post(nginx, "/1.0/renew", cert=h.crt_path, key=h.key_path)
    assert status == 401
    assert data == wire("renew-after-revoke", "response")
    csr, _ = make_csr("x.example.test")
    status, _, data = post(nginx, "/1.0/rekey", body=json.dumps({"csr": csr}),
                           cert=h.crt_path, key=h.key_path)
    assert status == 401
    status, _, data = post(nginx, "/renew",
                           headers={"Authorization": "Bearer " + renew_token(h, nginx.port)})
    assert status == 401
    # Twice: step-ca's 400.
    body = json.dumps({"serial": h.serial, "passive": True,
                       "ott": prov.token(h.serial, aud(nginx.port, "/1.0/revoke"))})
    status, _, data = post(nginx, "/revoke", body=body)
    assert status == 400
    assert json.loads(data)["message"] == (
        "The request could not be completed: certificate with serial number '%s' "
        "is already revoked." % h.serial)


def test_revoke_token_subject_must_be_the_serial(nginx, prov, tmp_path):
    h = issue(nginx, prov, tmp_path, "svc.example.test")
    body = json.dumps({"serial": h.serial, "passive": True,
                       "ott": prov.token("1234", aud(nginx.port, "/1.0/revoke"))})
    status, _, _ = post(nginx, "/revoke", body=body)
    assert status == 403
    body = json.dumps({"serial": h.serial, "passive": False,
                       "ott": prov.token(h.serial, aud(nginx.port, "/1.0/revoke"))})
    status, _, _ = post(nginx, "/revoke", body=body)
    assert status == 501


def test_revoke_over_mtls_only_ones_own(nginx, prov, tmp_path):
    mine = issue(nginx, prov, tmp_path, "a.example.test")
    theirs = issue(nginx, prov, tmp_path, "b.example.test")
    body = json.dumps({"serial": theirs.serial, "reasonCode": 1, "passive": True})
    status, _, data = post(nginx, "/revoke", body=body, cert=mine.crt_path, key=mine.key_path)
    assert status == 403, data
    body = json.dumps({"serial": hex(mine.cert.serial_number), "reasonCode": 1,
                       "reason": "keyCompromise", "passive": True})
    status, _, data = post(nginx, "/revoke", body=body, cert=mine.crt_path, key=mine.key_path)
    assert status == 200, data
    assert data == wire("revoke-mtls", "response")
    status, _, _ = post(nginx, "/renew", cert=theirs.crt_path, key=theirs.key_path)
    assert status == 201


# ---------------------------------------------------------------- L4 balancer


def test_renew_through_passthrough_balancer(nginx_factory, plain_nginx, prov, tmp_path, pki):
    pp_port = free_port()
    node = nginx_factory(server_extra=(
        "        listen 127.0.0.1:%d ssl proxy_protocol;\n"
        "        set_real_ip_from 127.0.0.1;\n"
        "        real_ip_header proxy_protocol;\n" % pp_port)).start()
    lb = plain_nginx("balancer", BALANCER_CONF % (STREAM_MODULE, pp_port))
    old = issue(node, prov, tmp_path, "svc.example.test")
    # The client comes from 127.0.0.2; the balancer connects from 127.0.0.1.
    status, data = do(https(lb.port, pki.root_crt, old.crt_path, old.key_path,
                            source="127.0.0.2"), "POST", "/renew")
    assert status == 201, data
    check_renewed(old, data)
    # nginx writes the access log after the response: poll, bounded.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log = node.read_file("error.log")
        line = [l for l in log.splitlines() if "renewed certificate serial=" in l]
        access = [l for l in node.read_file("access.log").splitlines()
                  if l.startswith("127.0.0.2 ") and "POST /renew" in l]
        if line and access:
            break
        time.sleep(0.05)
    assert line and "client: 127.0.0.2" in line[-1], log
    assert access, node.read_file("access.log")
    # The token path passes through as well.
    status, data = do(https(lb.port, pki.root_crt, source="127.0.0.2"), "POST", "/renew",
                      headers={"Authorization": "Bearer " + renew_token(old, node.port)})
    assert status == 201, data


# ---------------------------------------------------------------- TLS front


def front_topology(nginx_factory, plain_nginx, server_tls):
    plain = free_port()
    node = nginx_factory(http_extra=(
        "    stepca_client_cert_header X-SSL-Client-Cert;\n"
        "    stepca_trusted_proxy 127.0.0.1;\n"
        "    server {\n"
        "        listen 127.0.0.1:%d;\n"
        "        location / { stepca; }\n"
        "    }\n" % plain)).start()
    crt, key = server_tls
    front = plain_nginx("front", FRONT_CONF % (crt, key, plain))
    return node, front, plain


def test_renew_through_trusted_tls_front(nginx_factory, plain_nginx, server_tls, prov,
                                         tmp_path, pki):
    node, front, _ = front_topology(nginx_factory, plain_nginx, server_tls)
    old = issue(node, prov, tmp_path, "svc.example.test")
    status, data = do(https(front.port, pki.root_crt, old.crt_path, old.key_path),
                      "POST", "/renew")
    assert status == 201, data
    check_renewed(old, data)
    csr, newkey = make_csr("x.example.test")
    status, data = do(https(front.port, pki.root_crt, old.crt_path, old.key_path),
                      "POST", "/rekey", body=json.dumps({"csr": csr}))
    assert status == 201, data
    # Without a client certificate, a header the client wrote does not pass
    # the front (proxy_set_header replaces it with nothing).
    status, data = do(https(front.port, pki.root_crt), "POST", "/renew",
                      headers={"X-SSL-Client-Cert": "%s" % old.pem.replace("\n", "%0A")})
    assert status == 400
    assert data == wire("renew-no-cert", "response")


def test_forged_certificate_header_from_untrusted_address_is_refused(
        nginx_factory, plain_nginx, server_tls, prov, tmp_path, pki):
    node, _, plain = front_topology(nginx_factory, plain_nginx, server_tls)
    victim = issue(node, prov, tmp_path, "svc.example.test")
    from urllib.parse import quote
    forged = quote(victim.pem, safe="")
    conn = http.client.HTTPConnection("127.0.0.1", plain, timeout=30,
                                      source_address=("127.0.0.3", 0))
    status, data = do(conn, "POST", "/renew", headers={"X-SSL-Client-Cert": forged})
    assert status == 400
    assert data == wire("renew-no-cert", "response")
    conn = http.client.HTTPConnection("127.0.0.1", plain, timeout=30,
                                      source_address=("127.0.0.3", 0))
    status, data = do(conn, "POST", "/revoke", headers={"X-SSL-Client-Cert": forged},
                      body=json.dumps({"serial": victim.serial, "passive": True}))
    assert status == 400
    log = node.read_file("error.log")
    assert ('[warn]' in log and 'ignoring the "X-SSL-Client-Cert" header from 127.0.0.3, '
            'which is not a trusted proxy' in log), log
    # The same header from the trusted address is believed.
    conn = http.client.HTTPConnection("127.0.0.1", plain, timeout=30)
    status, data = do(conn, "POST", "/renew", headers={"X-SSL-Client-Cert": forged})
    assert status == 201, data


def test_trusted_proxy_directive_errors(nginx_factory):
    n = nginx_factory(http_extra="    stepca_trusted_proxy not-an-address;\n")
    out = n.test_config()
    assert out.returncode != 0
    assert 'invalid value "not-an-address"' in out.stderr


# ---------------------------------------------------------------- CLI


def test_cli_renew_and_revoke(nginx, prov, tmp_path, pki):
    from conftest import BUILD
    cli = os.path.join(BUILD, "stepca")
    if not os.path.exists(cli):
        pytest.skip("stepca CLI not built")
    base = ["--ca-url", "https://127.0.0.1:%d" % nginx.port, "--root", pki.root_crt]

    def run(*args):
        return subprocess.run([cli] + list(args), capture_output=True, text=True, timeout=60)

    h = issue(nginx, prov, tmp_path, "svc.example.test")
    out = os.path.join(str(tmp_path), "renewed.crt")
    r = run("renew", h.crt_path, h.key_path, "--out", out, *base)
    assert r.returncode == 0, r.stderr
    renewed = load_pems(open(out).read())
    assert renewed[0].serial_number != h.cert.serial_number
    r = run("renew", h.crt_path, h.key_path, "--mtls=false", "--out", out, *base)
    assert r.returncode == 0, r.stderr
    r = run("renew", h.crt_path, h.key_path, *base)
    assert r.returncode != 0 and "--force" in r.stderr

    other = issue(nginx, prov, tmp_path, "other.example.test")
    r = run("revoke", other.serial, "--cert", h.crt_path, "--key", h.key_path, *base)
    assert r.returncode != 0
    r = run("revoke", h.serial, "--cert", h.crt_path, "--key", h.key_path,
            "--reasonCode", "1", "--reason", "keyCompromise", *base)
    assert r.returncode == 0, r.stderr
    assert "has been revoked" in r.stdout
    r = run("revoke", other.serial, "--provisioner", "fixture@example.test",
            "--provisioner-password-file", os.path.join(pki.path, "provisioner-password.txt"),
            *base)
    assert r.returncode == 0, r.stderr
    r = run("renew", other.crt_path, other.key_path, "--out", out, *base)
    assert r.returncode != 0
