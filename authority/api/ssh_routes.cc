#include "authority/api/ssh_routes.h"

#include <fstream>
#include <sstream>

#include "authority/authority.h"
#include "authority/template/template.h"
#include "authority/ssh/public_key.h"
#include "shared/base64.h"

namespace stepca {
namespace {

Result<JsonPtr> ParseBody(const HttpRequest& req) {
  json_error_t jerr;
  JsonPtr body(json_loadb(req.body.data(), req.body.size(), JSON_DISABLE_EOF_CHECK, &jerr));
  if (!body || !json_is_object(body.get()))
    return InvalidArgument("error decoding json").WithDetail(body ? "not an object" : jerr.text);
  return body;
}

Status StringMember(const json_t* obj, const char* name, std::string* out) {
  const json_t* v = json_object_get(obj, name);
  if (v == nullptr || json_is_null(v)) return Status::Ok();
  if (!json_is_string(v)) return InvalidArgument("error decoding json").WithDetail(std::string(name) + " must be a string");
  out->assign(json_string_value(v), json_string_length(v));
  return Status::Ok();
}

// Go's []byte members: standard base64.
Status BytesMember(const json_t* obj, const char* name, std::string* out) {
  std::string b64;
  STEPCA_RETURN_IF_ERROR(StringMember(obj, name, &b64));
  if (b64.empty()) return Status::Ok();
  auto bytes = Base64Decode(b64);
  if (!bytes) return InvalidArgument("error decoding json").WithDetail(std::string(name) + " is not base64");
  *out = std::move(*bytes);
  return Status::Ok();
}

Status TimeMember(const json_t* obj, const char* name, TimeDuration* out) {
  std::string s;
  STEPCA_RETURN_IF_ERROR(StringMember(obj, name, &s));
  auto td = ParseTimeDuration(s);
  if (!td) return InvalidArgument(std::string("error decoding json: invalid ") + name + " \"" + s.substr(0, 64) + "\"");
  *out = *td;
  return Status::Ok();
}

// A feature this CA has not configured (no ssh block, non-passive
// revocation) is the client's to learn, not an operator's error.
HttpResponse SshError(const Status& st) {
  HttpResponse r = ErrorResponse(st);
  if (r.status == 501) r.log_level = LogLevel::kWarn;
  return r;
}

json_t* CertJson(const ssh::Certificate& c) { return json_string(Base64Encode(c.wire).c_str()); }

HttpResponse Issued(const SshSignResult& r, bool with_add_user) {
  JsonPtr out(json_object());
  json_object_set_new(out.get(), "crt", CertJson(r.cert));
  if (with_add_user && r.add_user) json_object_set_new(out.get(), "addUserCrt", CertJson(*r.add_user));
  HttpResponse resp = JsonResponse(201, out.get());
  resp.log_level = LogLevel::kInfo;
  resp.log_message = std::string("issued ssh ") + (r.cert.type == ssh::CertType::kHost ? "host" : "user") +
                     " certificate serial=" + std::to_string(r.cert.serial) + " provisioner=\"" +
                     r.provisioner + "\" key-id=\"" + r.cert.key_id.substr(0, 128) + "\" valid-before=" +
                     std::to_string(r.cert.valid_before);
  return resp;
}

class SshRouter {
 public:
  SshRouter(Authority& a, const HttpRequest& r) : a_(a), req_(r) {}

  HttpResponse Route(std::string_view path) {
    const bool get = req_.method == "GET" || req_.method == "HEAD";
    const bool post = req_.method == "POST";
    if (path == "/ssh/sign" || path == "/sign-ssh") return post ? Sign() : MethodNotAllowed();
    if (path == "/ssh/renew") return post ? Renew() : MethodNotAllowed();
    if (path == "/ssh/rekey") return post ? Rekey() : MethodNotAllowed();
    if (path == "/ssh/revoke") return post ? Revoke() : MethodNotAllowed();
    if (path == "/ssh/roots" || path == "/ssh/federation")
      return get ? Roots(path == "/ssh/federation") : MethodNotAllowed();
    if (path == "/ssh/config" || path.substr(0, 12) == "/ssh/config/") return post ? Config() : MethodNotAllowed();
    if (path == "/ssh/check-host") return post ? CheckHost() : MethodNotAllowed();
    if (path == "/ssh/hosts" || path == "/ssh/get-hosts") return get ? Hosts() : MethodNotAllowed();
    if (path == "/ssh/bastion") return post ? Bastion() : MethodNotAllowed();
    return NotFoundText();
  }

