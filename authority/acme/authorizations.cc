// authz/<id> (read, deactivate), challenge/<authz>/<id> (read, start), and
// the validation result (RFC 8555 sections 7.5, 7.5.1, 7.5.2).
//
// Every change to an authorization is a compare-and-set from the bytes
// read (acme_authorizations.h). Starting a validation moves the challenge
// pending -> processing; of concurrent POSTs one wins and the others answer
// with what the winner stored, so a challenge validates once. While one
// challenge of an authorization is processing, no other starts and the
// authorization cannot be deactivated.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <thread>

#include "authority/acme/authenticate.h"
#include "authority/acme/common.h"
#include "authority/acme/resources.h"
#include "authority/acme/server.h"
#include "authority/provisioner/provisioner.h"
#include "authority/state/acme_authorizations.h"

namespace stepca {
namespace acme {
namespace {

constexpr int kCasAttempts = 5;

JsonPtr ChallengeJson(const Request& r, const Authz& az, const Challenge& c) {
  JsonPtr j(json_object());
  json_object_set_new(j.get(), "type", json_string(c.type.c_str()));
  json_object_set_new(j.get(), "status", json_string(c.status.c_str()));
  json_object_set_new(j.get(), "url", json_string(r.ChallengeUrl(az.id, c.id).c_str()));
  json_object_set_new(j.get(), "token", json_string(az.token.c_str()));
  if (!c.validated.empty()) json_object_set_new(j.get(), "validated", json_string(c.validated.c_str()));
  if (!c.error.empty()) {
    json_error_t err;
    json_t* e = json_loads(c.error.c_str(), 0, &err);
    if (e != nullptr) json_object_set_new(j.get(), "error", e);
  }
  return j;
}

JsonPtr AuthzJson(const Request& r, const Authz& az) {
  JsonPtr j(json_object());
  json_object_set_new(j.get(), "identifier", json_pack("{s:s,s:s}", "type", az.identifier.type.c_str(),
                                                       "value", az.identifier.value.c_str()));
  std::string status = az.status;
  if (status == "pending" && Expired(az.expires)) status = "expired";
  json_object_set_new(j.get(), "status", json_string(status.c_str()));
  json_object_set_new(j.get(), "expires", json_string(az.expires.c_str()));
  json_t* chs = json_array();
  for (auto& c : az.challenges) json_array_append_new(chs, ChallengeJson(r, az, c).release());
  json_object_set_new(j.get(), "challenges", chs);
  if (az.wildcard) json_object_set_new(j.get(), "wildcard", json_true());
  return j;
}

bool LiveProcessing(const Challenge& c) {
  return c.status == "processing" && !ProcessingIsStale(c.processing_since);
}

bool AnyLiveProcessing(const Authz& az) {
  return std::any_of(az.challenges.begin(), az.challenges.end(), LiveProcessing);
}

Problem LoadOwnedAuthz(Request& r, const std::string& id, Stored<Authz>* out) {
  auto az = AcmeAuthorizations(r.store).Load(id);
  if (!az.ok()) return FromStatus(az.status());
  if (!az->has_value()) return NotFoundProblem("no such authorization");
  if ((*az)->record.account != r.account.record.id)
    return Unauthorized("the authorization belongs to another account");
  *out = std::move(**az);
  return Problem::Ok();
}

// Deactivation (RFC 8555 section 7.5.2), applied to the record as stored.
Problem Deactivate(Request& r, Stored<Authz>* az) {
  AcmeAuthorizations authzs(r.store);
  for (int attempt = 0;; ++attempt) {
    const Authz& cur = az->record;
    if (cur.status != "pending" && cur.status != "valid")
      return Malformed("the authorization is " + cur.status);
    if (AnyLiveProcessing(cur)) return Conflict("the authorization is being validated");
    Authz next = cur;
    next.status = "deactivated";
    Status st = authzs.Replace(*az, next);
    if (st.ok()) {
      az->record = std::move(next);
      return Problem::Ok();
    }
    if (st.code() != Code::kAlreadyExists) return FromStatus(st);
    if (attempt + 1 >= kCasAttempts) return Conflict("the authorization is being changed; retry");
    Problem p = LoadOwnedAuthz(r, cur.id, az);
    if (!p.ok()) return p;
  }
}

}  // namespace

Problem GetAuthz(Request& r, const std::string& id, HttpResponse* out) {
  Problem p = Authenticate(&r, KeyMode::kKid);
  if (!p.ok()) return p;
  Stored<Authz> az;
  p = LoadOwnedAuthz(r, id, &az);
  if (!p.ok()) return p;
  if (!r.PostAsGet()) {
    JsonPtr payload;
    p = PayloadObject(r, &payload);
    if (!p.ok()) return p;
    const json_t* st = json_object_get(payload.get(), "status");
    if (!json_is_string(st) || std::strcmp(json_string_value(st), "deactivated") != 0)
      return Malformed("the only status a client may set is deactivated");
    p = Deactivate(r, &az);
    if (!p.ok()) return p;
  }
  JsonPtr j = AuthzJson(r, az.record);
  *out = JsonResponse(200, j.get());
  if (AnyLiveProcessing(az.record)) out->headers.emplace_back("Retry-After", "1");
  return Problem::Ok();
}

Problem PostChallenge(Request& r, const std::string& az_id, const std::string& ch_id,
                      HttpResponse* out) {
  Problem p = Authenticate(&r, KeyMode::kKid);
  if (!p.ok()) return p;
  if (!r.PostAsGet()) {
    JsonPtr payload;
    p = PayloadObject(r, &payload);
    if (!p.ok()) return p;
  }
  AcmeAuthorizations authzs(r.store);
  Stored<Authz> az;
  size_t idx = 0;
  for (int attempt = 0;; ++attempt) {
    p = LoadOwnedAuthz(r, az_id, &az);
    if (!p.ok()) return p;
    auto it = std::find_if(az.record.challenges.begin(), az.record.challenges.end(),
                           [&](const Challenge& c) { return c.id == ch_id; });
    if (it == az.record.challenges.end()) return NotFoundProblem("no such challenge");
    idx = static_cast<size_t>(it - az.record.challenges.begin());
    // A challenge "processing" past kProcessingTimeout lost its worker
    // (the process died): the next POST starts it again.
    const bool startable = !r.PostAsGet() && az.record.status == "pending" &&
                           !Expired(az.record.expires) && !AnyLiveProcessing(az.record) &&
                           (it->status == "pending" || it->status == "processing");
    if (!startable) break;

    Authz next = az.record;
    Challenge& ch = next.challenges[idx];
    ch.status = "processing";
    ch.processing_since = Now3339();
    Status st = authzs.Replace(az, next);
    if (st.code() == Code::kAlreadyExists) {
      // Another request changed it first; answer with what it stored.
      if (attempt + 1 >= kCasAttempts) return Conflict("the authorization is being changed; retry");
      continue;
    }
    if (!st.ok()) return FromStatus(st);
    Stored<Authz> started{next, AcmeAuthorizations::Encode(next)};

    ValidationTask t;
    t.provisioner = r.provisioner->name();
    t.authz_id = next.id;
    t.challenge_id = ch.id;
    t.type = ch.type;
    t.identifier = next.identifier;
    t.token = next.token;
    t.key_authorization = next.token + "." + r.account.record.thumbprint;
    t.started = ch.processing_since;
    t.config = r.settings->validation;
    if (!r.service.Submit(std::move(t))) {
      Problem busy = ServerInternal("validation queue full");
      busy.status = 503;
      busy.detail = "too many validations in progress; retry later";
      Authz back = started.record;
      back.challenges[idx].status = "pending";
      back.challenges[idx].processing_since.clear();
      Status undo = authzs.Replace(started, back);
      if (!undo.ok())
        busy.log += "; the challenge stays processing until it goes stale: " + undo.LogText();
      return busy;
    }
    az = std::move(started);
    break;
  }
  const Challenge& ch = az.record.challenges[idx];
  JsonPtr j = ChallengeJson(r, az.record, ch);
  *out = JsonResponse(200, j.get());
  out->headers.emplace_back("Link", "<" + r.AuthzUrl(az.record.id) + ">;rel=\"up\"");
  if (ch.status == "processing") out->headers.emplace_back("Retry-After", "1");
  return Problem::Ok();
}

void Service::RunValidation(const ValidationTask& t, const std::atomic<bool>& stop) {
  const int attempts = std::max(1, t.config.attempts);
  const auto delay = retry_delay_override_.count() >= 0 ? retry_delay_override_ : t.config.retry_delay;
  Problem result;
  for (int i = 0; i < attempts; ++i) {
    // Stopping leaves the challenge processing; it goes stale and the next
    // POST starts it again.
    if (stop.load()) return;
    result = validator_ ? validator_(t) : ValidateOnce(t, &stop);
    if (result.ok()) break;
    for (auto waited = std::chrono::milliseconds(0); i + 1 < attempts && waited < delay;
         waited += std::chrono::milliseconds(50)) {
      if (stop.load()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  AcmeAuthorizations authzs(store());
  Status last;
  for (int tries = 0; tries < kCasAttempts; ++tries) {
    auto az = authzs.Load(t.authz_id);
    if (!az.ok()) {
      last = az.status();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    if (!az->has_value()) return;  // expired meanwhile
    Authz next = (*az)->record;
    auto it = std::find_if(next.challenges.begin(), next.challenges.end(),
                           [&](const Challenge& c) { return c.id == t.challenge_id; });
    // Taken over by a later run (this one went stale) or no longer ours.
    if (it == next.challenges.end() || it->status != "processing" || it->processing_since != t.started)
      return;
    it->processing_since.clear();
    if (result.ok()) {
      it->status = "valid";
      it->validated = Now3339();
    } else {
      it->status = "invalid";
      JsonPtr e(json_object());
      json_object_set_new(e.get(), "type", json_string(("urn:ietf:params:acme:error:" + result.type).c_str()));
      json_object_set_new(e.get(), "detail", json_string(result.detail.c_str()));
      json_object_set_new(e.get(), "status", json_integer(result.status ? result.status : 400));
      it->error = Dump(e.get());
    }
    next.status = result.ok() ? "valid" : "invalid";
    last = authzs.Replace(**az, next);
    if (last.ok()) return;
    if (last.code() != Code::kAlreadyExists) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // No request to answer: nginx sends a worker's stderr to its error log.
  // The challenge stays processing, goes stale, and the next POST retries.
  std::fprintf(stderr, "stepca: acme: could not record the result of challenge %s: %s\n",
               t.challenge_id.c_str(), last.LogText().c_str());
}

}  // namespace acme
}  // namespace stepca
