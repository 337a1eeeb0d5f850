#include "control/service_list.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace svcdp::control {
namespace {

using Ptr = ServiceList::Ptr;

// Port `id` with LoadBalancer IP 198.51.100.<lb> and, when `usable`, one
// ready endpoint.
Ptr port(uint32_t id, uint8_t lb, bool usable = true) {
  lb::ServiceSpec s;
  s.id = id;
  s.ns = "shop";
  s.name = "svc-" + std::to_string(id);
  s.frontends = {{lb::to_be32(0x0a600000 + id), lb::to_be16(80), lb::Frontend::kClusterIp},
                 {lb::to_be32(0xc6336400 + lb), lb::to_be16(80), lb::Frontend::kLoadBalancerIp}};
  if (usable) {
    lb::Endpoint e;
    e.addr = lb::to_be32(0x0af40000 + id);
    e.port = lb::to_be16(8080);
    s.endpoints = {e};
  }
  return std::make_shared<const lb::Service>(std::move(s), 251, nullptr);
}

std::vector<uint32_t> ids(const ServiceList& l) {
  std::vector<uint32_t> out;
  for (const Ptr& p : l.all()) out.push_back(p->spec().id);
  return out;
}

std::vector<uint8_t> announced(ServiceList& l) {
  std::vector<uint8_t> out;
  for (lb::be32 ip : l.announced()) out.push_back(static_cast<uint8_t>(lb::to_be32(ip) & 0xff));
  return out;
}

TEST(ServiceList, AChangedPortKeepsItsPlaceSoTheFrontEndsDoNotMove) {
  ServiceList l;
  const std::vector<Ptr> a{port(0, 1), port(1, 2)}, b{port(2, 3)};
  l.replace({}, a);
  l.replace({}, b);
  EXPECT_EQ(ids(l), (std::vector<uint32_t>{0, 1, 2}));
  const std::vector<Ptr> a2{port(1, 2), port(0, 1)};  // the same ids built again, in another order
  l.replace(a, a2);
  EXPECT_EQ(ids(l), (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(l.all()[0], a2[1]);
  EXPECT_EQ(l.all()[1], a2[0]);

  // Ports 0 and 1 become one new port 3: 0's place is taken by the last
  // port (2), 1's removed, 3 appended.
  const std::vector<Ptr> a3{port(3, 4)};
  l.replace(a2, a3);
  EXPECT_EQ(ids(l), (std::vector<uint32_t>{2, 3}));
  l.replace(b, {});
  EXPECT_EQ(ids(l), (std::vector<uint32_t>{3}));
  l.replace(a3, {});
  EXPECT_TRUE(l.all().empty());
}

// What announced_ips() says of the whole list, kept by counting: an
// address two services share stays until the last one goes, and a
// service without a usable endpoint announces nothing.
TEST(ServiceList, AnnouncedIpsAreCountedPerAddress) {
  ServiceList l;
  const std::vector<Ptr> a{port(0, 9)}, b{port(1, 9)}, c{port(2, 5, false)};
  l.replace({}, a);
  l.replace({}, b);
  l.replace({}, c);
  EXPECT_EQ(announced(l), (std::vector<uint8_t>{9}));
  l.replace(a, {});
  EXPECT_EQ(announced(l), (std::vector<uint8_t>{9})) << "service 1 still has it";
  const std::vector<Ptr> c2{port(2, 5)};
  l.replace(c, c2);
  EXPECT_EQ(announced(l), (std::vector<uint8_t>{5, 9})) << "sorted, as the ARP responder wants it";
  l.replace(b, {});
  EXPECT_EQ(announced(l), (std::vector<uint8_t>{5}));
}

// The list and the whole-table rule agree whatever order ports come in.
TEST(ServiceList, AgreesWithTheTableRule) {
  ServiceList l;
  std::vector<std::vector<Ptr>> groups;
  for (uint32_t i = 0; i < 40; ++i) groups.push_back({port(i, static_cast<uint8_t>(i % 7), i % 3 != 0)});
  for (const auto& g : groups) l.replace({}, g);
  for (uint32_t i = 0; i < 40; i += 4) {
    std::vector<Ptr> fresh{port(i, static_cast<uint8_t>(i % 5))};
    l.replace(groups[i], fresh);
    groups[i] = fresh;
  }
  for (uint32_t i = 1; i < 40; i += 6) {
    l.replace(groups[i], {});
    groups[i].clear();
  }
  lb::ServiceTable table(l.services(), 1);
  std::vector<lb::be32> want;
  for (const auto& s : table.services())
    for (lb::be32 ip : announced_ips(*s)) want.push_back(ip);
  std::sort(want.begin(), want.end());
  want.erase(std::unique(want.begin(), want.end()), want.end());
  EXPECT_EQ(l.announced(), want);
  std::vector<uint32_t> got = ids(l), expect;
  for (uint32_t i = 0; i < 40; ++i)
    if (!groups[i].empty()) expect.push_back(i);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, expect);
}

// A generation copies a pointer per port and shares the chunks owning
// them; a change makes again only the chunks of the places it touched.
TEST(ServiceList, OnlyTheChangedChunkIsMadeAgain) {
  ServiceList l;
  std::vector<std::vector<Ptr>> groups;
  for (uint32_t i = 0; i < 200; ++i) {
    groups.push_back({port(i, 1)});
    l.replace({}, groups.back());
  }
  const lb::ServiceTable::Services a = l.services();
  ASSERT_EQ(a.items.size(), 200u);
  for (size_t i = 0; i < a.items.size(); ++i) EXPECT_EQ(a.items[i], l.all()[i].get());
  EXPECT_EQ(a.owners.size(), 4u) << "200 ports in chunks of 64";
  std::vector<Ptr> fresh{port(70, 2)};
  l.replace(groups[70], fresh);
  std::weak_ptr<const lb::Service> old = groups[70][0];
  groups[70].clear();
  const lb::ServiceTable::Services b = l.services();
  EXPECT_EQ(b.items[70], fresh[0].get());
  for (size_t c : {0, 2, 3}) EXPECT_EQ(b.owners[c], a.owners[c]) << "chunk " << c << " shared";
  EXPECT_NE(b.owners[1], a.owners[1]);
  EXPECT_FALSE(old.expired()) << "the last generation's chunk still owns it";
  {
    lb::ServiceTable t(std::move(b), 2);
    EXPECT_EQ(t.by_id(70), fresh[0].get());
  }
  l.replace(groups[199], {});  // the last place: nothing moves
  l.replace(groups[10], {});   // the last port (198) moves to place 10
  const lb::ServiceTable::Services c = l.services();
  ASSERT_EQ(c.items.size(), 198u);
  EXPECT_EQ(c.items[10]->spec().id, 198u);
  EXPECT_EQ(c.owners.size(), 4u);
  EXPECT_EQ(c.owners[2], a.owners[2]);
}

}  // namespace
}  // namespace svcdp::control
