// The cluster zone against CoreDNS's kubernetes plugin: each expectation
// is what CoreDNS (plugin/kubernetes, `pods insecure`, ttl 5) answers for
// the same objects, as dig would print it.
#include "dns/zone.h"

#include "dns/testing/wire.h"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <random>
#include <initializer_list>

namespace svcdp::dns {
namespace {

using testing::Bytes;
using testing::decode;
using testing::Decoded;
using testing::query;
using testing::QueryOptions;
using Strings = std::vector<std::string>;

constexpr uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d;
}

std::shared_ptr<ServiceRecords> service(std::string ns, std::string name, ServiceRecords::Kind kind) {
  auto s = std::make_shared<ServiceRecords>();
  s->ns = std::move(ns);
  s->name = std::move(name);
  s->kind = kind;
  return s;
}

class ZoneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto web = service("default", "web", ServiceRecords::Kind::kClusterIP);
    web->cluster_ips = {ip(10, 96, 0, 20)};
    web->ports = {{"http", "tcp", 80}, {"metrics", "tcp", 9090}};
    web->slices = {{{{"http", "tcp", 8080}, {"metrics", "tcp", 9090}}, {{ip(10, 244, 1, 10), "10-244-1-10"}}}};
    auto db = service("default", "db", ServiceRecords::Kind::kHeadless);
    db->ports = {{"pg", "tcp", 5432}};
    db->slices = {{{{"pg", "tcp", 5432}}, {{ip(10, 244, 1, 20), "db-0"}, {ip(10, 244, 2, 21), "db-1"}}}};
    auto ext = service("default", "ext", ServiceRecords::Kind::kExternalName);
    ext->external_name = "example.test";
    auto dns = service("kube-system", "kube-dns", ServiceRecords::Kind::kClusterIP);
    dns->cluster_ips = {ip(10, 96, 0, 10)};
    dns->ports = {{"dns", "udp", 53}, {"dns-tcp", "tcp", 53}};
    auto big = service("default", "big", ServiceRecords::Kind::kHeadless);
    ServiceRecords::Slice slice{{{"", "", -1}}, {}};
    for (uint8_t i = 1; i <= 100; ++i) slice.endpoints.push_back({ip(10, 244, 3, i), "10-244-3-" + std::to_string(i)});
    big->slices = {slice};
    ZoneConfig c;
    c.ns_address = ip(10, 96, 0, 10);
    zone_ = std::make_unique<Zone>(c, std::vector<std::shared_ptr<const ServiceRecords>>{web, db, ext, dns, big},
                                   std::vector<std::string>{"default", "kube-system"}, 7);
  }

  // The answer to `q`, decoded; `passed` when the zone leaves it to CoreDNS.
  Decoded ask(const Bytes& q, size_t limit = 512) {
    buf_ = q;
    buf_.resize(4096);
    Query parsed;
    EXPECT_EQ(parse_query({buf_.data(), q.size()}, parsed), Parse::kOk);
    const Zone::Result r = zone_->answer(parsed, buf_, limit);
    passed_ = r.what == Zone::Result::What::kPass;
    if (passed_) return {};
    buf_.resize(r.len);
    Decoded d = decode(buf_);
    EXPECT_TRUE(d.ok) << "the answer does not parse";
    EXPECT_EQ(d.rcode & 0xf, r.rcode & 0xf);
    return d;
  }
  Decoded ask(const std::string& name, uint16_t type) { return ask(query(name, type)); }

  const std::string kSoa = "cluster.local. 5 SOA ns.dns.cluster.local. hostmaster.cluster.local. 7 7200 1800 86400 5";
  std::unique_ptr<Zone> zone_;
  Bytes buf_;
  bool passed_ = false;
};

TEST_F(ZoneTest, ClusterIpServiceHasItsAddress) {
  const Decoded d = ask("web.default.svc.cluster.local", kA);
  EXPECT_EQ(d.id, 0x1234);
  EXPECT_TRUE(d.aa);
  EXPECT_TRUE(d.rd) << "RD is copied";
  EXPECT_FALSE(d.ra) << "CoreDNS's kubernetes answers do not set RA";
  EXPECT_EQ(d.rcode, kNoError);
  EXPECT_EQ(d.answer, Strings{"web.default.svc.cluster.local. 5 A 10.96.0.20"});
  EXPECT_TRUE(d.authority.empty());
}

