"""A stand-in for HashiCorp Vault's PKI secrets engine, written from
Vault's public HTTP API documentation (no Vault server can be installed
here). It holds a real root and intermediate (EC P-256, made with
`cryptography`) and signs CSRs for real.

What it serves, under /v1/, as the documentation describes it:
  auth/<approle mount>/login      POST {"role_id", "secret_id"}
  auth/<kubernetes mount>/login   POST {"role", "jwt"}
  auth/token/renew-self           POST {"increment"}          (X-Vault-Token)
  sys/wrapping/unwrap             POST                         (X-Vault-Token: the wrapping token)
  <mount>/sign/<role>             POST {"csr", "ttl", "format", ...}  (X-Vault-Token)
  <mount>/revoke                  POST {"serial_number"}       (X-Vault-Token)
  <mount>/cert/ca_chain           GET  (unauthenticated)
  <mount>/ca/pem                  GET  (unauthenticated, raw PEM)
Answers are Vault's shapes ({"data": ...} / {"auth": ...}); errors are
{"errors": [...]} with Vault's status codes (400 bad request, 403
permission denied, 404 no handler / unknown role, 405 wrong method).

Strictness: unknown paths and methods are refused; every authenticated
path wants a live X-Vault-Token this fake issued; with a namespace set,
every request must carry it in X-Vault-Namespace (else 404, as no such
mount exists outside it); JSON bodies must parse and hold what the
endpoint requires; a role only signs the key type it was made for.

Faults for tests: `fail_status` (every sign answers that status),
`delay` (seconds before answering a sign), `token_ttl` / `renewable`
(the lease of login tokens), stop().
"""

import datetime
import http.server
import json
import secrets
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def make_ca(root_cn="Fake Vault Root CA", int_cn="Fake Vault Intermediate CA"):
    """(root cert, intermediate cert, intermediate key)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (x509.CertificateBuilder().subject_name(_name(root_cn)).issuer_name(_name(root_cn))
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                           critical=True)
            .sign(root_key, hashes.SHA256()))
    int_key = ec.generate_private_key(ec.SECP256R1())
    inter = (x509.CertificateBuilder().subject_name(_name(int_cn)).issuer_name(root.subject)
             .public_key(int_key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(hours=1))
             .not_valid_after(now + datetime.timedelta(days=1825))
             .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
             .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                            critical=True)
             .sign(root_key, hashes.SHA256()))
    return root, inter, int_key


def ca_of_pki(pki):
    """The (root, intermediate, intermediate key) of a conftest Pki: for the
    tests where the RA's own TLS certificate must chain to the upstream's
    root (a real client bootstraps by that root)."""
    password = open(pki.password_file, "rb").read().strip()
    with open(pki.intermediate_key, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=password)
    with open(pki.root_crt, "rb") as f:
        root = x509.load_pem_x509_certificate(f.read())
    with open(pki.intermediate_crt, "rb") as f:
        inter = x509.load_pem_x509_certificate(f.read())
    return root, inter, key


def sign_leaf(csr, issuer, issuer_key, seconds):
    """A leaf for the CSR's subject and names, as Vault's sign endpoint
    makes one with use_csr_sans (the default)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(issuer.subject)
         .public_key(csr.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(seconds=30))
         .not_valid_after(now + datetime.timedelta(seconds=seconds))
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
                                               x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]),
                        critical=False))
    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        b = b.add_extension(san.value, critical=False)
    except x509.ExtensionNotFound:
        pass
    return b.sign(issuer_key, hashes.SHA256())


