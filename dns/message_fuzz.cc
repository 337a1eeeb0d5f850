// libFuzzer target: any bytes as a DNS message sent to the cluster DNS.
// Whatever is parsed is answered from a zone with every kind of record;
// the answer must be a well-formed message no longer than allowed, and
// the header of any error response must be the query's.
#include "dns/message.h"
#include "dns/testing/wire.h"
#include "dns/zone.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace {

using svcdp::dns::ServiceRecords;

const svcdp::dns::Zone& zone() {
  static const auto* z = [] {
    auto web = std::make_shared<ServiceRecords>();
    web->name = "web";
    web->ns = "default";
    web->cluster_ips = {0x0a600014};
    web->ports = {{"http", "tcp", 80}};
    web->slices = {{{{"http", "tcp", 8080}}, {{0x0af4010a, "10-244-1-10"}}}};
    auto db = std::make_shared<ServiceRecords>();
    db->name = "db";
    db->ns = "default";
    db->kind = ServiceRecords::Kind::kHeadless;
    ServiceRecords::Slice slice{{{"pg", "tcp", 5432}, {"", "", -1}}, {}};
    for (uint32_t i = 0; i < 80; ++i) slice.endpoints.push_back({0x0af40300 + i, "db-" + std::to_string(i)});
    db->slices = {slice};
    auto ext = std::make_shared<ServiceRecords>();
    ext->name = "ext";
    ext->ns = "default";
    ext->kind = ServiceRecords::Kind::kExternalName;
    ext->external_name = "example.test";
    svcdp::dns::ZoneConfig c;
    c.ns_address = 0x0a60000a;
    return new svcdp::dns::Zone(c, {web, db, ext}, {"default"}, 1);
  }();
  return *z;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::vector<uint8_t> buf(data, data + size);
  buf.resize(4096 + 64);
  svcdp::dns::Query q;
  const svcdp::dns::Parse p = svcdp::dns::parse_query({buf.data(), size}, q);
  size_t len = 0;
  if (p == svcdp::dns::Parse::kOk) {
    const size_t limit = q.udp_size;
    const svcdp::dns::Zone::Result r = zone().answer(q, {buf.data(), 4096}, limit);
    if (r.what == svcdp::dns::Zone::Result::What::kPass) {
      if (std::memcmp(buf.data(), data, size) != 0) std::abort();  // passed on unchanged
      return 0;
    }
    if (r.len > limit) std::abort();
    len = r.len;
  } else if (p != svcdp::dns::Parse::kIgnore) {
    len = svcdp::dns::write_error({buf.data(), size}, q.question_end, svcdp::dns::kFormErr);
    if (len == 0 || buf[0] != data[0] || buf[1] != data[1]) std::abort();
  } else {
    return 0;
  }
  buf.resize(len);
  if (!svcdp::dns::testing::decode(buf).ok) std::abort();
  return 0;
}
