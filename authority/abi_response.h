// HttpResponse -> stepca_response_t, the copy the C ABI hands to the module.
#ifndef STEPCA_AUTHORITY_ABI_RESPONSE_H
#define STEPCA_AUTHORITY_ABI_RESPONSE_H

#include <cstddef>

#include "authority/api/http.h"
#include "shared/stepca_abi.h"

namespace stepca {

using AbiAlloc = void* (*)(size_t);

// Copies every part of r, every header included, into memory from alloc
// (freed by stepca_response_free with free()). If any allocation fails,
// frees what it made and leaves out as the ABI's "no memory" response:
// status 500, body NULL, nothing else. Returns false then.
bool FillAbiResponse(const HttpResponse& r, stepca_response_t* out, AbiAlloc alloc);

// Frees what FillAbiResponse allocated and zeroes out.
void FreeAbiResponse(stepca_response_t* out);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_ABI_RESPONSE_H
