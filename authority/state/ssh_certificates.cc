#include "authority/state/ssh_certificates.h"

#include <algorithm>
#include <cctype>

#include "authority/state/record_json.h"
#include "shared/base64.h"

namespace stepca {
namespace {

constexpr char kCertPrefix[] = "ssh_certs/";
constexpr char kHostPrefix[] = "ssh_hosts/";
constexpr char kHostList[] = "ssh_host_list";
constexpr char kRevokedPrefix[] = "revoked_ssh_certs/";
// Concurrent issuers each retry their compare-and-set; past this many
// losses in a row the store is unwell.
constexpr int kHostListAttempts = 16;

int64_t Seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<SshHost> DecodeHosts(const std::optional<std::string>& bytes) {
  std::vector<SshHost> out;
  if (!bytes) return out;
  json_error_t err;
  JsonPtr a(json_loadb(bytes->data(), bytes->size(), 0, &err));
  if (!json_is_array(a.get())) return out;
  size_t i;
  const json_t* e;
  json_array_foreach(a.get(), i, e) {
    SshHost h;
    h.hostname = state_json::String(e, "hostname");
    h.serial = state_json::String(e, "serial");
    const json_t* x = json_object_get(e, "expiry");
    h.expiry = json_is_integer(x) ? json_integer_value(x) : 0;
    if (!h.hostname.empty()) out.push_back(std::move(h));
  }
  return out;
}

std::string EncodeHosts(const std::vector<SshHost>& hosts) {
  JsonPtr a(json_array());
  for (const auto& h : hosts)
    json_array_append_new(a.get(), json_pack("{s:s,s:s,s:I}", "hostname", h.hostname.c_str(),
                                             "serial", h.serial.c_str(), "expiry",
                                             static_cast<json_int_t>(h.expiry)));
  return state_json::Dump(a.get());
}

}  // namespace

std::string SshCertificates::Key(std::string_view serial) { return kCertPrefix + std::string(serial); }
std::string SshCertificates::RevokedKey(std::string_view serial) {
  return kRevokedPrefix + std::string(serial);
}

std::string SshCertificates::Encode(const SshCertificateRecord& r) {
  JsonPtr o(json_object());
  json_object_set_new(o.get(), "serial", json_string(r.serial.c_str()));
  json_object_set_new(o.get(), "type", json_string(r.host ? "host" : "user"));
  json_object_set_new(o.get(), "keyId", json_stringn(r.key_id.data(), r.key_id.size()));
  json_object_set_new(o.get(), "principals", state_json::StringArray(r.principals));
  if (!r.provisioner_id.empty())
    json_object_set_new(o.get(), "provisioner",
                        json_pack("{s:s,s:s,s:s}", "id", r.provisioner_id.c_str(), "name",
                                  r.provisioner_name.c_str(), "type", r.provisioner_type.c_str()));
  json_object_set_new(o.get(), "validAfter", json_integer(r.valid_after));
  json_object_set_new(o.get(), "validBefore", json_integer(r.valid_before));
  json_object_set_new(o.get(), "issuedAt", json_string(FormatRfc3339(r.issued_at).c_str()));
  state_json::SetNonEmpty(o.get(), "renewedFrom", r.renewed_from);
  state_json::SetNonEmpty(o.get(), "rekeyedFrom", r.rekeyed_from);
  json_object_set_new(o.get(), "crt", json_string(Base64Encode(r.wire).c_str()));
  return state_json::Dump(o.get());
}

std::optional<SshCertificateRecord> SshCertificates::Decode(std::string_view bytes) {
  JsonPtr o = state_json::LoadObject(bytes);
  if (!o) return std::nullopt;
  SshCertificateRecord r;
  r.serial = state_json::String(o.get(), "serial");
  r.host = state_json::String(o.get(), "type") == "host";
  r.key_id = state_json::String(o.get(), "keyId");
  r.principals = state_json::Strings(o.get(), "principals");
  const json_t* p = json_object_get(o.get(), "provisioner");
  r.provisioner_id = state_json::String(p, "id");
  r.provisioner_name = state_json::String(p, "name");
  r.provisioner_type = state_json::String(p, "type");
  const json_t* va = json_object_get(o.get(), "validAfter");
  const json_t* vb = json_object_get(o.get(), "validBefore");
  r.valid_after = json_is_integer(va) ? json_integer_value(va) : 0;
  r.valid_before = json_is_integer(vb) ? json_integer_value(vb) : 0;
  r.issued_at = state_json::Time(o.get(), "issuedAt").value_or(TimePoint{});
  r.renewed_from = state_json::String(o.get(), "renewedFrom");
  r.rekeyed_from = state_json::String(o.get(), "rekeyedFrom");
  auto wire = Base64Decode(state_json::String(o.get(), "crt"));
  if (!wire || r.serial.empty()) return std::nullopt;
  r.wire = std::move(*wire);
  return r;
}

Status SshCertificates::Record(const SshCertificateRecord& r, TimePoint now) {
  if (r.serial.empty()) return Internal("ssh certificates: empty serial");
  Status st = store_.PutIfAbsent(Key(r.serial), Encode(r), std::chrono::seconds(0));
  if (st.code() == Code::kAlreadyExists)
    return AlreadyExists("ssh certificate serial " + r.serial + " is already recorded");
  STEPCA_RETURN_IF_ERROR(st);
  if (r.host) return AddHosts(r, now);
  return Status::Ok();
}

Status SshCertificates::AddHosts(const SshCertificateRecord& r, TimePoint now) {
  const int64_t left = r.valid_before - Seconds(now);
  const auto ttl = std::chrono::seconds(std::max<int64_t>(left, 1));
  for (const auto& p : r.principals)
    STEPCA_RETURN_IF_ERROR(store_.Put(kHostPrefix + Lower(p), r.serial, ttl));
  for (int attempt = 0; attempt < kHostListAttempts; ++attempt) {
    STEPCA_ASSIGN_OR_RETURN(auto bytes, store_.Get(kHostList));
    std::vector<SshHost> hosts = DecodeHosts(bytes);
    // Expired entries leave as new ones arrive; a principal keeps its
    // latest certificate.
    const int64_t now_s = Seconds(now);
    hosts.erase(std::remove_if(hosts.begin(), hosts.end(),
                               [&](const SshHost& h) {
                                 if (h.expiry < now_s) return true;
                                 for (const auto& p : r.principals)
                                   if (Lower(p) == Lower(h.hostname)) return true;
                                 return false;
                               }),
                hosts.end());
    for (const auto& p : r.principals) hosts.push_back({p, r.serial, r.valid_before});
    Status st = store_.CompareAndSwap(kHostList, bytes, EncodeHosts(hosts), std::chrono::seconds(0));
    if (st.code() != Code::kAlreadyExists) return st;
  }
  return Unavailable("ssh certificates: the host list kept changing");
}

Result<std::optional<SshCertificateRecord>> SshCertificates::Find(std::string_view serial) {
  STEPCA_ASSIGN_OR_RETURN(auto bytes, store_.Get(Key(serial)));
  if (!bytes) return std::optional<SshCertificateRecord>();
  auto r = Decode(*bytes);
  if (!r) return Internal("ssh certificates: record " + std::string(serial) + " is unreadable");
  return std::optional<SshCertificateRecord>(std::move(*r));
}

Result<bool> SshCertificates::HostExists(std::string_view principal, TimePoint now) {
  STEPCA_ASSIGN_OR_RETURN(auto serial, store_.Get(kHostPrefix + Lower(principal)));
  return serial.has_value();
}

Result<std::vector<SshHost>> SshCertificates::Hosts(TimePoint now) {
  STEPCA_ASSIGN_OR_RETURN(auto bytes, store_.Get(kHostList));
  std::vector<SshHost> hosts = DecodeHosts(bytes);
  const int64_t now_s = Seconds(now);
  hosts.erase(std::remove_if(hosts.begin(), hosts.end(),
                             [&](const SshHost& h) { return h.expiry < now_s; }),
              hosts.end());
  return hosts;
}

Status SshCertificates::Revoke(const RevocationRecord& record) {
  if (record.serial.empty()) return Internal("ssh revocations: empty serial");
  Status st = store_.PutIfAbsent(RevokedKey(record.serial), Revocations::Encode(record),
                                 std::chrono::seconds(0));
  if (st.code() == Code::kAlreadyExists)
    return AlreadyExists("ssh certificate " + record.serial + " is already revoked");
  return st;
}

Result<bool> SshCertificates::IsRevoked(std::string_view serial) {
  STEPCA_ASSIGN_OR_RETURN(auto bytes, store_.Get(RevokedKey(serial)));
  return bytes.has_value();
}

}  // namespace stepca
