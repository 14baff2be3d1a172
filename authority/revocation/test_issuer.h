// Test support for the revocation tests: a P-256 CA certificate (with a
// subject key id) and its file signer, made in memory.
#ifndef STEPCA_AUTHORITY_REVOCATION_TEST_ISSUER_H
#define STEPCA_AUTHORITY_REVOCATION_TEST_ISSUER_H

#include <openssl/x509v3.h>

#include <memory>

#include "authority/ossl.h"
#include "authority/signer/file_signer.h"

namespace stepca::testing {

struct TestIssuer {
  X509Ptr cert;
  std::unique_ptr<Signer> signer;
  EvpPkeyPtr key;  // a copy of the public half's owner, for signing test fixtures

  static TestIssuer Make(const char* cn = "Revocation Test CA") {
    TestIssuer t;
    EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    t.cert.reset(X509_new());
    X509* c = t.cert.get();
    X509_set_version(c, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(c), 1);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), 10 * 24 * 3600);
    X509_NAME* name = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                               -1, -1, 0);
    X509_set_issuer_name(c, name);
    X509_set_pubkey(c, key.get());
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, c, c, nullptr, nullptr, 0);
    X509_EXTENSION* ski = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_key_identifier, "hash");
    X509_add_ext(c, ski, -1);
    X509_EXTENSION_free(ski);
    X509_sign(c, key.get(), EVP_sha256());
    EVP_PKEY_up_ref(key.get());
    t.key.reset(key.get());
    t.signer = MakeFileSigner(std::move(key)).value();
    return t;
  }
};

}  // namespace stepca::testing

#endif  // STEPCA_AUTHORITY_REVOCATION_TEST_ISSUER_H
