// The packet trace (VPP's `trace add`, grout's trace): the next N packets
// a worker receives are recorded with the stages they went through and
// their verdict, so that an operator sees why a packet went where it went
// (svcdpctl trace N). Nothing is recorded, and nothing costs more than a
// well-predicted branch per stage, while no trace is asked for.
#pragma once

#include "dataplane/drop_reason.h"
#include "dataplane/stage.h"
#include "dataplane/types.h"

#include <array>
#include <atomic>
#include <cstdint>

namespace svcdp::dp {

struct TraceRecord {
  enum class Verdict : uint8_t { kNone, kTx, kDrop, kPunt };
  uint64_t tsc = 0;
  Role in = Role::UPLINK;
  uint8_t nstages = 0;
  std::array<Stage, 16> stages{};
  Verdict verdict = Verdict::kNone;
  uint16_t detail = 0;  // kTx: the Role; kDrop: the Drop reason; kPunt: 0 ARP, 1 next hop unresolved
  // The packet as it arrived (IPv4; zero otherwise).
  be32 src = 0, dst = 0;
  be16 sport = 0, dport = 0;
  uint8_t proto = 0;
  uint16_t ether_type = 0;  // host order

  void add(Stage s) {
    if (nstages < stages.size()) stages[nstages++] = s;
  }
};

// One worker's trace: armed by one requester at a time (Dataplane::trace
// serialises them), filled by the worker only.
class TraceBuffer {
 public:
  static constexpr uint32_t kMax = 256;

  // Thread: the requester. Asks for the next `n` packets (at most kMax).
  void arm(uint32_t n) {
    want_ = n < kMax ? n : kMax;
    request_.store(request_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }
  // Records completed since the last arm. Thread: the requester, which
  // may read records [0, published()).
  uint32_t published() const { return published_.load(std::memory_order_acquire); }
  const TraceRecord& record(uint32_t i) const { return records_[i]; }

  // Thread: the worker, once per poll round: takes a new request.
  void poll() {
    const uint64_t r = request_.load(std::memory_order_acquire);
    if (r == seen_) return;
    seen_ = r;
    left_ = want_;
    begun_ = written_ = 0;
    published_.store(0, std::memory_order_relaxed);
  }
  // Thread: the worker. Whether the next packet is to be traced, and its
  // record (only when wanted()), filled while the packet goes through the
  // stages and published by the next publish().
  bool wanted() const { return left_ != 0; }
  TraceRecord* begin() {
    --left_;
    records_[begun_] = TraceRecord{};
    return &records_[begun_++];
  }
  uint32_t index(const TraceRecord* r) const { return static_cast<uint32_t>(r - records_.data()); }
  TraceRecord* at(uint32_t i) { return &records_[i]; }
  // Once the packets of the records begun have left the stages.
  void publish() {
    if (begun_ == written_) return;
    written_ = begun_;
    published_.store(written_, std::memory_order_release);
  }

 private:
  std::array<TraceRecord, kMax> records_{};
  std::atomic<uint64_t> request_{0};
  uint32_t want_ = 0;
  alignas(64) std::atomic<uint32_t> published_{0};
  uint64_t seen_ = 0;
  uint32_t left_ = 0, begun_ = 0, written_ = 0;
};

}  // namespace svcdp::dp
