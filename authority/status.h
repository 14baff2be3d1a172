// Errors are values: one internal error type, turned into step-ca JSON or an
// ACME problem only at the HTTP edge.
#ifndef STEPCA_AUTHORITY_STATUS_H
#define STEPCA_AUTHORITY_STATUS_H

#include <string>
#include <utility>
#include <variant>

namespace stepca {

enum class Code {
  kOk,
  kInvalidArgument,   // 400
  kUnauthenticated,   // 401
  kPermissionDenied,  // 403
  kNotFound,          // 404
  kAlreadyExists,     // 409 (callers usually remap, e.g. token replay -> 401)
  kUnavailable,       // 503 (store down)
  kUnimplemented,     // 501
  kInternal,          // 500
};

int HttpStatus(Code code);

// message: the reason, fit for the log and, for 400/403, for the client.
// It must never contain a token, a key or a password.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefix context for the log ("jwk.authorizeToken: ..."); the client's
  // message stays as it is.
  Status Wrap(const std::string& context) const {
    if (ok()) return *this;
    Status s = *this;
    s.context_ = context + ": " + context_;
    return s;
  }

  // Extra words for the log only, never shown to the client.
  Status WithDetail(std::string detail) const {
    Status s = *this;
    s.detail_ = std::move(detail);
    return s;
  }
  const std::string& detail() const { return detail_; }

  // A store error where the write may have reached the store (a timeout
  // or a dropped connection after the command was sent). Without it a
  // kUnavailable write was certainly not applied (no connection, or the
  // store refused it).
  Status MaybeApplied() const {
    Status s = *this;
    s.maybe_applied_ = true;
    return s;
  }
  bool maybe_applied() const { return maybe_applied_; }
  // For the log: context, message, then the detail when there is one.
  std::string LogText() const {
    return context_ + message_ + (detail_.empty() ? "" : ": " + detail_);
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string detail_;
  std::string context_;
  bool maybe_applied_ = false;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {Code::kUnimplemented, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}   // NOLINT: must not be ok

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace stepca

#define STEPCA_RETURN_IF_ERROR(expr)         \
  do {                                       \
    ::stepca::Status _st = (expr);           \
    if (!_st.ok()) return _st;               \
  } while (0)

#define STEPCA_CONCAT_INNER(a, b) a##b
#define STEPCA_CONCAT(a, b) STEPCA_CONCAT_INNER(a, b)
#define STEPCA_ASSIGN_OR_RETURN(lhs, expr) \
  STEPCA_ASSIGN_OR_RETURN_IMPL(STEPCA_CONCAT(_res_, __LINE__), lhs, expr)
#define STEPCA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#endif  // STEPCA_AUTHORITY_STATUS_H
