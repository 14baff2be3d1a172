#include "authority/admin/admin_routes.h"

#include <cstdlib>
#include <string>

#include "authority/admin/admin_authorizer.h"
#include "authority/admin/admin_service.h"
#include "authority/authority.h"

namespace stepca {
namespace admin {

namespace {

constexpr size_t kDefaultPageSize = 20;
constexpr size_t kMaxPageSize = 100;

struct ErrorType {
  const char* type;
  const char* detail;
};

ErrorType TypeOf(Code code) {
  switch (code) {
    case Code::kInvalidArgument:
    case Code::kAlreadyExists: return {"badRequest", "bad request"};
    case Code::kUnauthenticated:
    case Code::kPermissionDenied: return {"unauthorized", "unauthorized"};
    case Code::kNotFound: return {"notFound", "resource not found"};
    case Code::kUnimplemented: return {"notImplemented", "not implemented"};
    default: return {"internalServerError", "the server experienced an internal error"};
  }
}

HttpResponse Json(int status, JsonPtr body) { return JsonResponse(status, body.get()); }

HttpResponse Deleted() { return Json(200, JsonPtr(json_pack("{s:s}", "status", "ok"))); }

}  // namespace

HttpResponse AdminErrorResponse(const Status& st) {
  int code = HttpStatus(st.code());
  if (st.code() == Code::kAlreadyExists || st.code() == Code::kInvalidArgument) code = 400;
  if (st.code() == Code::kPermissionDenied) code = 401;
  const ErrorType t = TypeOf(st.code());
  // A server-side failure's reason is for the log only.
  const std::string message = code >= 500 && code != 503 ? t.detail : st.message();
  JsonPtr body(json_object());
  json_object_set_new(body.get(), "type", json_string(t.type));
  json_object_set_new(body.get(), "detail", json_string(t.detail));
  json_object_set_new(body.get(), "message", json_string(message.c_str()));
  HttpResponse r = JsonResponse(code, body.get());
  r.log_level = code >= 500 ? LogLevel::kError : LogLevel::kInfo;
  r.log_message = "admin: " + st.LogText();
  return r;
}

namespace {

class AdminRouter {
 public:
  AdminRouter(Authority& a, const HttpRequest& r, AdminService& s, AdminAuthorizer& z)
      : a_(a), req_(r), service_(s), authorizer_(z) {}

  HttpResponse Route() {
    std::string_view path = req_.path;
    const std::string_view m = req_.method;
    std::string_view collection, item;
    path.remove_prefix(std::string_view("/admin").size());
    if (path.substr(0, 7) == "/admins") {
      collection = "admins";
      path.remove_prefix(7);
    } else if (path.substr(0, 13) == "/provisioners") {
      collection = "provisioners";
      path.remove_prefix(13);
    } else {
      return NotFoundText();
    }
    if (!path.empty()) {
      if (path[0] != '/' || path.size() == 1 || path.find('/', 1) != std::string_view::npos)
        return NotFoundText();
      item = path.substr(1);
    }
    // Routes first, then the token: an unknown route is a 404 for anyone.
    enum class Op { kList, kGet, kCreate, kUpdate, kDelete } op;
    if (item.empty() && (m == "GET" || m == "HEAD")) op = Op::kList;
    else if (item.empty() && m == "POST") op = Op::kCreate;
    else if (item.empty()) return MethodNotAllowed();
    else if (m == "GET" || m == "HEAD") op = Op::kGet;
    else if (m == "DELETE") op = Op::kDelete;
    else if ((collection == "admins" && m == "PATCH") || (collection == "provisioners" && m == "PUT"))
      op = Op::kUpdate;
    else return MethodNotAllowed();

    if (req_.authorization.empty())
      return AdminErrorResponse(Unauthenticated("missing authorization header token"));
    auto who = authorizer_.Authorize(req_.authorization, req_.path);
    if (!who.ok()) return AdminErrorResponse(who.status());
    caller_ = who->subject;

    const std::string id(item);
    if (collection == "admins") {
      switch (op) {
        case Op::kList: return ListAdmins();
        case Op::kGet: return GetAdmin(id);
        case Op::kCreate: return CreateAdmin();
        case Op::kUpdate: return UpdateAdmin(id);
        case Op::kDelete: return Logged(service_.RemoveAdmin(id), "removed admin " + id);
      }
    }
    bool has_id = false;
    std::string by_id = QueryParam(req_.query, "id", &has_id);
    // step's client asks /admin/provisioners/id?id=<id> for "by id".
    const std::string name = has_id && !by_id.empty() ? "" : id;
    if (!has_id || by_id.empty()) by_id.clear();
    switch (op) {
      case Op::kList: return ListProvisioners();
      case Op::kGet: {
        auto p = service_.GetProvisioner(name, by_id);
        if (!p.ok()) return AdminErrorResponse(p.status());
        return Json(200, std::move(p).value());
      }
      case Op::kCreate: return CreateProvisioner();
      case Op::kUpdate: return UpdateProvisioner(id);
      case Op::kDelete: {
        Status st = service_.RemoveProvisioner(name, by_id);
        return Logged(st.ok() ? Deleted() : AdminErrorResponse(st),
                      "removed provisioner " + (by_id.empty() ? name : by_id));
      }
    }
    return NotFoundText();
  }

