#include "cli/args.h"

namespace stepca {
namespace cli {

Result<Args> Args::Parse(const std::vector<std::string>& argv,
                         const std::vector<FlagSpec>& specs) {
  Args args;
  bool only_positional = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (only_positional || a.size() < 2 || a[0] != '-') {
      args.positional_.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    std::string name = a.substr(a[1] == '-' ? 2 : 1);
    std::string value;
    bool inline_value = false;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      inline_value = true;
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) {
      return InvalidArgument("flag provided but not defined: -" + name);
    }
    if (spec->has_value) {
      if (!inline_value) {
        if (i + 1 >= argv.size()) {
          return InvalidArgument("flag needs an argument: -" + name);
        }
        value = argv[++i];
      }
    } else if (inline_value) {
      if (value != "true" && value != "false") {
        return InvalidArgument("invalid boolean value \"" + value +
                               "\" for -" + name);
      }
      if (value == "false") {
        args.values_.erase(name);
        continue;
      }
    } else {
      value = "true";
    }
    args.values_[name].push_back(value);
  }
  return args;
}

std::string Args::Get(const std::string& name, const std::string& def) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return def;
  return it->second.back();
}

std::vector<std::string> Args::GetAll(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return {};
  return it->second;
}

}  // namespace cli
}  // namespace stepca
