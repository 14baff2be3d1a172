#include "authority/signer/kms_key.h"

#include <cstdlib>

#include "authority/cloud/aws_sigv4.h"
#include "authority/cloud/azure_client_credentials.h"
#include "authority/cloud/google_service_account.h"
#include "authority/signer/aws_kms_signer.h"
#include "authority/signer/azure_kv_signer.h"
#include "authority/signer/cloudkms_signer.h"
#include "authority/signer/kms_uri.h"
#include "authority/signer/pkcs11_signer.h"
#include "authority/signer/pkcs11_token.h"
#include "authority/signer/yubikey_slot.h"

namespace stepca {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::string First(std::initializer_list<std::string> values) {
  for (const auto& v : values)
    if (!v.empty()) return v;
  return "";
}

Result<KmsKey> OpenPkcs11(const KmsSettings& kms, const std::string& key, KeyUse use) {
  Pkcs11Uri kms_uri;
  if (!kms.uri.empty()) {
    if (kms.uri.rfind("pkcs11:", 0) != 0) return InvalidArgument("kms.uri must be a pkcs11: URI");
    auto parsed = ParsePkcs11Uri(kms.uri);
    if (!parsed.ok()) return InvalidArgument("kms.uri: " + parsed.status().message());
    kms_uri = std::move(parsed).value();
  }
  STEPCA_ASSIGN_OR_RETURN(Pkcs11Uri k, ParsePkcs11Uri(key));
  if (k.id.empty() && k.object.empty())
    return InvalidArgument("the pkcs11: URI names no key (give id= and/or object=)");
  Pkcs11SignerOptions o;
  o.uri = MergePkcs11Uri(kms_uri, k);
  if (o.uri.module_path.empty())
    return InvalidArgument("kms.uri names no module-path (the PKCS#11 library of the HSM)");
  auto pin = ResolvePkcs11Pin(o.uri);
  if (!pin.ok()) return InvalidArgument("kms.uri: " + pin.status().message());
  o.pin = std::move(pin).value();
  if (o.pin.empty()) o.pin = kms.pin;
  o.rsa_sha512 = use == KeyUse::kSsh;
  KmsKey out;
  out.description = DescribePkcs11Key(o.uri);
  out.place = "on the token";
  auto signer = MakePkcs11Signer(std::move(o));
  if (!signer.ok()) return InvalidArgument("the key " + out.description + ": " + signer.status().message());
  out.signer = std::move(signer).value();
  return out;
}

Result<KmsKey> OpenYubiKey(const KmsSettings& kms, const std::string& key, KeyUse use) {
  if (!kms.uri.empty() && kms.uri.rfind("yubikey:", 0) != 0)
    return InvalidArgument("kms.uri must be a yubikey: URI");
  auto uri = YubiKeyPkcs11Uri(kms.uri, key, kms.pin);
  if (!uri.ok()) return uri.status();
  Pkcs11SignerOptions o;
  o.uri = std::move(uri).value();
  auto pin = ResolvePkcs11Pin(o.uri);
  if (!pin.ok()) return InvalidArgument("kms.uri: " + pin.status().message());
  o.pin = std::move(pin).value();
  o.rsa_sha512 = use == KeyUse::kSsh;
  KmsKey out;
  out.description = key.substr(0, key.find('?'));
  out.place = "on the YubiKey";
  auto signer = MakePkcs11Signer(std::move(o));
  if (!signer.ok())
    return InvalidArgument("the key " + out.description + " (through " + kYkcs11Module + "): " +
                           signer.status().message());
  out.signer = std::move(signer).value();
  return out;
}

constexpr std::initializer_list<const char*> kAwsAttributes = {
    "key-id", "region", "profile", "credentials-file", "endpoint"};

Result<KmsKey> OpenAws(const KmsSettings& kms, const std::string& key, KeyUse use) {
  KmsUri kms_uri;
  if (!kms.uri.empty()) {
    auto parsed = ParseKmsUri(kms.uri, "awskms", kAwsAttributes);
    if (!parsed.ok()) return InvalidArgument("kms.uri: " + parsed.status().message());
    kms_uri = std::move(parsed).value();
  }
  STEPCA_ASSIGN_OR_RETURN(KmsUri k, ParseKmsUri(key, "awskms", kAwsAttributes));
  const KmsUri m = MergeKmsUri(kms_uri, k);
  AwsKmsOptions o;
  o.key_id = m.Get("key-id");
  o.region = First({m.Get("region"), kms.region, Env("AWS_REGION"), Env("AWS_DEFAULT_REGION")});
  o.endpoint = First({m.Get("endpoint"), Env("AWS_ENDPOINT_URL_KMS"), Env("AWS_ENDPOINT_URL")});
  o.rsa_sha512 = use == KeyUse::kSsh;
  KmsKey out;
  out.description = "awskms:key-id=" + o.key_id;
  out.place = "in AWS KMS";
  auto creds = cloud::LoadAwsCredentials(First({m.Get("profile"), kms.profile}),
                                         First({m.Get("credentials-file"), kms.credentials_file}));
  if (!creds.ok()) return InvalidArgument("the key " + out.description + ": " + creds.status().message());
  o.credentials = std::move(creds).value();
  auto signer = MakeAwsKmsSigner(std::move(o));
  if (!signer.ok()) return InvalidArgument("the key " + out.description + ": " + signer.status().message());
  out.signer = std::move(signer).value();
  return out;
}

constexpr std::initializer_list<const char*> kCloudKmsAttributes = {"credentials-file", "endpoint"};
constexpr const char* kCloudKmsScope = "https://www.googleapis.com/auth/cloudkms";

Result<KmsKey> OpenCloudKms(const KmsSettings& kms, const std::string& key) {
  KmsUri kms_uri;
  if (!kms.uri.empty()) {
    auto parsed = ParseKmsUri(kms.uri, "cloudkms", kCloudKmsAttributes);
    if (!parsed.ok()) return InvalidArgument("kms.uri: " + parsed.status().message());
    kms_uri = std::move(parsed).value();
  }
  CloudKmsOptions o;
  o.name = key.rfind("cloudkms:", 0) == 0 ? key.substr(9) : key;
  o.endpoint = kms_uri.Get("endpoint");
  KmsKey out;
  out.description = o.name;
  out.place = "in Cloud KMS";
  STEPCA_RETURN_IF_ERROR(CheckCloudKmsName(o.name));
  const std::string file = First({kms_uri.Get("credentials-file"), kms.credentials_file,
                                  Env("GOOGLE_APPLICATION_CREDENTIALS")});
  if (file.empty())
    return InvalidArgument("the key " + out.description + ": cloudkms: no credentials (give "
                           "cloudkms:credentials-file=... in kms.uri, kms.credentialsFile or "
                           "GOOGLE_APPLICATION_CREDENTIALS)");
  auto account = cloud::GoogleServiceAccount::FromFile(file, kCloudKmsScope);
  if (!account.ok()) return InvalidArgument("the key " + out.description + ": " + account.status().message());
  o.account = std::shared_ptr<cloud::GoogleServiceAccount>(std::move(account).value());
  auto signer = MakeCloudKmsSigner(std::move(o));
  if (!signer.ok()) return InvalidArgument("the key " + out.description + ": " + signer.status().message());
  out.signer = std::move(signer).value();
  return out;
}

constexpr std::initializer_list<const char*> kAzureAttributes = {
    "name", "vault", "version", "hsm", "tenant-id", "client-id", "client-secret",
    "endpoint", "login-endpoint"};

Result<KmsKey> OpenAzure(const KmsSettings& kms, const std::string& key, KeyUse use) {
  KmsUri kms_uri;
  if (!kms.uri.empty()) {
    auto parsed = ParseKmsUri(kms.uri, "azurekms", kAzureAttributes);
    if (!parsed.ok()) return InvalidArgument("kms.uri: " + parsed.status().message());
    kms_uri = std::move(parsed).value();
  }
  STEPCA_ASSIGN_OR_RETURN(KmsUri k, ParseKmsUri(key, "azurekms", kAzureAttributes));
  for (const char* secret : {"client-secret", "tenant-id", "client-id"})
    if (!k.Get(secret).empty())
      return InvalidArgument(std::string("the key URI must not hold ") + secret + "; put it in kms.uri");
  AzureKeyVaultOptions o;
  o.name = k.Get("name");
  o.vault = k.Get("vault");
  o.version = k.Get("version");
  o.endpoint = kms_uri.Get("endpoint");
  o.rsa_sha512 = use == KeyUse::kSsh;
  KmsKey out;
  out.description = "azurekms:name=" + o.name + ";vault=" + o.vault +
                    (o.version.empty() ? "" : "?version=" + o.version);
  out.place = "in Azure Key Vault";
  const std::string tenant = First({kms_uri.Get("tenant-id"), Env("AZURE_TENANT_ID")});
  const std::string client = First({kms_uri.Get("client-id"), Env("AZURE_CLIENT_ID")});
  std::string secret = First({kms_uri.Get("client-secret"), Env("AZURE_CLIENT_SECRET")});
  if (tenant.empty() || client.empty() || secret.empty())
    return InvalidArgument("the key " + out.description + ": azurekms: no client credentials (give "
                           "tenant-id, client-id and client-secret in kms.uri, or set "
                           "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET)");
  o.credentials = std::make_shared<cloud::AzureClientCredentials>(
      tenant, client, secret, kms_uri.Get("login-endpoint"), kAzureKeyVaultScope);
  Wipe(secret);
  auto signer = MakeAzureKeyVaultSigner(std::move(o));
  if (!signer.ok()) return InvalidArgument("the key " + out.description + ": " + signer.status().message());
  out.signer = std::move(signer).value();
  return out;
}

}  // namespace

const char* KmsTypeFor(KeyScheme scheme) {
  switch (scheme) {
    case KeyScheme::kPkcs11: return "pkcs11";
    case KeyScheme::kYubiKey: return "yubikey";
    case KeyScheme::kAwsKms: return "awskms";
    case KeyScheme::kCloudKms: return "cloudkms";
    case KeyScheme::kAzureKms: return "azurekms";
    case KeyScheme::kFile: break;
  }
  return "";
}

Result<KmsKey> OpenKmsKey(const KmsSettings& kms, const std::string& key, KeyScheme scheme,
                          KeyUse use) {
  switch (scheme) {
    case KeyScheme::kPkcs11: return OpenPkcs11(kms, key, use);
    case KeyScheme::kYubiKey: return OpenYubiKey(kms, key, use);
    case KeyScheme::kAwsKms: return OpenAws(kms, key, use);
    case KeyScheme::kCloudKms: return OpenCloudKms(kms, key);
    case KeyScheme::kAzureKms: return OpenAzure(kms, key, use);
    case KeyScheme::kFile: break;
  }
  return InvalidArgument("not a KMS key");
}

}  // namespace stepca