 private:
  HttpResponse Sign() {
    auto body = ParseBody(req_);
    if (!body.ok()) return SshError(body.status());
    const json_t* b = body->get();
    SshSignRequest sr;
    Status st = BytesMember(b, "publicKey", &sr.public_key);
    if (st.ok()) st = StringMember(b, "ott", &sr.ott);
    if (st.ok()) st = StringMember(b, "certType", &sr.cert_type);
    if (st.ok()) st = StringMember(b, "keyID", &sr.key_id);
    if (st.ok()) st = TimeMember(b, "validAfter", &sr.valid_after);
    if (st.ok()) st = TimeMember(b, "validBefore", &sr.valid_before);
    if (st.ok()) st = BytesMember(b, "addUserPublicKey", &sr.add_user_public_key);
    if (!st.ok()) return SshError(st);
    const json_t* p = json_object_get(b, "principals");
    if (p != nullptr && !json_is_null(p)) {
      if (!json_is_array(p)) return SshError(InvalidArgument("error decoding json").WithDetail("principals must be a list"));
      size_t i;
      const json_t* e;
      json_array_foreach(p, i, e) {
        if (!json_is_string(e)) return SshError(InvalidArgument("error decoding json").WithDetail("principals must be strings"));
        sr.principals.emplace_back(json_string_value(e));
      }
    }
    // Any JSON value: one that is not an object reaches a template as {}.
    const json_t* data = json_object_get(b, "templateData");
    if (data != nullptr && !json_is_null(data))
      sr.template_data = std::shared_ptr<json_t>(json_deep_copy(data), [](json_t* j) { json_decref(j); });
    auto r = a_.ssh().Sign(sr);
    if (!r.ok()) return SshError(r.status().Wrap("signSSH"));
    return Issued(*r, true);
  }

  HttpResponse Renew() {
    auto body = ParseBody(req_);
    if (!body.ok()) return SshError(body.status());
    std::string ott;
    Status st = StringMember(body->get(), "ott", &ott);
    if (!st.ok()) return SshError(st);
    auto r = a_.ssh().Renew(ott);
    if (!r.ok()) return SshError(r.status().Wrap("renewSSH"));
    return Issued(*r, false);
  }

  HttpResponse Rekey() {
    auto body = ParseBody(req_);
    if (!body.ok()) return SshError(body.status());
    std::string ott, key;
    Status st = StringMember(body->get(), "ott", &ott);
    if (st.ok()) st = BytesMember(body->get(), "publicKey", &key);
    if (!st.ok()) return SshError(st);
    auto r = a_.ssh().Rekey(ott, key);
    if (!r.ok()) return SshError(r.status().Wrap("rekeySSH"));
    return Issued(*r, false);
  }

  HttpResponse Revoke() {
    auto body = ParseBody(req_);
    if (!body.ok()) return SshError(body.status());
    const json_t* b = body->get();
    SshRevokeRequest rr;
    Status st = StringMember(b, "serial", &rr.serial);
    if (st.ok()) st = StringMember(b, "ott", &rr.ott);
    if (st.ok()) st = StringMember(b, "reason", &rr.reason);
    if (!st.ok()) return SshError(st);
    const json_t* code = json_object_get(b, "reasonCode");
    if (code != nullptr && !json_is_null(code)) {
      if (!json_is_integer(code)) return SshError(InvalidArgument("error decoding json").WithDetail("reasonCode must be a number"));
      rr.reason_code = json_integer_value(code);
    }
    rr.passive = json_is_true(json_object_get(b, "passive"));
    Status r = a_.ssh().Revoke(rr);
    if (!r.ok()) return SshError(r.Wrap("revokeSSH"));
    JsonPtr out(json_pack("{s:s}", "status", "ok"));
    HttpResponse resp = JsonResponse(200, out.get());
    resp.log_level = LogLevel::kInfo;
    resp.log_message = "revoked ssh certificate serial=" + rr.serial.substr(0, 32);
    return resp;
  }

  // The CA's key, then the ssh.keys of that kind (step-ca's order).
  json_t* KeyList(const Signer* s, bool host, bool federated) {
    JsonPtr list(json_array());
    if (s != nullptr) {
      auto blob = ssh::MarshalPublicKey(s->PublicKey());
      if (blob.ok()) json_array_append_new(list.get(), json_string(Base64Encode(*blob).c_str()));
    }
    for (const auto& k : a_.config().ssh_keys)
      if (k.host == host && k.federated == federated)
        json_array_append_new(list.get(), json_string(Base64Encode(k.blob).c_str()));
    if (json_array_size(list.get()) == 0) return json_null();
    return list.release();
  }

