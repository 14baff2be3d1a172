// Issuer::IssueFromTemplate: a leaf from the fields of a rendered
// certificate template, encoded as Go's crypto/x509 encodes them (step-ca
// signs with it), so that the default template gives the bytes IssueLeaf
// gives (template_issue_test.cc).
#include <arpa/inet.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <set>

#include "authority/template/x509_certificate.h"
#include "authority/x509/issuer.h"
#include "authority/x509/template_profile.h"

namespace stepca {
namespace {

using tmpl::X509CertificateTemplate;

constexpr char kProvisionerOid[] = "1.3.6.1.4.1.37476.9000.64.1";

std::string OidText(const ASN1_OBJECT* o) {
  char buf[128];
  OBJ_obj2txt(buf, sizeof buf, o, 1);
  return buf;
}

OsslPtr<ASN1_OBJECT, ASN1_OBJECT_free> Oid(const std::string& dotted) {
  return OsslPtr<ASN1_OBJECT, ASN1_OBJECT_free>(OBJ_txt2obj(dotted.c_str(), 1));
}

// The raw bytes of an IP SAN: 4 for IPv4 (and IPv4-mapped IPv6, as Go's
// To4), else 16.
bool IpBytes(const std::string& text, std::string* out) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) {
    out->assign(reinterpret_cast<char*>(buf), 4);
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), buf) != 1) return false;
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  *out = std::memcmp(buf, kMapped, 12) == 0 ? std::string(reinterpret_cast<char*>(buf) + 12, 4)
                                            : std::string(reinterpret_cast<char*>(buf), 16);
  return true;
}

// net.ParseCIDR: the address masked, then the mask, 4+4 or 16+16 bytes.
bool CidrBytes(const std::string& cidr, std::string* out) {
  const size_t slash = cidr.find('/');
  if (slash == std::string::npos) return false;
  std::string ip;
  if (!IpBytes(cidr.substr(0, slash), &ip)) return false;
  const bool v4 = cidr.find(':') == std::string::npos;
  if (!v4 && ip.size() == 4) return false;  // "::ffff:a.b.c.d/n": keep it simple, refuse
  const int bits = std::atoi(cidr.c_str() + slash + 1);
  std::string mask(ip.size(), '\0');
  for (int i = 0; i < bits && i < static_cast<int>(ip.size()) * 8; ++i)
    mask[static_cast<size_t>(i / 8)] |= static_cast<char>(0x80 >> (i % 8));
  for (size_t i = 0; i < ip.size(); ++i) ip[i] &= mask[i];
  *out = ip + mask;
  return true;
}

Result<GENERAL_NAME*> NewGeneralName(int type, const std::string& value) {
  ASN1_STRING* str = type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
  GENERAL_NAME* gn = GENERAL_NAME_new();
  if (!str || !gn || ASN1_STRING_set(str, value.data(), static_cast<int>(value.size())) != 1) {
    ASN1_STRING_free(str);
    GENERAL_NAME_free(gn);
    return Internal("issuer: out of memory");
  }
  GENERAL_NAME_set0_value(gn, type, str);
  return gn;
}

Status PushName(GENERAL_NAMES* names, int type, const std::string& value) {
  STEPCA_ASSIGN_OR_RETURN(GENERAL_NAME * gn, NewGeneralName(type, value));
  if (sk_GENERAL_NAME_push(names, gn) <= 0) {
    GENERAL_NAME_free(gn);
    return Internal("issuer: out of memory");
  }
  return Status::Ok();
}

bool IsIa5(const std::string& s) {
  for (unsigned char c : s)
    if (c > 0x7f) return false;
  return true;
}

