#include "authority/acme/server.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>
#include <thread>

#include "authority/acme/jws.h"
#include "authority/acme/nonce.h"
#include "authority/acme/state.h"
#include "authority/authority.h"
#include "authority/x509/csr.h"
#include "shared/base64.h"

namespace stepca {
namespace acme {
namespace {

constexpr size_t kValidationThreads = 4;
constexpr size_t kValidationQueue = 1024;
constexpr size_t kMaxContacts = 10;
constexpr size_t kOrdersPage = 100;

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

std::string Dump(const json_t* j) {
  char* s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
  std::string out = s ? s : "";
  std::free(s);
  return out;
}

std::string PathEscape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '@') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string Now3339() { return FormatRfc3339(Clock::now()); }

bool Expired(const std::string& rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  return t && *t < Clock::now();
}

// The canonical text of an IP identifier, or "" when it is not one.
std::string CanonicalIp(const std::string& s) {
  unsigned char b[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, s.c_str(), b) == 1) return inet_ntop(AF_INET, b, out, sizeof out);
  if (inet_pton(AF_INET6, s.c_str(), b) == 1) return inet_ntop(AF_INET6, b, out, sizeof out);
  return "";
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

HttpResponse Json(int status, const json_t* body) { return JsonResponse(status, body); }

HttpResponse MethodNotAllowedProblem() {
  Problem p = Malformed("method not allowed");
  p.status = 405;
  return ProblemResponse(p);
}

int IntSetting(const json_t* obj, const char* name, int fallback) {
  const json_t* v = json_object_get(obj, name);
  if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 65536)
    return static_cast<int>(json_integer_value(v));
  return fallback;
}

}  // namespace

bool IsAcmePath(std::string_view path) {
  return StartsWith(path, "/acme/") || StartsWith(path, "/2.0/acme/");
}

// One ACME request: routing, authentication, the resource handlers.
class Request {
 public:
  Request(Service& s, const HttpRequest& r) : s_(s), a_(s.authority_), store_(a_.store()), req_(r) {}

  HttpResponse Run() {
    std::string_view path = req_.path;
    std::string_view prefix = StartsWith(path, "/2.0/acme/") ? "/2.0/acme/" : "/acme/";
    path.remove_prefix(prefix.size());
    const size_t slash = path.find('/');
    const std::string name(path.substr(0, slash));
    const std::string_view rest = slash == std::string_view::npos ? "" : path.substr(slash + 1);
    prov_ = a_.config().provisioners.ByName(name);
    if (prov_ == nullptr || prov_->type() != ProvisionerType::kAcme) {
      // step-ca's answer (wire fixture acme-directory-unknown-provisioner).
      JsonPtr body(json_pack("{s:s,s:s,s:s}", "type", "notFound", "detail", "resource not found",
                             "message", ("provisioner " + name.substr(0, 128) + " not found").c_str()));
      return Json(404, body.get());
    }
    settings_ = &s_.Settings(*prov_);
    origin_ = Origin();
    base_ = origin_ + std::string(prefix.substr(0, prefix.size() - 1)) + "/" + PathEscape(name);

    HttpResponse resp = Dispatch(rest);
    auto nonce = NewNonce(store_);
    if (!nonce.ok()) {
      resp = ProblemResponse(FromStatus(nonce.status()));
    } else {
      resp.headers.emplace_back("Replay-Nonce", *nonce);
    }
    resp.headers.emplace_back("Link", "<" + base_ + "/directory>;rel=\"index\"");
    resp.headers.emplace_back("Cache-Control", "no-store");
    return resp;
  }

 private:
  // ---------------------------------------------------------------- URLs

  std::string Origin() const {
    if (!s_.base_url_.empty()) return s_.base_url_;
    const auto& names = a_.config().dns_names;
    std::string host(req_.host);
    std::string hostname = host;
    bool ok = !host.empty() && host.size() <= 260;
    if (ok && host[0] == '[') {
      size_t e = host.find(']');
      ok = e != std::string::npos;
      if (ok) {
        hostname = host.substr(1, e - 1);
        std::string port = host.substr(e + 1);
        ok = port.empty() || (port[0] == ':' && port.size() > 1 &&
                              port.find_first_not_of("0123456789", 1) == std::string::npos);
      }
    } else if (ok) {
      size_t c = host.find(':');
      if (c != std::string::npos) {
        hostname = host.substr(0, c);
        std::string port = host.substr(c + 1);
        ok = !port.empty() && port.size() <= 5 &&
             port.find_first_not_of("0123456789") == std::string::npos;
      }
    }
    if (ok) {
      for (auto& n : names)
        if (strcasecmp(n.c_str(), hostname.c_str()) == 0) return "https://" + host;
    }
    return "https://" + (names.empty() ? std::string("localhost") : names[0]);
  }

  std::string AccountUrl(const std::string& id) const { return base_ + "/account/" + id; }
  std::string OrderUrl(const std::string& id) const { return base_ + "/order/" + id; }
  std::string AuthzUrl(const std::string& id) const { return base_ + "/authz/" + id; }
  std::string ChallengeUrl(const std::string& az, const std::string& ch) const {
    return base_ + "/challenge/" + az + "/" + ch;
  }
  std::string CertUrl(const std::string& id) const { return base_ + "/certificate/" + id; }

  // ---------------------------------------------------------------- dispatch

  HttpResponse Dispatch(std::string_view rest) {
    const bool get = req_.method == "GET" || req_.method == "HEAD";
    const bool post = req_.method == "POST";
    if (rest == "directory") return get ? Directory() : MethodNotAllowedProblem();
    if (rest == "new-nonce") {
      if (!get) return MethodNotAllowedProblem();
      HttpResponse r;
      r.status = req_.method == "HEAD" ? 200 : 204;
      return r;
    }
    std::vector<std::string> seg;
    for (size_t i = 0; i <= rest.size();) {
      size_t e = rest.find('/', i);
      if (e == std::string_view::npos) e = rest.size();
      seg.emplace_back(rest.substr(i, e - i));
      i = e + 1;
    }
    const bool known =
        rest == "new-account" || rest == "new-order" || rest == "revoke-cert" ||
        rest == "key-change" || (seg.size() == 2 && (seg[0] == "account" || seg[0] == "order" ||
                                                     seg[0] == "authz" || seg[0] == "certificate")) ||
        (seg.size() == 3 && ((seg[0] == "account" && seg[2] == "orders") ||
                             (seg[0] == "order" && seg[2] == "finalize") || seg[0] == "challenge"));
    if (!known) return ProblemResponse(NotFoundProblem("no such ACME resource"));
    if (!post) return MethodNotAllowedProblem();
    std::string_view ct = req_.content_type;
    ct = ct.substr(0, ct.find(';'));
    while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
    if (strncasecmp(ct.data(), "application/jose+json", ct.size()) != 0 || ct.size() != 21) {
      Problem p = Malformed("Content-Type must be application/jose+json");
      p.status = 415;
      return ProblemResponse(p);
    }
    for (auto& s : seg)
      if (s.empty() || s.size() > 64) return ProblemResponse(NotFoundProblem("no such ACME resource"));

    HttpResponse r;
    Problem p;
    if (rest == "new-account") p = NewAccount(&r);
    else if (rest == "new-order") p = NewOrder(&r);
    else if (rest == "revoke-cert") p = RevokeCert(&r);
    else if (rest == "key-change") p = KeyChange(&r);
    else if (seg[0] == "account" && seg.size() == 2) p = UpdateAccount(seg[1], &r);
    else if (seg[0] == "account") p = AccountOrders(seg[1], &r);
    else if (seg[0] == "order" && seg.size() == 2) p = GetOrder(seg[1], &r);
    else if (seg[0] == "order") p = Finalize(seg[1], &r);
    else if (seg[0] == "authz") p = GetAuthz(seg[1], &r);
    else if (seg[0] == "challenge") p = PostChallenge(seg[1], seg[2], &r);
    else p = GetCertificate(seg[1], &r);
    return p.ok() ? r : ProblemResponse(p);
  }

