// The real Dataplane over net_ring ports, driven by hand: frames are
// injected into a port's RX ring, workers and the control half are polled,
// and what each port sent is read back. Used by the pipeline tests and the
// packet fuzzer. Needs an initialised EAL. Thread: one test thread.
#pragma once

#include "dataplane/dataplane.h"
#include "dataplane/testing/packet_builder.h"

#include <array>
#include <memory>
#include <vector>

namespace svcdp::testing {

class RingHarness {
 public:
  // `config`'s device names are filled in; `with_kernel` adds an
  // exception port.
  RingHarness(dp::DataplaneConfig config, bool with_kernel);
  ~RingHarness();
  RingHarness(const RingHarness&) = delete;
  RingHarness& operator=(const RingHarness&) = delete;

  dp::Dataplane& dataplane() { return *dp_; }
  Mac mac(dp::Role role) const;

  // Queues `frame` as received on `role`'s port. False when the pool or
  // the ring is exhausted.
  bool inject(dp::Role role, const Bytes& frame);
  // Everything `role`'s port sent since the last call.
  std::vector<Bytes> sent(dp::Role role);
  // Drops what ports sent without looking.
  void discard_sent();
  // `rounds` times: poll every worker, advance the clock by `step_ns`,
  // poll the control half; then a last worker poll to send what the
  // control thread queued.
  void run(int rounds = 3, uint64_t step_ns = 100'000);

  uint64_t now_ns = 1'000'000'000;

 private:
  struct RingPort {
    rte_ring* rx = nullptr;  // the harness enqueues what the port "receives"
    rte_ring* tx = nullptr;  // and dequeues what svcdp sent
    std::string device;
  };
  RingPort make_port(const std::string& name);

  std::array<RingPort, dp::kRoleCount> ports_;
  std::unique_ptr<dp::Dataplane> dp_;
};

}  // namespace svcdp::testing
