#include "conf/eal_check.h"

#include <gtest/gtest.h>

namespace svcdp::conf {
namespace {

Machine two_cpus() {
  Machine m;
  m.cpus = {0, 1};
  m.free_hugepages = 1024;
  m.hugetlbfs_mounted = true;
  m.pci_driver = [](const std::string& pci) -> std::optional<std::string> {
    if (pci == "0000:3b:00.0") return std::string("vfio-pci");
    if (pci == "0000:3b:00.1") return std::string("ixgbe");
    if (pci == "0000:3b:00.2") return std::string();
    return std::nullopt;
  };
  return m;
}

std::string problem(std::vector<std::string> args, const Machine& m = two_cpus()) {
  return check_eal_args(args, m).value_or("");
}

// Each mistake gets one line that says what to do, before EAL prints its
// FATAL lines or its 100-line usage.
TEST(EalCheck, LcoresMustExistAndBeOurs) {
  EXPECT_EQ(problem({"-l", "1"}), "");
  EXPECT_EQ(problem({"-l0-1"}), "");
  EXPECT_EQ(problem({"-c", "0x3"}), "");
  EXPECT_EQ(problem({"-l", "7"}), "EAL -l 7: CPU 7 is not one this process may use (it may use 0-1)");
  EXPECT_EQ(problem({"-l", "0-3"}), "EAL -l 0-3: CPU 2 is not one this process may use (it may use 0-1)");
  EXPECT_EQ(problem({"-l", "one"}), "EAL -l one: not a list of CPUs (like 1 or 1-3,5)");
  EXPECT_EQ(problem({"-l", "3-1"}), "EAL -l 3-1: not a list of CPUs (like 1 or 1-3,5)");
  EXPECT_EQ(problem({"-c", "0x10"}), "EAL -c 0x10: CPU 4 is not one this process may use (it may use 0-1)");
  EXPECT_EQ(problem({"-c", "xyz"}), "EAL -c xyz: not a hexadecimal CPU mask (like 0x6)");
  EXPECT_EQ(problem({"--main-lcore=5", "-l", "1"}),
            "EAL --main-lcore 5: CPU 5 is not one this process may use (it may use 0-1)");
  EXPECT_EQ(problem({"--lcores", "(0-1)@0"}), "") << "--lcores' own syntax is left to EAL";
}

TEST(EalCheck, HugepagesAreThereUnlessNoHuge) {
  Machine m = two_cpus();
  m.free_hugepages = 0;
  EXPECT_EQ(problem({"-l", "1"}, m).rfind("no free hugepages: echo 1024 > /sys/kernel/mm/hugepages/", 0), 0u);
  EXPECT_EQ(problem({"-l", "1", "--no-huge"}, m), "");
  m.free_hugepages = 512;
  m.hugetlbfs_mounted = false;
  EXPECT_EQ(problem({"-l", "1"}, m).rfind("no hugetlbfs mounted: ", 0), 0u);
}

TEST(EalCheck, PciDevicesMustBeBoundToADpdkDriver) {
  EXPECT_EQ(problem({"-a", "0000:3b:00.0"}), "");
  EXPECT_EQ(problem({"--allow=0000:3b:00.0,rxq_pkt_len=1"}), "") << "device arguments after the address";
  EXPECT_EQ(problem({"-a", "0000:3b:00.1"}),
            "EAL -a 0000:3b:00.1: 0000:3b:00.1 is bound to ixgbe, not a DPDK one: dpdk-devbind.py -b vfio-pci "
            "0000:3b:00.1");
  EXPECT_NE(problem({"-a", "0000:3b:00.2"}).find(": 0000:3b:00.2 is bound to no driver, not a DPDK one"), std::string::npos);
  EXPECT_EQ(problem({"--no-pci", "-a", "0000:99:00.0"}), "") << "no PCI bus: EAL ignores it";
  EXPECT_EQ(problem({"-a", "0000:99:00.0"}),
            "EAL -a 0000:99:00.0: no PCI device 0000:99:00.0 on this machine (lspci -D lists them)");
}

TEST(EalCheck, ThisMachineHasItsOwnCpus) {
  const Machine m = this_machine();
  EXPECT_FALSE(m.cpus.empty());
  EXPECT_EQ(problem({"-l", std::to_string(*m.cpus.begin()), "--no-huge"}, m), "");
}

}  // namespace
}  // namespace svcdp::conf
