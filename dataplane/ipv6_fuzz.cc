// libFuzzer target: arbitrary bytes as an IPv6 packet through walk_ipv6.
// Must never read past the input or crash; an accepted chain must lie
// inside the bytes.
#include "dataplane/ipv6.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  svcdp::dp::Ipv6Chain c;
  if (svcdp::dp::walk_ipv6(data, static_cast<uint32_t>(size), c)) return 0;
  if (c.end > size || c.l4_offset > c.end || c.l4_offset < svcdp::dp::kIpv6HeaderLen) std::abort();
  return 0;
}
