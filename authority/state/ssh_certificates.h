// SSH certificates: a record of each one issued, the host index that
// /ssh/check-host and /ssh/hosts read, and revocations.
//
// Keys: ssh_certs/<decimal serial> -> JSON {serial, type ("user"|"host"),
// keyId, principals, provisioner, validAfter, validBefore (unix seconds),
// issuedAt, renewedFrom/rekeyedFrom, crt (base64 wire bytes)}, written with
// set-if-absent (a serial collision is refused), kept.
// ssh_hosts/<lower-case principal> -> decimal serial, kept until the
// certificate expires. ssh_host_list -> JSON [{hostname, serial, expiry}],
// changed by compare-and-set. revoked_ssh_certs/<decimal serial> ->
// step-ca's RevokedCertificateInfo JSON (the X.509 revocation encoding),
// set-if-absent, kept.
#ifndef STEPCA_AUTHORITY_STATE_SSH_CERTIFICATES_H
#define STEPCA_AUTHORITY_STATE_SSH_CERTIFICATES_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "authority/state/revocations.h"
#include "authority/status.h"
#include "authority/store/store.h"
#include "shared/duration.h"

namespace stepca {

struct SshCertificateRecord {
  std::string serial;  // decimal
  bool host = false;
  std::string key_id;
  std::vector<std::string> principals;
  std::string provisioner_id, provisioner_name, provisioner_type;
  int64_t valid_after = 0, valid_before = 0;
  TimePoint issued_at{};
  std::string renewed_from, rekeyed_from;
  std::string wire;  // the certificate bytes
};

struct SshHost {
  std::string hostname;
  std::string serial;
  int64_t expiry = 0;
};

class SshCertificates {
 public:
  explicit SshCertificates(Store& store) : store_(store) {}

  // Records an issued certificate, and for a host its principals in the
  // host index. kAlreadyExists when the serial has a record.
  [[nodiscard]] Status Record(const SshCertificateRecord& record, TimePoint now);
  [[nodiscard]] Result<std::optional<SshCertificateRecord>> Find(std::string_view serial);

  // A host certificate for principal (case-insensitive) that has not
  // expired at now.
  [[nodiscard]] Result<bool> HostExists(std::string_view principal, TimePoint now);
  // Hosts with an unexpired certificate, one entry per principal.
  [[nodiscard]] Result<std::vector<SshHost>> Hosts(TimePoint now);

  // kAlreadyExists when already revoked.
  [[nodiscard]] Status Revoke(const RevocationRecord& record);
  [[nodiscard]] Result<bool> IsRevoked(std::string_view serial);

  static std::string Encode(const SshCertificateRecord& record);
  static std::optional<SshCertificateRecord> Decode(std::string_view bytes);
  static std::string Key(std::string_view serial);
  static std::string RevokedKey(std::string_view serial);

 private:
  Status AddHosts(const SshCertificateRecord& record, TimePoint now);
  Store& store_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_SSH_CERTIFICATES_H
