// The SSH wire encoding (RFC 4251 section 5): uint32, uint64, string and
// mpint, as certificates and public key blobs are made of.
#ifndef STEPCA_AUTHORITY_SSH_WIRE_H
#define STEPCA_AUTHORITY_SSH_WIRE_H

#include <cstdint>
#include <string>
#include <string_view>

#include <openssl/bn.h>

namespace stepca::ssh {

class WireWriter {
 public:
  void U32(uint32_t v);
  void U64(uint64_t v);
  void String(std::string_view s);
  // Two's complement, big endian, no needless leading byte; zero is empty.
  void Mpint(const BIGNUM* n);
  // An mpint from unsigned big-endian magnitude bytes.
  void MpintBytes(std::string_view magnitude);
  void Raw(std::string_view s) { out_.append(s); }
  const std::string& bytes() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads from a buffer it does not own; every read fails (false) rather
// than running past the end.
class WireReader {
 public:
  explicit WireReader(std::string_view in) : in_(in) {}
  bool U32(uint32_t* v);
  bool U64(uint64_t* v);
  bool String(std::string_view* s);
  // A non-negative mpint as unsigned magnitude bytes (leading zeros dropped).
  bool MpintPositive(std::string_view* magnitude);
  bool empty() const { return in_.empty(); }
  std::string_view rest() const { return in_; }
  // Bytes consumed so far are everything before rest().

 private:
  std::string_view in_;
};

}  // namespace stepca::ssh

#endif  // STEPCA_AUTHORITY_SSH_WIRE_H
