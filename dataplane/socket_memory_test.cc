// The service tables the workers read are built in DPDK memory when the
// dataplane gives it (hugepages on a node; the --no-huge heap here), and on
// the process heap otherwise.
#include "dataplane/socket_memory.h"
#include "lb/service.h"

#include <gtest/gtest.h>
#include <rte_memory.h>

namespace svcdp::dp {
namespace {

lb::ServiceSpec web() {
  lb::ServiceSpec s;
  s.id = 1;
  s.proto = lb::kTcp;
  s.frontends = {{lb::to_be32(0x0a60000a), lb::to_be16(80), lb::Frontend::kClusterIp}};
  lb::Endpoint e;
  e.addr = lb::to_be32(0x0af4010a);
  e.port = lb::to_be16(8080);
  s.endpoints = {e};
  return s;
}

bool in_dpdk_memory(const void* p) { return rte_mem_virt2memseg(p, nullptr) != nullptr; }

TEST(SocketMemory, ServiceTablesLiveInDpdkMemory) {
  SocketMemory memory(SOCKET_ID_ANY);
  auto table = lb::make_table<lb::ServiceTable>(&memory, std::vector{web()}, 1, 251u, nullptr, &memory);
  const lb::Service* svc = table->by_id(1);
  ASSERT_NE(svc, nullptr);
  EXPECT_TRUE(in_dpdk_memory(table.get())) << "the table with its front-end bitmap";
  EXPECT_TRUE(in_dpdk_memory(svc));
  EXPECT_TRUE(in_dpdk_memory(svc->table(false).data())) << "Maglev slots";
  EXPECT_TRUE(table->lookup(lb::to_be32(0x0a60000a), lb::to_be16(80), lb::kTcp).has_value());

  lb::ServiceTable heap({web()}, 1, 251);
  EXPECT_FALSE(in_dpdk_memory(heap.by_id(1)->table(false).slots().data()));
}

}  // namespace
}  // namespace svcdp::dp