  HttpResponse Directory() {
    JsonPtr d(json_object());
    json_object_set_new(d.get(), "newNonce", json_string((base_ + "/new-nonce").c_str()));
    json_object_set_new(d.get(), "newAccount", json_string((base_ + "/new-account").c_str()));
    json_object_set_new(d.get(), "newOrder", json_string((base_ + "/new-order").c_str()));
    json_object_set_new(d.get(), "revokeCert", json_string((base_ + "/revoke-cert").c_str()));
    json_object_set_new(d.get(), "keyChange", json_string((base_ + "/key-change").c_str()));
    json_t* meta = json_object();
    if (settings_->require_eab) json_object_set_new(meta, "externalAccountRequired", json_true());
    json_object_set_new(d.get(), "meta", meta);
    return Json(200, d.get());
  }

  // ---------------------------------------------------------------- auth

  // Parses and verifies the JWS; with kid, loads the account. Spends the
  // nonce last, so a forged request cannot burn an honest client's nonce.
  Problem Authenticate(KeyMode mode) {
    Problem p = ParseFlatJws(req_.body, mode, &jws_);
    if (!p.ok()) return p;
    if (jws_.url != origin_ + std::string(req_.path))
      return Unauthorized("the JWS url does not match the request URL");
    EVP_PKEY* key = nullptr;
    if (jws_.jwk) {
      key = jws_.jwk->key.get();
    } else {
      const std::string prefix = base_ + "/account/";
      if (!StartsWith(jws_.kid, prefix) || jws_.kid.size() == prefix.size() ||
          jws_.kid.size() > prefix.size() + 64)
        return AccountDoesNotExist("kid is not an account URL of this server");
      const std::string id = jws_.kid.substr(prefix.size());
      if (id.find('/') != std::string::npos) return AccountDoesNotExist("kid is not an account URL of this server");
      auto acct = Load<Account>(store_, "acme_acct/" + id);
      if (!acct.ok()) return FromStatus(acct.status());
      if (!acct->has_value() || (*acct)->provisioner != prov_->name())
        return AccountDoesNotExist("no account with this kid");
      account_ = std::move(**acct);
      auto k = ParseJwkText(account_.key);
      if (!k.ok()) return ServerInternal("stored account key: " + k.status().message());
      account_key_ = std::move(k->key);
      key = account_key_.get();
    }
    p = VerifyFlatJws(jws_, key);
    if (!p.ok()) return p;
    if (!jws_.has_nonce || jws_.nonce.empty()) return BadNonce("the JWS has no nonce");
    auto spent = SpendNonce(store_, jws_.nonce);
    if (!spent.ok()) return FromStatus(spent.status());
    if (!*spent) return BadNonce("the nonce is unknown, expired or already used");
    if (!jws_.jwk && account_.status != "valid")
      return Unauthorized("the account is " + account_.status);
    return Problem::Ok();
  }

  Problem AuthenticateKid() { return Authenticate(KeyMode::kKid); }

  bool PostAsGet() const { return jws_.payload.empty(); }

  Problem PayloadObject(JsonPtr* out) {
    json_error_t err;
    out->reset(json_loadb(jws_.payload.data(), jws_.payload.size(), JSON_REJECT_DUPLICATES, &err));
    if (!*out || !json_is_object(out->get())) return Malformed("the JWS payload is not a JSON object");
    return Problem::Ok();
  }

  // ---------------------------------------------------------------- accounts

  JsonPtr AccountJson(const Account& acct) {
    JsonPtr j(json_object());
    json_object_set_new(j.get(), "status", json_string(acct.status.c_str()));
    json_t* c = json_array();
    for (auto& s : acct.contact) json_array_append_new(c, json_string(s.c_str()));
    json_object_set_new(j.get(), "contact", c);
    json_object_set_new(j.get(), "orders", json_string((AccountUrl(acct.id) + "/orders").c_str()));
    return j;
  }

  Problem ParseContacts(const json_t* payload, std::vector<std::string>* out) {
    const json_t* c = json_object_get(payload, "contact");
    if (c == nullptr || json_is_null(c)) return Problem::Ok();
    if (!json_is_array(c) || json_array_size(c) > kMaxContacts)
      return Malformed("contact must be an array of at most 10 URLs");
    size_t i;
    const json_t* v;
    out->clear();
    json_array_foreach(c, i, v) {
      if (!json_is_string(v)) return Malformed("contact entries must be strings");
      std::string s = json_string_value(v);
      if (!StartsWith(s, "mailto:")) {
        Problem p = Malformed("only mailto: contacts are supported");
        p.type = "unsupportedContact";
        return p;
      }
      if (!IsValidEmail(s.substr(7)) || s.find(',') != std::string::npos) {
        Problem p = Malformed("invalid contact " + s.substr(0, 128));
        p.type = "invalidContact";
        return p;
      }
      out->push_back(s);
    }
    return Problem::Ok();
  }

