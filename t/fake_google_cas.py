"""A stand-in for Google Cloud Certificate Authority Service (the v1 REST
API, privateca.googleapis.com) and Google's OAuth2 token endpoint, written
from their public documentation (nothing of Google's can run here). It
holds a real root and subordinate CA (EC P-256, `cryptography`) and signs
for real.

OAuth2 (the service-account flow, RFC 7523):
  POST /token  grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>
  The JWT must be RS256, signed by the service account's key (checked
  against its public key), kid = private_key_id, iss = client_email,
  aud = token_uri, scope naming cloud-platform, iat/exp current and at most
  an hour apart. Answer {"access_token", "expires_in", "token_type"}.
  Errors are {"error": "invalid_grant", "error_description": ...}.

CA Service v1, every call with "Authorization: Bearer <a token this fake
issued and that has not expired>" (else 401 UNAUTHENTICATED):
  GET  /v1/{pool}/certificateAuthorities/{ca}     -> pemCaCertificates
  POST /v1/{pool}:fetchCaCerts {"requestId"}       -> caCerts[].certificates
  POST /v1/{pool}/certificates?certificateId=&requestId=&issuingCertificateAuthorityId=
       {"pemCsr", "lifetime": "<n>s"}              -> Certificate
  GET  /v1/{pool}/certificates?filter=certificate_description.subject_description.hex_serial_number="<hex>"
  POST /v1/{pool}/certificates/{id}:revoke {"reason", "requestId"}
Errors are {"error": {"code", "message", "status"}}. Unknown members of a
request body are refused as Google's JSON parser refuses them.

Faults for tests: `fail_status`, `delay` (for certificate creation),
`token_lifetime`, stop().
"""

import base64
import datetime
import http.server
import json
import re
import secrets
import threading
import time
import urllib.parse

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from fake_vault import _pem, make_ca, sign_leaf

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
REASONS = {"REVOCATION_REASON_UNSPECIFIED", "KEY_COMPROMISE", "CERTIFICATE_AUTHORITY_COMPROMISE",
           "AFFILIATION_CHANGED", "SUPERSEDED", "CESSATION_OF_OPERATION", "CERTIFICATE_HOLD",
           "PRIVILEGE_WITHDRAWN", "ATTRIBUTE_AUTHORITY_COMPROMISE"}
CODES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
         404: "NOT_FOUND", 409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED",
         500: "INTERNAL", 503: "UNAVAILABLE"}


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def hex_serial(serial):
    h = "%x" % serial
    return "0" + h if len(h) % 2 else h


class GoogleError(Exception):
    def __init__(self, code, message, status=None):
        super().__init__(code, message)
        self.code, self.message, self.status = code, message, status or CODES.get(code, "UNKNOWN")


