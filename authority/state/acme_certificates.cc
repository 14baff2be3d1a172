#include "authority/state/acme_certificates.h"

#include "authority/state/record_json.h"

namespace stepca {
namespace {

std::string SerialKey(std::string_view serial) {
  return "acme_cert_serial/" + std::string(serial);
}

}  // namespace

std::string AcmeCertificates::Key(std::string_view id) { return "acme_cert/" + std::string(id); }

std::string AcmeCertificates::Encode(const acme::CertRecord& c) {
  using namespace state_json;
  JsonPtr j(json_object());
  SetNonEmpty(j.get(), "id", c.id);
  SetNonEmpty(j.get(), "account", c.account);
  SetNonEmpty(j.get(), "serial", c.serial);
  SetNonEmpty(j.get(), "chain", c.chain);
  return Dump(j.get());
}

std::optional<acme::CertRecord> AcmeCertificates::Decode(std::string_view bytes) {
  using namespace state_json;
  JsonPtr j = LoadObject(bytes);
  if (!j) return std::nullopt;
  acme::CertRecord c;
  c.id = String(j.get(), "id");
  c.account = String(j.get(), "account");
  c.serial = String(j.get(), "serial");
  c.chain = String(j.get(), "chain");
  if (c.id.empty()) return std::nullopt;
  return c;
}

Status AcmeCertificates::Insert(const acme::CertRecord& cert, std::chrono::seconds ttl) {
  STEPCA_RETURN_IF_ERROR(store_.PutIfAbsent(Key(cert.id), Encode(cert), ttl));
  return store_.Put(SerialKey(cert.serial), cert.id, ttl);
}

Result<std::optional<acme::CertRecord>> AcmeCertificates::Find(std::string_view id) {
  STEPCA_ASSIGN_OR_RETURN(auto bytes, store_.Get(Key(id)));
  if (!bytes) return std::optional<acme::CertRecord>();
  auto c = Decode(*bytes);
  if (!c) return Internal("acme: damaged certificate record " + std::string(id));
  return std::optional<acme::CertRecord>(std::move(*c));
}

Result<std::optional<acme::CertRecord>> AcmeCertificates::FindBySerial(std::string_view serial) {
  STEPCA_ASSIGN_OR_RETURN(auto id, store_.Get(SerialKey(serial)));
  if (!id) return std::optional<acme::CertRecord>();
  return Find(*id);
}

}  // namespace stepca