// Go's pkix.Name.ToRDNSequence: C, ST, L, STREET, postalCode, O, OU, CN,
// serialNumber, then the extra names, one RDN per field (several values
// in one set); a field whose OID is among the extra names is left out.
Status BuildName(const tmpl::X509Name& n, X509_NAME* out) {
  std::set<std::string> extra;
  for (const auto& [oid, v] : n.extra_names) extra.insert(oid);
  auto add_rdn = [&](const char* oid, const std::vector<std::string>& values) -> Status {
    if (values.empty() || extra.count(oid)) return Status::Ok();
    auto obj = Oid(oid);
    int set = 0;
    for (const auto& v : values) {
      const int type = IsPrintableStringSet(v) ? V_ASN1_PRINTABLESTRING : V_ASN1_UTF8STRING;
      if (X509_NAME_add_entry_by_OBJ(out, obj.get(), type,
                                     reinterpret_cast<const unsigned char*>(v.data()),
                                     static_cast<int>(v.size()), -1, set) != 1)
        return InvalidArgument("invalid subject attribute " + std::string(oid) + ": " + OpensslError());
      set = -1;  // the next value joins this RDN
    }
    return Status::Ok();
  };
  auto one = [](const std::string& s) {
    return s.empty() ? std::vector<std::string>{} : std::vector<std::string>{s};
  };
  STEPCA_RETURN_IF_ERROR(add_rdn("2.5.4.6", n.country));
  STEPCA_RETURN_IF_ERROR(add_rdn("2.5.4.8", n.province));
  STEPCA_RETURN_IF_ERROR(add_rdn("2.5.4.7", n.locality));
  STEPCA_RETURN_IF_ERROR(add_rdn("2.5.4.9", n.street_address));
  STEPCA_RETURN_IF_ERROR(add_rdn("2.5.4.17", n.postal_code));
  STEPCA_RETURN_IF_ERROR(add_rdn("2.5.4.10", n.organization));
  STEPCA_RETURN_IF_ERROR(add_rdn("2.5.4.11", n.organizational_unit));
  STEPCA_RETURN_IF_ERROR(add_rdn("2.5.4.3", one(n.common_name)));
  STEPCA_RETURN_IF_ERROR(add_rdn("2.5.4.5", one(n.serial_number)));
  extra.clear();
  for (const auto& [oid, v] : n.extra_names) STEPCA_RETURN_IF_ERROR(add_rdn(oid.c_str(), {v}));
  return Status::Ok();
}

const char* ExtKeyUsageOid(const std::string& name) {
  static const std::pair<const char*, const char*> kOids[] = {
      {"any", "2.5.29.37.0"},
      {"serverauth", "1.3.6.1.5.5.7.3.1"},
      {"clientauth", "1.3.6.1.5.5.7.3.2"},
      {"codesigning", "1.3.6.1.5.5.7.3.3"},
      {"emailprotection", "1.3.6.1.5.5.7.3.4"},
      {"ipsecendsystem", "1.3.6.1.5.5.7.3.5"},
      {"ipsectunnel", "1.3.6.1.5.5.7.3.6"},
      {"ipsecuser", "1.3.6.1.5.5.7.3.7"},
      {"timestamping", "1.3.6.1.5.5.7.3.8"},
      {"ocspsigning", "1.3.6.1.5.5.7.3.9"},
      {"microsoftservergatedcrypto", "1.3.6.1.4.1.311.10.3.3"},
      {"netscapeservergatedcrypto", "2.16.840.1.113730.4.1"},
      {"microsoftcommercialcodesigning", "1.3.6.1.4.1.311.2.1.22"},
      {"microsoftkernelcodesigning", "1.3.6.1.4.1.311.61.1.1"}};
  for (const auto& [n, oid] : kOids)
    if (name == n) return oid;
  return nullptr;
}

// One extension, encoded by OpenSSL from its structure.
Result<X509ExtPtr> Encode(int nid, void* value, bool critical) {
  X509ExtPtr ext(X509V3_EXT_i2d(nid, critical ? 1 : 0, value));
  if (!ext) return Internal(std::string("issuer: cannot encode ") + OBJ_nid2sn(nid) + ": " + OpensslError());
  return ext;
}