  Problem NewAccount(HttpResponse* r) {
    Problem p = Authenticate(KeyMode::kJwk);
    if (!p.ok()) return p;
    JsonPtr payload;
    p = PayloadObject(&payload);
    if (!p.ok()) return p;
    auto thumb = JwkThumbprint(jws_.jwk->key.get());
    if (!thumb.ok()) return ServerInternal(thumb.status().message());
    const std::string index = "acme_acct_key/" + prov_->name() + "/" + *thumb;

    auto existing = ExistingAccount(index);
    if (!existing.ok()) return FromStatus(existing.status());
    if (existing->has_value()) {
      const Account& acct = **existing;
      if (acct.status != "valid") return Unauthorized("the account is " + acct.status);
      JsonPtr j = AccountJson(acct);
      *r = Json(200, j.get());
      r->headers.emplace_back("Location", AccountUrl(acct.id));
      return Problem::Ok();
    }
    if (json_is_true(json_object_get(payload.get(), "onlyReturnExisting")))
      return AccountDoesNotExist("no account exists with this key");

    Account acct;
    p = ParseContacts(payload.get(), &acct.contact);
    if (!p.ok()) return p;
    acct.id = RandomId();
    acct.provisioner = prov_->name();
    acct.thumbprint = *thumb;
    auto key_json = JwkToJson(jws_.jwk->key.get(), false, "", "");
    if (!key_json.ok()) return ServerInternal(key_json.status().message());
    acct.key = Dump(key_json->get());
    acct.created_at = Now3339();

    std::string eab_key;
    if (settings_->require_eab) {
      p = CheckEab(payload.get(), *thumb, &acct.eab_kid);
      if (!p.ok()) return p;
      eab_key = "acme_eab_bound/" + prov_->name() + "/" + acct.eab_kid;
      Status st = store_.PutIfAbsent(eab_key, acct.id, std::chrono::seconds(0));
      if (st.code() == Code::kAlreadyExists)
        return Unauthorized("the external account binding key is already bound to an account");
      if (!st.ok()) return FromStatus(st);
    }

    // The account first, then the key index: a reader that finds the index
    // always finds the account. If another request bound this key first,
    // ours is withdrawn and theirs returned.
    Status st = Save(store_, "acme_acct/" + acct.id, acct, std::chrono::seconds(0));
    if (!st.ok()) return FromStatus(st);
    st = store_.PutIfAbsent(index, acct.id, std::chrono::seconds(0));
    if (st.code() == Code::kAlreadyExists) {
      store_.Delete("acme_acct/" + acct.id);
      if (!eab_key.empty()) store_.Delete(eab_key);
      auto other = ExistingAccount(index);
      if (!other.ok()) return FromStatus(other.status());
      if (!other->has_value()) return ServerInternal("account index without account");
      JsonPtr j = AccountJson(**other);
      *r = Json(200, j.get());
      r->headers.emplace_back("Location", AccountUrl((*other)->id));
      return Problem::Ok();
    }
    if (!st.ok()) return FromStatus(st);
    JsonPtr j = AccountJson(acct);
    *r = Json(201, j.get());
    r->headers.emplace_back("Location", AccountUrl(acct.id));
    r->log_level = LogLevel::kInfo;
    r->log_message = "acme new account " + acct.id + " provisioner=\"" + prov_->name() + "\"";
    return Problem::Ok();
  }

  Result<std::optional<Account>> ExistingAccount(const std::string& index) {
    auto id = store_.Get(index);
    if (!id.ok()) return id.status();
    if (!id->has_value()) return std::optional<Account>();
    return Load<Account>(store_, "acme_acct/" + **id);
  }

  Problem CheckEab(const json_t* payload, const std::string& thumb, std::string* kid) {
    const json_t* eab = json_object_get(payload, "externalAccountBinding");
    if (eab == nullptr || json_is_null(eab))
      return ExternalAccountRequired("this provisioner requires an external account binding");
    FlatJws inner;
    Problem p = ParseFlatJwsObject(eab, &inner);
    if (!p.ok()) return p;
    const std::string& alg = inner.jws.alg;
    if (alg != "HS256" && alg != "HS384" && alg != "HS512")
      return BadSignatureAlgorithm("the external account binding must use HS256, HS384 or HS512");
    if (inner.has_nonce) return Malformed("the external account binding must not have a nonce");
    if (inner.url != jws_.url) return Unauthorized("the external account binding url does not match");
    if (inner.kid.empty()) return Malformed("the external account binding needs a kid");
    auto it = settings_->eab_keys.find(inner.kid);
    if (it == settings_->eab_keys.end()) return Unauthorized("unknown external account binding key");
    const std::string mac = HmacSign(alg, it->second, inner.jws.signing_input);
    if (mac.empty() || mac.size() != inner.jws.signature.size() ||
        CRYPTO_memcmp(mac.data(), inner.jws.signature.data(), mac.size()) != 0)
      return Unauthorized("the external account binding signature is invalid");
    auto bound = ParseJwkText(inner.payload);
    if (!bound.ok()) return Malformed("the external account binding payload is not a JWK");
    auto bt = JwkThumbprint(bound->key.get());
    if (!bt.ok() || *bt != thumb)
      return Unauthorized("the external account binding is for another key");
    *kid = inner.kid;
    return Problem::Ok();
  }

  Problem UpdateAccount(const std::string& id, HttpResponse* r) {
    Problem p = AuthenticateKid();
    if (!p.ok()) return p;
    if (account_.id != id) return Unauthorized("the account URL does not match the kid");
    if (!PostAsGet()) {
      JsonPtr payload;
      p = PayloadObject(&payload);
      if (!p.ok()) return p;
      const json_t* status = json_object_get(payload.get(), "status");
      if (status != nullptr) {
        if (!json_is_string(status) || std::strcmp(json_string_value(status), "deactivated") != 0)
          return Malformed("the only status a client may set is deactivated");
        account_.status = "deactivated";
      }
      p = ParseContacts(payload.get(), &account_.contact);
      if (!p.ok()) return p;
      Status st = Save(store_, "acme_acct/" + account_.id, account_, std::chrono::seconds(0));
      if (!st.ok()) return FromStatus(st);
    }
    JsonPtr j = AccountJson(account_);
    *r = Json(200, j.get());
    r->headers.emplace_back("Location", AccountUrl(account_.id));
    return Problem::Ok();
  }

  Problem AccountOrders(const std::string& id, HttpResponse* r) {
    Problem p = AuthenticateKid();
    if (!p.ok()) return p;
    if (account_.id != id) return Unauthorized("the account URL does not match the kid");
    if (!PostAsGet()) return Malformed("the orders list is read with POST-as-GET");
    bool found = false;
    std::string cursor = QueryParam(req_.query, "cursor", &found);
    size_t from = found ? std::strtoull(cursor.c_str(), nullptr, 10) : 0;
    size_t next = 0;
    auto ids = ListAccountOrders(store_, account_.id, from, kOrdersPage, &next);
    if (!ids.ok()) return FromStatus(ids.status());
    JsonPtr list(json_array());
    for (auto& oid : *ids) {
      auto o = Load<Order>(store_, "acme_order/" + oid);
      if (!o.ok()) return FromStatus(o.status());
      if (!o->has_value()) continue;  // expired
      json_array_append_new(list.get(), json_string(OrderUrl(oid).c_str()));
    }
    JsonPtr body(json_object());
    json_object_set(body.get(), "orders", list.get());
    *r = Json(200, body.get());
    if (next != 0)
      r->headers.emplace_back("Link", "<" + AccountUrl(account_.id) + "/orders?cursor=" +
                                          std::to_string(next) + ">;rel=\"next\"");
    return Problem::Ok();
  }

