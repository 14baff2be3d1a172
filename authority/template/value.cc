#include "authority/template/value.h"

#include <utility>

namespace stepca {
namespace tmpl {

namespace {

constexpr int kMaxJsonDepth = 64;

Value FromJsonAt(const json_t* j, int depth) {
  if (j == nullptr || depth > kMaxJsonDepth) return Value();
  switch (json_typeof(j)) {
    case JSON_NULL:
      return Value();
    case JSON_TRUE:
      return Value::Bool(true);
    case JSON_FALSE:
      return Value::Bool(false);
    case JSON_INTEGER:
      return Value::Int(static_cast<int64_t>(json_integer_value(j)));
    case JSON_REAL:
      return Value::Float(json_real_value(j));
    case JSON_STRING:
      return Value::String(std::string(json_string_value(j), json_string_length(j)));
    case JSON_ARRAY: {
      Value::List l;
      l.reserve(json_array_size(j));
      for (size_t i = 0; i < json_array_size(j); ++i)
        l.push_back(FromJsonAt(json_array_get(j, i), depth + 1));
      return Value::MakeList(std::move(l));
    }
    case JSON_OBJECT: {
      Value::Map m;
      const char* key;
      json_t* v;
      json_object_foreach(const_cast<json_t*>(j), key, v) {
        m.emplace(key, FromJsonAt(v, depth + 1));
      }
      return Value::MakeMap(std::move(m));
    }
  }
  return Value();
}

}  // namespace

Value Value::Bool(bool b) {
  Value v;
  v.v_ = b;
  return v;
}

Value Value::Int(int64_t i) {
  Value v;
  v.v_ = i;
  return v;
}

Value Value::Float(double d) {
  Value v;
  v.v_ = d;
  return v;
}

Value Value::String(std::string s) {
  Value v;
  v.v_ = std::make_shared<const std::string>(std::move(s));
  return v;
}

Value Value::MakeList(List l) {
  Value v;
  v.v_ = std::make_shared<const List>(std::move(l));
  return v;
}

Value Value::MakeMap(Map m) {
  Value v;
  v.v_ = std::make_shared<Map>(std::move(m));
  return v;
}

Value Value::FromSharedMap(std::shared_ptr<Map> m) {
  Value v;
  v.v_ = std::move(m);
  return v;
}

Value Value::FromJson(const json_t* j) { return FromJsonAt(j, 0); }

Value Value::WithType(std::string go_type) const {
  Value v = *this;
  v.type_ = std::make_shared<const std::string>(std::move(go_type));
  return v;
}

Value Value::WithJsonFields(std::shared_ptr<const JsonFields> fields) const {
  Value v = *this;
  v.fields_ = std::move(fields);
  return v;
}

std::string Value::TypeName() const {
  if (type_) return *type_;
  switch (kind()) {
    case Kind::kNull: return "<nil>";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float64";
    case Kind::kString: return "string";
    case Kind::kList: return "[]interface {}";
    case Kind::kMap: return "map[string]interface {}";
  }
  return "<nil>";
}

std::string Value::KindName() const {
  switch (kind()) {
    case Kind::kNull: return "invalid";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float64";
    case Kind::kString: return "string";
    case Kind::kList: return "slice";
    case Kind::kMap: return "map";
  }
  return "invalid";
}

bool Truth(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull: return false;
    case Value::Kind::kBool: return v.as_bool();
    case Value::Kind::kInt: return v.as_int() != 0;
    case Value::Kind::kFloat: return v.as_float() != 0;
    case Value::Kind::kString: return !v.as_string().empty();
    case Value::Kind::kList: return !v.as_list().empty();
    case Value::Kind::kMap: return !v.as_map().empty();
  }
  return false;
}

}  // namespace tmpl
}  // namespace stepca