  HttpResponse Roots(bool federation) {
    SshPolicy& ssh = a_.ssh();
    if (!ssh.enabled()) return SshError(NotFound("no keys found"));
    JsonPtr out(json_object());
    json_object_set_new(out.get(), "userKey", KeyList(ssh.user_signer(), false, federation));
    json_object_set_new(out.get(), "hostKey", KeyList(ssh.host_signer(), true, federation));
    return JsonResponse(200, out.get());
  }

  HttpResponse Config();

  HttpResponse CheckHost() {
    auto body = ParseBody(req_);
    if (!body.ok()) return SshError(body.status());
    std::string type, principal;
    Status st = StringMember(body->get(), "type", &type);
    if (st.ok()) st = StringMember(body->get(), "principal", &principal);
    if (!st.ok()) return SshError(st);
    if (type != "host") return SshError(InvalidArgument("unsupported type '" + type.substr(0, 32) + "'"));
    if (principal.empty()) return SshError(InvalidArgument("missing or empty principal"));
    auto exists = a_.ssh().HostExists(principal);
    if (!exists.ok()) return SshError(exists.status().Wrap("checkSSHHost"));
    JsonPtr out(json_pack("{s:b}", "exists", *exists ? 1 : 0));
    return JsonResponse(200, out.get());
  }

  HttpResponse Hosts() {
    auto hosts = a_.ssh().Hosts();
    if (!hosts.ok()) return SshError(hosts.status().Wrap("getSSHHosts"));
    JsonPtr list(json_array());
    for (const auto& h : *hosts)
      json_array_append_new(list.get(), json_pack("{s:s,s:n,s:s}", "hid", "", "host_tags",
                                                  "hostname", h.hostname.c_str()));
    JsonPtr out(json_object());
    json_object_set(out.get(), "hosts", list.get());
    return JsonResponse(200, out.get());
  }

  HttpResponse Bastion() {
    auto body = ParseBody(req_);
    if (!body.ok()) return SshError(body.status());
    std::string user, hostname;
    Status st = StringMember(body->get(), "user", &user);
    if (st.ok()) st = StringMember(body->get(), "hostname", &hostname);
    if (!st.ok()) return SshError(st);
    if (hostname.empty()) return SshError(InvalidArgument("missing or empty hostname"));
    JsonPtr out(json_pack("{s:s}", "hostname", hostname.c_str()));
    const json_t* bastion = a_.config().ssh_bastion.get();
    const json_t* bh = json_object_get(bastion, "hostname");
    // No bastion for the bastion itself.
    if (json_is_string(bh) && json_string_length(bh) > 0 && hostname != json_string_value(bh)) {
      JsonPtr b(json_object());
      for (const char* k : {"hostname", "user", "port", "cmd", "flags"}) {
        const json_t* v = json_object_get(bastion, k);
        if (json_is_string(v) && json_string_length(v) > 0) json_object_set(b.get(), k, const_cast<json_t*>(v));
      }
      json_object_set(out.get(), "bastion", b.get());
    }
    return JsonResponse(200, out.get());
  }

