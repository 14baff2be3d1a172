"""step-ca's admin API (authority.enableAdmin) on our module: remote
provisioner management shared by the whole fleet through the store.

The admin client here speaks the wire protocol of step's admin client
(certificates/ca/adminClient.go at v0.19.0): an x5c token signed with the
key of an admin certificate this CA issued, iss "step-admin-client/1.0",
aud https://<host>/admin/..., linkedca protojson bodies. The real `step`
0.19 CLI in ../shared/tools is used where it has the commands: `step crypto
jwk create` makes the new provisioner's key, and `step ca token`,
`step ca certificate` and `step ca provisioner list` use the added
provisioner through the other node. (That `step` build has no `step ca
admin` command and its `step ca provisioner add|remove` only edit a local
ca.json, so those two are driven by this client.) Without the CLI the
tests that need it skip; STEPCA_REQUIRE_STEP_CLI=1 makes that a failure.
"""

import base64
import http.client
import json
import os
import shutil
import ssl
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fleet import PROVISIONER_PASSWORD, STREAM_MODULE, Fleet, aud
from tokens import Provisioner, make_csr, sign_jwt

ADMIN_ISSUER = "step-admin-client/1.0"
FIRST_ADMIN = "step"


def enable_admin(pki):
    doc = pki.read_ca_json()
    doc["authority"]["enableAdmin"] = True
    pki.write_ca_json(doc)


def b64(data):
    return base64.b64encode(data).decode()


class AdminClient:
    """An admin: a certificate for `subject` from the ca.json JWK
    provisioner, and x5c tokens signed with its key, one per request."""

    def __init__(self, pki, port, subject=FIRST_ADMIN):
        self.pki = pki
        self.port = port
        self.ctx = ssl.create_default_context(cafile=pki.root_crt)
        prov = Provisioner(pki.ca_json, PROVISIONER_PASSWORD)
        self.provisioner = prov
        csr, self.key = make_csr(subject, sans=[])
        status, body = self.raw("POST", "/1.0/sign", body=json.dumps(
            {"csr": csr, "ott": prov.token(subject, aud(port), sans=[subject])}))
        assert status == 201, body
        doc = json.loads(body)
        self.chain = [x509.load_pem_x509_certificate(doc["crt"].encode()),
                      x509.load_pem_x509_certificate(doc["ca"].encode())]
        self.subject = subject

    def token(self, path, port=None, lifetime=300, **changes):
        now = int(time.time())
        claims = {"iss": ADMIN_ISSUER, "sub": self.subject,
                  "aud": "https://127.0.0.1:%d%s" % (port or self.port, path),
                  "jti": os.urandom(32).hex(), "iat": now, "nbf": now,
                  "exp": now + lifetime}
        claims.update(changes)
        header = {"alg": "ES256", "typ": "JWT",
                  "x5c": [b64(c.public_bytes(serialization.Encoding.DER)) for c in self.chain]}
        return sign_jwt(header, claims, self.key)

    def raw(self, method, path, body=None, token=None, port=None):
        conn = http.client.HTTPSConnection("127.0.0.1", port or self.port, timeout=30,
                                           context=self.ctx)
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if token is not None:
            headers["Authorization"] = token
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def call(self, method, path, doc=None, port=None, body=None):
        """One admin request with a fresh token: (status, parsed body)."""
        if doc is not None:
            body = json.dumps(doc)
        status, data = self.raw(method, path, body=body, port=port,
                                token=self.token(path.split("?")[0], port=port))
        return status, json.loads(data) if data else None


def linkedca_jwk(name, pub_path, priv_path):
    """A linkedca JWK provisioner, as `step ca provisioner add --type JWK`
    sends it: the public JWK and the compact JWE of the private one."""
    with open(pub_path, "rb") as f:
        pub = f.read()
    with open(priv_path, "rb") as f:
        priv = f.read().strip()
    if priv.startswith(b"{"):
        # step writes the JWE in its JSON serialization; linkedca holds the
        # compact one, as `step ca provisioner add --create` makes it
        j = json.loads(priv)
        priv = ".".join([j["protected"], j["encrypted_key"], j["iv"], j["ciphertext"],
                         j["tag"]]).encode()
    return {"type": "JWK", "name": name,
            "details": {"JWK": {"publicKey": b64(pub), "encryptedPrivateKey": b64(priv)}},
            "claims": {"x509": {"enabled": True, "durations": {"default": "2h"}}}}