  Problem KeyChange(HttpResponse* r) {
    Problem p = AuthenticateKid();
    if (!p.ok()) return p;
    json_error_t err;
    JsonPtr outer(json_loadb(jws_.payload.data(), jws_.payload.size(), JSON_REJECT_DUPLICATES, &err));
    if (!outer) return Malformed("the keyChange payload is not a JWS");
    FlatJws inner;
    p = ParseFlatJwsObject(outer.get(), &inner);
    if (!p.ok()) return p;
    if (!IsAcmeAlgorithm(inner.jws.alg)) return BadSignatureAlgorithm("unsupported inner JWS algorithm");
    if (!inner.jwk || !inner.kid.empty()) return Malformed("the inner JWS must carry the new key as jwk");
    if (inner.url != jws_.url) return Malformed("the inner JWS url must equal the outer url");
    p = VerifyFlatJws(inner, inner.jwk->key.get());
    if (!p.ok()) return p;
    JsonPtr body(json_loadb(inner.payload.data(), inner.payload.size(), JSON_REJECT_DUPLICATES, &err));
    if (!body || !json_is_object(body.get())) return Malformed("the inner payload is not a JSON object");
    const json_t* acct_url = json_object_get(body.get(), "account");
    if (!json_is_string(acct_url) || json_string_value(acct_url) != AccountUrl(account_.id))
      return Unauthorized("the inner payload names another account");
    auto old_key = ParseJwk(json_object_get(body.get(), "oldKey"));
    if (!old_key.ok()) return Malformed("the inner payload needs oldKey");
    auto old_thumb = JwkThumbprint(old_key->key.get());
    if (!old_thumb.ok() || *old_thumb != account_.thumbprint)
      return Unauthorized("oldKey is not the account's key");
    auto new_thumb = JwkThumbprint(inner.jwk->key.get());
    if (!new_thumb.ok()) return ServerInternal(new_thumb.status().message());
    if (*new_thumb == account_.thumbprint) return Malformed("the new key is the current key");
    const std::string new_index = "acme_acct_key/" + prov_->name() + "/" + *new_thumb;
    Status st = store_.PutIfAbsent(new_index, account_.id, std::chrono::seconds(0));
    if (st.code() == Code::kAlreadyExists) {
      auto other = store_.Get(new_index);
      Problem c = Conflict("the new key is already in use by an account");
      if (other.ok() && other->has_value()) r->headers.emplace_back("Location", AccountUrl(**other));
      // The Location header is lost on a problem; keep the RFC's status.
      return c;
    }
    if (!st.ok()) return FromStatus(st);
    const std::string old_index = "acme_acct_key/" + prov_->name() + "/" + account_.thumbprint;
    auto key_json = JwkToJson(inner.jwk->key.get(), false, "", "");
    if (!key_json.ok()) return ServerInternal(key_json.status().message());
    account_.key = Dump(key_json->get());
    account_.thumbprint = *new_thumb;
    st = Save(store_, "acme_acct/" + account_.id, account_, std::chrono::seconds(0));
    if (!st.ok()) {
      store_.Delete(new_index);
      return FromStatus(st);
    }
    store_.Delete(old_index);
    JsonPtr j = AccountJson(account_);
    *r = Json(200, j.get());
    r->headers.emplace_back("Location", AccountUrl(account_.id));
    return Problem::Ok();
  }

  // ---------------------------------------------------------------- orders

  Problem ParseIdentifiers(const json_t* payload, std::vector<Identifier>* out) {
    const json_t* ids = json_object_get(payload, "identifiers");
    if (!json_is_array(ids) || json_array_size(ids) == 0)
      return Malformed("identifiers must be a non-empty array");
    if (json_array_size(ids) > kMaxSans) return RejectedIdentifier("too many identifiers");
    std::set<std::string> seen;
    size_t i;
    const json_t* v;
    json_array_foreach(ids, i, v) {
      const json_t* t = json_object_get(v, "type");
      const json_t* val = json_object_get(v, "value");
      if (!json_is_string(t) || !json_is_string(val)) return Malformed("identifiers need type and value strings");
      std::string type = json_string_value(t);
      std::string value(json_string_value(val), json_string_length(val));
      if (value.size() > kMaxNameLength || value.find('\0') != std::string::npos)
        return RejectedIdentifier("identifier value is too long or not printable");
      Identifier id;
      if (type == "dns") {
        value = Lower(value);
        if (!IsValidDnsName(value) || value.back() == '.')
          return RejectedIdentifier("invalid DNS identifier " + value.substr(0, 64));
        if (!CanonicalIp(value).empty()) return RejectedIdentifier("an IP address is not a dns identifier");
        id = {"dns", value};
      } else if (type == "ip") {
        std::string c = CanonicalIp(value);
        if (c.empty()) return RejectedIdentifier("invalid IP identifier " + value.substr(0, 64));
        id = {"ip", c};
      } else {
        return UnsupportedIdentifier("identifier type " + type.substr(0, 32) + " is not supported");
      }
      if (seen.insert(id.type + ":" + id.value).second) out->push_back(id);
    }
    return Problem::Ok();
  }

  std::vector<std::string> ChallengeTypes(const Identifier& id, bool wildcard) const {
    std::vector<std::string> types;
    if (id.type == "dns") {
      if (!wildcard) types = {"http-01", "dns-01", "tls-alpn-01"};
      else types = {"dns-01"};
    } else {
      types = {"http-01", "tls-alpn-01"};
    }
    const auto& allowed = settings_->challenges;
    if (allowed.empty()) return types;
    std::vector<std::string> out;
    for (auto& t : types)
      if (std::find(allowed.begin(), allowed.end(), t) != allowed.end()) out.push_back(t);
    return out;
  }

