// The ACME resources, one file each, as the router (router.cc) calls them.
// Each handler authenticates the request itself (the key mode differs), fills
// *out on success, and returns a Problem otherwise: the one internal error
// type, turned into an RFC 8555 problem document only by the router
// (ProblemResponse, problem.cc).
//
//   directory.cc       directory, new-nonce
//   accounts.cc        new-account, account/<id>, account/<id>/orders
//   orders.cc          new-order, order/<id>
//   authorizations.cc  authz/<id>, challenge/<authz>/<id>, validation results
//   finalize.cc        order/<id>/finalize, certificate/<id>
//   revoke.cc          revoke-cert, key-change
#ifndef STEPCA_AUTHORITY_ACME_RESOURCES_H
#define STEPCA_AUTHORITY_ACME_RESOURCES_H

#include <string>

#include "authority/acme/problem.h"
#include "authority/acme/request.h"
#include "authority/api/http.h"
#include "authority/state/acme_orders.h"

namespace stepca {
namespace acme {

HttpResponse Directory(const Request& r);
HttpResponse NewNonce(const Request& r);

Problem NewAccount(Request& r, HttpResponse* out);
Problem UpdateAccount(Request& r, const std::string& id, HttpResponse* out);
Problem AccountOrders(Request& r, const std::string& id, HttpResponse* out);

Problem NewOrder(Request& r, HttpResponse* out);
Problem GetOrder(Request& r, const std::string& id, HttpResponse* out);

Problem GetAuthz(Request& r, const std::string& id, HttpResponse* out);
Problem PostChallenge(Request& r, const std::string& authz, const std::string& challenge,
                      HttpResponse* out);

Problem Finalize(Request& r, const std::string& order, HttpResponse* out);
Problem GetCertificate(Request& r, const std::string& id, HttpResponse* out);

Problem RevokeCert(Request& r, HttpResponse* out);
Problem KeyChange(Request& r, HttpResponse* out);

// Shared by orders.cc and finalize.cc.
// The status a client sees: finalize's stored states win (a stale
// "processing" excepted); otherwise it follows from the authorizations, so
// validators never write the order.
Problem OrderStatus(Request& r, const Order& o, std::string* status);
Problem OrderJson(Request& r, const Order& o, JsonPtr* out);
// The caller's order (unauthorized when another account's).
Problem LoadOwnedOrder(Request& r, const std::string& id, Stored<Order>* out);

}  // namespace acme
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_ACME_RESOURCES_H
