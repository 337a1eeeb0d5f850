// The process_* series every Prometheus client library exports (their
// names, units and meaning as client_golang's process collector has them),
// read from /proc: start time, CPU, memory, file descriptors.
#pragma once

#include "control/metrics_writer.h"

#include <cstdint>
#include <optional>
#include <string_view>

namespace svcdp::control {

struct ProcessStats {
  double cpu_seconds = 0;        // user + system
  double start_time_seconds = 0; // Unix time
  uint64_t resident_bytes = 0, virtual_bytes = 0;
  uint64_t open_fds = 0, max_fds = 0;
};

// This process's figures now; nullopt when /proc cannot be read.
// Thread: any.
std::optional<ProcessStats> process_stats();

// Parses /proc/<pid>/stat (`stat`, after the command's closing
// parenthesis) with the clock tick and page size, and the system's boot
// time (/proc/stat btime). Thread: any.
std::optional<ProcessStats> parse_proc_stat(std::string_view stat, long ticks_per_second, long page_size,
                                            uint64_t boot_time);

// The families, into `w`. Thread: any.
void write_process_metrics(MetricsWriter& w, const ProcessStats& p);

}  // namespace svcdp::control
