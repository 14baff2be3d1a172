// Test helpers for the template engine: data from JSON text, and
// parse-then-execute in one call.
#ifndef STEPCA_AUTHORITY_TEMPLATE_TESTING_RENDER_H
#define STEPCA_AUTHORITY_TEMPLATE_TESTING_RENDER_H

#include <jansson.h>

#include <string>

#include "authority/template/template.h"
#include "authority/template/value.h"

namespace stepca {
namespace tmpl {
namespace testing {

// The value of a JSON document; null when it does not parse.
inline Value Json(const char* text) {
  json_error_t err;
  json_t* j = json_loads(text, JSON_DECODE_ANY, &err);
  Value v = Value::FromJson(j);
  json_decref(j);
  return v;
}

// Renders `text` over `data`; a parse or execution error comes back as
// "ERROR: <message>" so that a test shows it.
inline std::string Render(const std::string& text, const Value& data = Value(),
                          Limits limits = Limits()) {
  auto p = Template::Parse("t", text, limits);
  if (!p.ok()) return "ERROR: " + p.error.message;
  auto r = p.tmpl->Execute(data);
  if (!r.ok()) return "ERROR: " + r.error.message;
  return r.output;
}

inline Error ParseError(const std::string& text, Limits limits = Limits()) {
  return Template::Parse("t", text, limits).error;
}

inline Error ExecError(const std::string& text, const Value& data = Value(),
                       Limits limits = Limits()) {
  auto p = Template::Parse("t", text, limits);
  if (!p.ok()) {
    Error e;
    e.message = "unexpected parse error: " + p.error.message;
    return e;
  }
  return p.tmpl->Execute(data).error;
}

}  // namespace testing
}  // namespace tmpl
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TEMPLATE_TESTING_RENDER_H
