#include "dataplane/testing/pipeline.h"

#include <rte_eal.h>

namespace svcdp::dp {
namespace {

class EalEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* args[] = {"worker_test", "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "-l", "0",
                          "--log-level", "*:error", "--file-prefix", "svcdp-pipeline"};
    ASSERT_GE(rte_eal_init(static_cast<int>(std::size(args)), const_cast<char**>(args)), 0);
  }
  void TearDown() override { rte_eal_cleanup(); }
};

const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new EalEnvironment);

}  // namespace
}  // namespace svcdp::dp
