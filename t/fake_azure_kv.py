"""A fake Azure Key Vault written from Microsoft's public REST reference
(Keys - Get Key, Keys - Sign) and the Microsoft identity platform's
client-credentials grant (POST /{tenant}/oauth2/v2.0/token). The login
endpoint checks the service principal's client id and secret; the vault
accepts only bearer tokens it issued. Keys are real and sign digests;
ECDSA signatures come back as JOSE's r || s."""

import base64
import json
import secrets
import time
import urllib.parse

from cryptography.hazmat.primitives.asymmetric import ec, rsa, utils

from fake_kms_server import FakeServer, Reply, sign_digest

TENANT_ID = "9de53416-4431-4181-7a8b-23af3e0fa4e1"
CLIENT_ID = "6a1e3a55-0d3c-4b6a-9a0e-5f3c1e2d7b90"
CLIENT_SECRET = "fake-azure-client-secret-Qx81"
SCOPE = "https://vault.azure.net/.default"
ALGS = {"ES256": "SHA256", "ES384": "SHA384", "ES512": "SHA512",
        "RS256": "SHA256", "RS384": "SHA384", "RS512": "SHA512", "PS256": "SHA256"}


def _b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64u_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _int(n, size):
    return _b64u(n.to_bytes(size, "big"))


def _kv_error(status, code, message):
    return Reply(status, {"error": {"code": code, "message": message}})


class FakeAzureKeyVault(FakeServer):
    def __init__(self, tenant=TENANT_ID, client_id=CLIENT_ID, client_secret=CLIENT_SECRET):
        super().__init__()
        self.tenant = tenant
        self.client_id = client_id
        self.client_secret = client_secret
        self.tokens = {}
        self.keys = {}  # name -> {version: private key}, versions in order

    def add_key(self, name, private_key, version=None):
        version = version or secrets.token_hex(16)
        self.keys.setdefault(name, {})[version] = private_key
        return version

    def grants(self):
        return self.count(lambda c: c[1].endswith("/oauth2/v2.0/token") and c[2] == 200)

    def signs(self):
        return self.count(lambda c: c[1].endswith("/sign") and c[2] == 200)

    def _token(self, path, body):
        if path != "/%s/oauth2/v2.0/token" % self.tenant:
            raise Reply(400, {"error": "invalid_request",
                              "error_description": "AADSTS90002: Tenant not found."})
        form = dict(urllib.parse.parse_qsl(body.decode()))
        if form.get("grant_type") != "client_credentials":
            raise Reply(400, {"error": "unsupported_grant_type"})
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            raise Reply(401, {"error": "invalid_client",
                              "error_description": "AADSTS7000215: Invalid client secret provided."})
        if form.get("scope") != SCOPE:
            raise Reply(400, {"error": "invalid_scope"})
        token = "eyFakeAzure." + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = time.time() + 3599
        return 200, {"token_type": "Bearer", "expires_in": 3599, "access_token": token}

    def _authorize(self, headers):
        auth = headers.get("Authorization") or ""
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        with self.lock:
            expiry = self.tokens.get(token)
        if expiry is None or expiry < time.time():
            raise _kv_error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.")

    def _jwk(self, name, version, key):
        kid = "%s/keys/%s/%s" % (self.url, name, version)
        pub = key.public_key()
        if isinstance(key, ec.EllipticCurvePrivateKey):
            size = (key.curve.key_size + 7) // 8
            n = pub.public_numbers()
            return {"kid": kid, "kty": "EC-HSM",
                    "crv": {256: "P-256", 384: "P-384", 521: "P-521"}[key.curve.key_size],
                    "x": _int(n.x, size), "y": _int(n.y, size), "key_ops": ["sign", "verify"]}
        n = pub.public_numbers()
        return {"kid": kid, "kty": "RSA-HSM", "n": _int(n.n, (n.n.bit_length() + 7) // 8),
                "e": _int(n.e, 3), "key_ops": ["sign", "verify"]}

    def handle(self, method, path, query, headers, body, raw_path=""):
        if method == "POST" and path.endswith("/oauth2/v2.0/token"):
            return self._token(path, body)
        if not path.startswith("/keys/"):
            raise _kv_error(404, "NotFound", "no such operation")
        if not query.get("api-version"):
            raise _kv_error(400, "BadParameter", "api-version is required")
        self._authorize(headers)
        parts = path[len("/keys/"):].split("/")
        name = parts[0]
        versions = self.keys.get(name)
        if not versions:
            raise _kv_error(404, "KeyNotFound", "A key with (name/id) %s was not found in this key vault." % name)
        version = parts[1] if len(parts) > 1 and parts[1] else list(versions)[-1]
        key = versions.get(version)
        if key is None:
            raise _kv_error(404, "KeyNotFound", "A key with (name/id) %s/%s was not found." % (name, version))
        if method == "GET" and len(parts) <= 2:
            return 200, {"key": self._jwk(name, version, key),
                         "attributes": {"enabled": True, "recoveryLevel": "Recoverable"}}
        if method == "POST" and len(parts) == 3 and parts[2] == "sign":
            req = json.loads(body or b"{}")
            alg = req.get("alg", "")
            if alg not in ALGS or isinstance(key, ec.EllipticCurvePrivateKey) != alg.startswith("ES"):
                raise _kv_error(400, "BadParameter", "alg %s does not fit the key" % alg)
            try:
                sig = sign_digest(key, _b64u_decode(req.get("value", "")), ALGS[alg],
                                  pss=alg.startswith("PS"))
            except ValueError as e:
                raise _kv_error(400, "BadParameter", str(e))
            if isinstance(key, ec.EllipticCurvePrivateKey):
                r, s = utils.decode_dss_signature(sig)
                size = (key.curve.key_size + 7) // 8
                sig = r.to_bytes(size, "big") + s.to_bytes(size, "big")
            return 200, {"kid": "%s/keys/%s/%s" % (self.url, name, version), "value": _b64u(sig)}
        raise _kv_error(405, "MethodNotAllowed", "no such operation")
