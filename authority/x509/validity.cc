#include "authority/x509/validity.h"

#include <limits>

namespace stepca {

namespace {

// Certificates carry whole seconds; compare as step-ca does after
// truncating to the second.
// (Rounds up instead in the last second before the earliest TimePoint,
// where rounding down would overflow.)
TimePoint TruncateToSecond(TimePoint t) {
  const int64_t ns = t.time_since_epoch().count();
  int64_t r = ns % 1000000000;
  if (r < 0 && ns >= std::numeric_limits<int64_t>::min() + 1000000000) r += 1000000000;
  return TimePoint(Duration(ns - r));
}

}  // namespace

Result<Validity> ComputeValidity(TimePoint now, const TimeDuration& not_before,
                                 const TimeDuration& not_after,
                                 const Claims& claims, Duration backdate,
                                 TimePoint issuer_not_after) {
  if (backdate < Duration(0)) backdate = Duration(0);
  const bool backdated = !not_before.set();
  const TimePoint start = backdated ? now : not_before.Resolve(now);
  const TimePoint end =
      not_after.set() ? not_after.Resolve(start) : SaturatingAdd(start, claims.default_tls);

  Validity v;
  v.not_before = TruncateToSecond(backdated ? start - backdate : start);
  v.not_after = TruncateToSecond(end);
  const TimePoint now_s = TruncateToSecond(now);

  if (v.not_after < now_s) {
    return PermissionDenied("notAfter cannot be in the past; na=" + FormatRfc3339(v.not_after));
  }
  if (v.not_after < v.not_before) {
    return PermissionDenied("notAfter cannot be before notBefore; na=" +
                            FormatRfc3339(v.not_after) + ", nb=" + FormatRfc3339(v.not_before));
  }
  const Duration d = SaturatingSub(v.not_after, v.not_before);
  if (d < claims.min_tls) {
    return PermissionDenied("requested duration of " + FormatGoDuration(d) +
                            " is less than the authorized minimum certificate duration of " +
                            FormatGoDuration(claims.min_tls));
  }
  const Duration max = claims.max_tls + (backdated ? backdate : Duration(0));
  if (d > max) {
    return PermissionDenied("requested duration of " + FormatGoDuration(d) +
                            " is more than the authorized maximum certificate duration of " +
                            FormatGoDuration(max));
  }

  // A leaf never outlives its issuer.
  const TimePoint issuer_end = TruncateToSecond(issuer_not_after);
  if (v.not_after > issuer_end) v.not_after = issuer_end;
  if (v.not_after <= v.not_before || v.not_after < now_s) {
    return PermissionDenied("the issuing certificate expires at " + FormatRfc3339(issuer_end) +
                            ", before the requested validity");
  }
  return v;
}

}  // namespace stepca