  Problem NewOrder(HttpResponse* r) {
    Problem p = AuthenticateKid();
    if (!p.ok()) return p;
    JsonPtr payload;
    p = PayloadObject(&payload);
    if (!p.ok()) return p;
    Order order;
    p = ParseIdentifiers(payload.get(), &order.identifiers);
    if (!p.ok()) return p;
    for (const char* f : {"notBefore", "notAfter"}) {
      const json_t* v = json_object_get(payload.get(), f);
      if (v == nullptr || json_is_null(v)) continue;
      // Go's zero time.Time, which step 0.19 sends for "not asked for";
      // step-ca reads it as unset (IsZero).
      if (json_is_string(v) && std::strcmp(json_string_value(v), "0001-01-01T00:00:00Z") == 0)
        continue;
      if (!json_is_string(v) || !ParseRfc3339(json_string_value(v)))
        return Malformed(std::string(f) + " must be an RFC 3339 time");
      (std::strcmp(f, "notBefore") == 0 ? order.not_before : order.not_after) = json_string_value(v);
    }
    if (!order.not_before.empty() && !order.not_after.empty() &&
        *ParseRfc3339(order.not_after) <= *ParseRfc3339(order.not_before))
      return Malformed("notAfter must be after notBefore");

    const TimePoint now = Clock::now();
    order.id = RandomId();
    order.account = account_.id;
    order.provisioner = prov_->name();
    order.expires = FormatRfc3339(now + kOrderLifetime);
    for (const auto& ident : order.identifiers) {
      Authz az;
      az.id = RandomId();
      az.account = account_.id;
      az.provisioner = prov_->name();
      az.wildcard = ident.type == "dns" && StartsWith(ident.value, "*.");
      az.identifier = {ident.type, az.wildcard ? ident.value.substr(2) : ident.value};
      az.expires = order.expires;
      az.token = RandomId() + RandomId();
      for (auto& t : ChallengeTypes(az.identifier, az.wildcard)) {
        Challenge c;
        c.id = RandomId();
        c.type = t;
        az.challenges.push_back(c);
      }
      if (az.challenges.empty())
        return RejectedIdentifier("no challenge type of this provisioner fits " + ident.value);
      Status st = Save(store_, "acme_authz/" + az.id, az, kObjectTtl);
      if (!st.ok()) return FromStatus(st);
      order.authzs.push_back(az.id);
    }
    Status st = Save(store_, "acme_order/" + order.id, order, kObjectTtl);
    if (!st.ok()) return FromStatus(st);
    auto slot = AppendAccountOrder(store_, account_.id, order.id);
    if (!slot.ok()) return FromStatus(slot.status());
    JsonPtr j;
    p = OrderJson(order, &j);
    if (!p.ok()) return p;
    *r = Json(201, j.get());
    r->headers.emplace_back("Location", OrderUrl(order.id));
    return Problem::Ok();
  }

  // The status a client sees: finalize's stored states win; otherwise it
  // follows from the authorizations, so validators never write the order.
  Problem OrderStatus(const Order& o, std::string* status) {
    if (o.status == "processing" || o.status == "valid" || o.status == "invalid") {
      *status = o.status;
      return Problem::Ok();
    }
    if (Expired(o.expires)) {
      *status = "invalid";
      return Problem::Ok();
    }
    bool all_valid = true;
    for (auto& id : o.authzs) {
      auto az = Load<Authz>(store_, "acme_authz/" + id);
      if (!az.ok()) return FromStatus(az.status());
      if (!az->has_value() || (*az)->status == "invalid" || (*az)->status == "deactivated") {
        *status = "invalid";
        return Problem::Ok();
      }
      all_valid = all_valid && (*az)->status == "valid";
    }
    *status = all_valid ? "ready" : "pending";
    return Problem::Ok();
  }

  Problem OrderJson(const Order& o, JsonPtr* out) {
    std::string status;
    Problem p = OrderStatus(o, &status);
    if (!p.ok()) return p;
    JsonPtr j(json_object());
    json_object_set_new(j.get(), "status", json_string(status.c_str()));
    json_object_set_new(j.get(), "expires", json_string(o.expires.c_str()));
    json_t* ids = json_array();
    for (auto& i : o.identifiers)
      json_array_append_new(ids, json_pack("{s:s,s:s}", "type", i.type.c_str(), "value", i.value.c_str()));
    json_object_set_new(j.get(), "identifiers", ids);
    if (!o.not_before.empty()) json_object_set_new(j.get(), "notBefore", json_string(o.not_before.c_str()));
    if (!o.not_after.empty()) json_object_set_new(j.get(), "notAfter", json_string(o.not_after.c_str()));
    json_t* azs = json_array();
    for (auto& a : o.authzs) json_array_append_new(azs, json_string(AuthzUrl(a).c_str()));
    json_object_set_new(j.get(), "authorizations", azs);
    json_object_set_new(j.get(), "finalize", json_string((OrderUrl(o.id) + "/finalize").c_str()));
    if (!o.certificate.empty())
      json_object_set_new(j.get(), "certificate", json_string(CertUrl(o.certificate).c_str()));
    if (!o.error.empty()) {
      json_error_t err;
      json_t* e = json_loads(o.error.c_str(), 0, &err);
      if (e != nullptr) json_object_set_new(j.get(), "error", e);
    }
    *out = std::move(j);
    return Problem::Ok();
  }

  Problem LoadOwnedOrder(const std::string& id, Order* out) {
    auto o = Load<Order>(store_, "acme_order/" + id);
    if (!o.ok()) return FromStatus(o.status());
    if (!o->has_value()) return NotFoundProblem("no such order");
    if ((*o)->account != account_.id) return Unauthorized("the order belongs to another account");
    *out = std::move(**o);
    return Problem::Ok();
  }

  Problem GetOrder(const std::string& id, HttpResponse* r) {
    Problem p = AuthenticateKid();
    if (!p.ok()) return p;
    if (!PostAsGet()) return Malformed("orders are read with POST-as-GET");
    Order o;
    p = LoadOwnedOrder(id, &o);
    if (!p.ok()) return p;
    JsonPtr j;
    p = OrderJson(o, &j);
    if (!p.ok()) return p;
    *r = Json(200, j.get());
    if (o.status == "processing") r->headers.emplace_back("Retry-After", "1");
    return Problem::Ok();
  }

  Problem CheckCsrNames(const Csr& csr, const Order& o, SanSet* sans) {
    std::set<std::string> want_dns, want_ip, got_dns, got_ip;
    for (auto& i : o.identifiers) (i.type == "dns" ? want_dns : want_ip).insert(i.value);
    for (auto& d : csr.sans.dns) got_dns.insert(Lower(d));
    for (auto& ip : csr.sans.ips) got_ip.insert(CanonicalIp(ip));
    if (!csr.sans.emails.empty() || !csr.sans.uris.empty())
      return BadCsr("the CSR may hold only the order's DNS names and IP addresses");
    if (!csr.common_name.empty()) {
      std::string cn = Lower(csr.common_name);
      if (!want_dns.count(cn) && !want_ip.count(CanonicalIp(cn))) return BadCsr("the CSR common name is not an identifier of the order");
      if (want_dns.count(cn)) got_dns.insert(cn);
      else got_ip.insert(CanonicalIp(cn));
    }
    if (got_dns != want_dns || got_ip != want_ip)
      return BadCsr("the CSR names do not equal the order's identifiers");
    sans->dns.assign(want_dns.begin(), want_dns.end());
    sans->ips.assign(want_ip.begin(), want_ip.end());
    return Problem::Ok();
  }