def make_jwk(step, directory, password):
    """`step crypto jwk create` (the real CLI): (public path, private path)."""
    os.makedirs(directory, exist_ok=True)
    pw = os.path.join(directory, "password")
    with open(pw, "w") as f:
        f.write(password)
    pub, priv = os.path.join(directory, "pub.json"), os.path.join(directory, "priv.json")
    step.run("crypto", "jwk", "create", pub, priv, "--password-file", pw, "--force")
    return pub, priv, pw


def names(client, port=None):
    status, doc = client.call("GET", "/admin/provisioners?limit=100", port=port)
    assert status == 200, doc
    return [p["name"] for p in doc["provisioners"]]


def step_ca_url(step, port, root, *args, check=True):
    return step.run(*args, "--ca-url", "https://127.0.0.1:%d" % port, "--root", root,
                    check=check)


# ---------------------------------------------------------------- the fleet


@pytest.fixture
def fleet(prefix, pki, server_tls, module_path):
    if not os.path.exists(STREAM_MODULE) or not shutil.which("redis-server"):
        pytest.skip("needs libnginx-mod-stream and redis-server")
    enable_admin(pki)
    crt, key = server_tls
    f = Fleet(os.path.join(prefix, "fleet"), pki, crt, key, module_path).start()
    yield f
    f.stop()
    assert not f.crashes(), "\n".join(f.crashes())
    assert not f.bad_lines(), "\n".join(f.bad_lines())


def test_fleet_provisioner_added_on_a_issues_on_b_at_once_and_removal_refuses_its_tokens(
        fleet, pki, step_cli, prefix):
    a, b = fleet.a, fleet.b
    admin = AdminClient(pki, a.port)
    pub, priv, pw = make_jwk(step_cli, os.path.join(prefix, "ops-key"), "ops-password")
    status, created = admin.call("POST", "/admin/provisioners",
                                 linkedca_jwk("ops", pub, priv))
    assert status == 201, created
    assert created["name"] == "ops" and len(created["id"]) == 36
    assert created["authorityId"] == "00000000-0000-0000-0000-000000000000"

    # At once on node B, with the real step CLI: listed, token, certificate.
    listed = json.loads(step_ca_url(step_cli, b.port, pki.root_crt,
                                    "ca", "provisioner", "list").stdout)
    assert "ops" in [p["name"] for p in listed]
    crt, key = os.path.join(prefix, "ops.crt"), os.path.join(prefix, "ops.key")
    step_ca_url(step_cli, b.port, pki.root_crt, "ca", "certificate", "ops.example.test",
                crt, key, "--provisioner", "ops", "--provisioner-password-file", pw)
    with open(crt, "rb") as f:
        leaf = x509.load_pem_x509_certificate(f.read())
    assert leaf.subject.rfc4514_string() == "CN=ops.example.test"
    # the provisioner's own claims: 2h by default
    assert abs((leaf.not_valid_after - leaf.not_valid_before).total_seconds() - 7260) < 120

    # Tokens minted while it exists, one for each node.
    tokens = {}
    for node in (a, b):
        out = step_ca_url(step_cli, node.port, pki.root_crt, "ca", "token",
                          "late-%s.example.test" % node.name, "--provisioner", "ops",
                          "--provisioner-password-file", pw)
        tokens[node.name] = out.stdout.strip()

    # Removed through node B: refused on both nodes from the next request.
    status, doc = admin.call("DELETE", "/admin/provisioners/ops", port=b.port)
    assert (status, doc) == (200, {"status": "ok"})
    for node in (a, b):
        csr, _ = make_csr("late-%s.example.test" % node.name)
        status, body = fleet.sign(csr, tokens[node.name], port=node.port)
        assert status == 401, (node.name, body)
        assert "ops" not in names(admin, port=node.port)
    proc = step_ca_url(step_cli, a.port, pki.root_crt, "ca", "certificate",
                       "again.example.test", os.path.join(prefix, "again.crt"),
                       os.path.join(prefix, "again.key"), "--provisioner", "ops",
                       "--provisioner-password-file", pw, check=False)
    assert proc.returncode != 0
    assert "ops" in proc.stderr  # step: provisioner "ops" not found