 private:
  HttpResponse Logged(HttpResponse r, const std::string& what) {
    if (r.status < 300) {
      r.log_level = LogLevel::kInfo;
      r.log_message = "admin " + caller_ + ": " + what;
    }
    return r;
  }
  HttpResponse Logged(const Status& st, const std::string& what) {
    return Logged(st.ok() ? Deleted() : AdminErrorResponse(st), what);
  }

  Result<JsonPtr> Body() {
    json_error_t err;
    JsonPtr body(json_loadb(req_.body.data(), req_.body.size(), 0, &err));
    if (!body || !json_is_object(body.get()))
      return InvalidArgument("error reading request body: the body is not a JSON object");
    return body;
  }

  Status Page(std::string* cursor, size_t* limit) {
    bool found = false;
    *cursor = QueryParam(req_.query, "cursor", &found);
    std::string limit_s = QueryParam(req_.query, "limit", &found);
    *limit = kDefaultPageSize;
    if (found && !limit_s.empty()) {
      char* end = nullptr;
      long v = std::strtol(limit_s.c_str(), &end, 10);
      if (end == limit_s.c_str() || *end != '\0' || limit_s.size() > 9)
        return InvalidArgument("error parsing cursor and limit from query params: limit '" +
                               limit_s.substr(0, 32) + "' is not an integer");
      if (v > 0) *limit = static_cast<size_t>(v);
    }
    if (*limit > kMaxPageSize) *limit = kMaxPageSize;
    return Status::Ok();
  }

  HttpResponse ListAdmins() {
    std::string cursor, next;
    size_t limit;
    Status st = Page(&cursor, &limit);
    if (!st.ok()) return AdminErrorResponse(st);
    auto list = service_.ListAdmins(cursor, limit, &next);
    if (!list.ok()) return AdminErrorResponse(list.status());
    JsonPtr admins(json_array());
    for (const auto& r : *list) json_array_append_new(admins.get(), AdminService::AdminGoJson(r).release());
    JsonPtr body(json_object());
    json_object_set(body.get(), "admins", admins.get());
    json_object_set_new(body.get(), "nextCursor", json_string(next.c_str()));
    return Json(200, std::move(body));
  }

  HttpResponse GetAdmin(const std::string& id) {
    auto r = service_.GetAdmin(id);
    if (!r.ok()) return AdminErrorResponse(r.status());
    return Json(200, AdminService::AdminProtoJson(*r));
  }