TEST_F(ZoneTest, TheQuestionsCaseIsKept) {
  const Decoded d = ask("WeB.Default.SVC.cluster.LOCAL", kA);
  EXPECT_EQ(d.question, "WeB.Default.SVC.cluster.LOCAL. A");
  EXPECT_EQ(d.answer, Strings{"WeB.Default.SVC.cluster.LOCAL. 5 A 10.96.0.20"});
}

TEST_F(ZoneTest, NamesThatDoNotExistAreNxdomainWithTheSoa) {
  for (const char* name : {"nope.default.svc.cluster.local", "example.com.default.svc.cluster.local",
                           "example.com.svc.cluster.local", "example.com.cluster.local",
                           "web.default.svc.cluster.local.default.svc.cluster.local", "web.nons.svc.cluster.local",
                           "nons.svc.cluster.local", "a.b.c.web.default.svc.cluster.local",
                           "nope.web.default.svc.cluster.local", "_x._tcp.web.default.svc.cluster.local"}) {
    const Decoded d = ask(name, kA);
    EXPECT_EQ(d.rcode, kNxDomain) << name;
    EXPECT_TRUE(d.answer.empty()) << name;
    EXPECT_EQ(d.authority, Strings{kSoa}) << name;
  }
}

TEST_F(ZoneTest, NamesThatExistWithoutTheTypeAreNodata) {
  for (auto [name, type] : {std::pair{"web.default.svc.cluster.local", kAAAA}, {"web.default.svc.cluster.local", kMX},
                            {"default.svc.cluster.local", kA}, {"svc.cluster.local", kA}, {"cluster.local", kA},
                            {"web.default.svc.cluster.local", kCNAME}, {"anything.cluster.local", kTXT},
                            {"default.pod.cluster.local", kA}}) {
    const Decoded d = ask(name, type);
    EXPECT_EQ(d.rcode, kNoError) << name;
    EXPECT_TRUE(d.answer.empty()) << name;
    EXPECT_EQ(d.authority, Strings{kSoa}) << name;
  }
  EXPECT_EQ(ask("nope.default.svc.cluster.local", kMX).rcode, kNxDomain) << "other types: a fake A lookup decides";
}

TEST_F(ZoneTest, HeadlessServiceHasItsReadyEndpoints) {
  EXPECT_EQ(ask("db.default.svc.cluster.local", kA).answer,
            (Strings{"db.default.svc.cluster.local. 5 A 10.244.1.20", "db.default.svc.cluster.local. 5 A 10.244.2.21"}));
  EXPECT_EQ(ask("db-1.db.default.svc.cluster.local", kA).answer,
            Strings{"db-1.db.default.svc.cluster.local. 5 A 10.244.2.21"});
  EXPECT_EQ(ask("10-244-1-10.web.default.svc.cluster.local", kA).answer,
            Strings{"10-244-1-10.web.default.svc.cluster.local. 5 A 10.244.1.10"})
      << "an endpoint name of a ClusterIP service is answered too";
}

TEST_F(ZoneTest, SrvNamesTheServiceOrItsEndpoints) {
  Decoded d = ask("_http._tcp.web.default.svc.cluster.local", kSRV);
  EXPECT_EQ(d.answer, Strings{"_http._tcp.web.default.svc.cluster.local. 5 SRV 0 100 80 web.default.svc.cluster.local."});
  EXPECT_EQ(d.additional, Strings{"web.default.svc.cluster.local. 5 A 10.96.0.20"});
  d = ask("web.default.svc.cluster.local", kSRV);
  EXPECT_EQ(d.answer, (Strings{"web.default.svc.cluster.local. 5 SRV 0 50 80 web.default.svc.cluster.local.",
                               "web.default.svc.cluster.local. 5 SRV 0 50 9090 web.default.svc.cluster.local."}));
  EXPECT_EQ(d.additional, Strings{"web.default.svc.cluster.local. 5 A 10.96.0.20"});
  d = ask("_pg._tcp.db.default.svc.cluster.local", kSRV);
  EXPECT_EQ(d.answer, (Strings{"_pg._tcp.db.default.svc.cluster.local. 5 SRV 0 50 5432 db-0.db.default.svc.cluster.local.",
                               "_pg._tcp.db.default.svc.cluster.local. 5 SRV 0 50 5432 db-1.db.default.svc.cluster.local."}));
  EXPECT_EQ(d.additional, (Strings{"db-0.db.default.svc.cluster.local. 5 A 10.244.1.20",
                                   "db-1.db.default.svc.cluster.local. 5 A 10.244.2.21"}));
  EXPECT_EQ(ask("_dns._udp.kube-dns.kube-system.svc.cluster.local", kSRV).answer,
            Strings{"_dns._udp.kube-dns.kube-system.svc.cluster.local. 5 SRV 0 100 53 kube-dns.kube-system.svc.cluster.local."});
  EXPECT_EQ(ask("_dns._tcp.kube-dns.kube-system.svc.cluster.local", kSRV).rcode, kNxDomain);
}