def test_fleet_admins_added_on_one_node_authorize_on_the_other(fleet, pki):
    a, b = fleet.a, fleet.b
    admin = AdminClient(pki, a.port)
    status, doc = admin.call("POST", "/admin/admins",
                             {"subject": "alice", "provisioner": admin.provisioner.name,
                              "type": 1})
    assert status == 201, doc
    assert doc["subject"] == "alice" and doc["type"] == "ADMIN"
    alice = AdminClient(pki, b.port, subject="alice")
    status, listed = alice.call("GET", "/admin/admins")
    assert status == 200, listed
    assert sorted(x["subject"] for x in listed["admins"]) == ["alice", FIRST_ADMIN]
    # encoding/json's field names, as step-ca 0.19 writes the list
    assert {x["type"] for x in listed["admins"]} == {1, 2}
    assert all("provisioner_id" in x for x in listed["admins"])
    status, got = alice.call("GET", "/admin/admins/" + doc["id"], port=a.port)
    assert status == 200 and got["provisionerId"] == doc["provisionerId"]
    status, removed = admin.call("DELETE", "/admin/admins/" + doc["id"], port=b.port)
    assert (status, removed) == (200, {"status": "ok"})
    status, err = alice.call("GET", "/admin/admins", port=a.port)
    assert status == 401 and err["type"] == "unauthorized", err


# ---------------------------------------------------------------- one node, LMDB


@pytest.fixture
def admin_nginx(pki, nginx_factory):
    enable_admin(pki)
    return nginx_factory(workers=2).start()


def test_lmdb_workers_see_a_change_at_once(admin_nginx, pki):
    admin = AdminClient(pki, admin_nginx.port)
    # a key made here: this test needs no CLI
    k = ec.generate_private_key(ec.SECP256R1())
    nums = k.public_key().public_numbers()
    pub = {"use": "sig", "kty": "EC", "kid": "lmdb-kid", "crv": "P-256", "alg": "ES256",
           "x": base64.urlsafe_b64encode(nums.x.to_bytes(32, "big")).rstrip(b"=").decode(),
           "y": base64.urlsafe_b64encode(nums.y.to_bytes(32, "big")).rstrip(b"=").decode()}
    body = {"type": "JWK", "name": "lmdb-ops",
            "details": {"JWK": {"publicKey": b64(json.dumps(pub).encode())}}}
    status, created = admin.call("POST", "/admin/provisioners", body)
    assert status == 201, created
    token_claims = lambda cn: {"aud": aud(admin_nginx.port), "iss": "lmdb-ops", "sub": cn,
                               "sans": [cn], "jti": os.urandom(16).hex(),
                               "iat": int(time.time()), "nbf": int(time.time()),
                               "exp": int(time.time()) + 300}
    # Ten fresh connections: both workers issue with it at once.
    for i in range(10):
        cn = "w%d.example.test" % i
        csr, _ = make_csr(cn)
        tok = sign_jwt({"alg": "ES256", "kid": "lmdb-kid", "typ": "JWT"}, token_claims(cn), k)
        status, _, out = admin_nginx.request("POST", "/1.0/sign",
                                          body=json.dumps({"csr": csr, "ott": tok}))
        assert status == 201, out
    status, doc = admin.call("DELETE", "/admin/provisioners/lmdb-ops")
    assert status == 200, doc
    for i in range(10):
        cn = "gone%d.example.test" % i
        csr, _ = make_csr(cn)
        tok = sign_jwt({"alg": "ES256", "kid": "lmdb-kid", "typ": "JWT"}, token_claims(cn), k)
        status, _, out = admin_nginx.request("POST", "/1.0/sign",
                                          body=json.dumps({"csr": csr, "ott": tok}))
        assert status == 401, out