  Problem Finalize(const std::string& id, HttpResponse* r) {
    Problem p = AuthenticateKid();
    if (!p.ok()) return p;
    JsonPtr payload;
    p = PayloadObject(&payload);
    if (!p.ok()) return p;
    Order o;
    p = LoadOwnedOrder(id, &o);
    if (!p.ok()) return p;
    std::string status;
    p = OrderStatus(o, &status);
    if (!p.ok()) return p;
    if (status != "ready") return OrderNotReady("the order is " + status + ", not ready");
    const json_t* csr_j = json_object_get(payload.get(), "csr");
    if (!json_is_string(csr_j)) return Malformed("finalize needs a csr");
    std::string csr_b64 = json_string_value(csr_j);
    while (!csr_b64.empty() && csr_b64.back() == '=') csr_b64.pop_back();
    auto der = Base64UrlDecode(csr_b64);
    if (!der) return BadCsr("the csr is not base64url");
    auto csr = ParseCsrDer(*der);
    if (!csr.ok()) return BadCsr(csr.status().message());
    Status key_ok = CheckPublicKey(X509_REQ_get0_pubkey(csr->req.get()));
    if (!key_ok.ok()) return BadCsr(key_ok.message());
    SanSet sans;
    p = CheckCsrNames(*csr, o, &sans);
    if (!p.ok()) return p;

    // One finalize per order across the fleet.
    const std::string guard = "acme_order_fin/" + o.id;
    Status st = store_.PutIfAbsent(guard, account_.id, kLockTtl);
    if (st.code() == Code::kAlreadyExists) return OrderNotReady("the order is already being finalized");
    if (!st.ok()) return FromStatus(st);

    CsrIssueRequest ir;
    ir.provisioner = prov_;
    ir.csr = &csr.value();
    ir.common_name = csr->common_name.empty() ? "" : Lower(csr->common_name);
    ir.sans = sans;
    if (!o.not_before.empty()) ir.not_before = *ParseTimeDuration(o.not_before);
    if (!o.not_after.empty()) ir.not_after = *ParseTimeDuration(o.not_after);
    const TimePoint now = Clock::now();
    auto issued = a_.policy().IssueFromCsr(ir, now);
    if (!issued.ok()) {
      store_.Delete(guard);
      const Code c = issued.status().code();
      if (c == Code::kInvalidArgument || c == Code::kPermissionDenied) return BadCsr(issued.status().message());
      return FromStatus(issued.status());
    }
    CertRecord cert;
    cert.id = RandomId();
    cert.account = account_.id;
    cert.serial = issued->serial;
    cert.chain = issued->pem;
    for (auto& pem : a_.intermediate_pems()) cert.chain += pem;
    const TimePoint not_after = now + std::chrono::hours(24);
    auto ttl = std::chrono::duration_cast<std::chrono::seconds>(
        CertNotAfterOf(issued->cert.get(), not_after) - now) + std::chrono::hours(24);
    st = Save(store_, "acme_cert/" + cert.id, cert, ttl);
    if (st.ok()) st = store_.Put("acme_cert_serial/" + cert.serial, cert.id, ttl);
    if (st.ok()) {
      o.status = "valid";
      o.certificate = cert.id;
      st = Save(store_, "acme_order/" + o.id, o, kObjectTtl);
    }
    if (!st.ok()) {
      store_.Delete(guard);
      return FromStatus(st);
    }
    JsonPtr j;
    p = OrderJson(o, &j);
    if (!p.ok()) return p;
    *r = Json(200, j.get());
    r->headers.emplace_back("Location", OrderUrl(o.id));
    r->log_level = LogLevel::kInfo;
    r->log_message = "acme issued certificate serial=" + cert.serial + " provisioner=\"" +
                     prov_->name() + "\" account=" + account_.id;
    return Problem::Ok();
  }

  static TimePoint CertNotAfterOf(X509* cert, TimePoint fallback) {
    struct tm tm;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return fallback;
    return TimePoint(std::chrono::seconds(timegm(&tm)));
  }

  Problem GetCertificate(const std::string& id, HttpResponse* r) {
    Problem p = AuthenticateKid();
    if (!p.ok()) return p;
    if (!PostAsGet()) return Malformed("certificates are read with POST-as-GET");
    auto c = Load<CertRecord>(store_, "acme_cert/" + id);
    if (!c.ok()) return FromStatus(c.status());
    if (!c->has_value()) return NotFoundProblem("no such certificate");
    if ((*c)->account != account_.id) return Unauthorized("the certificate belongs to another account");
    r->status = 200;
    r->content_type = "application/pem-certificate-chain";
    r->body = (*c)->chain;
    return Problem::Ok();
  }

  // ---------------------------------------------------------------- authz

  JsonPtr ChallengeJson(const Authz& az, const Challenge& c) {
    JsonPtr j(json_object());
    json_object_set_new(j.get(), "type", json_string(c.type.c_str()));
    json_object_set_new(j.get(), "status", json_string(c.status.c_str()));
    json_object_set_new(j.get(), "url", json_string(ChallengeUrl(az.id, c.id).c_str()));
    json_object_set_new(j.get(), "token", json_string(az.token.c_str()));
    if (!c.validated.empty()) json_object_set_new(j.get(), "validated", json_string(c.validated.c_str()));
    if (!c.error.empty()) {
      json_error_t err;
      json_t* e = json_loads(c.error.c_str(), 0, &err);
      if (e != nullptr) json_object_set_new(j.get(), "error", e);
    }
    return j;
  }

  JsonPtr AuthzJson(const Authz& az) {
    JsonPtr j(json_object());
    json_object_set_new(j.get(), "identifier", json_pack("{s:s,s:s}", "type", az.identifier.type.c_str(),
                                                         "value", az.identifier.value.c_str()));
    std::string status = az.status;
    if (status == "pending" && Expired(az.expires)) status = "expired";
    json_object_set_new(j.get(), "status", json_string(status.c_str()));
    json_object_set_new(j.get(), "expires", json_string(az.expires.c_str()));
    json_t* chs = json_array();
    for (auto& c : az.challenges) json_array_append_new(chs, ChallengeJson(az, c).release());
    json_object_set_new(j.get(), "challenges", chs);
    if (az.wildcard) json_object_set_new(j.get(), "wildcard", json_true());
    return j;
  }

  Problem LoadOwnedAuthz(const std::string& id, Authz* out) {
    auto az = Load<Authz>(store_, "acme_authz/" + id);
    if (!az.ok()) return FromStatus(az.status());
    if (!az->has_value()) return NotFoundProblem("no such authorization");
    if ((*az)->account != account_.id) return Unauthorized("the authorization belongs to another account");
    *out = std::move(**az);
    return Problem::Ok();
  }

