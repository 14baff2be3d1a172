"""The check of an OpenSSH certificate's CA signature (PROTOCOL.certkeys),
done here with cryptography alone, for certificates of ECDSA subject keys
signed by an ECDSA or RSA CA."""

import base64
import struct

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        out = self.data[self.pos:self.pos + n]
        assert len(out) == n, "truncated"
        self.pos += n
        return out

    def string(self):
        return self.take(struct.unpack(">I", self.take(4))[0])

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def u64(self):
        return struct.unpack(">Q", self.take(8))[0]


def verify_certificate(cert_b64, ca_public_key):
    """Raises unless the certificate's signature verifies with ca_public_key
    (a cryptography public key) and names that key as its signer."""
    blob = base64.b64decode(cert_b64)
    r = Reader(blob)
    kind = r.string().decode()
    assert kind.startswith("ecdsa-sha2-") and kind.endswith("-cert-v01@openssh.com"), kind
    r.string()  # nonce
    r.string()  # curve
    r.string()  # public point
    r.u64()     # serial
    r.u32()     # type
    r.string()  # key id
    r.string()  # principals
    r.u64()     # valid after
    r.u64()     # valid before
    r.string()  # critical options
    r.string()  # extensions
    r.string()  # reserved
    signature_key = r.string()
    signed_len = r.pos
    sig = Reader(r.string())
    assert r.pos == len(blob), "bytes after the signature"
    want_key = ca_public_key.public_bytes(serialization.Encoding.OpenSSH,
                                          serialization.PublicFormat.OpenSSH).split()[1]
    assert base64.b64encode(signature_key) == want_key, "signed by another key"
    alg = sig.string().decode()
    raw = sig.string()
    signed = blob[:signed_len]
    if alg.startswith("ecdsa-sha2-"):
        rs = Reader(raw)
        r_int = int.from_bytes(rs.string(), "big")
        s_int = int.from_bytes(rs.string(), "big")
        h = {"nistp256": hashes.SHA256, "nistp384": hashes.SHA384,
             "nistp521": hashes.SHA512}[alg[len("ecdsa-sha2-"):]]()
        ca_public_key.verify(utils.encode_dss_signature(r_int, s_int), signed, ec.ECDSA(h))
    elif alg in ("rsa-sha2-256", "rsa-sha2-512"):
        h = hashes.SHA256() if alg.endswith("256") else hashes.SHA512()
        ca_public_key.verify(raw, signed, padding.PKCS1v15(), h)
    else:
        raise AssertionError("unexpected signature algorithm " + alg)
    return alg