TEST_F(ZoneTest, ExternalNameIsACnameAndItsAddressIsCoreDnss) {
  EXPECT_EQ(ask("ext.default.svc.cluster.local", kCNAME).answer,
            Strings{"ext.default.svc.cluster.local. 5 CNAME example.test."});
  ask("ext.default.svc.cluster.local", kA);
  EXPECT_TRUE(passed_) << "CoreDNS looks the target up upstream";
  const Decoded d = ask("ext.default.svc.cluster.local", kSRV);
  EXPECT_EQ(d.rcode, kNoError);
  EXPECT_TRUE(d.answer.empty()) << "no SRV for ExternalName";
}

TEST_F(ZoneTest, ReverseNamesOfServicesAndEndpoints) {
  EXPECT_EQ(ask("20.0.96.10.in-addr.arpa", kPTR).answer,
            Strings{"20.0.96.10.in-addr.arpa. 5 PTR web.default.svc.cluster.local."});
  EXPECT_EQ(ask("20.1.244.10.in-addr.arpa", kPTR).answer,
            Strings{"20.1.244.10.in-addr.arpa. 5 PTR db-0.db.default.svc.cluster.local."});
  for (const char* other : {"9.9.9.9.in-addr.arpa", "1.244.10.in-addr.arpa", "020.0.96.10.in-addr.arpa"}) {
    ask(other, kPTR);
    EXPECT_TRUE(passed_) << other << ": CoreDNS falls through to its upstream";
  }
  ask("20.0.96.10.in-addr.arpa", kA);
  EXPECT_TRUE(passed_);
}

TEST_F(ZoneTest, PodsByAddressAndTheSchemaVersion) {
  EXPECT_EQ(ask("10-244-1-5.default.pod.cluster.local", kA).answer,
            Strings{"10-244-1-5.default.pod.cluster.local. 5 A 10.244.1.5"});
  EXPECT_EQ(ask("fd00--5.default.pod.cluster.local", kAAAA).answer,
            Strings{"fd00--5.default.pod.cluster.local. 5 AAAA fd00::5"});
  EXPECT_EQ(ask("10-244-1-999.default.pod.cluster.local", kA).rcode, kNxDomain);
  EXPECT_EQ(ask("10-244-1-5.nons.pod.cluster.local", kA).rcode, kNxDomain);
  EXPECT_EQ(ask("dns-version.cluster.local", kTXT).answer, Strings{"dns-version.cluster.local. 28800 TXT \"1.1.0\""});
}

TEST_F(ZoneTest, TheApexHasItsSoaAndNameServer) {
  Decoded d = ask("cluster.local", kNS);
  EXPECT_EQ(d.answer, Strings{"cluster.local. 5 NS ns.dns.cluster.local."});
  EXPECT_EQ(d.additional, Strings{"ns.dns.cluster.local. 5 A 10.96.0.10"});
  EXPECT_EQ(ask("ns.dns.cluster.local", kA).answer, Strings{"ns.dns.cluster.local. 5 A 10.96.0.10"});
  d = ask("web.default.svc.cluster.local", kSOA);
  EXPECT_EQ(d.answer, Strings{kSoa}) << "handler.go: the zone's SOA for any name in it";
}