  Problem GetAuthz(const std::string& id, HttpResponse* r) {
    Problem p = AuthenticateKid();
    if (!p.ok()) return p;
    Authz az;
    p = LoadOwnedAuthz(id, &az);
    if (!p.ok()) return p;
    if (!PostAsGet()) {
      JsonPtr payload;
      p = PayloadObject(&payload);
      if (!p.ok()) return p;
      const json_t* st = json_object_get(payload.get(), "status");
      if (!json_is_string(st) || std::strcmp(json_string_value(st), "deactivated") != 0)
        return Malformed("the only status a client may set is deactivated");
      if (az.status != "pending" && az.status != "valid")
        return Malformed("the authorization is " + az.status);
      // Same guard as validation: no deactivation under a running check.
      Status g = store_.PutIfAbsent("acme_authz_lock/" + az.id, "deactivate", kLockTtl);
      if (g.code() == Code::kAlreadyExists) return Conflict("the authorization is being validated");
      if (!g.ok()) return FromStatus(g);
      az.status = "deactivated";
      Status s = Save(store_, "acme_authz/" + az.id, az, kObjectTtl);
      if (!s.ok()) return FromStatus(s);
    }
    JsonPtr j = AuthzJson(az);
    *r = Json(200, j.get());
    bool processing = false;
    for (auto& c : az.challenges) processing = processing || c.status == "processing";
    if (processing) r->headers.emplace_back("Retry-After", "1");
    return Problem::Ok();
  }

  Problem PostChallenge(const std::string& az_id, const std::string& ch_id, HttpResponse* r) {
    Problem p = AuthenticateKid();
    if (!p.ok()) return p;
    Authz az;
    p = LoadOwnedAuthz(az_id, &az);
    if (!p.ok()) return p;
    auto it = std::find_if(az.challenges.begin(), az.challenges.end(),
                           [&](const Challenge& c) { return c.id == ch_id; });
    if (it == az.challenges.end()) return NotFoundProblem("no such challenge");
    if (!PostAsGet()) {
      JsonPtr payload;
      p = PayloadObject(&payload);
      if (!p.ok()) return p;
      const bool startable = az.status == "pending" && !Expired(az.expires) &&
                             (it->status == "pending" || it->status == "processing");
      if (startable) {
        // pending -> processing, once across the fleet: the lock key is the
        // transition. A "processing" challenge whose lock expired (its
        // worker died) is taken over by the next POST.
        Status g = store_.PutIfAbsent("acme_authz_lock/" + az.id, it->id, kLockTtl);
        if (g.ok()) {
          it->status = "processing";
          Status s = Save(store_, "acme_authz/" + az.id, az, kObjectTtl);
          if (!s.ok()) {
            store_.Delete("acme_authz_lock/" + az.id);
            return FromStatus(s);
          }
          ValidationTask t;
          t.provisioner = prov_->name();
          t.authz_id = az.id;
          t.challenge_id = it->id;
          t.type = it->type;
          t.identifier = az.identifier;
          t.token = az.token;
          t.key_authorization = az.token + "." + account_.thumbprint;
          t.config = settings_->validation;
          if (!s_.Submit(std::move(t))) {
            it->status = "pending";
            Save(store_, "acme_authz/" + az.id, az, kObjectTtl);
            store_.Delete("acme_authz_lock/" + az.id);
            Problem busy = ServerInternal("validation queue full");
            busy.status = 503;
            busy.detail = "too many validations in progress; retry later";
            return busy;
          }
        } else if (g.code() != Code::kAlreadyExists) {
          return FromStatus(g);
        } else {
          // Someone else holds the transition: report what the store says.
          Authz fresh;
          p = LoadOwnedAuthz(az_id, &fresh);
          if (!p.ok()) return p;
          az = fresh;
          it = std::find_if(az.challenges.begin(), az.challenges.end(),
                            [&](const Challenge& c) { return c.id == ch_id; });
          if (it == az.challenges.end()) return NotFoundProblem("no such challenge");
        }
      }
    }
    JsonPtr j = ChallengeJson(az, *it);
    *r = Json(200, j.get());
    r->headers.emplace_back("Link", "<" + AuthzUrl(az.id) + ">;rel=\"up\"");
    if (it->status == "processing") r->headers.emplace_back("Retry-After", "1");
    return Problem::Ok();
  }

  // ---------------------------------------------------------------- revoke

  Problem RevokeCert(HttpResponse* r) {
    Problem p = Authenticate(KeyMode::kEither);
    if (!p.ok()) return p;
    JsonPtr payload;
    p = PayloadObject(&payload);
    if (!p.ok()) return p;
    const json_t* c = json_object_get(payload.get(), "certificate");
    if (!json_is_string(c)) return Malformed("revokeCert needs a certificate");
    auto der = Base64UrlDecode(json_string_value(c));
    if (!der) return Malformed("the certificate is not base64url");
    const unsigned char* pp = reinterpret_cast<const unsigned char*>(der->data());
    X509Ptr cert(d2i_X509(nullptr, &pp, static_cast<long>(der->size())));
    if (!cert || pp != reinterpret_cast<const unsigned char*>(der->data()) + der->size())
      return Malformed("the certificate is not DER");
    int64_t reason = 0;
    const json_t* rj = json_object_get(payload.get(), "reason");
    if (rj != nullptr) {
      if (!json_is_integer(rj)) return BadRevocationReason("reason must be an integer");
      reason = json_integer_value(rj);
      if (reason < 0 || reason > 10 || reason == 7)
        return BadRevocationReason("unsupported revocation reason code");
    }
    X509* issuer = a_.config().intermediates[0].get();
    if (X509_check_issued(issuer, cert.get()) != X509_V_OK ||
        X509_verify(cert.get(), X509_get0_pubkey(issuer)) != 1)
      return Unauthorized("the certificate was not issued by this CA");
    const std::string serial = SerialDecimal(cert.get());
    if (jws_.jwk) {
      if (EVP_PKEY_eq(X509_get0_pubkey(cert.get()), jws_.jwk->key.get()) != 1)
        return Unauthorized("the JWS key is not the certificate's key");
    } else {
      auto cid = store_.Get("acme_cert_serial/" + serial);
      if (!cid.ok()) return FromStatus(cid.status());
      bool owned = false;
      if (cid->has_value()) {
        auto rec = Load<CertRecord>(store_, "acme_cert/" + **cid);
        if (!rec.ok()) return FromStatus(rec.status());
        owned = rec->has_value() && (*rec)->account == account_.id;
      }
      if (!owned) return Unauthorized("the account did not order this certificate");
    }
    struct tm tm;
    std::string expires;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) == 1)
      expires = FormatRfc3339(TimePoint(std::chrono::seconds(timegm(&tm))));
    JsonPtr info(json_object());
    json_object_set_new(info.get(), "Serial", json_string(serial.c_str()));
    json_object_set_new(info.get(), "ProvisionerID", json_string(prov_->id().c_str()));
    json_object_set_new(info.get(), "ReasonCode", json_integer(reason));
    json_object_set_new(info.get(), "Reason", json_string(""));
    json_object_set_new(info.get(), "RevokedAt", json_string(Now3339().c_str()));
    json_object_set_new(info.get(), "ExpiresAt", json_string(expires.c_str()));
    json_object_set_new(info.get(), "TokenID", json_string(""));
    json_object_set_new(info.get(), "MTLS", json_false());
    json_object_set_new(info.get(), "ACME", json_true());
    Status st = store_.PutIfAbsent("revoked_x509_certs/" + serial, Dump(info.get()), std::chrono::seconds(0));
    if (st.code() == Code::kAlreadyExists) return AlreadyRevoked("the certificate is already revoked");
    if (!st.ok()) return FromStatus(st);
    r->status = 200;
    r->log_level = LogLevel::kInfo;
    r->log_message = "acme revoked certificate serial=" + serial + " reason=" + std::to_string(reason);
    return Problem::Ok();
  }

  Service& s_;
  Authority& a_;
  Store& store_;
  const HttpRequest& req_;
  const Provisioner* prov_ = nullptr;
  const ProvisionerSettings* settings_ = nullptr;
  std::string origin_, base_;
  FlatJws jws_;
  Account account_;
  EvpPkeyPtr account_key_;
};

