// Publishes Fib generations to the workers with RCU (rte_rcu_qsbr): the
// control thread swaps one pointer; workers read it without locks and
// report a quiescent state once per poll loop. Old generations go to a
// defer queue with the RCU token of their retirement and are freed by
// reclaim() once every online worker has passed a quiescent state since.
// Nobody waits: not the workers, not the control thread.
#pragma once

#include "dataplane/fib.h"

#include <rte_rcu_qsbr.h>

#include <atomic>
#include <deque>
#include <memory>

namespace svcdp::dp {

class FibPublisher {
 public:
  // Thread: control (after EAL init).
  explicit FibPublisher(unsigned max_workers);
  ~FibPublisher();
  FibPublisher(const FibPublisher&) = delete;
  FibPublisher& operator=(const FibPublisher&) = delete;

  // The current generation (never null once the first one is published).
  // Thread: workers, between thread_online() and thread_offline().
  const Fib* current() const { return current_.load(std::memory_order_acquire); }

  // Thread: the worker `id`.
  void thread_online(unsigned id) { rte_rcu_qsbr_thread_online(qsv_, id); }
  void thread_offline(unsigned id) { rte_rcu_qsbr_thread_offline(qsv_, id); }
  void quiescent(unsigned id) { rte_rcu_qsbr_quiescent(qsv_, id); }

  // Registers worker `id` (< max_workers). Thread: control, before launch.
  void register_worker(unsigned id);

  // Makes `fib` current and retires the previous generation (freed by a
  // later reclaim(), so that freeing is not on the way of the next change).
  // Never waits. Thread: control.
  void publish(std::unique_ptr<Fib> fib);

  // Frees retired generations no worker can still see; returns how many.
  // Thread: control (once per loop).
  size_t reclaim();
  // Waits for a grace period, then reclaims (tests, shutdown).
  // Thread: control.
  void synchronize();
  size_t retired() const { return retired_.size(); }

  // The generation number currently published. Thread: control.
  uint64_t generation() const;

 private:
  struct Retired {
    uint64_t token;
    const Fib* fib;
  };
  rte_rcu_qsbr* qsv_ = nullptr;
  std::atomic<const Fib*> current_{nullptr};
  std::deque<Retired> retired_;
};

}  // namespace svcdp::dp
