// The function table: Go's template builtins and the sprig functions
// step-ca's templates use. Looked up by the parser (an unknown name is a
// parse error) and called by the executor with evaluated arguments.
#ifndef STEPCA_AUTHORITY_TEMPLATE_FUNCS_H
#define STEPCA_AUTHORITY_TEMPLATE_FUNCS_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "authority/template/value.h"

namespace stepca {
namespace tmpl {

// What a function may use of the execution: its bounds, and the registry
// of maps it creates (the executor empties them all at the end, which
// frees a map `set` into itself).
struct CallContext {
  size_t max_bytes;  // no string a function builds may be longer
  uint64_t* steps;   // charged for the elements a function creates
  uint64_t max_steps;
  std::vector<std::shared_ptr<Value::Map>>* maps;

  // False when `n` more steps would pass max_steps.
  bool Charge(uint64_t n) const;
  Value NewMap(Value::Map m) const;
};

struct FuncError {
  // kArgType: an argument of the wrong type, reported as Go's template
  // package does (without "error calling NAME: ").
  enum class Kind { kError, kArgType, kFail, kLimit };
  Kind kind = Kind::kError;
  std::string message;
};

using FuncImpl = bool (*)(const CallContext& ctx, std::vector<Value>& args, Value* out,
                          FuncError* err);

struct Func {
  const char* name;
  int min_args;
  int max_args;  // -1: variadic
  FuncImpl impl;
  // `and` and `or` stop at the deciding argument: the executor evaluates
  // their arguments itself and impl is not called.
  bool short_circuit;
};

// nullptr when there is no such function.
const Func* LookupFunc(std::string_view name);

}  // namespace tmpl
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TEMPLATE_FUNCS_H
