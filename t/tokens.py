"""Test-side token minting: unlocks a JWK provisioner's encryptedKey (JWE,
PBES2-HS256+A128KW / A256GCM, as step writes it) and signs JWTs with it the
way `step ca token` does. Also makes CSRs."""

import base64
import hashlib
import json
import os
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap
from cryptography.x509.oid import NameOID


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decrypt_jwe(jwe, password):
    head_b64, ek_b64, iv_b64, ct_b64, tag_b64 = jwe.split(".")
    head = json.loads(unb64u(head_b64))
    salt = head["alg"].encode() + b"\0" + unb64u(head["p2s"])
    kek = PBKDF2HMAC(hashes.SHA256(), 16, salt, head["p2c"]).derive(password.encode())
    cek = aes_key_unwrap(kek, unb64u(ek_b64))
    return AESGCM(cek).decrypt(unb64u(iv_b64), unb64u(ct_b64) + unb64u(tag_b64),
                               head_b64.encode())


def ec_key_from_jwk(jwk):
    d = int.from_bytes(unb64u(jwk["d"]), "big")
    return ec.derive_private_key(d, ec.SECP256R1())


class Provisioner:
    """The JWK provisioner of a ca.json, unlocked with its password."""

    def __init__(self, ca_json, password, index=0):
        with open(ca_json) as f:
            p = json.load(f)["authority"]["provisioners"][index]
        self.name = p["name"]
        self.kid = p["key"]["kid"]
        self.key = ec_key_from_jwk(json.loads(decrypt_jwe(p["encryptedKey"], password)))

    def claims(self, sub, aud, sans=None, lifetime=300, **extra):
        now = int(time.time())
        c = {"aud": aud, "exp": now + lifetime, "iat": now, "iss": self.name,
             "jti": os.urandom(32).hex(), "nbf": now, "sans": sans or [sub],
             "sub": sub}
        c.update(extra)
        return c

    def token(self, sub, aud, sans=None, header=None, key=None, **extra):
        return sign_jwt(header or {"alg": "ES256", "kid": self.kid, "typ": "JWT"},
                        self.claims(sub, aud, sans, **extra), key or self.key)


def sign_jwt(header, claims, key):
    signing_input = (b64u(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64u(json.dumps(claims, separators=(",", ":")).encode()))
    der = key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return signing_input + "." + b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def unsigned_jwt(header, claims):
    """An "alg": "none" token: header.payload. with no signature."""
    return (b64u(json.dumps(header, separators=(",", ":")).encode()) + "." +
            b64u(json.dumps(claims, separators=(",", ":")).encode()) + ".")


def make_csr(cn, sans=None, key=None):
    """(csr_pem, key): P-256 by default, CN and DNS SANs."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    names = sans if sans is not None else [cn]
    if names:
        b = b.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(n) for n in names]), critical=False)
    csr = b.sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode(), key


def rsa_key(bits):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)
