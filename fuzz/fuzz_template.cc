// Template::Parse on arbitrary bytes, then Execute over fixed data shaped
// like step-ca's (Subject, SANs, Token, Insecure.CR, Insecure.User), with
// tight Limits so that one run stays well under libFuzzer's timeout.
// Properties: every error has a kind, a line >= 1 and Go's
// "template: NAME:" prefix; output never passes max_output_bytes; kFail
// carries fail's message; the same template renders the same output twice
// (the per-execution copy keeps `set` from leaking between runs).
#include <jansson.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "authority/template/template.h"
#include "authority/template/value.h"

namespace {

using stepca::tmpl::Error;
using stepca::tmpl::ErrorKind;
using stepca::tmpl::Limits;
using stepca::tmpl::Template;
using stepca::tmpl::Value;

const Value& Data() {
  static const Value data = [] {
    const char* text = R"({
      "Subject": {"commonName": "a.example.com", "organization": ["Org"]},
      "SANs": [{"type": "dns", "value": "a.example.com"}, {"type": "ip", "value": "10.0.0.1"}],
      "Token": {"sub": "a.example.com", "sans": ["a.example.com"], "nested": {"k": null}},
      "Insecure": {"CR": {"Subject": {"CommonName": "a.example.com"},
                          "DNSNames": ["a.example.com"], "EmailAddresses": [],
                          "PublicKeyAlgorithm": "ECDSA"},
                   "User": {"role": "web", "n": 3, "list": [1, 2, 3]}},
      "list": ["x", "y", "z"], "n": 7, "f": 1.5, "t": true, "s": "str"})";
    json_error_t err;
    json_t* j = json_loads(text, 0, &err);
    if (j == nullptr) std::abort();
    Value v = Value::FromJson(j);
    json_decref(j);
    return v;
  }();
  return data;
}

void CheckError(const Error& e) {
  if (e.kind == ErrorKind::kNone) std::abort();
  if (e.line < 1 || e.column < 0) std::abort();
  if (e.message.rfind("template: fuzz:", 0) != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Limits limits;
  limits.max_output_bytes = 64 * 1024;
  limits.max_steps = 20000;
  limits.max_template_depth = 50;
  limits.max_nesting = 50;
  auto parsed = Template::Parse("fuzz", text, limits);
  if (!parsed.ok()) {
    if (parsed.error.kind != ErrorKind::kParse && parsed.error.kind != ErrorKind::kLimit)
      std::abort();
    CheckError(parsed.error);
    return 0;
  }
  const auto first = parsed.tmpl->Execute(Data());
  if (first.ok()) {
    if (first.output.size() > limits.max_output_bytes) std::abort();
  } else {
    CheckError(first.error);
    if (first.error.kind == ErrorKind::kParse) std::abort();
  }
  const auto second = parsed.tmpl->Execute(Data());
  if (second.ok() != first.ok() || second.output != first.output ||
      second.error.message != first.error.message)
    std::abort();
  return 0;
}