Result<X509ExtPtr> Raw(const std::string& oid, bool critical, const std::string& der) {
  auto obj = Oid(oid);
  Asn1OctetStringPtr os(ASN1_OCTET_STRING_new());
  if (!obj || !os ||
      ASN1_OCTET_STRING_set(os.get(), reinterpret_cast<const unsigned char*>(der.data()),
                            static_cast<int>(der.size())) != 1)
    return InvalidArgument("invalid extension " + oid);
  X509ExtPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), critical ? 1 : 0, os.get()));
  if (!ext) return Internal("issuer: cannot create extension " + oid + ": " + OpensslError());
  return ext;
}

const char* SignatureAlgorithmName(SignatureAlgorithm a) {
  switch (a) {
    case SignatureAlgorithm::kEcdsaSha256: return "ECDSA-SHA256";
    case SignatureAlgorithm::kEcdsaSha384: return "ECDSA-SHA384";
    case SignatureAlgorithm::kEcdsaSha512: return "ECDSA-SHA512";
    case SignatureAlgorithm::kRsaPkcs1Sha256: return "SHA256-RSA";
    case SignatureAlgorithm::kRsaPkcs1Sha512: return "SHA512-RSA";
    case SignatureAlgorithm::kRsaPssSha256: return "SHA256-RSAPSS";
    case SignatureAlgorithm::kEd25519: return "Ed25519";
  }
  return "";
}

}  // namespace

