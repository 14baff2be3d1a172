// order/<id>/finalize and certificate/<id> (RFC 8555 sections 7.4, 7.4.2).
//
// Finalize is a chain of compare-and-sets on the order record
// (acme_orders.h), so that of concurrent finalizes exactly one issues:
//   1. ready (stored "pending", or a stale "processing") -> "processing",
//      from the exact bytes read. The loser re-reads and answers
//      orderNotReady with the status the winner left (processing or valid).
//   2. the policy issues (record before sign: the X.509 record is reserved
//      before the signature and completed after, certificate_records.h);
//      the ACME certificate record is written.
//   3. "processing" -> "valid" with the certificate id, from the bytes
//      step 1 wrote.
// On a failure in step 2 (the policy refused the CSR, the signer or the
// store failed), the order goes back to ready (stored "pending"), not to
// invalid: nothing was handed out, the fault is usually ours or
// transient, and RFC 8555 has no way out of invalid, so the client would
// have to start a new order and prove control again. If even that write
// fails, the "processing" mark goes stale after kProcessingTimeout and the
// order reads as ready again. An order is never "valid" without its
// certificate record.
#include <cstring>
#include <set>

#include "authority/acme/authenticate.h"
#include "authority/acme/common.h"
#include "authority/acme/resources.h"
#include "authority/acme/server.h"
#include "authority/authority.h"
#include "authority/provisioner/provisioner.h"
#include "authority/state/acme_certificates.h"
#include "authority/x509/csr.h"
#include "shared/base64.h"

