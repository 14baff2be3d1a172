#include "authority/status.h"

namespace stepca {

int HttpStatus(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kUnauthenticated: return 401;
    case Code::kPermissionDenied: return 403;
    case Code::kNotFound: return 404;
    case Code::kAlreadyExists: return 409;
    case Code::kUnavailable: return 503;
    case Code::kUnimplemented: return 501;
    case Code::kInternal: return 500;
  }
  return 500;
}

}  // namespace stepca
