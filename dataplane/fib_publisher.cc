#include "dataplane/fib_publisher.h"

#include "dataplane/error.h"

#include <rte_malloc.h>

namespace svcdp::dp {

FibPublisher::FibPublisher(unsigned max_workers) {
  const size_t sz = rte_rcu_qsbr_get_memsize(max_workers);
  qsv_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("svcdp_fib_rcu", sz, RTE_CACHE_LINE_SIZE));
  if (qsv_ == nullptr || rte_rcu_qsbr_init(qsv_, max_workers) != 0)
    throw DataplaneError("cannot allocate the RCU state for the forwarding tables");
}

FibPublisher::~FibPublisher() {
  // Workers are stopped (offline) by now: nothing can still read these.
  for (auto& d : retired_) delete d.fib;
  delete current_.exchange(nullptr);
  rte_free(qsv_);
}

void FibPublisher::register_worker(unsigned id) {
  if (rte_rcu_qsbr_thread_register(qsv_, id) != 0) throw DataplaneError("cannot register worker with RCU");
}

void FibPublisher::publish(std::unique_ptr<Fib> fib) {
  const Fib* old = current_.exchange(fib.release(), std::memory_order_acq_rel);
  if (old != nullptr) retired_.push_back({rte_rcu_qsbr_start(qsv_), old});
}

size_t FibPublisher::reclaim() {
  size_t freed = 0;
  // Tokens grow with each publish: stop at the first one still in use.
  while (!retired_.empty() && rte_rcu_qsbr_check(qsv_, retired_.front().token, false) == 1) {
    delete retired_.front().fib;
    retired_.pop_front();
    ++freed;
  }
  return freed;
}

void FibPublisher::synchronize() {
  rte_rcu_qsbr_synchronize(qsv_, RTE_QSBR_THRID_INVALID);
  reclaim();
}

uint64_t FibPublisher::generation() const {
  const Fib* f = current();
  return f ? f->generation : 0;
}

}  // namespace svcdp::dp
