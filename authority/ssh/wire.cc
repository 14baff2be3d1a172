#include "authority/ssh/wire.h"

#include <vector>

namespace stepca::ssh {

void WireWriter::U32(uint32_t v) {
  for (int i = 3; i >= 0; --i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void WireWriter::U64(uint64_t v) {
  for (int i = 7; i >= 0; --i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void WireWriter::String(std::string_view s) {
  U32(static_cast<uint32_t>(s.size()));
  out_.append(s);
}

void WireWriter::MpintBytes(std::string_view m) {
  size_t i = 0;
  while (i < m.size() && m[i] == 0) ++i;
  m.remove_prefix(i);
  if (m.empty()) return U32(0);
  // A set top bit would read as negative: prefix a zero byte.
  const bool pad = (static_cast<unsigned char>(m[0]) & 0x80) != 0;
  U32(static_cast<uint32_t>(m.size() + (pad ? 1 : 0)));
  if (pad) out_.push_back('\0');
  out_.append(m);
}

void WireWriter::Mpint(const BIGNUM* n) {
  std::vector<unsigned char> b(BN_num_bytes(n));
  if (!b.empty()) BN_bn2bin(n, b.data());
  MpintBytes(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

bool WireReader::U32(uint32_t* v) {
  if (in_.size() < 4) return false;
  uint32_t r = 0;
  for (int i = 0; i < 4; ++i) r = (r << 8) | static_cast<unsigned char>(in_[i]);
  in_.remove_prefix(4);
  *v = r;
  return true;
}

bool WireReader::U64(uint64_t* v) {
  if (in_.size() < 8) return false;
  uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r = (r << 8) | static_cast<unsigned char>(in_[i]);
  in_.remove_prefix(8);
  *v = r;
  return true;
}

bool WireReader::String(std::string_view* s) {
  uint32_t n = 0;
  if (!U32(&n) || in_.size() < n) return false;
  *s = in_.substr(0, n);
  in_.remove_prefix(n);
  return true;
}

bool WireReader::MpintPositive(std::string_view* m) {
  std::string_view s;
  if (!String(&s)) return false;
  if (!s.empty() && (static_cast<unsigned char>(s[0]) & 0x80) != 0) return false;
  while (!s.empty() && s[0] == 0) s.remove_prefix(1);
  *m = s;
  return true;
}

}  // namespace stepca::ssh
