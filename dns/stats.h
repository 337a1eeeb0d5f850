// The label values DNS counters are kept by: query types (CoreDNS's
// coredns_dns_requests_total keeps the common ones and "other") and
// response codes.
#pragma once

#include "dns/message.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace svcdp::dns {

inline constexpr std::array<uint16_t, 9> kCountedTypes = {kA, kAAAA, kSRV, kPTR, kCNAME, kTXT, kNS, kSOA, kMX};
inline constexpr std::array<std::string_view, 10> kTypeNames = {"A",  "AAAA", "SRV", "PTR", "CNAME",
                                                                "TXT", "NS",  "SOA", "MX",  "other"};
inline constexpr size_t kTypeBuckets = kTypeNames.size();

inline constexpr std::array<uint16_t, 7> kCountedRcodes = {kNoError, kFormErr, kServFail, kNxDomain,
                                                            kNotImp,  kRefused, kBadVers};
inline constexpr std::array<std::string_view, 7> kRcodeNames = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                                                "NOTIMP",  "REFUSED", "BADVERS"};
inline constexpr size_t kRcodeBuckets = kRcodeNames.size();

// Thread: any.
constexpr size_t type_bucket(uint16_t type) {
  for (size_t i = 0; i < kCountedTypes.size(); ++i)
    if (kCountedTypes[i] == type) return i;
  return kTypeBuckets - 1;
}
constexpr size_t rcode_bucket(uint16_t rcode) {
  for (size_t i = 0; i < kCountedRcodes.size(); ++i)
    if (kCountedRcodes[i] == rcode) return i;
  return 2;  // (never written) SERVFAIL
}

}  // namespace svcdp::dns
