// The EAL arguments (before `--`) checked against the machine before
// rte_eal_init sees them, so that the usual mistakes get one clear line
// instead of EAL's FATAL lines, its 100-line usage text or a port that is
// silently missing: lcores that do not exist or are not ours, no free
// hugepages or no hugetlbfs mount, a PCI device not bound to a DPDK
// driver. Anything it does not know is left to EAL.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace svcdp::conf {

// What the check reads of the machine (a test gives its own).
struct Machine {
  std::set<unsigned> cpus;        // the CPUs this process may run on
  uint64_t free_hugepages = 0;    // over every size
  bool hugetlbfs_mounted = false;
  // The kernel driver a PCI device is bound to ("" when none, nullopt
  // when there is no such device).
  std::function<std::optional<std::string>(const std::string& pci)> pci_driver;
};

// This machine (sched_getaffinity, /sys/kernel/mm/hugepages,
// /proc/mounts, /sys/bus/pci/devices). Thread: any.
Machine this_machine();

// The first problem with `args` on `m`, as one line, or nullopt.
// Thread: any.
std::optional<std::string> check_eal_args(const std::vector<std::string>& args, const Machine& m);

}  // namespace svcdp::conf
