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
  // exception port. Every port has one queue pair per worker
  // (config.workers), as svcdp sets them up on a NIC.
  RingHarness(dp::DataplaneConfig config, bool with_kernel);
  ~RingHarness();
  RingHarness(const RingHarness&) = delete;
  RingHarness& operator=(const RingHarness&) = delete;

  dp::Dataplane& dataplane() { return *dp_; }
  Mac mac(dp::Role role) const;

  // Queues `frame` as received on `role`'s port, in RX queue `queue` (the
  // worker of that index polls it, as if RSS had put it there). False
  // when the pool or the ring is exhausted.
  bool inject(dp::Role role, const Bytes& frame, unsigned queue = 0);
  // Everything `role`'s port sent since the last call, on any queue.
  std::vector<Bytes> sent(dp::Role role);
  // Drops what ports sent without looking.
  void discard_sent();
  // `rounds` times: poll every worker, advance the clock by `step_ns`,
  // poll the neighbour and control halves; then a last worker poll to send what the
  // control thread queued.
  void run(int rounds = 3, uint64_t step_ns = 100'000);

  uint64_t now_ns = 1'000'000'000;

 private:
  struct RingPort {
    std::vector<rte_ring*> rx;  // per queue: the harness enqueues what the port "receives"
    std::vector<rte_ring*> tx;  // and dequeues what svcdp sent
    std::string device;
  };
  static RingPort make_port(const std::string& name, unsigned queues);

  std::array<RingPort, dp::kRoleCount> ports_;
  std::unique_ptr<dp::Dataplane> dp_;
};

}  // namespace svcdp::testing
