#include "authority/template/rendered_json.h"

#include <string>

namespace stepca {

Result<JsonPtr> LoadRenderedObject(std::string_view rendered) {
  json_error_t jerr;
  JsonPtr root(json_loadb(rendered.data(), rendered.size(),
                          JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &jerr));
  if (root == nullptr)
    return InvalidArgument("error unmarshaling certificate: " + std::string(jerr.text) +
                           " (line " + std::to_string(jerr.line) + ", column " +
                           std::to_string(jerr.column) + ")");
  if (!json_is_object(root.get()))
    return InvalidArgument("error unmarshaling certificate: the template must render a JSON object");
  return root;
}

}  // namespace stepca
