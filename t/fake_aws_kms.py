"""A fake AWS KMS (TrentService JSON protocol) written from AWS's public API
reference: GetPublicKey and Sign, every request's Signature Version 4
checked against the one access key it knows. It holds real private keys
and signs digests with them."""

import base64
import datetime
import hashlib
import hmac
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from fake_kms_server import FakeServer, Reply, sign_digest

ACCESS_KEY_ID = "AKIAFAKEKMS000000001"
SECRET_ACCESS_KEY = "fake/Secret+Access/Key+0123456789abcdef"
REGION = "us-west-2"


def _error(kind, message, status=400):
    return Reply(status, {"__type": kind, "message": message})


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class FakeAwsKms(FakeServer):
    def __init__(self, region=REGION, access_key_id=ACCESS_KEY_ID, secret=SECRET_ACCESS_KEY):
        super().__init__()
        self.region = region
        self.access_key_id = access_key_id
        self.secret = secret
        self.keys = {}  # key id -> private key

    def add_key(self, key_id, private_key):
        self.keys[key_id] = private_key

    def signs(self):
        return self.count(lambda c: c[1] == "/" and c[0] == "POST" and c[2] == 200)

    # -- SigV4 (the "Signature Version 4 signing process" of AWS's docs)

    def _check_signature(self, headers, body):
        auth = headers.get("Authorization") or ""
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            raise _error("MissingAuthenticationTokenException", "Missing Authentication Token")
        fields = {}
        for part in auth[len("AWS4-HMAC-SHA256 "):].split(","):
            k, _, v = part.strip().partition("=")
            fields[k] = v
        try:
            akid, date, region, service, term = fields["Credential"].split("/")
            signed = fields["SignedHeaders"].split(";")
            given = fields["Signature"]
        except (KeyError, ValueError):
            raise _error("IncompleteSignatureException", "malformed Authorization header")
        if akid != self.access_key_id:
            raise _error("UnrecognizedClientException",
                         "The security token included in the request is invalid.")
        if region != self.region or service != "kms" or term != "aws4_request":
            raise _error("InvalidSignatureException", "Credential should be scoped to a valid "
                         "region, service kms and aws4_request")
        amz_date = headers.get("X-Amz-Date") or ""
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc)
        except ValueError:
            raise _error("IncompleteSignatureException", "X-Amz-Date is missing or malformed")
        now = datetime.datetime.now(datetime.timezone.utc)
        if abs((now - when).total_seconds()) > 300 or amz_date[:8] != date:
            raise _error("InvalidSignatureException", "Signature expired")
        for required in ("host", "x-amz-date"):
            if required not in signed:
                raise _error("InvalidSignatureException", "%s must be signed" % required)
        canonical_headers = "".join("%s:%s\n" % (h, " ".join((headers.get(h) or "").split()))
                                    for h in signed)
        canonical = "\n".join(["POST", "/", "", canonical_headers, ";".join(signed),
                               hashlib.sha256(body).hexdigest()])
        scope = "/".join([date, region, service, term])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        k = _hmac(("AWS4" + self.secret).encode(), date)
        for part in (region, service, term):
            k = _hmac(k, part)
        want = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, given):
            raise _error("InvalidSignatureException",
                         "The request signature we calculated does not match the signature "
                         "you provided.")

    # -- the API

    def handle(self, method, path, query, headers, body, raw_path=""):
        if method != "POST" or path != "/":
            raise _error("UnknownOperationException", "unknown operation", 404)
        if headers.get("Content-Type") != "application/x-amz-json-1.1":
            raise _error("SerializationException", "want application/x-amz-json-1.1")
        self._check_signature(headers, body)
        target = headers.get("X-Amz-Target") or ""
        try:
            req = json.loads(body)
        except ValueError:
            raise _error("SerializationException", "body is not JSON")
        key_id = req.get("KeyId", "")
        key = self.keys.get(key_id)
        if key is None:
            raise _error("NotFoundException", "Key '%s' does not exist" % key_id)
        arn = "arn:aws:kms:%s:111122223333:key/%s" % (self.region, key_id)
        if target == "TrentService.GetPublicKey":
            der = key.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
            if isinstance(key, ec.EllipticCurvePrivateKey):
                spec = {256: "ECC_NIST_P256", 384: "ECC_NIST_P384", 521: "ECC_NIST_P521"}[key.curve.key_size]
                algs = ["ECDSA_SHA_%d" % {256: 256, 384: 384, 521: 512}[key.curve.key_size]]
            else:
                spec = "RSA_%d" % key.key_size
                algs = ["RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384",
                        "RSASSA_PKCS1_V1_5_SHA_512", "RSASSA_PSS_SHA_256"]
            return 200, {"KeyId": arn, "PublicKey": base64.b64encode(der).decode(),
                         "KeySpec": spec, "KeyUsage": "SIGN_VERIFY", "SigningAlgorithms": algs}
        if target == "TrentService.Sign":
            if req.get("MessageType") != "DIGEST":
                raise _error("ValidationException", "this fake signs digests only")
            alg = req.get("SigningAlgorithm", "")
            ec_key = isinstance(key, ec.EllipticCurvePrivateKey)
            if ec_key != alg.startswith("ECDSA_") or not (alg.startswith("ECDSA_SHA_") or
                                                        alg.startswith("RSASSA_")):
                raise _error("InvalidKeyUsageException", "%s does not fit the key" % alg)
            hash_name = "SHA" + alg.rsplit("_", 1)[1]
            try:
                digest = base64.b64decode(req.get("Message", ""), validate=True)
                sig = sign_digest(key, digest, hash_name, pss=alg.startswith("RSASSA_PSS"))
            except ValueError as e:
                raise _error("ValidationException", str(e))
            return 200, {"KeyId": arn, "Signature": base64.b64encode(sig).decode(),
                         "SigningAlgorithm": alg}
        raise _error("UnknownOperationException", "unknown target %s" % target)