Service::Service(Authority& authority, const AuthorityOptions& options) : authority_(authority) {
  base_url_ = options.acme_base_url;
  if (base_url_.empty() && Env("STEPCA_ACME_BASE_URL")) base_url_ = Env("STEPCA_ACME_BASE_URL");
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  ValidationConfig& v = defaults_.validation;
  v.http01_port = options.acme_http01_port > 0 ? options.acme_http01_port
                  : Env("STEPCA_ACME_HTTP01_PORT") ? std::atoi(Env("STEPCA_ACME_HTTP01_PORT")) : 80;
  v.tls_alpn01_port = options.acme_tls_alpn01_port > 0 ? options.acme_tls_alpn01_port
                      : Env("STEPCA_ACME_TLSALPN01_PORT") ? std::atoi(Env("STEPCA_ACME_TLSALPN01_PORT")) : 443;
  if (v.http01_port <= 0 || v.http01_port > 65535) v.http01_port = 80;
  if (v.tls_alpn01_port <= 0 || v.tls_alpn01_port > 65535) v.tls_alpn01_port = 443;
  v.dns_resolver = !options.acme_dns_resolver.empty() ? options.acme_dns_resolver
                   : Env("STEPCA_ACME_DNS_RESOLVER") ? Env("STEPCA_ACME_DNS_RESOLVER") : "";

  const auto& provs = authority.config().provisioners;
  for (size_t i = 0; i < provs.size(); ++i) {
    const Provisioner& p = provs.at(i);
    if (p.type() != ProvisionerType::kAcme) continue;
    ProvisionerSettings s = defaults_;
    const json_t* j = p.json();
    s.require_eab = json_is_true(json_object_get(j, "requireEAB"));
    size_t k;
    const json_t* c;
    json_array_foreach(json_object_get(j, "challenges"), k, c) {
      if (json_is_string(c)) s.challenges.push_back(Lower(json_string_value(c)));
    }
    const json_t* ext = json_object_get(j, "nginxStepca");
    if (json_is_object(ext)) {
      s.validation.http01_port = IntSetting(ext, "http01Port", s.validation.http01_port);
      s.validation.tls_alpn01_port = IntSetting(ext, "tlsAlpn01Port", s.validation.tls_alpn01_port);
      const json_t* r = json_object_get(ext, "dnsResolver");
      if (json_is_string(r)) s.validation.dns_resolver = json_string_value(r);
      const char* kid;
      const json_t* kv;
      json_object_foreach(const_cast<json_t*>(json_object_get(ext, "eabKeys")), kid, kv) {
        if (!json_is_string(kv)) continue;
        std::string raw = json_string_value(kv);
        while (!raw.empty() && raw.back() == '=') raw.pop_back();
        auto key = Base64UrlDecode(raw);
        if (key && !key->empty()) s.eab_keys[kid] = *key;
      }
    }
    settings_[p.name()] = std::move(s);
  }
  pool_.reset(new ValidationPool(kValidationThreads, kValidationQueue,
                                 [this](const ValidationTask& t, const std::atomic<bool>& stop) {
                                   RunValidation(t, stop);
                                 }));
}

Service::~Service() { Stop(); }

void Service::Stop() {
  if (pool_) pool_->Stop();
}

bool Service::Submit(ValidationTask task) { return pool_->Submit(std::move(task)); }

const ProvisionerSettings& Service::Settings(const Provisioner& p) const {
  auto it = settings_.find(p.name());
  return it == settings_.end() ? defaults_ : it->second;
}

HttpResponse Service::Handle(const HttpRequest& request) { return Request(*this, request).Run(); }

void Service::RunValidation(const ValidationTask& t, const std::atomic<bool>& stop) {
  const int attempts = std::max(1, t.config.attempts);
  const auto delay = retry_delay_override_.count() >= 0 ? retry_delay_override_ : t.config.retry_delay;
  Problem result;
  for (int i = 0; i < attempts; ++i) {
    if (stop.load()) return;  // the lock expires; the next POST retries
    result = validator_ ? validator_(t) : ValidateOnce(t, &stop);
    if (result.ok()) break;
    for (auto waited = std::chrono::milliseconds(0); i + 1 < attempts && waited < delay;
         waited += std::chrono::milliseconds(50)) {
      if (stop.load()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  Store& store = authority_.store();
  for (int tries = 0; tries < 3; ++tries) {
    auto az = Load<Authz>(store, "acme_authz/" + t.authz_id);
    if (!az.ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    if (!az->has_value()) return;
    Authz& a = **az;
    for (auto& c : a.challenges) {
      if (c.id != t.challenge_id) continue;
      if (result.ok()) {
        c.status = "valid";
        c.validated = Now3339();
      } else {
        c.status = "invalid";
        JsonPtr e(json_object());
        json_object_set_new(e.get(), "type", json_string(("urn:ietf:params:acme:error:" + result.type).c_str()));
        json_object_set_new(e.get(), "detail", json_string(result.detail.c_str()));
        json_object_set_new(e.get(), "status", json_integer(result.status ? result.status : 400));
        c.error = Dump(e.get());
      }
    }
    a.status = result.ok() ? "valid" : "invalid";
    if (Save(store, "acme_authz/" + a.id, a, kObjectTtl).ok()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace acme
}  // namespace stepca