  Authority& a_;
  const HttpRequest& req_;
};

// The key as `step ssh config` templates read it: .Type and .Marshal (the
// wire blob, which the templates pipe through toString and b64enc).
tmpl::Value KeyValue(const Signer* s) {
  if (s == nullptr) return tmpl::Value();
  auto blob = ssh::MarshalPublicKey(s->PublicKey());
  if (!blob.ok()) return tmpl::Value();
  tmpl::Value::Map m;
  m["Type"] = tmpl::Value::String(ssh::BlobType(*blob));
  m["Marshal"] = tmpl::Value::String(*blob);
  return tmpl::Value::MakeMap(std::move(m));
}

// step-ca resolves template paths against $STEPPATH, the parent of
// ca.json's config/ directory; a path relative to ca.json itself also works.
Result<std::string> ReadTemplateFile(const std::string& ca_dir, const std::string& path) {
  std::vector<std::string> tries;
  if (!path.empty() && path[0] == '/') tries = {path};
  else tries = {ca_dir + "/../" + path, ca_dir + "/" + path};
  for (const auto& t : tries) {
    std::ifstream in(t, std::ios::binary);
    if (!in) continue;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  return Internal("cannot read ssh template " + path);
}

HttpResponse SshRouter::Config() {
  auto body = ParseBody(req_);
  if (!body.ok()) return SshError(body.status());
  std::string type;
  Status st = StringMember(body->get(), "type", &type);
  if (!st.ok()) return SshError(st);
  if (type.empty()) type = "user";
  if (type != "user" && type != "host")
    return SshError(InvalidArgument("unsupported type '" + type.substr(0, 32) + "'"));
  const json_t* data = json_object_get(body->get(), "data");
  if (data != nullptr && !json_is_null(data) && !json_is_object(data))
    return SshError(InvalidArgument("error decoding json").WithDetail("data must be an object"));
  SshPolicy& ssh = a_.ssh();
  const json_t* list = json_object_get(json_object_get(a_.config().templates.get(), "ssh"), type.c_str());
  if (!ssh.enabled() || !json_is_array(list))
    return SshError(NotFound("getSSHConfig: ssh templates are not configured"));

  tmpl::Value::Map step_ssh;
  step_ssh["HostKey"] = KeyValue(ssh.host_signer());
  step_ssh["UserKey"] = KeyValue(ssh.user_signer());
  tmpl::Value::List host_fed, user_fed;
  for (const auto& k : a_.config().ssh_keys) {
    if (!k.federated) continue;
    tmpl::Value::Map m;
    m["Type"] = tmpl::Value::String(ssh::BlobType(k.blob));
    m["Marshal"] = tmpl::Value::String(k.blob);
    (k.host ? host_fed : user_fed).push_back(tmpl::Value::MakeMap(std::move(m)));
  }
  step_ssh["HostFederatedKeys"] = tmpl::Value::MakeList(std::move(host_fed));
  step_ssh["UserFederatedKeys"] = tmpl::Value::MakeList(std::move(user_fed));
  tmpl::Value::Map step;
  step["SSH"] = tmpl::Value::MakeMap(std::move(step_ssh));
  tmpl::Value::Map root;
  root["Step"] = tmpl::Value::MakeMap(std::move(step));
  root["User"] = data ? tmpl::Value::FromJson(data) : tmpl::Value::MakeMap({});
  const tmpl::Value values = tmpl::Value::MakeMap(std::move(root));

  JsonPtr outputs(json_array());
  size_t i;
  const json_t* t;
  json_array_foreach(list, i, t) {
    auto field = [&](const char* k) {
      const json_t* v = json_object_get(t, k);
      return json_is_string(v) ? std::string(json_string_value(v)) : std::string();
    };
    const json_t* requires = json_object_get(t, "requires");
    size_t j;
    const json_t* r;
    json_array_foreach(requires, j, r) {
      if (json_is_string(r) && json_object_get(data, json_string_value(r)) == nullptr)
        return SshError(InvalidArgument(std::string("required variable '") + json_string_value(r) + "' is missing"));
    }
    auto text = ReadTemplateFile(a_.config().dir, field("template"));
    if (!text.ok()) return SshError(text.status().Wrap("getSSHConfig"));
    auto parsed = tmpl::Template::Parse(field("name"), *text);
    if (!parsed.ok()) return SshError(Internal("getSSHConfig: " + parsed.error.message));
    auto out = parsed.tmpl->Execute(values);
    if (!out.ok()) {
      if (out.error.kind == tmpl::ErrorKind::kFail) return SshError(InvalidArgument(out.error.fail_message));
      return SshError(Internal("getSSHConfig: " + out.error.message));
    }
    json_array_append_new(outputs.get(),
                          json_pack("{s:s,s:s,s:s,s:s,s:s}", "name", field("name").c_str(), "type",
                                    field("type").c_str(), "comment", field("comment").c_str(), "path",
                                    field("path").c_str(), "content", Base64Encode(out.output).c_str()));
  }
  JsonPtr resp(json_object());
  json_object_set(resp.get(), type == "user" ? "userTemplates" : "hostTemplates", outputs.get());
  return JsonResponse(200, resp.get());
}

}  // namespace

bool IsSshPath(std::string_view path) {
  return path.substr(0, 5) == "/ssh/" || path == "/sign-ssh";
}

HttpResponse SshRoute(Authority& authority, const HttpRequest& request, std::string_view path) {
  return SshRouter(authority, request).Route(path);
}

}  // namespace stepca
