// Where lb/'s large tables live. lb/ needs no EAL: it takes a
// std::pmr::memory_resource, which the dataplane makes hugepage memory on
// the NUMA socket of the worker that uses the table (rte_malloc_socket),
// and tests and tools leave as the heap.
#pragma once

#include <cstddef>
#include <memory>
#include <memory_resource>
#include <new>

namespace svcdp::lb {

// The memory a table is given, or the heap when none is.
inline std::pmr::memory_resource* or_heap(std::pmr::memory_resource* memory) {
  return memory ? memory : std::pmr::new_delete_resource();
}

// A shared object of type T made in `memory` (the heap if null), as the
// tables of a generation are.
template <typename T, typename... Args>
std::shared_ptr<T> make_table(std::pmr::memory_resource* memory, Args&&... args) {
  return std::allocate_shared<T>(std::pmr::polymorphic_allocator<T>(or_heap(memory)), std::forward<Args>(args)...);
}

// A fixed-size array of default-constructed T in `memory`, cache-line
// aligned. T must be trivially destructible (atomics, plain structs).
template <typename T>
class TableArray {
  static_assert(std::is_trivially_destructible_v<T>);

 public:
  TableArray(size_t n, std::pmr::memory_resource* memory)
      : memory_(or_heap(memory)),
        n_(n),
        data_(static_cast<T*>(memory_->allocate(n * sizeof(T), kAlign))) {
    std::uninitialized_default_construct_n(data_, n);
  }
  ~TableArray() { memory_->deallocate(data_, n_ * sizeof(T), kAlign); }
  TableArray(const TableArray&) = delete;
  TableArray& operator=(const TableArray&) = delete;

  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  size_t size() const { return n_; }

 private:
  static constexpr size_t kAlign = alignof(T) > 64 ? alignof(T) : 64;
  std::pmr::memory_resource* memory_;
  size_t n_;
  T* data_;
};

}  // namespace svcdp::lb
