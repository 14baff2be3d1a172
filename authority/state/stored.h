// A record as read from the store together with the exact bytes it was
// read from: the `expected` of the compare-and-set that replaces it
// (Store::CompareAndSwap). A transition reads, computes the next record,
// and swaps from these bytes; losing the race is kAlreadyExists.
#ifndef STEPCA_AUTHORITY_STATE_STORED_H
#define STEPCA_AUTHORITY_STATE_STORED_H

#include <string>

namespace stepca {

template <typename Record>
struct Stored {
  Record record;
  std::string bytes;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_STORED_H