Result<IssuedCertificate> Issuer::IssueFromTemplate(const LeafRequest& request) const {
  const X509CertificateTemplate& t = *request.profile;
  STEPCA_RETURN_IF_ERROR(CheckPublicKey(request.public_key));
  const SanSet names = TemplateNames(t);
  STEPCA_RETURN_IF_ERROR(CheckLeafNames(t.subject.common_name, names));
  for (const auto* list : {&names.dns, &names.emails, &names.uris})
    for (const auto& n : *list)
      if (!IsIa5(n)) return InvalidArgument("\"" + n + "\" cannot be encoded as an IA5String");
  if (request.validity.not_after <= request.validity.not_before)
    return InvalidArgument("issuer: empty validity window");
  // The signer has one algorithm; a template may only name that one.
  const char* ours = SignatureAlgorithmName(signer_->Algorithm());
  if (!t.signature_algorithm.empty() && t.signature_algorithm != ours)
    return InvalidArgument("error applying certificate template: signatureAlgorithm " +
                           t.signature_algorithm + " is not the CA key's (" + ours + ")");

  // The template's serial number, when it sets one, was reserved by the
  // caller and arrives in request.serial like any other.
  STEPCA_ASSIGN_OR_RETURN(X509Ptr cert, NewCertificate(request.validity, request.serial));
  X509* c = cert.get();
  X509NamePtr subject(X509_NAME_new());
  if (!subject) return Internal("issuer: out of memory");
  STEPCA_RETURN_IF_ERROR(BuildName(t.subject, subject.get()));
  if (X509_set_subject_name(c, subject.get()) != 1)
    return Internal("issuer: cannot set subject: " + OpensslError());
  const bool subject_empty = X509_NAME_entry_count(subject.get()) == 0;
  STEPCA_RETURN_IF_ERROR(SetPublicKey(c, request.public_key, request.spki));

  // The extensions that come after the standard ones; their OIDs displace
  // the standard extensions (Go's ExtraExtensions).
  std::vector<X509ExtPtr> extra;
  if (request.add_provisioner_extension) {
    STEPCA_ASSIGN_OR_RETURN(X509ExtPtr p, Raw(kProvisionerOid, false,
                                              EncodeProvisionerExtension(request.provisioner)));
    extra.push_back(std::move(p));
  }
  for (const auto& e : t.extensions) {
    STEPCA_ASSIGN_OR_RETURN(X509ExtPtr x, Raw(e.oid, e.critical, e.der));
    extra.push_back(std::move(x));
  }
  std::set<std::string> extra_oids;
  for (const auto& e : extra) {
    const std::string oid = OidText(X509_EXTENSION_get_object(e.get()));
    if (!extra_oids.insert(oid).second)
      return InvalidArgument("error applying certificate template: extension " + oid +
                             (oid == kProvisionerOid ? " is the CA's own (the provisioner extension)"
                                                     : " appears twice"));
  }
  auto displaced = [&](int nid) { return extra_oids.count(OidText(OBJ_nid2obj(nid))) > 0; };
  auto add = [&](Result<X509ExtPtr> ext) -> Status {
    if (!ext.ok()) return ext.status();
    if (X509_add_ext(c, ext->get(), -1) != 1)
      return Internal("issuer: cannot add an extension: " + OpensslError());
    return Status::Ok();
  };

  if (t.key_usage != 0 && !displaced(NID_key_usage)) {
    OsslPtr<ASN1_BIT_STRING, ASN1_BIT_STRING_free> ku(ASN1_BIT_STRING_new());
    if (!ku) return Internal("issuer: out of memory");
    for (int bit = 0; bit < 9; ++bit)
      if ((t.key_usage & (1u << bit)) && ASN1_BIT_STRING_set_bit(ku.get(), bit, 1) != 1)
        return Internal("issuer: out of memory");
    STEPCA_RETURN_IF_ERROR(add(Encode(NID_key_usage, ku.get(), true)));
  }
  if ((!t.ext_key_usage.empty() || !t.unknown_ext_key_usage.empty()) && !displaced(NID_ext_key_usage)) {
    EXTENDED_KEY_USAGE* eku = sk_ASN1_OBJECT_new_null();
    if (!eku) return Internal("issuer: out of memory");
    std::unique_ptr<EXTENDED_KEY_USAGE, void (*)(EXTENDED_KEY_USAGE*)> guard(
        eku, [](EXTENDED_KEY_USAGE* p) { sk_ASN1_OBJECT_pop_free(p, ASN1_OBJECT_free); });
    std::vector<std::string> oids;
    for (const auto& n : t.ext_key_usage) oids.push_back(ExtKeyUsageOid(n));
    for (const auto& o : t.unknown_ext_key_usage) oids.push_back(o);
    for (const auto& o : oids) {
      ASN1_OBJECT* obj = OBJ_txt2obj(o.c_str(), 1);
      if (obj == nullptr || sk_ASN1_OBJECT_push(eku, obj) <= 0) {
        ASN1_OBJECT_free(obj);
        return InvalidArgument("invalid extKeyUsage " + o);
      }
    }
    STEPCA_RETURN_IF_ERROR(add(Encode(NID_ext_key_usage, eku, false)));
  }
  if (t.basic_constraints && !displaced(NID_basic_constraints)) {
    OsslPtr<BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free> bc(BASIC_CONSTRAINTS_new());
    if (!bc) return Internal("issuer: out of memory");
    bc->ca = t.basic_constraints->is_ca ? 0xff : 0;
    // Go: a path length only on a CA, and -1 means none.
    if (t.basic_constraints->is_ca && t.basic_constraints->max_path_len >= 0) {
      bc->pathlen = ASN1_INTEGER_new();
      if (!bc->pathlen || ASN1_INTEGER_set(bc->pathlen, t.basic_constraints->max_path_len) != 1)
        return Internal("issuer: out of memory");
    }
    STEPCA_RETURN_IF_ERROR(add(Encode(NID_basic_constraints, bc.get(), true)));
  }
  if (!displaced(NID_subject_key_identifier)) {
    STEPCA_ASSIGN_OR_RETURN(std::string ski, PublicKeyId(c));
    Asn1OctetStringPtr os(ASN1_OCTET_STRING_new());
    if (!os || ASN1_OCTET_STRING_set(os.get(), reinterpret_cast<const unsigned char*>(ski.data()),
                                     static_cast<int>(ski.size())) != 1)
      return Internal("issuer: out of memory");
    STEPCA_RETURN_IF_ERROR(add(Encode(NID_subject_key_identifier, os.get(), false)));
  }
  if (!displaced(NID_authority_key_identifier)) STEPCA_RETURN_IF_ERROR(AddAuthorityKeyId(c));
  if ((!t.ocsp_server.empty() || !t.issuing_certificate_url.empty()) && !displaced(NID_info_access)) {
    OsslPtr<AUTHORITY_INFO_ACCESS, AUTHORITY_INFO_ACCESS_free> aia(AUTHORITY_INFO_ACCESS_new());
    if (!aia) return Internal("issuer: out of memory");
    for (auto [list, nid] : {std::pair{&t.ocsp_server, NID_ad_OCSP},
                             std::pair{&t.issuing_certificate_url, NID_ad_ca_issuers}}) {
      for (const auto& url : *list) {
        if (!IsIa5(url)) return InvalidArgument("\"" + url + "\" cannot be encoded as an IA5String");
        ACCESS_DESCRIPTION* ad = ACCESS_DESCRIPTION_new();
        if (!ad) return Internal("issuer: out of memory");
        ad->method = OBJ_nid2obj(nid);
        GENERAL_NAME_free(ad->location);
        auto gn = NewGeneralName(GEN_URI, url);
        if (!gn.ok() || sk_ACCESS_DESCRIPTION_push(aia.get(), ad) <= 0) {
          ad->location = gn.ok() ? gn.value() : nullptr;
          ACCESS_DESCRIPTION_free(ad);
          return Internal("issuer: out of memory");
        }
        ad->location = gn.value();
      }
    }
    STEPCA_RETURN_IF_ERROR(add(Encode(NID_info_access, aia.get(), false)));
  }
  if (!names.empty() && !displaced(NID_subject_alt_name)) {
    GeneralNamesPtr gns(sk_GENERAL_NAME_new_null());
    if (!gns) return Internal("issuer: out of memory");
    for (const auto& d : names.dns) STEPCA_RETURN_IF_ERROR(PushName(gns.get(), GEN_DNS, d));
    for (const auto& e : names.emails) STEPCA_RETURN_IF_ERROR(PushName(gns.get(), GEN_EMAIL, e));
    for (const auto& ip : names.ips) {
      std::string raw;
      if (!IpBytes(ip, &raw)) return InvalidArgument("invalid IP address \"" + ip + "\"");
      STEPCA_RETURN_IF_ERROR(PushName(gns.get(), GEN_IPADD, raw));
    }
    for (const auto& u : names.uris) STEPCA_RETURN_IF_ERROR(PushName(gns.get(), GEN_URI, u));
    // RFC 5280 4.2.1.6, and Go: critical when the subject is empty.
    STEPCA_RETURN_IF_ERROR(add(Encode(NID_subject_alt_name, gns.get(), subject_empty)));
  }
  if (!t.policy_identifiers.empty() && !displaced(NID_certificate_policies)) {
    OsslPtr<CERTIFICATEPOLICIES, CERTIFICATEPOLICIES_free> cp(CERTIFICATEPOLICIES_new());
    if (!cp) return Internal("issuer: out of memory");
    for (const auto& oid : t.policy_identifiers) {
      POLICYINFO* pi = POLICYINFO_new();
      if (!pi) return Internal("issuer: out of memory");
      ASN1_OBJECT_free(pi->policyid);
      pi->policyid = OBJ_txt2obj(oid.c_str(), 1);
      if (!pi->policyid || sk_POLICYINFO_push(cp.get(), pi) <= 0) {
        POLICYINFO_free(pi);
        return InvalidArgument("invalid policy identifier " + oid);
      }
    }
    STEPCA_RETURN_IF_ERROR(add(Encode(NID_certificate_policies, cp.get(), false)));
  }
  if (t.name_constraints && !displaced(NID_name_constraints)) {
    const auto& nc = *t.name_constraints;
    OsslPtr<NAME_CONSTRAINTS, NAME_CONSTRAINTS_free> out(NAME_CONSTRAINTS_new());
    if (!out) return Internal("issuer: out of memory");
    auto subtrees = [&](const std::vector<std::string>& dns, const std::vector<std::string>& ips,
                        const std::vector<std::string>& emails, const std::vector<std::string>& uris,
                        STACK_OF(GENERAL_SUBTREE) * *where) -> Status {
      auto push = [&](int type, const std::string& value) -> Status {
        if (type != GEN_IPADD && !IsIa5(value))
          return InvalidArgument("\"" + value + "\" cannot be encoded as an IA5String");
        if (*where == nullptr) *where = sk_GENERAL_SUBTREE_new_null();
        GENERAL_SUBTREE* st = GENERAL_SUBTREE_new();
        auto gn = NewGeneralName(type, value);
        if (*where == nullptr || st == nullptr || !gn.ok()) {
          GENERAL_SUBTREE_free(st);
          if (gn.ok()) GENERAL_NAME_free(gn.value());
          return Internal("issuer: out of memory");
        }
        GENERAL_NAME_free(st->base);
        st->base = gn.value();
        if (sk_GENERAL_SUBTREE_push(*where, st) <= 0) {
          GENERAL_SUBTREE_free(st);
          return Internal("issuer: out of memory");
        }
        return Status::Ok();
      };
      for (const auto& d : dns) STEPCA_RETURN_IF_ERROR(push(GEN_DNS, d));
      for (const auto& cidr : ips) {
        std::string raw;
        if (!CidrBytes(cidr, &raw)) return InvalidArgument("invalid CIDR address: " + cidr);
        STEPCA_RETURN_IF_ERROR(push(GEN_IPADD, raw));
      }
      for (const auto& e : emails) STEPCA_RETURN_IF_ERROR(push(GEN_EMAIL, e));
      for (const auto& u : uris) STEPCA_RETURN_IF_ERROR(push(GEN_URI, u));
      return Status::Ok();
    };
    STEPCA_RETURN_IF_ERROR(subtrees(nc.permitted_dns, nc.permitted_ip_ranges, nc.permitted_emails,
                                    nc.permitted_uri_domains, &out->permittedSubtrees));
    STEPCA_RETURN_IF_ERROR(subtrees(nc.excluded_dns, nc.excluded_ip_ranges, nc.excluded_emails,
                                    nc.excluded_uri_domains, &out->excludedSubtrees));
    if (out->permittedSubtrees != nullptr || out->excludedSubtrees != nullptr)
      STEPCA_RETURN_IF_ERROR(add(Encode(NID_name_constraints, out.get(), nc.critical)));
  }
  if (!t.crl_distribution_points.empty() && !displaced(NID_crl_distribution_points)) {
    OsslPtr<CRL_DIST_POINTS, CRL_DIST_POINTS_free> dps(CRL_DIST_POINTS_new());
    if (!dps) return Internal("issuer: out of memory");
    for (const auto& url : t.crl_distribution_points) {
      if (!IsIa5(url)) return InvalidArgument("\"" + url + "\" cannot be encoded as an IA5String");
      DIST_POINT* dp = DIST_POINT_new();
      DIST_POINT_NAME* dpn = DIST_POINT_NAME_new();
      GENERAL_NAMES* full = sk_GENERAL_NAME_new_null();
      if (!dp || !dpn || !full || !PushName(full, GEN_URI, url).ok()) {
        DIST_POINT_free(dp);
        DIST_POINT_NAME_free(dpn);
        GENERAL_NAMES_free(full);
        return Internal("issuer: out of memory");
      }
      dpn->type = 0;
      dpn->name.fullname = full;
      dp->distpoint = dpn;
      if (sk_DIST_POINT_push(dps.get(), dp) <= 0) {
        DIST_POINT_free(dp);
        return Internal("issuer: out of memory");
      }
    }
    STEPCA_RETURN_IF_ERROR(add(Encode(NID_crl_distribution_points, dps.get(), false)));
  }
  for (auto& e : extra)
    if (X509_add_ext(c, e.get(), -1) != 1)
      return Internal("issuer: cannot add an extension: " + OpensslError());
  return Finish(std::move(cert));
}

}  // namespace stepca