def test_admin_api_bad_input(admin_nginx, pki):
    port = admin_nginx.port
    admin = AdminClient(pki, port)
    path = "/admin/provisioners"
    before = names(admin)

    def expect(status_body, status, typ, message=None):
        st, data = status_body
        doc = json.loads(data) if isinstance(data, (bytes, str)) else data
        assert st == status, (st, doc)
        assert doc["type"] == typ, doc
        assert set(doc) == {"type", "detail", "message"}, doc
        if message is not None:
            assert message in doc["message"], doc

    # no token, garbage, a JWK sign token, expired, wrong audience, wrong iss
    expect(admin.raw("GET", path), 401, "unauthorized", "missing authorization header token")
    expect(admin.raw("GET", path, token="not-a-token"), 401, "unauthorized", "error parsing x5c token")
    sign_token = admin.provisioner.token(FIRST_ADMIN, "https://127.0.0.1:%d%s" % (port, path))
    expect(admin.raw("GET", path, token=sign_token), 401, "unauthorized", "x5c")
    expect(admin.raw("GET", path, token=admin.token(path, exp=int(time.time()) - 120,
                                                    iat=int(time.time()) - 400,
                                                    nbf=int(time.time()) - 400)),
           401, "unauthorized", "invalid x5c claims")
    expect(admin.raw("GET", path, token=admin.token("/admin/admins")), 401, "unauthorized",
           "invalid audience")
    expect(admin.raw("GET", path, token=admin.token(path, iss="someone")), 401,
           "unauthorized", "invalid issuer")
    # a replayed token
    tok = admin.token(path)
    assert admin.raw("GET", path, token=tok)[0] == 200
    expect(admin.raw("GET", path, token=tok), 401, "unauthorized", "token already used")
    # a certificate from the same provisioner, but not an admin's
    mallory = AdminClient(pki, port, subject="mallory")
    expect(mallory.raw("GET", path, token=mallory.token(path)), 401, "unauthorized",
           "unable to load admin")

    # malformed bodies
    for body, message in [
            ("{", "error reading request body"),
            ("[]", "error reading request body"),
            (json.dumps({"type": "JWK"}), "provisioner name cannot be empty"),
            (json.dumps({"type": "OIDC", "name": "o"}), "OIDC is not supported"),
            (json.dumps({"type": "ACME", "name": "a", "policy": {"x509": {"deny": {"dns": ["x"]}}}}),
             "policy is not supported"),
            (json.dumps({"type": "ACME", "name": "a", "details": {"ACME": {"requireEab": True}}}),
             "requireEab is not supported"),
            (json.dumps({"type": "JWK", "name": "k", "details": {"JWK": {"publicKey": "@@"}}}),
             "not base64"),
            (json.dumps({"type": "JWK", "name": admin.provisioner.name,
                         "details": {"JWK": {"publicKey": b64(b'{"kty":"EC"}')}}}), None)]:
        expect(admin.raw("POST", path, body=body, token=admin.token(path)), 400, "badRequest",
               message)
    expect(admin.call("POST", "/admin/admins", {"provisioner": "x", "type": 1}), 400,
           "badRequest", "subject cannot be empty")
    expect(admin.call("POST", "/admin/admins", {"subject": "s", "provisioner": "x", "type": 0}),
           400, "badRequest", "invalid value for admin type")
    expect(admin.call("POST", "/admin/admins",
                      {"subject": "s", "provisioner": "nope", "type": 1}),
           404, "notFound", "provisioner nope not found")
    expect(admin.call("GET", "/admin/admins/nope"), 404, "notFound", "admin nope not found")
    expect(admin.call("GET", "/admin/admins?limit=x"), 400, "badRequest", "limit")
    # ca.json's provisioners are changed in ca.json
    expect(admin.call("DELETE", "/admin/provisioners/" + admin.provisioner.name), 400,
           "badRequest", "configured in ca.json")

    # the last super admin stays
    status, listed = admin.call("GET", "/admin/admins")
    assert status == 200 and len(listed["admins"]) == 1
    first = listed["admins"][0]
    assert (first["subject"], first["type"]) == (FIRST_ADMIN, 2)
    expect(admin.call("DELETE", "/admin/admins/" + first["id"]), 400, "badRequest",
           "last super admin")
    expect(admin.call("PATCH", "/admin/admins/" + first["id"], {"type": "ADMIN"}), 400,
           "badRequest", "last super admin")
    assert admin.call("GET", "/admin/admins")[1]["admins"] == listed["admins"]
    assert names(admin) == before

    # no such route or method
    status, data = admin.raw("GET", "/admin/nothing")
    assert status == 404
    status, data = admin.raw("PUT", "/admin/admins", token=admin.token("/admin/admins"))
    assert status == 405


def test_admin_api_absent_without_enable_admin(nginx, pki):
    admin = AdminClient(pki, nginx.port)
    status, data = admin.raw("GET", "/admin/provisioners",
                             token=admin.token("/admin/provisioners"))
    assert status == 404 and data == b"404 page not found\n"


@pytest.mark.parametrize("change,message", [
    (lambda a: a.update(enableAdmin="yes"), "authority.enableAdmin\": must be true or false"),
    (lambda a: a.update(provisioners=[p for p in a["provisioners"] if p["type"] != "JWK"]),
     "authority.enableAdmin needs a JWK provisioner in authority.provisioners"),
])
def test_enable_admin_config_errors_are_named(nginx_factory, pki, change, message):
    doc = pki.read_ca_json()
    doc["authority"]["enableAdmin"] = True
    change(doc["authority"])
    pki.write_ca_json(doc)
    r = nginx_factory().test_config()
    assert r.returncode != 0
    assert message in r.stderr, r.stderr
