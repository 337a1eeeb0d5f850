// Flows across a restart (--save-flows): at exit svcdp writes its
// conntrack (Service and masqueraded flows, affinity entries) to
// STATE_DIR/flows.bin; the next start reads it once the first tables are
// published and hands each worker its shard's flows to put back, with
// service ids renumbered by (namespace, name, port, protocol) -- ids are
// per process -- so that connections through Services, SNAT'd NodePorts
// and masqueraded egress survive a rolling update. Each restored flow is
// checked against the new tables at its next packet (kept, moved or
// reset as any flow would be). The file is binary, versioned, and read
// only when the worker count (which owns which SNAT port) is the same.
#pragma once

#include "dataplane/worker.h"
#include "lb/conntrack.h"
#include "lb/service.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace svcdp::control {

// Writes every live flow of `ct` (workers stopped); `now_s` on the
// workers' clock. Returns the number written. Throws std::runtime_error.
// Thread: main.
uint64_t save_flows(const std::string& path, const lb::Conntrack& ct, uint32_t now_s, const lb::ServiceTable& table);

struct LoadedFlows {
  std::vector<std::vector<dp::RestoreQueue::Entry>> per_worker;
  uint64_t flows = 0;
  uint64_t dropped = 0;  // their service is gone
};

// Reads `path` (then removes it) for `workers` workers and the services
// of `table`; nullopt when there is no file. Throws std::runtime_error on
// a broken file or another worker count (the file is removed all the
// same: a bad file must not fail every start). Thread: control.
std::optional<LoadedFlows> load_flows(const std::string& path, unsigned workers, const lb::ServiceTable& table);

}  // namespace svcdp::control