TEST_F(ZoneTest, OtherZonesAndClassesAreLeftToCoreDns) {
  for (const char* name : {"example.com", "cluster.local.example.com", "xcluster.local", "."}) {
    ask(name, kA);
    EXPECT_TRUE(passed_) << name;
  }
  QueryOptions chaos;
  chaos.qclass = 3;
  ask(query("web.default.svc.cluster.local", kA, chaos));
  EXPECT_TRUE(passed_);
  ask("web.default.svc.cluster.local", kAXFR);
  EXPECT_TRUE(passed_);
}

TEST_F(ZoneTest, EdnsIsEchoedAndAnUnknownVersionIsBadvers) {
  QueryOptions o;
  o.edns_size = 1232;
  o.dnssec_ok = true;
  Decoded d = ask(query("web.default.svc.cluster.local", kA, o));
  EXPECT_EQ(d.additional, Strings{"OPT udp=1232 version=0 do"});
  o.edns_version = 1;
  d = ask(query("web.default.svc.cluster.local", kA, o));
  EXPECT_EQ(d.rcode, kBadVers);
  EXPECT_TRUE(d.answer.empty());
}

TEST_F(ZoneTest, AnAnswerThatDoesNotFitIsTruncated) {
  Decoded d = ask("big.default.svc.cluster.local", kA);
  EXPECT_TRUE(d.tc);
  EXPECT_LE(buf_.size(), 512u);
  EXPECT_GT(d.answer.size(), 20u);
  EXPECT_LT(d.answer.size(), 100u);
  QueryOptions o;
  o.edns_size = 4096;
  d = ask(query("big.default.svc.cluster.local", kA, o), 4096);
  EXPECT_FALSE(d.tc);
  EXPECT_EQ(d.answer.size(), 100u);
  EXPECT_EQ(d.additional, Strings{"OPT udp=4096 version=0"});
}

// Golden wire bytes of each kind of answer (RFC 1035 4.1, name
// compression 4.1.4): the query's header and question, then the records.
class ZoneBytes : public ZoneTest {
 protected:
  // The answer to `name`/`type` must be the query with `flags`, the
  // counts, and `records` after the question.
  void expect_bytes(const std::string& name, uint16_t type, uint16_t flags, std::array<uint8_t, 3> counts,
                    const Bytes& records) {
    const Bytes q = query(name, type);
    ask(q);
    ASSERT_FALSE(passed_);
    Bytes want = q;
    want[2] = static_cast<uint8_t>(flags >> 8);
    want[3] = static_cast<uint8_t>(flags);
    for (int i = 0; i < 3; ++i) want[7 + 2 * i] = counts[static_cast<size_t>(i)];
    want.insert(want.end(), records.begin(), records.end());
    EXPECT_EQ(buf_, want) << name;
  }
};

constexpr uint8_t kTtl5[] = {0, 0, 0, 5};

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
Bytes ttl5() { return {std::begin(kTtl5), std::end(kTtl5)}; }

TEST_F(ZoneBytes, NxdomainCarriesTheSoaCompressedAgainstTheQuestion) {
  // "cluster.local" is at offset 29 of the question (4nope 7default 3svc).
  expect_bytes("nope.default.svc.cluster.local", kA, 0x8503, {0, 1, 0},
               cat({{0xc0, 29, 0, 6, 0, 1}, ttl5(), {0, 42},
                    {2, 'n', 's', 3, 'd', 'n', 's', 0xc0, 29},
                    {10, 'h', 'o', 's', 't', 'm', 'a', 's', 't', 'e', 'r', 0xc0, 29},
                    {0, 0, 0, 7, 0, 0, 0x1c, 0x20, 0, 0, 0x07, 0x08, 0, 1, 0x51, 0x80, 0, 0, 0, 5}}));
}

TEST_F(ZoneBytes, SrvWithItsTargetsAddress) {
  // "web.default.svc.cluster.local" is at offset 23 (5_http 4_tcp).
  expect_bytes("_http._tcp.web.default.svc.cluster.local", kSRV, 0x8500, {1, 0, 1},
               cat({{0xc0, 12, 0, 33, 0, 1}, ttl5(), {0, 8, 0, 0, 0, 100, 0, 80, 0xc0, 23},
                    {0xc0, 23, 0, 1, 0, 1}, ttl5(), {0, 4, 10, 96, 0, 20}}));
}

