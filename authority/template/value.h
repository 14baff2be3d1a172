// The data a template is rendered over: JSON's kinds (null, bool, integer,
// real, string, list, map) with an optional Go type name for typeIs/typeOf.
// Strings and lists are immutable and shared; maps are shared by reference,
// as Go maps are, so that sprig's `set` is seen through every copy. The
// engine deep-copies the caller's data before each execution, so one Value
// may be rendered by many threads at once.
#ifndef STEPCA_AUTHORITY_TEMPLATE_VALUE_H
#define STEPCA_AUTHORITY_TEMPLATE_VALUE_H

#include <jansson.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace stepca {
namespace tmpl {

class Value {
 public:
  enum class Kind { kNull, kBool, kInt, kFloat, kString, kList, kMap };
  using List = std::vector<Value>;
  // Ordered: Go prints and ranges over maps in key order.
  using Map = std::map<std::string, Value>;

  Value() = default;  // null
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double d);
  static Value String(std::string s);
  static Value MakeList(List l);
  static Value MakeMap(Map m);
  // JSON integers become kInt, reals kFloat. Nesting deeper than 64 levels
  // is cut to null (jansson itself refuses much deeper documents).
  static Value FromJson(const json_t* j);

  // The same value, reported by typeOf/typeIs as `go_type` (for example
  // "*rsa.PublicKey"); without it the name is Go's for the kind.
  Value WithType(std::string go_type) const;

  // A Go struct is a map keyed by field name (what `.Field` reads) that
  // encoding/json writes by its tags, in declaration order. Without fields
  // a map encodes as a Go map: every key, sorted.
  struct JsonField {
    std::string name;       // the Go field name, the map's key
    std::string json_name;  // the tag's name; empty: `json:"-"`, never written
    bool omit_empty;
  };
  using JsonFields = std::vector<JsonField>;
  Value WithJsonFields(std::shared_ptr<const JsonFields> fields) const;
  const JsonFields* json_fields() const { return fields_.get(); }
  const std::shared_ptr<const JsonFields>& shared_json_fields() const { return fields_; }

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_null() const { return kind() == Kind::kNull; }
  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_float() const { return std::get<double>(v_); }
  const std::string& as_string() const { return *std::get<StrPtr>(v_); }
  const List& as_list() const { return *std::get<ListPtr>(v_); }
  const Map& as_map() const { return *std::get<MapPtr>(v_); }

  // Go's %T: the attached name, else "string", "int", "float64", "bool",
  // "[]interface {}", "map[string]interface {}", "<nil>".
  std::string TypeName() const;
  // reflect's Kind names (sprig's kindOf): "string", "int", "float64",
  // "bool", "slice", "map", "invalid".
  std::string KindName() const;

  // The engine's handle on a map, for `set` and the per-execution copy.
  std::shared_ptr<Map> shared_map() const { return std::get<MapPtr>(v_); }
  static Value FromSharedMap(std::shared_ptr<Map> m);

 private:
  using StrPtr = std::shared_ptr<const std::string>;
  using ListPtr = std::shared_ptr<const List>;
  using MapPtr = std::shared_ptr<Map>;
  // Index order is Kind's order.
  std::variant<std::monostate, bool, int64_t, double, StrPtr, ListPtr, MapPtr> v_;
  std::shared_ptr<const std::string> type_;
  std::shared_ptr<const JsonFields> fields_;
};

// Go template truth: false, 0, 0.0, "", empty list or map and null are false.
bool Truth(const Value& v);

}  // namespace tmpl
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TEMPLATE_VALUE_H