  HttpResponse CreateAdmin() {
    auto body = Body();
    if (!body.ok()) return AdminErrorResponse(body.status());
    const json_t* subject = json_object_get(body->get(), "subject");
    const json_t* prov = json_object_get(body->get(), "provisioner");
    if (subject != nullptr && !json_is_string(subject))
      return AdminErrorResponse(InvalidArgument("error reading request body: subject must be a string"));
    if (prov != nullptr && !json_is_string(prov))
      return AdminErrorResponse(InvalidArgument("error reading request body: provisioner must be a string"));
    if (subject == nullptr || json_string_length(subject) == 0)
      return AdminErrorResponse(InvalidArgument("subject cannot be empty"));
    if (prov == nullptr || json_string_length(prov) == 0)
      return AdminErrorResponse(InvalidArgument("provisioner cannot be empty"));
    auto type = ReadAdminType(json_object_get(body->get(), "type"));
    if (!type.ok()) return AdminErrorResponse(type.status());
    auto r = service_.CreateAdmin(json_string_value(subject), json_string_value(prov), *type);
    if (!r.ok()) return AdminErrorResponse(r.status());
    return Logged(Json(201, AdminService::AdminProtoJson(*r)),
                  "added admin " + r->id + " subject " + r->subject);
  }

  HttpResponse UpdateAdmin(const std::string& id) {
    auto body = Body();
    if (!body.ok()) return AdminErrorResponse(body.status());
    auto type = ReadAdminType(json_object_get(body->get(), "type"));
    if (!type.ok()) return AdminErrorResponse(type.status());
    auto r = service_.UpdateAdmin(id, *type);
    if (!r.ok()) return AdminErrorResponse(r.status());
    return Logged(Json(200, AdminService::AdminProtoJson(*r)), "changed admin " + id);
  }

  HttpResponse ListProvisioners() {
    std::string cursor, next;
    size_t limit;
    Status st = Page(&cursor, &limit);
    if (!st.ok()) return AdminErrorResponse(st);
    auto page = a_.config().provisioners.Page(cursor, limit, &next);
    JsonPtr list(json_array());
    for (auto* p : page) json_array_append(list.get(), const_cast<json_t*>(p->json()));
    JsonPtr body(json_object());
    json_object_set(body.get(), "provisioners", list.get());
    json_object_set_new(body.get(), "nextCursor", json_string(next.c_str()));
    return Json(200, std::move(body));
  }

  HttpResponse CreateProvisioner() {
    auto body = Body();
    if (!body.ok()) return AdminErrorResponse(body.status());
    auto p = service_.CreateProvisioner(body->get());
    if (!p.ok()) return AdminErrorResponse(p.status());
    const char* name = json_string_value(json_object_get(p->get(), "name"));
    std::string what = std::string("added provisioner ") + (name ? name : "");
    return Logged(Json(201, std::move(p).value()), what);
  }

  HttpResponse UpdateProvisioner(const std::string& name) {
    auto body = Body();
    if (!body.ok()) return AdminErrorResponse(body.status());
    auto p = service_.UpdateProvisioner(name, body->get());
    if (!p.ok()) return AdminErrorResponse(p.status());
    return Logged(Json(200, std::move(p).value()), "changed provisioner " + name);
  }

  Authority& a_;
  const HttpRequest& req_;
  AdminService& service_;
  AdminAuthorizer& authorizer_;
  std::string caller_;
};

}  // namespace
}  // namespace admin

std::optional<HttpResponse> AdminRoute(Authority& a, const HttpRequest& req) {
  if (req.path != "/admin" && req.path.substr(0, 7) != "/admin/") return std::nullopt;
  if (a.admin() == nullptr || a.admin_authorizer() == nullptr) return std::nullopt;
  return admin::AdminRouter(a, req, *a.admin(), *a.admin_authorizer()).Route();
}

}  // namespace stepca