TEST_F(ZoneBytes, PtrNamesTheService) {
  expect_bytes("20.0.96.10.in-addr.arpa", kPTR, 0x8500, {1, 0, 0},
               cat({{0xc0, 12, 0, 12, 0, 1}, ttl5(), {0, 31},
                    {3, 'w', 'e', 'b', 7, 'd', 'e', 'f', 'a', 'u', 'l', 't', 3, 's', 'v', 'c', 7, 'c', 'l', 'u', 's', 't',
                     'e', 'r', 5, 'l', 'o', 'c', 'a', 'l', 0}}));
}

TEST_F(ZoneBytes, TxtAndNsAtTheApex) {
  expect_bytes("dns-version.cluster.local", kTXT, 0x8500, {1, 0, 0},
               {0xc0, 12, 0, 16, 0, 1, 0, 0, 0x70, 0x80, 0, 6, 5, '1', '.', '1', '.', '0'});
  // The NS target's name is written at 43; the glue's owner points there.
  expect_bytes("cluster.local", kNS, 0x8500, {1, 0, 1},
               cat({{0xc0, 12, 0, 2, 0, 1}, ttl5(), {0, 9, 2, 'n', 's', 3, 'd', 'n', 's', 0xc0, 12},
                    {0xc0, 43, 0, 1, 0, 1}, ttl5(), {0, 4, 10, 96, 0, 10}}));
}

TEST_F(ZoneBytes, CnameOfAnExternalName) {
  // ext.default.svc.cluster.local CNAME example.test (nothing to share).
  expect_bytes("ext.default.svc.cluster.local", kCNAME, 0x8500, {1, 0, 0},
               cat({{0xc0, 12, 0, 5, 0, 1}, ttl5(), {0, 14},
                    {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0}}));
}

// The zone's answer to a query for `name`, `type` (empty: passed on).
Bytes answer_bytes(const Zone& zone, const std::string& name, uint16_t type) {
  Bytes buf = query(name, type);
  const size_t n = buf.size();
  buf.resize(4096);
  Query q;
  EXPECT_EQ(parse_query({buf.data(), n}, q), Parse::kOk);
  const Zone::Result r = zone.answer(q, buf, 4096);
  EXPECT_EQ(r.what == Zone::Result::What::kPass, r.len == 0);
  buf.resize(r.len);
  return buf;
}

// A zone made by ZoneIndex after any sequence of changes answers exactly
// as one built from scratch from the same records: addresses shared by
// services, ClusterIPs that are also endpoints, hostnames that change,
// namespaces that empty.
// Dual-stack (issue 18): CoreDNS's findServices yields every ClusterIP
// and every ready address of every slice, whatever its family; the
// query's type picks A or AAAA, SRV targets get both in the additional
// section, and an IPv6 endpoint without a hostname is named by its
// address with dashes (endpointHostname).
TEST(ZoneDualStack, AaaaForIpv6ClusterIpsAndEndpoints) {
  auto v6 = [](std::initializer_list<uint8_t> tail) {
    std::array<uint8_t, 16> a{0xfd, 0, 0, 0x10, 0x02, 0x44, 0, 0x01};
    std::copy(tail.begin(), tail.end(), a.end() - tail.size());
    return a;
  };
  auto dual = service("default", "dual", ServiceRecords::Kind::kClusterIP);
  dual->cluster_ips = {ip(10, 96, 0, 30)};
  dual->cluster_ips_v6 = {{0xfd, 0, 0, 0x10, 0, 0x96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x30}};
  dual->ports = {{"http", "tcp", 80}};
  auto db = service("default", "db6", ServiceRecords::Kind::kHeadless);
  db->ports = {{"pg", "tcp", 5432}};
  ServiceRecords::Slice s4{{{"pg", "tcp", 5432}}, {{ip(10, 244, 1, 40), "db6-0"}}};
  ServiceRecords::Slice s6{{{"pg", "tcp", 5432}}, {}, {{v6({0x40}), "db6-0"}, {v6({0x41}), "fd00-10-244-1--41"}}};
  db->slices = {s4, s6};
  auto v6only = service("default", "only6", ServiceRecords::Kind::kClusterIP);
  v6only->cluster_ips_v6 = dual->cluster_ips_v6;
  v6only->cluster_ips_v6[0][15] = 0x31;
  v6only->ports = {{"http", "tcp", 80}};
  const Zone zone(ZoneConfig{}, {dual, db, v6only}, {"default"}, 1);
  auto ask = [&](const std::string& name, uint16_t type) { return decode(answer_bytes(zone, name, type)); };
  EXPECT_EQ(ask("dual.default.svc.cluster.local", kA).answer, Strings{"dual.default.svc.cluster.local. 5 A 10.96.0.30"});
  EXPECT_EQ(ask("dual.default.svc.cluster.local", kAAAA).answer,
            Strings{"dual.default.svc.cluster.local. 5 AAAA fd00:10:96::30"});
  const Decoded none = ask("only6.default.svc.cluster.local", kA);
  EXPECT_EQ(none.rcode, kNoError) << "an IPv6-only service has no A: NODATA";
  EXPECT_TRUE(none.answer.empty());
  EXPECT_EQ(ask("db6.default.svc.cluster.local", kAAAA).answer,
            (Strings{"db6.default.svc.cluster.local. 5 AAAA fd00:10:244:1::40",
                     "db6.default.svc.cluster.local. 5 AAAA fd00:10:244:1::41"}));
  EXPECT_EQ(ask("db6-0.db6.default.svc.cluster.local", kA).answer,
            Strings{"db6-0.db6.default.svc.cluster.local. 5 A 10.244.1.40"});
  EXPECT_EQ(ask("fd00-10-244-1--41.db6.default.svc.cluster.local", kAAAA).answer,
            Strings{"fd00-10-244-1--41.db6.default.svc.cluster.local. 5 AAAA fd00:10:244:1::41"});
  const Decoded srv = ask("_http._tcp.dual.default.svc.cluster.local", kSRV);
  EXPECT_EQ(srv.answer, Strings{"_http._tcp.dual.default.svc.cluster.local. 5 SRV 0 50 80 dual.default.svc.cluster.local."})
      << "one target for both addresses";
  EXPECT_EQ(srv.additional, (Strings{"dual.default.svc.cluster.local. 5 A 10.96.0.30",
                                     "dual.default.svc.cluster.local. 5 AAAA fd00:10:96::30"}));
}

