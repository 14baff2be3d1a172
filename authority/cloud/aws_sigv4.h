// AWS Signature Version 4 for the JSON APIs (AWS KMS): the headers that
// sign one POST, and the credentials they sign with.
#ifndef STEPCA_AUTHORITY_CLOUD_AWS_SIGV4_H
#define STEPCA_AUTHORITY_CLOUD_AWS_SIGV4_H

#include <ctime>
#include <string>
#include <vector>

#include "authority/status.h"

namespace stepca::cloud {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;  // secret, never logged
  std::string session_token;      // optional
};

// Where the credentials come from, as the AWS SDKs look: with neither
// profile nor credentials_file given, AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) when set; otherwise the
// shared credentials file (credentials_file, else
// AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials), section profile
// (else AWS_PROFILE, else "default"). Errors name the file and profile,
// never a key.
Result<AwsCredentials> LoadAwsCredentials(const std::string& profile,
                                          const std::string& credentials_file);

// Headers for a POST of body to host "/" (Host, X-Amz-Date, X-Amz-Target,
// Content-Type, X-Amz-Security-Token when there is one, Authorization),
// "Name: value" each, signed for region and service at time now.
std::vector<std::string> SignAwsJsonPost(const AwsCredentials& creds, const std::string& region,
                                         const std::string& service, const std::string& host,
                                         const std::string& target, const std::string& body,
                                         std::time_t now);

}  // namespace stepca::cloud

#endif  // STEPCA_AUTHORITY_CLOUD_AWS_SIGV4_H
