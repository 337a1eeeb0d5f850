// DPDK memory on one NUMA socket (hugepages, or the --no-huge heap), as a
// std::pmr::memory_resource for lb/'s tables. Thread: control (allocation
// happens before workers start).
#pragma once

#include "dataplane/error.h"

#include <rte_malloc.h>

#include <memory_resource>
#include <string>

namespace svcdp::dp {

class SocketMemory final : public std::pmr::memory_resource {
 public:
  explicit SocketMemory(int socket) : socket_(socket) {}
  int socket() const { return socket_; }

 private:
  void* do_allocate(size_t bytes, size_t align) override {
    void* p = rte_malloc_socket("svcdp", bytes, static_cast<unsigned>(align), socket_);
    if (p == nullptr)
      throw DataplaneError("cannot allocate " + std::to_string(bytes >> 20) + " MiB of DPDK memory on socket " +
                           std::to_string(socket_) +
                           " (reserve more hugepages, raise EAL -m, or lower --conntrack-capacity)");
    return p;
  }
  void do_deallocate(void* p, size_t, size_t) override { rte_free(p); }
  bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override { return this == &o; }

  int socket_;
};

}  // namespace svcdp::dp
