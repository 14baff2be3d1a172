#include "authority/cloud/aws_sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>
#include <fstream>

#include "shared/base64.h"

namespace stepca::cloud {
namespace {

std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return HexEncode(std::string(reinterpret_cast<char*>(md), n));
}

std::string Hmac(const std::string& key, const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &n);
  return std::string(reinterpret_cast<char*>(md), n);
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::string Trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

}  // namespace

Result<AwsCredentials> LoadAwsCredentials(const std::string& profile_in,
                                          const std::string& file_in) {
  if (profile_in.empty() && file_in.empty() && !Env("AWS_ACCESS_KEY_ID").empty() &&
      !Env("AWS_SECRET_ACCESS_KEY").empty())
    return AwsCredentials{Env("AWS_ACCESS_KEY_ID"), Env("AWS_SECRET_ACCESS_KEY"),
                          Env("AWS_SESSION_TOKEN")};
  std::string file = file_in;
  if (file.empty()) file = Env("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty() && !Env("HOME").empty()) file = Env("HOME") + "/.aws/credentials";
  std::string profile = profile_in.empty() ? Env("AWS_PROFILE") : profile_in;
  if (profile.empty()) profile = "default";
  std::ifstream in(file);
  if (!in)
    return InvalidArgument("awskms: no credentials: AWS_ACCESS_KEY_ID is not set and " +
                           (file.empty() ? std::string("there is no credentials file") : "cannot read " + file));
  AwsCredentials out;
  std::string line, section;
  bool found = false;
  while (std::getline(in, line)) {
    line = Trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = Trim(line.substr(1, line.size() - 2));
      found = found || section == profile;
      continue;
    }
    if (section != profile) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string k = Trim(line.substr(0, eq)), v = Trim(line.substr(eq + 1));
    if (k == "aws_access_key_id") out.access_key_id = v;
    else if (k == "aws_secret_access_key") out.secret_access_key = v;
    else if (k == "aws_session_token") out.session_token = v;
  }
  if (!found) return InvalidArgument("awskms: " + file + " has no profile [" + profile + "]");
  if (out.access_key_id.empty() || out.secret_access_key.empty())
    return InvalidArgument("awskms: profile [" + profile + "] of " + file +
                           " lacks aws_access_key_id or aws_secret_access_key");
  return out;
}

std::vector<std::string> SignAwsJsonPost(const AwsCredentials& creds, const std::string& region,
                                         const std::string& service, const std::string& host,
                                         const std::string& target, const std::string& body,
                                         std::time_t now) {
  char amz_date[32], date[16];
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tm);
  strftime(date, sizeof date, "%Y%m%d", &tm);
  const std::string content_type = "application/x-amz-json-1.1";
  // Canonical headers, lower-case names in order.
  std::string canonical_headers = "content-type:" + content_type + "\nhost:" + host +
                                  "\nx-amz-date:" + amz_date + "\n";
  std::string signed_headers = "content-type;host;x-amz-date";
  if (!creds.session_token.empty()) {
    canonical_headers += "x-amz-security-token:" + creds.session_token + "\n";
    signed_headers += ";x-amz-security-token";
  }
  canonical_headers += "x-amz-target:" + target + "\n";
  signed_headers += ";x-amz-target";
  const std::string canonical = "POST\n/\n\n" + canonical_headers + "\n" + signed_headers + "\n" +
                                Sha256Hex(body);
  const std::string scope = std::string(date) + "/" + region + "/" + service + "/aws4_request";
  const std::string to_sign = "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + scope + "\n" +
                              Sha256Hex(canonical);
  std::string k = Hmac("AWS4" + creds.secret_access_key, date);
  k = Hmac(k, region);
  k = Hmac(k, service);
  k = Hmac(k, "aws4_request");
  const std::string signature = HexEncode(Hmac(k, to_sign));
  std::vector<std::string> h = {
      "Host: " + host,
      "Content-Type: " + content_type,
      std::string("X-Amz-Date: ") + amz_date,
      "X-Amz-Target: " + target,
      "Authorization: AWS4-HMAC-SHA256 Credential=" + creds.access_key_id + "/" + scope +
          ", SignedHeaders=" + signed_headers + ", Signature=" + signature,
  };
  if (!creds.session_token.empty()) h.push_back("X-Amz-Security-Token: " + creds.session_token);
  return h;
}

}  // namespace stepca::cloud
