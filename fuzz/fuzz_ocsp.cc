// OcspResponder::Respond on arbitrary bytes, over a memory store holding one
// issued and one revoked serial: every input gets an OCSPResponse that
// parses, and an error status never comes with a basic response.
#include <openssl/ocsp.h>

#include <cstdint>
#include <cstdlib>

#include "authority/clock/system_time_source.h"
#include "authority/revocation/ocsp_responder.h"
#include "authority/revocation/test_issuer.h"
#include "authority/state/revocations.h"
#include "authority/store/memory_store.h"

namespace {

struct World {
  std::unique_ptr<stepca::Store> store = stepca::MakeMemoryStore();
  stepca::testing::TestIssuer issuer = stepca::testing::TestIssuer::Make();
  stepca::OcspConfig config;
  std::unique_ptr<stepca::OcspResponder> responder;
  World() {
    config.enabled = true;
    config.path = "/ocsp";
    stepca::RevocationRecord r;
    r.serial = "2";
    r.reason_code = 1;
    (void)stepca::Revocations(*store).Revoke(r);
    responder = std::make_unique<stepca::OcspResponder>(config, *store, issuer.cert.get(),
                                                        *issuer.signer, stepca::SystemTime());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* w = new World();
  stepca::OcspAnswer a =
      w->responder->Respond(std::string_view(reinterpret_cast<const char*>(data), size));
  const unsigned char* p = reinterpret_cast<const unsigned char*>(a.der.data());
  OCSP_RESPONSE* resp = d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(a.der.size()));
  if (resp == nullptr) std::abort();
  const int status = OCSP_response_status(resp);
  OCSP_BASICRESP* basic = OCSP_response_get1_basic(resp);
  if ((status == OCSP_RESPONSE_STATUS_SUCCESSFUL) != (basic != nullptr)) std::abort();
  if ((status == OCSP_RESPONSE_STATUS_SUCCESSFUL) != (a.http_status == 200)) std::abort();
  OCSP_BASICRESP_free(basic);
  OCSP_RESPONSE_free(resp);
  return 0;
}
