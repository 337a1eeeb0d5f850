#include "control/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace svcdp::control {
namespace {

std::string read_file(const char* path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

uint64_t count_fds() {
  uint64_t n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (const dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
    if (n) --n;  // the one opendir holds
  }
  return n;
}

}  // namespace

// proc(5): after "pid (comm) " come state (field 3) ... utime (14),
// stime (15) ... starttime (22, ticks after boot), vsize (23, bytes),
// rss (24, pages). comm may hold spaces and parentheses: parse after the
// last ')'.
std::optional<ProcessStats> parse_proc_stat(std::string_view stat, long ticks_per_second, long page_size,
                                            uint64_t boot_time) {
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) return std::nullopt;
  std::vector<uint64_t> f;  // f[0] is field 4 (ppid); field 3 (state) is a letter
  std::string_view rest = stat.substr(close + 1);
  size_t field = 2;
  while (!rest.empty()) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const size_t end = std::min(rest.find(' '), rest.size());
    const std::string_view tok = rest.substr(0, end);
    rest.remove_prefix(end);
    if (tok.empty()) break;
    if (++field == 3) continue;
    uint64_t v = 0;
    const auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
    if (ec != std::errc() && !(tok[0] == '-')) return std::nullopt;
    f.push_back(ec == std::errc() ? v : 0);
    if (field == 24) break;
  }
  if (field < 24) return std::nullopt;
  const auto at = [&](size_t n) { return f[n - 4]; };
  ProcessStats p;
  p.cpu_seconds = double(at(14) + at(15)) / double(ticks_per_second);
  p.start_time_seconds = double(boot_time) + double(at(22)) / double(ticks_per_second);
  p.virtual_bytes = at(23);
  p.resident_bytes = at(24) * static_cast<uint64_t>(page_size);
  return p;
}

std::optional<ProcessStats> process_stats() {
  uint64_t boot = 0;
  std::istringstream st(read_file("/proc/stat"));
  for (std::string line; std::getline(st, line);)
    if (line.rfind("btime ", 0) == 0) boot = std::stoull(line.substr(6));
  auto p = parse_proc_stat(read_file("/proc/self/stat"), sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE), boot);
  if (!p) return std::nullopt;
  p->open_fds = count_fds();
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) p->max_fds = lim.rlim_cur;
  return p;
}

void write_process_metrics(MetricsWriter& w, const ProcessStats& p) {
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    double value;
  };
  const Family families[] = {
      {"process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", p.cpu_seconds},
      {"process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
       p.start_time_seconds},
      {"process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", double(p.resident_bytes)},
      {"process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", double(p.virtual_bytes)},
      {"process_open_fds", "gauge", "Number of open file descriptors.", double(p.open_fds)},
      {"process_max_fds", "gauge", "Maximum number of open file descriptors.", double(p.max_fds)},
  };
  for (const Family& f : families) {
    w.family(f.name, f.type, f.help);
    w.sample({}, f.value);
  }
}

}  // namespace svcdp::control