class FakeGoogleCas:
    def __init__(self, project="fake-project", location="us-west1", pool="fake-pool",
                 ca_id="fake-sub-ca", token_lifetime=3600, ca=None):
        self.pool = "projects/%s/locations/%s/caPools/%s" % (project, location, pool)
        self.ca_id = ca_id
        self.ca_name = self.pool + "/certificateAuthorities/" + ca_id
        self.root, self.intermediate, self.int_key = ca or make_ca("Fake Google CAS Root",
                                                                   "Fake Google CAS Subordinate")
        self.sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.sa_email = "step-ca-sa@%s.iam.gserviceaccount.com" % project
        self.sa_key_id = secrets.token_hex(20)
        self.token_lifetime = token_lifetime
        self.tokens = {}         # access token -> expiry (monotonic)
        self.grants = 0
        self.certificates = {}   # name -> {"cert", "revoked": reason or None}
        self.log = []            # (method, path, headers, body)
        self.fail_status = 0
        self.delay = 0
        self.release = threading.Event()
        self._lock = threading.Lock()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _answer(self, status, doc):
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method):
                n = int(self.headers.get("Content-Length", "0") or 0)
                raw = self.rfile.read(n) if n else b""
                owner.log.append((method, self.path, dict(self.headers), raw))
                if self.path.split("?")[0] == "/token":
                    if method != "POST":
                        return self._answer(405, {"error": "invalid_request"})
                    status, doc = owner.token(self.headers, raw)
                    return self._answer(status, doc)
                try:
                    owner.bearer(self.headers)
                    status, doc = owner.route(method, self.path, raw)
                except GoogleError as e:
                    return self._answer(e.code, {"error": {"code": e.code, "message": e.message,
                                                           "status": e.status}})
                self._answer(status, doc)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.token_uri = self.url + "/token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # ------------------------------------------------------------ test helpers

    def credentials(self, key=None):
        """A service account key file's content, as `gcloud iam
        service-accounts keys create` writes it."""
        key = key or self.sa_key
        return {
            "type": "service_account",
            "project_id": self.pool.split("/")[1],
            "private_key_id": self.sa_key_id,
            "private_key": key.private_bytes(serialization.Encoding.PEM,
                                             serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode(),
            "client_email": self.sa_email,
            "client_id": "1234567890",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri,
        }

    def root_fingerprint(self):
        return self.root.fingerprint(hashes.SHA256()).hex()

    def expire_all_tokens(self):
        with self._lock:
            for t in self.tokens:
                self.tokens[t] = time.monotonic() - 1

    def requests_to(self, part):
        return [e for e in self.log if part in e[1]]

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------ OAuth2

    def token(self, headers, raw):
        def refuse(why, status=400):
            return status, {"error": "invalid_grant", "error_description": why}
        if not headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return 400, {"error": "invalid_request", "error_description": "form body required"}
        form = urllib.parse.parse_qs(raw.decode(), strict_parsing=True) if raw else {}
        if form.get("grant_type") != [GRANT]:
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."}
        jwt = (form.get("assertion") or [""])[0]
        parts = jwt.split(".")
        if len(parts) != 3:
            return refuse("Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            sig = b64url_decode(parts[2])
        except ValueError:
            return refuse("Invalid JWT: malformed.")
        if header.get("alg") != "RS256" or header.get("kid") != self.sa_key_id:
            return refuse("Invalid JWT Signature.")
        try:
            self.sa_key.public_key().verify(sig, (parts[0] + "." + parts[1]).encode(),
                                            padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return refuse("Invalid JWT Signature.")
        now = time.time()
        if claims.get("iss") != self.sa_email:
            return refuse("Invalid JWT: iss is not the service account.")
        if claims.get("aud") != self.token_uri:
            return refuse("Invalid JWT: Failed audience check.")
        if SCOPE not in str(claims.get("scope", "")).split():
            return refuse("Invalid JWT: no cloud-platform scope.", 400)
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int) or iat > now + 60 or exp < now \
                or exp - iat > 3600:
            return refuse("Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                          "reasonable timeframe.")
        t = "ya29.fake-" + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[t] = time.monotonic() + self.token_lifetime
        self.grants += 1
        return 200, {"access_token": t, "expires_in": self.token_lifetime, "token_type": "Bearer"}

    def bearer(self, headers):
        auth = headers.get("Authorization", "")
        t = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        with self._lock:
            exp = self.tokens.get(t)
        if exp is None or exp < time.monotonic():
            raise GoogleError(401, "Request had invalid authentication credentials. Expected OAuth 2 "
                                   "access token, login cookie or other valid authentication credential.")

    # ------------------------------------------------------------ CA Service v1

    def _body(self, raw, allowed, required=()):
        try:
            doc = json.loads(raw or b"{}")
        except ValueError:
            raise GoogleError(400, "Invalid JSON payload received.")
        if not isinstance(doc, dict):
            raise GoogleError(400, "Invalid JSON payload received. Expected an object.")
        for k in doc:
            if k not in allowed:
                raise GoogleError(400, "Invalid JSON payload received. Unknown name \"%s\": Cannot "
                                       "find field." % k)
        for k in required:
            if not doc.get(k):
                raise GoogleError(400, "%s is required" % k)
        return doc

    def _certificate(self, name):
        c = self.certificates[name]
        doc = {"name": name, "pemCertificate": _pem(c["cert"]),
               "pemCertificateChain": [_pem(self.intermediate), _pem(self.root)],
               "issuerCertificateAuthority": self.ca_name,
               "lifetime": c["lifetime"],
               "certificateDescription": {"subjectDescription": {
                   "hexSerialNumber": hex_serial(c["cert"].serial_number)}}}
        if c["revoked"]:
            doc["revocationDetails"] = {"revocationState": c["revoked"],
                                        "revocationTime": datetime.datetime.utcnow().isoformat() + "Z"}
        return doc

    def route(self, method, path, raw):
        url = urllib.parse.urlsplit(path)
        p = urllib.parse.unquote(url.path)
        q = urllib.parse.parse_qs(url.query)
        if not p.startswith("/v1/"):
            raise GoogleError(404, "The requested URL was not found on this server.")
        p = p[4:]
        if method == "GET" and p == self.ca_name:
            return 200, {"name": self.ca_name, "type": "SUBORDINATE", "state": "ENABLED",
                         "pemCaCertificates": [_pem(self.intermediate), _pem(self.root)]}
        if method == "GET" and p.startswith(self.pool + "/certificateAuthorities/"):
            raise GoogleError(404, "Resource '%s' was not found" % p)
        if method == "POST" and p == self.pool + ":fetchCaCerts":
            self._body(raw, {"requestId"})
            return 200, {"caCerts": [{"certificates": [_pem(self.intermediate), _pem(self.root)]}]}
        if p == self.pool + "/certificates" and method == "POST":
            cid = (q.get("certificateId") or [""])[0]
            if not re.fullmatch(r"[a-zA-Z0-9_-]{1,63}", cid):
                raise GoogleError(400, "certificate_id must match [a-zA-Z0-9_-]{1,63}")
            issuing = (q.get("issuingCertificateAuthorityId") or [""])[0]
            if issuing and issuing != self.ca_id:
                raise GoogleError(404, "Resource '%s/certificateAuthorities/%s' was not found"
                                  % (self.pool, issuing))
            doc = self._body(raw, {"pemCsr", "lifetime", "labels", "config", "certificateTemplate",
                                   "subjectMode"}, ("pemCsr", "lifetime"))
            m = re.fullmatch(r"(\d+)(\.\d+)?s", doc["lifetime"])
            if not m:
                raise GoogleError(400, "Invalid value at 'certificate.lifetime' (type.googleapis.com/"
                                       "google.protobuf.Duration), Field 'lifetime', Illegal duration "
                                       "format; duration must end with 's'")
            if self.delay:
                self.release.wait(self.delay)
            if self.fail_status:
                raise GoogleError(self.fail_status, "Internal error encountered.")
            try:
                csr = x509.load_pem_x509_csr(doc["pemCsr"].encode())
            except ValueError:
                raise GoogleError(400, "Invalid PEM CSR.")
            if not csr.is_signature_valid:
                raise GoogleError(400, "The CSR signature is invalid.")
            name = self.pool + "/certificates/" + cid
            if name in self.certificates:
                raise GoogleError(409, "Resource '%s' already exists" % name)
            leaf = sign_leaf(csr, self.intermediate, self.int_key, int(m.group(1)))
            self.certificates[name] = {"cert": leaf, "revoked": None, "lifetime": doc["lifetime"]}
            return 200, self._certificate(name)
        if p == self.pool + "/certificates" and method == "GET":
            flt = (q.get("filter") or [""])[0]
            m = re.fullmatch(r'certificate_description\.subject_description\.hex_serial_number="([0-9a-f]+)"',
                             flt)
            if not m:
                raise GoogleError(400, "Invalid filter: %s" % flt)
            found = [self._certificate(n) for n, c in self.certificates.items()
                     if hex_serial(c["cert"].serial_number) == m.group(1)]
            return 200, ({"certificates": found} if found else {})
        if method == "POST" and p.endswith(":revoke") and p.startswith(self.pool + "/certificates/"):
            name = p[:-len(":revoke")]
            if name not in self.certificates:
                raise GoogleError(404, "Resource '%s' was not found" % name)
            doc = self._body(raw, {"reason", "requestId"}, ("reason",))
            if doc["reason"] not in REASONS:
                raise GoogleError(400, "Invalid value at 'reason' (type.googleapis.com/google.cloud."
                                       "security.privateca.v1.RevocationReason), \"%s\"" % doc["reason"])
            if self.certificates[name]["revoked"]:
                raise GoogleError(400, "Certificate is already revoked.", "FAILED_PRECONDITION")
            self.certificates[name]["revoked"] = doc["reason"]
            return 200, self._certificate(name)
        raise GoogleError(404, "The requested URL /v1/%s was not found on this server." % p)