namespace stepca {
namespace acme {
namespace {

Problem CheckCsrNames(const Csr& csr, const Order& o, SanSet* sans) {
  std::set<std::string> want_dns, want_ip, got_dns, got_ip;
  for (auto& i : o.identifiers) (i.type == "dns" ? want_dns : want_ip).insert(i.value);
  for (auto& d : csr.sans.dns) got_dns.insert(Lower(d));
  for (auto& ip : csr.sans.ips) got_ip.insert(CanonicalIp(ip));
  if (!csr.sans.emails.empty() || !csr.sans.uris.empty())
    return BadCsr("the CSR may hold only the order's DNS names and IP addresses");
  if (!csr.common_name.empty()) {
    std::string cn = Lower(csr.common_name);
    if (!want_dns.count(cn) && !want_ip.count(CanonicalIp(cn)))
      return BadCsr("the CSR common name is not an identifier of the order");
    if (want_dns.count(cn)) got_dns.insert(cn);
    else got_ip.insert(CanonicalIp(cn));
  }
  if (got_dns != want_dns || got_ip != want_ip)
    return BadCsr("the CSR names do not equal the order's identifiers");
  sans->dns.assign(want_dns.begin(), want_dns.end());
  sans->ips.assign(want_ip.begin(), want_ip.end());
  return Problem::Ok();
}

TimePoint NotAfterOf(X509* cert, TimePoint fallback) {
  struct tm tm;
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return fallback;
  return TimePoint(std::chrono::seconds(timegm(&tm)));
}

// processing -> ready again (see the top of the file); a failure to do so
// is added to the problem's log, and the mark goes stale instead.
Problem Release(AcmeOrders& orders, const Stored<Order>& claimed, Problem p) {
  Order back = claimed.record;
  back.status = "pending";
  back.processing_since.clear();
  Status st = orders.Replace(claimed, back);
  if (!st.ok())
    p.log += (p.log.empty() ? "" : "; ") + std::string("order ") + claimed.record.id +
             " stays processing until it goes stale: " + st.LogText();
  return p;
}

}  // namespace

Problem Finalize(Request& r, const std::string& id, HttpResponse* out) {
  Problem p = Authenticate(&r, KeyMode::kKid);
  if (!p.ok()) return p;
  JsonPtr payload;
  p = PayloadObject(r, &payload);
  if (!p.ok()) return p;
  Stored<Order> o;
  p = LoadOwnedOrder(r, id, &o);
  if (!p.ok()) return p;
  std::string status;
  p = OrderStatus(r, o.record, &status);
  if (!p.ok()) return p;
  if (status != "ready") return OrderNotReady("the order is " + status + ", not ready");
  const json_t* csr_j = json_object_get(payload.get(), "csr");
  if (!json_is_string(csr_j)) return Malformed("finalize needs a csr");
  std::string csr_b64 = json_string_value(csr_j);
  while (!csr_b64.empty() && csr_b64.back() == '=') csr_b64.pop_back();
  auto der = Base64UrlDecode(csr_b64);
  if (!der) return BadCsr("the csr is not base64url");
  auto csr = ParseCsrDer(*der);
  if (!csr.ok()) return BadCsr(csr.status().message());
  Status key_ok = CheckPublicKey(X509_REQ_get0_pubkey(csr->req.get()));
  if (!key_ok.ok()) return BadCsr(key_ok.message());
  SanSet sans;
  p = CheckCsrNames(*csr, o.record, &sans);
  if (!p.ok()) return p;

  // A name policy tightened (reloaded) since new-order refuses here, in
  // new-order's words; IssueFromCsr checks again for its other callers.
  Authority& a = r.service.authority();
  Status allowed = a.policy().name_policies().CheckX509(
      r.provisioner, csr->common_name.empty() ? "" : Lower(csr->common_name), sans);
  if (!allowed.ok()) return RejectedIdentifier(allowed.message());

  // 1. ready -> processing: one finalize per order across the fleet.
  AcmeOrders orders(r.store);
  Order processing = o.record;
  processing.status = "processing";
  processing.processing_since = Now3339();
  Status st = orders.Replace(o, processing);
  if (st.code() == Code::kAlreadyExists) {
    Stored<Order> now;
    p = LoadOwnedOrder(r, id, &now);
    if (!p.ok()) return p;
    p = OrderStatus(r, now.record, &status);
    if (!p.ok()) return p;
    return OrderNotReady("the order is " + status + ", not ready");
  }
  if (!st.ok()) return FromStatus(st);
  const Stored<Order> claimed{processing, AcmeOrders::Encode(processing)};

  // 2. Issue and record.
  CsrIssueRequest ir;
  ir.provisioner = r.provisioner;
  ir.csr = &csr.value();
  ir.common_name = csr->common_name.empty() ? "" : Lower(csr->common_name);
  ir.sans = sans;
  // step-ca's forceCN; its "DNS names is empty" refusal cannot happen here,
  // since an order for IP addresses alone keeps an empty subject.
  if (ir.common_name.empty() && r.settings->force_cn && !sans.dns.empty())
    ir.common_name = sans.dns.front();
  if (!o.record.not_before.empty()) ir.not_before = *ParseTimeDuration(o.record.not_before);
  if (!o.record.not_after.empty()) ir.not_after = *ParseTimeDuration(o.record.not_after);
  const TimePoint now = Clock::now();
  auto issued = a.policy().IssueFromCsr(ir, now);
  if (!issued.ok()) {
    const Code c = issued.status().code();
    if (c == Code::kInvalidArgument || c == Code::kPermissionDenied)
      return Release(orders, claimed, BadCsr(issued.status().message()));
    return Release(orders, claimed, FromStatus(issued.status()));
  }
  CertRecord cert;
  cert.id = RandomId();
  cert.account = r.account.record.id;
  cert.serial = issued->serial;
  cert.chain = issued->pem;
  for (auto& pem : a.ChainFor(*issued)) cert.chain += pem;
  const auto ttl = std::chrono::duration_cast<std::chrono::seconds>(
                       NotAfterOf(issued->cert.get(), now + std::chrono::hours(24)) - now) +
                   std::chrono::hours(24);
  st = AcmeCertificates(r.store).Insert(cert, ttl);
  if (!st.ok()) {
    Problem f = FromStatus(st);
    f.log += "; certificate serial " + cert.serial + " was signed and not handed out";
    return Release(orders, claimed, f);
  }

  // 3. processing -> valid.
  Order valid = processing;
  valid.status = "valid";
  valid.certificate = cert.id;
  valid.processing_since.clear();
  st = orders.Replace(claimed, valid);
  if (!st.ok()) {
    Problem f = st.code() == Code::kAlreadyExists
                    ? ServerInternal("order " + id + " was taken over while it was finalized")
                    : FromStatus(st);
    f.log += "; certificate serial " + cert.serial + " was signed and not handed out";
    if (st.code() == Code::kAlreadyExists) return f;  // someone else owns the order now
    return Release(orders, claimed, f);
  }
  JsonPtr j;
  p = OrderJson(r, valid, &j);
  if (!p.ok()) return p;
  *out = JsonResponse(200, j.get());
  out->headers.emplace_back("Location", r.OrderUrl(id));
  out->log_level = LogLevel::kInfo;
  out->log_message = "acme issued certificate serial=" + cert.serial + " provisioner=\"" +
                     r.provisioner->name() + "\" account=" + r.account.record.id;
  return Problem::Ok();
}

Problem GetCertificate(Request& r, const std::string& id, HttpResponse* out) {
  Problem p = Authenticate(&r, KeyMode::kKid);
  if (!p.ok()) return p;
  if (!r.PostAsGet()) return Malformed("certificates are read with POST-as-GET");
  auto c = AcmeCertificates(r.store).Find(id);
  if (!c.ok()) return FromStatus(c.status());
  if (!c->has_value()) return NotFoundProblem("no such certificate");
  if ((*c)->account != r.account.record.id)
    return Unauthorized("the certificate belongs to another account");
  out->status = 200;
  out->content_type = "application/pem-certificate-chain";
  out->body = (*c)->chain;
  return Problem::Ok();
}

}  // namespace acme
}  // namespace stepca
