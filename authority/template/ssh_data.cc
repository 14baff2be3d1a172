#include "authority/template/ssh_data.h"

#include <memory>
#include <utility>

namespace stepca {
namespace tmpl {
namespace {

// A Go nil slice when empty, so toJson writes null as Go does.
Value Strings(const std::vector<std::string>& v, const char* go_type) {
  if (v.empty()) return Value();
  Value::List l;
  for (const auto& s : v) l.push_back(Value::String(s));
  return Value::MakeList(std::move(l)).WithType(go_type);
}

// sshutil.CertificateRequest has no json tags: toJson writes the Go field
// names. Its Key (an ssh.PublicKey) is left out of the JSON.
std::shared_ptr<const Value::JsonFields> RequestFields() {
  static const auto f = std::make_shared<const Value::JsonFields>(Value::JsonFields{
      {"Key", "", false},
      {"Type", "Type", false},
      {"KeyID", "KeyID", false},
      {"Principals", "Principals", false},
  });
  return f;
}

}  // namespace

Value SshTemplateData(const SshTemplateInput& in) {
  Value::Map data;
  data["Type"] = Value::String(in.type);
  data["KeyID"] = Value::String(in.key_id);
  data["Principals"] = Strings(in.principals, "[]string");
  if (!in.extensions.empty()) {
    Value::Map ext;
    for (const auto& [k, v] : in.extensions) ext[k] = Value::String(v);
    data["Extensions"] = Value::MakeMap(std::move(ext));
  } else {
    data["Extensions"] = Value();  // DefaultExtensions(host): a nil map
  }
  if (in.token != nullptr) data["Token"] = Value::FromJson(in.token);
  // json.Unmarshal of the provisioner's templateData into the map: its keys
  // replace what is there.
  if (json_is_object(in.provisioner_data)) {
    const char* k;
    json_t* v;
    json_object_foreach(const_cast<json_t*>(in.provisioner_data), k, v) data[k] = Value::FromJson(v);
  }
  Value::Map insecure;
  auto it = data.find("Insecure");
  if (it != data.end() && it->second.kind() == Value::Kind::kMap) insecure = it->second.as_map();
  if (in.user_data != nullptr)
    insecure["User"] = json_is_object(in.user_data) ? Value::FromJson(in.user_data) : Value::MakeMap({});
  Value::Map cr;
  cr["Key"] = Value();
  cr["Type"] = Value::String(in.request_type);
  cr["KeyID"] = Value::String(in.request_key_id);
  cr["Principals"] = Strings(in.request_principals, "[]string");
  insecure["CR"] = Value::MakeMap(std::move(cr)).WithJsonFields(RequestFields()).WithType(
      "sshutil.CertificateRequest");
  data["Insecure"] = Value::MakeMap(std::move(insecure));
  return Value::MakeMap(std::move(data));
}

}  // namespace tmpl
}  // namespace stepca
