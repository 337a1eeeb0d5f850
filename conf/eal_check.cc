#include "conf/eal_check.h"

#include <dirent.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <string_view>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace svcdp::conf {
namespace {

// "0-3,5" as CPUs; nullopt when it is not such a list (EAL's -l syntax,
// without its @ and () forms, which are --lcores').
std::optional<std::set<unsigned>> parse_cpu_list(const std::string& text) {
  std::set<unsigned> out;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    const auto dash = part.find('-');
    const std::string a = part.substr(0, dash), b = dash == std::string::npos ? a : part.substr(dash + 1);
    if (a.empty() || b.empty() || a.find_first_not_of("0123456789") != std::string::npos ||
        b.find_first_not_of("0123456789") != std::string::npos || a.size() > 4 || b.size() > 4)
      return std::nullopt;
    const unsigned lo = static_cast<unsigned>(std::stoul(a)), hi = static_cast<unsigned>(std::stoul(b));
    if (lo > hi) return std::nullopt;
    for (unsigned c = lo; c <= hi; ++c) out.insert(c);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::optional<std::set<unsigned>> parse_cpu_mask(std::string text) {
  if (text.rfind("0x", 0) == 0 || text.rfind("0X", 0) == 0) text = text.substr(2);
  if (text.empty() || text.size() > 64 || text.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
    return std::nullopt;
  std::set<unsigned> out;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned digit = static_cast<unsigned>(std::stoul(text.substr(text.size() - 1 - i, 1), nullptr, 16));
    for (unsigned bit = 0; bit < 4; ++bit)
      if (digit >> bit & 1) out.insert(static_cast<unsigned>(i * 4 + bit));
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::string cpu_text(const std::set<unsigned>& cpus) {
  std::string out;
  for (auto it = cpus.begin(); it != cpus.end();) {
    unsigned lo = *it, hi = lo;
    while (++it != cpus.end() && *it == hi + 1) hi = *it;
    if (!out.empty()) out += ',';
    out += std::to_string(lo);
    if (hi != lo) {
      out += '-';
      out += std::to_string(hi);
    }
  }
  return out.empty() ? "none" : out;
}

// The value of an option given as "-l X", "-lX", "--lcores X" or
// "--lcores=X" at args[i] (advancing i past a separate value).
std::optional<std::string> value_of(const std::vector<std::string>& args, size_t& i, const char* shrt,
                                    const char* lng) {
  const std::string& a = args[i];
  const std::string s = shrt ? shrt : "", l = lng ? std::string("--") + lng : "";
  if ((!s.empty() && a == s) || (!l.empty() && a == l)) {
    if (i + 1 >= args.size()) return std::string();
    return args[++i];
  }
  if (!s.empty() && a.size() > s.size() && a.rfind(s, 0) == 0 && a[1] != '-') return a.substr(s.size());
  if (!l.empty() && a.rfind(l + "=", 0) == 0) return a.substr(l.size() + 1);
  return std::nullopt;
}

}  // namespace

Machine this_machine() {
  Machine m;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (unsigned c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) m.cpus.insert(c);
  if (DIR* d = opendir("/sys/kernel/mm/hugepages")) {
    while (const dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream f(std::string("/sys/kernel/mm/hugepages/") + e->d_name + "/free_hugepages");
      uint64_t n = 0;
      if (f >> n) m.free_hugepages += n;
    }
    closedir(d);
  }
  std::ifstream mounts("/proc/mounts");
  for (std::string dev, dir, type, rest; mounts >> dev >> dir >> type && std::getline(mounts, rest);)
    if (type == "hugetlbfs") m.hugetlbfs_mounted = true;
  m.pci_driver = [](const std::string& pci) -> std::optional<std::string> {
    std::string dev = "/sys/bus/pci/devices/";
    if (pci.find(':') == 2) dev += "0000:";  // bus:device.function without the domain
    dev += pci;
    if (access(dev.c_str(), F_OK) != 0) return std::nullopt;
    char target[PATH_MAX];
    const ssize_t n = readlink((dev + "/driver").c_str(), target, sizeof target - 1);
    if (n <= 0) return std::string();
    const std::string path(target, static_cast<size_t>(n));
    return path.substr(path.rfind('/') + 1);
  };
  return m;
}

std::optional<std::string> check_eal_args(const std::vector<std::string>& args, const Machine& m) {
  const bool no_huge = std::find(args.begin(), args.end(), "--no-huge") != args.end();
  const bool no_pci = std::find(args.begin(), args.end(), "--no-pci") != args.end();
  for (size_t i = 0; i < args.size(); ++i) {
    std::optional<std::string> v;
    std::optional<std::set<unsigned>> cpus;
    std::string what;
    if ((v = value_of(args, i, "-l", nullptr))) {
      what = "-l " + *v;
      cpus = parse_cpu_list(*v);
      if (!cpus) return "EAL " + what + ": not a list of CPUs (like 1 or 1-3,5)";
    } else if ((v = value_of(args, i, "-c", nullptr))) {
      what = "-c " + *v;
      cpus = parse_cpu_mask(*v);
      if (!cpus) return "EAL " + what + ": not a hexadecimal CPU mask (like 0x6)";
    } else if ((v = value_of(args, i, nullptr, "main-lcore"))) {
      what = "--main-lcore " + *v;
      cpus = parse_cpu_list(*v);
      if (!cpus || cpus->size() != 1) return "EAL " + what + ": not one CPU number";
    } else if ((v = value_of(args, i, "-a", "allow"))) {
      const std::string pci = v->substr(0, v->find(','));
      if (pci.empty() || no_pci || !m.pci_driver) continue;
      const std::optional<std::string> driver = m.pci_driver(pci);
      if (!driver) return "EAL -a " + *v + ": no PCI device " + pci + " on this machine (lspci -D lists them)";
      // The drivers DPDK's PMDs drive a device through (mlx5/mlx4 are
      // bifurcated: they work on the kernel's own driver).
      static constexpr std::string_view kDpdkDrivers[] = {"vfio-pci", "uio_pci_generic", "igb_uio", "mlx5_core",
                                                          "mlx4_core"};
      if (std::find(std::begin(kDpdkDrivers), std::end(kDpdkDrivers), *driver) == std::end(kDpdkDrivers))
      {
        std::string bound = "bound to ";
        bound += driver->empty() ? "no driver" : *driver;
        return "EAL -a " + *v + ": " + pci + " is " + bound + ", not a DPDK one: dpdk-devbind.py -b vfio-pci " + pci;
      }
      continue;
    } else {
      continue;
    }
    for (unsigned c : *cpus)
      if (!m.cpus.count(c))
        return "EAL " + what + ": CPU " + std::to_string(c) + " is not one this process may use (it may use " +
               cpu_text(m.cpus) + ")";
  }
  if (!no_huge && (m.free_hugepages == 0 || !m.hugetlbfs_mounted))
    return std::string(m.free_hugepages == 0 ? "no free hugepages" : "no hugetlbfs mounted") +
           ": echo 1024 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages; mount -t hugetlbfs nodev "
           "/dev/hugepages (or EAL --no-huge, for tests only)";
  return std::nullopt;
}

}  // namespace svcdp::conf
