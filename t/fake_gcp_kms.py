"""A fake Google Cloud KMS written from Google's public REST reference
(cryptoKeyVersions.getPublicKey and .asymmetricSign) and its OAuth2
service-account flow (RFC 7523 JWT bearer grant at the key file's
token_uri). The token endpoint verifies the RS256 grant against the
service account's public key; the KMS accepts only bearer tokens it
issued and that have not expired. Keys are real and sign digests."""

import base64
import json
import secrets
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from fake_kms_server import FakeServer, Reply, sign_digest

SCOPE = "https://www.googleapis.com/auth/cloudkms"
CLIENT_EMAIL = "stepca@fake-project.iam.gserviceaccount.com"


def _b64u_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _google_error(code, status, message):
    return Reply(code, {"error": {"code": code, "message": message, "status": status}})


class FakeGcpKms(FakeServer):
    def __init__(self, token_lifetime=3600):
        super().__init__()
        self.account_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.account_key_id = secrets.token_hex(20)
        self.token_lifetime = token_lifetime
        self.tokens = {}      # access token -> expiry (unix seconds)
        self.keys = {}        # cryptoKeyVersion name -> (private key, algorithm)

    def add_key(self, name, private_key, algorithm=None):
        if algorithm is None:
            if isinstance(private_key, ec.EllipticCurvePrivateKey):
                algorithm = {256: "EC_SIGN_P256_SHA256", 384: "EC_SIGN_P384_SHA384"}[
                    private_key.curve.key_size]
            else:
                algorithm = "RSA_SIGN_PKCS1_%d_SHA256" % private_key.key_size
        self.keys[name] = (private_key, algorithm)

    def credentials(self, account_key=None):
        """A service-account key file's JSON, pointing token_uri here."""
        key = account_key or self.account_key
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        return {"type": "service_account", "project_id": "fake-project",
                "private_key_id": self.account_key_id, "private_key": pem,
                "client_email": CLIENT_EMAIL, "client_id": "1234567890",
                "token_uri": self.url + "/token"}

    def grants(self):
        return self.count(lambda c: c[1] == "/token" and c[2] == 200)

    def signs(self):
        return self.count(lambda c: c[1].endswith(":asymmetricSign") and c[2] == 200)

    # -- OAuth2: the JWT bearer grant

    def _grant(self, body):
        form = dict(urllib.parse.parse_qsl(body.decode()))
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            raise Reply(400, {"error": "unsupported_grant_type"})
        parts = form.get("assertion", "").split(".")
        if len(parts) != 3:
            raise Reply(400, {"error": "invalid_grant", "error_description": "malformed JWT"})
        try:
            header = json.loads(_b64u_decode(parts[0]))
            claims = json.loads(_b64u_decode(parts[1]))
            sig = _b64u_decode(parts[2])
        except ValueError:
            raise Reply(400, {"error": "invalid_grant", "error_description": "malformed JWT"})
        if header.get("alg") != "RS256":
            raise Reply(400, {"error": "invalid_grant", "error_description": "alg must be RS256"})
        try:
            self.account_key.public_key().verify(sig, (parts[0] + "." + parts[1]).encode(),
                                                 padding.PKCS1v15(), hashes.SHA256())
        except Exception:
            raise Reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        now = time.time()
        if claims.get("iss") != CLIENT_EMAIL:
            raise Reply(400, {"error": "invalid_grant", "error_description": "unknown iss"})
        if claims.get("aud") != self.url + "/token":
            raise Reply(400, {"error": "invalid_grant", "error_description": "aud is not token_uri"})
        if not (claims.get("iat", 0) - 300 <= now < claims.get("exp", 0)) or \
                claims["exp"] - claims["iat"] > 3600:
            raise Reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT: iat/exp"})
        if SCOPE not in str(claims.get("scope", "")).split():
            raise Reply(400, {"error": "invalid_scope"})
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = now + self.token_lifetime
        return 200, {"access_token": token, "expires_in": self.token_lifetime,
                     "token_type": "Bearer"}

    def _authorize(self, headers):
        auth = headers.get("Authorization") or ""
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        with self.lock:
            expiry = self.tokens.get(token)
        if expiry is None or expiry < time.time():
            raise _google_error(401, "UNAUTHENTICATED",
                                "Request had invalid authentication credentials.")

    # -- the API

    def handle(self, method, path, query, headers, body, raw_path=""):
        if path == "/token" and method == "POST":
            return self._grant(body)
        if not path.startswith("/v1/"):
            raise _google_error(404, "NOT_FOUND", "no such method")
        self._authorize(headers)
        rest = path[len("/v1/"):]
        if method == "GET" and rest.endswith("/publicKey"):
            name = rest[:-len("/publicKey")]
            if name not in self.keys:
                raise _google_error(404, "NOT_FOUND", "CryptoKeyVersion %s not found." % name)
            key, alg = self.keys[name]
            pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
            return 200, {"pem": pem.decode(), "algorithm": alg, "name": name,
                         "protectionLevel": "HSM"}
        if method == "POST" and rest.endswith(":asymmetricSign"):
            name = rest[:-len(":asymmetricSign")]
            if name not in self.keys:
                raise _google_error(404, "NOT_FOUND", "CryptoKeyVersion %s not found." % name)
            key, alg = self.keys[name]
            req = json.loads(body or b"{}")
            digest = req.get("digest") or {}
            want = alg.rsplit("_", 1)[1].lower()
            if list(digest) != [want]:
                raise _google_error(400, "INVALID_ARGUMENT", "digest must be %s for %s" % (want, alg))
            try:
                sig = sign_digest(key, base64.b64decode(digest[want], validate=True),
                                  want.upper(), pss="_PSS_" in alg)
            except ValueError as e:
                raise _google_error(400, "INVALID_ARGUMENT", str(e))
            return 200, {"signature": base64.b64encode(sig).decode(), "name": name}
        raise _google_error(404, "NOT_FOUND", "no such method")