def key_type(public_key):
    if isinstance(public_key, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "ec"
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "ed25519"
    return "unknown"


def colon_hex(serial):
    h = "%x" % serial
    if len(h) % 2:
        h = "0" + h
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


def parse_ttl(value):
    """Vault's duration: an integer of seconds or "<n>s|m|h"."""
    if isinstance(value, int):
        return value
    if not isinstance(value, str) or not value:
        raise ValueError("invalid ttl")
    units = {"s": 1, "m": 60, "h": 3600}
    if value[-1] in units:
        return int(value[:-1]) * units[value[-1]]
    return int(value)


class VaultError(Exception):
    def __init__(self, status, *errors):
        super().__init__(status, errors)
        self.status = status
        self.errors = list(errors)


class FakeVault:
    def __init__(self, mount="pki_int1", roles=None, role_id="fake-role-id",
                 secret_id="fake-secret-id", approle_mount="approle",
                 kubernetes_mount="kubernetes", kubernetes_role="step-ra",
                 kubernetes_jwt="fake-service-account-jwt", namespace="",
                 token_ttl=3600, renewable=True, max_ttl=72 * 3600, ca=None, tls=None):
        self.mount = mount
        # role name -> the key type it signs (Vault's key_type)
        self.roles = roles or {"ec-role": "ec", "rsa-role": "rsa", "ed25519-role": "ed25519"}
        self.role_id, self.secret_id = role_id, secret_id
        self.approle_mount, self.kubernetes_mount = approle_mount, kubernetes_mount
        self.kubernetes_role, self.kubernetes_jwt = kubernetes_role, kubernetes_jwt
        self.namespace = namespace
        self.token_ttl, self.renewable, self.max_ttl = token_ttl, renewable, max_ttl
        self.root, self.intermediate, self.int_key = ca or make_ca()
        self.tokens = {}          # token -> expiry (monotonic); None: never
        self.wrapping = {}        # wrapping token -> secret_id (single use)
        self.issued = {}          # colon hex serial -> cert
        self.revoked = set()
        self.log = []             # (method, path, headers, body) of every request
        self.logins = 0
        self.renewals = 0
        self.fail_status = 0
        self.delay = 0
        self.release = threading.Event()
        self._lock = threading.Lock()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):

            def log_message(self, *a):
                pass

            def _answer(self, status, doc=None, raw=None, ctype="application/json"):
                data = raw if raw is not None else (json.dumps(doc).encode() if doc is not None else b"")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method):
                n = int(self.headers.get("Content-Length", "0") or 0)
                raw = self.rfile.read(n) if n else b""
                owner.log.append((method, self.path, dict(self.headers), raw))
                try:
                    status, doc, text = owner.route(method, self.path, self.headers, raw)
                except VaultError as e:
                    return self._answer(e.status, {"errors": e.errors})
                if text is not None:
                    return self._answer(status, raw=text.encode(), ctype="application/pem-certificate-chain")
                self._answer(status, doc)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def do_PUT(self):
                self._handle("PUT")

            def do_DELETE(self):
                self._handle("DELETE")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        if tls:  # (certificate file, key file): Vault behind TLS
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
            self.url = "https://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # ------------------------------------------------------------ test helpers

    @property
    def root_pem(self):
        return _pem(self.root)

    @property
    def intermediate_pem(self):
        return _pem(self.intermediate)

    def root_fingerprint(self):
        return self.root.fingerprint(hashes.SHA256()).hex()

    def wrap_secret_id(self):
        """A response-wrapping token whose unwrap gives the secret ID, as
        `vault write -wrap-ttl=... auth/approle/role/<r>/secret-id` hands out."""
        t = "hvs.wrap." + secrets.token_hex(12)
        self.wrapping[t] = self.secret_id
        return t

    def expire_all_tokens(self):
        with self._lock:
            for t in self.tokens:
                self.tokens[t] = time.monotonic() - 1

    def requests_to(self, suffix):
        return [e for e in self.log if e[1].split("?")[0].endswith(suffix)]

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------ the API

    def _body(self, raw, required=()):
        if not raw:
            doc = {}
        else:
            try:
                doc = json.loads(raw)
            except ValueError as e:
                raise VaultError(400, "failed to parse JSON input: %s" % e)
            if not isinstance(doc, dict):
                raise VaultError(400, "failed to parse JSON input: not an object")
        for f in required:
            if not doc.get(f):
                raise VaultError(400, "missing required field %r" % f if f != "csr" else "\"csr\" is empty")
        return doc

    def _token(self, headers):
        t = headers.get("X-Vault-Token", "")
        with self._lock:
            exp = self.tokens.get(t, False)
        if exp is False or (exp is not None and exp < time.monotonic()):
            raise VaultError(403, "permission denied")
        return t

    def _issue_token(self):
        t = "hvs." + secrets.token_urlsafe(18)
        with self._lock:
            self.tokens[t] = (time.monotonic() + self.token_ttl) if self.token_ttl else None
        return {"auth": {"client_token": t, "accessor": secrets.token_hex(8),
                         "policies": ["default", "smallstep"], "token_policies": ["default", "smallstep"],
                         "lease_duration": self.token_ttl, "renewable": self.renewable,
                         "entity_id": "", "token_type": "service", "orphan": True},
                "data": None, "lease_id": "", "renewable": False, "lease_duration": 0,
                "request_id": secrets.token_hex(8), "warnings": None, "wrap_info": None}

    def route(self, method, path, headers, raw):
        if not path.startswith("/v1/"):
            raise VaultError(404)
        if self.namespace and headers.get("X-Vault-Namespace", "").strip("/") != self.namespace:
            # outside the namespace nothing is mounted
            raise VaultError(404, "no handler for route %r. route entry not found." % path[4:])
        if not self.namespace and headers.get("X-Vault-Namespace"):
            raise VaultError(404, "namespace not found")
        p = path[4:].split("?")[0]
        m = self.mount
        if p == "%s/cert/ca_chain" % m and method == "GET":
            return 200, {"data": {"certificate": self.intermediate_pem + self.root_pem,
                                  "revocation_time": 0}}, None
        if p == "%s/ca/pem" % m and method == "GET":
            return 200, None, self.intermediate_pem
        if method != "POST" and method != "PUT":
            raise VaultError(405, "1 error occurred:\n\t* unsupported operation\n\n")
        if p == "auth/%s/login" % self.approle_mount:
            doc = self._body(raw, ("role_id",))
            if doc.get("role_id") != self.role_id:
                raise VaultError(400, "invalid role ID")
            if doc.get("secret_id") != self.secret_id:
                raise VaultError(400, "invalid secret id")
            self.logins += 1
            return 200, self._issue_token(), None
        if p == "auth/%s/login" % self.kubernetes_mount:
            doc = self._body(raw, ("role", "jwt"))
            if doc["role"] != self.kubernetes_role:
                raise VaultError(400, "invalid role name \"%s\"" % doc["role"])
            if doc["jwt"] != self.kubernetes_jwt:
                raise VaultError(403, "permission denied")
            self.logins += 1
            return 200, self._issue_token(), None
        if p == "sys/wrapping/unwrap":
            t = headers.get("X-Vault-Token", "") or self._body(raw).get("token", "")
            secret = self.wrapping.pop(t, None)
            if secret is None:
                raise VaultError(400, "wrapping token is not valid or does not exist")
            return 200, {"data": {"secret_id": secret, "secret_id_accessor": secrets.token_hex(8),
                                  "secret_id_ttl": 0}, "auth": None, "lease_duration": 0}, None
        if p == "auth/token/renew-self":
            t = self._token(headers)
            self._body(raw)
            if not self.renewable:
                raise VaultError(400, "lease is not renewable")
            with self._lock:
                self.tokens[t] = time.monotonic() + self.token_ttl
            self.renewals += 1
            doc = self._issue_token()
            with self._lock:
                del self.tokens[doc["auth"]["client_token"]]
            doc["auth"]["client_token"] = t
            return 200, doc, None
        if p.startswith("%s/sign/" % m):
            self._token(headers)
            role = p[len(m) + 6:]
            doc = self._body(raw, ("csr",))
            if self.delay:
                self.release.wait(self.delay)
            if self.fail_status:
                raise VaultError(self.fail_status, "1 error occurred:\n\t* internal error\n\n")
            if role not in self.roles:
                raise VaultError(400, "unknown role: %s" % role)
            try:
                csr = x509.load_pem_x509_csr(doc["csr"].encode())
            except ValueError:
                raise VaultError(400, "csr contains no data")
            if not csr.is_signature_valid:
                raise VaultError(400, "certificate request could not be parsed: signature invalid")
            kt = key_type(csr.public_key())
            if kt != self.roles[role]:
                raise VaultError(400, "role requires keys of type %s" % self.roles[role])
            if doc.get("format", "pem") not in ("pem", "der", "pem_bundle"):
                raise VaultError(400, "invalid format specified")
            try:
                ttl = parse_ttl(doc.get("ttl", 3600))
            except ValueError:
                raise VaultError(400, "error parsing ttl: invalid duration")
            ttl = min(ttl, self.max_ttl)
            leaf = sign_leaf(csr, self.intermediate, self.int_key, ttl)
            serial = colon_hex(leaf.serial_number)
            self.issued[serial] = leaf
            return 200, {"data": {"certificate": _pem(leaf), "issuing_ca": self.intermediate_pem,
                                  "ca_chain": [self.intermediate_pem, self.root_pem],
                                  "serial_number": serial,
                                  "expiration": int(leaf.not_valid_after.replace(
                                      tzinfo=datetime.timezone.utc).timestamp())},
                         "lease_id": "", "renewable": False, "lease_duration": 0,
                         "request_id": secrets.token_hex(8), "warnings": None}, None
        if p == "%s/revoke" % m:
            self._token(headers)
            doc = self._body(raw, ("serial_number",))
            serial = doc["serial_number"].lower().replace("-", ":")
            if serial not in self.issued:
                raise VaultError(400, "certificate with serial %s not found." % serial)
            self.revoked.add(serial)
            return 200, {"data": {"revocation_time": int(time.time())}}, None
        raise VaultError(404, "no handler for route %r. route entry not found." % p)