// reverse.go with ExtractAddressFromReverse: 32 nibbles under ip6.arpa
// name an IPv6 ClusterIP's service or an IPv6 endpoint; a malformed or
// unknown name is not ours (falls through).
TEST(ZoneDualStack, Ip6ArpaPtrForClusterIpsAndEndpoints) {
  auto dual = service("default", "dual", ServiceRecords::Kind::kClusterIP);
  dual->cluster_ips = {ip(10, 96, 0, 30)};
  dual->cluster_ips_v6 = {{0xfd, 0, 0, 0x10, 0, 0x96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x30}};
  dual->ports = {{"http", "tcp", 80}};
  auto db = service("default", "db6", ServiceRecords::Kind::kHeadless);
  db->ports = {{"pg", "tcp", 5432}};
  const std::array<uint8_t, 16> pod{0xfd, 0, 0, 0x10, 0x02, 0x44, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x40};
  db->slices = {ServiceRecords::Slice{{{"pg", "tcp", 5432}}, {}, {{pod, "db6-0"}}}};
  const Zone zone(ZoneConfig{}, {dual, db}, {"default"}, 1);
  auto ask = [&](const std::string& name, uint16_t type) { return answer_bytes(zone, name, type); };
  const std::string vip6 = "0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa";
  EXPECT_EQ(decode(ask(vip6, kPTR)).answer, Strings{vip6 + ". 5 PTR dual.default.svc.cluster.local."});
  const std::string pod6 = "0.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.4.4.2.0.0.1.0.0.0.0.d.f.ip6.arpa";
  EXPECT_EQ(decode(ask(pod6, kPTR)).answer, Strings{pod6 + ". 5 PTR db6-0.db6.default.svc.cluster.local."});
  EXPECT_EQ(decode(ask("30.0.96.10.in-addr.arpa", kPTR)).answer,
            Strings{"30.0.96.10.in-addr.arpa. 5 PTR dual.default.svc.cluster.local."})
      << "the IPv4 ClusterIP beside it";
  const std::string tail = vip6.substr(2);  // 31 nibbles
  for (const std::string& other : Strings{"1." + tail, tail, "00." + tail, "g." + tail, "0.1." + vip6, "ip6.arpa"})
    EXPECT_TRUE(ask(other, kPTR).empty()) << other;
  EXPECT_TRUE(ask(vip6, kAAAA).empty()) << "only PTR is answered there";
}

TEST(ZoneIndex, IncrementalZonesAnswerAsFreshOnes) {
  std::minstd_rand rng(11);
  const Strings namespaces{"default", "kube-system"};
  ZoneConfig c;
  ZoneIndex index(c, namespaces);
  std::map<std::string, std::shared_ptr<const ServiceRecords>> now;  // "name ns" → records
  const auto addr = [&] { return ip(10, 244, 0, static_cast<uint8_t>(rng() % 24)); };
  const auto answer = [](const Zone& z, const Bytes& q) {
    Bytes buf = q;
    buf.resize(4096);
    Query parsed;
    if (parse_query({buf.data(), q.size()}, parsed) != Parse::kOk) return std::string("unparsed");
    const Zone::Result r = z.answer(parsed, buf, 4096);
    if (r.what == Zone::Result::What::kPass) return std::string("pass");
    buf.resize(r.len);
    const Decoded d = decode(buf);
    std::string out = std::to_string(d.rcode);
    for (const auto* section : {&d.answer, &d.authority, &d.additional})
      for (const std::string& rr : *section) out += "|" + rr;
    return out;
  };
  for (uint32_t step = 0; step < 400; ++step) {
    const std::string name = "s" + std::to_string(rng() % 8), ns = rng() % 3 ? "shop" : "default";
    if (rng() % 4 == 0) {
      index.set(ns, name, nullptr);
      now.erase(name + " " + ns);
    } else {
      auto r = service(ns, name, rng() % 3 ? ServiceRecords::Kind::kClusterIP : ServiceRecords::Kind::kHeadless);
      if (r->kind == ServiceRecords::Kind::kClusterIP) r->cluster_ips = {rng() % 4 ? ip(10, 96, 0, rng() % 8) : addr()};
      r->ports = {{"http", "tcp", 80}};
      ServiceRecords::Slice slice{{{"http", "tcp", 8080}}, {}};
      for (uint32_t e = 0, n = rng() % 4; e < n; ++e) {
        const uint32_t a = addr();
        slice.endpoints.push_back({a, rng() % 2 ? "pod-" + std::to_string(rng() % 3) : "10-244-0-" + std::to_string(a & 255)});
      }
      r->slices = {slice};
      index.set(ns, name, r);
      now[name + " " + ns] = r;
    }
    const auto incremental = index.zone(ip(10, 96, 0, 10), step);
    std::vector<std::shared_ptr<const ServiceRecords>> all;
    for (const auto& [k, r] : now) all.push_back(r);
    c.ns_address = ip(10, 96, 0, 10);
    const Zone fresh(c, all, namespaces, step);
    for (uint32_t last = 0; last < 24; ++last) {
      const std::string ptr = std::to_string(last) + ".0.244.10.in-addr.arpa";
      ASSERT_EQ(answer(*incremental, query(ptr, kPTR)), answer(fresh, query(ptr, kPTR))) << "step " << step << " " << ptr;
      ASSERT_EQ(incremental->namespace_of(ip(10, 244, 0, static_cast<uint8_t>(last))),
                fresh.namespace_of(ip(10, 244, 0, static_cast<uint8_t>(last))));
    }
    for (uint32_t last = 0; last < 8; ++last) {
      const std::string ptr = std::to_string(last) + ".0.96.10.in-addr.arpa";
      ASSERT_EQ(answer(*incremental, query(ptr, kPTR)), answer(fresh, query(ptr, kPTR))) << "step " << step << " " << ptr;
    }
    for (uint32_t i = 0; i < 8; ++i)
      for (const char* n : {"shop", "default"}) {
        const std::string fq = "s" + std::to_string(i) + "." + n + ".svc.cluster.local";
        for (uint16_t t : {kA, kSRV})
          ASSERT_EQ(answer(*incremental, query(fq, t)), answer(fresh, query(fq, t))) << "step " << step << " " << fq;
      }
    ASSERT_EQ(answer(*incremental, query("x.shop.svc.cluster.local", kA)),
              answer(fresh, query("x.shop.svc.cluster.local", kA)))
        << "step " << step << ": a namespace exists while it has a service";
  }
}

}  // namespace
}  // namespace svcdp::dns
