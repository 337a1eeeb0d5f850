// An immutable array that the table generations holding it share: copying
// a Fib to make the next generation copies a pointer, not the array (a
// 5,000-node cluster's remote-node list is ~0.5 MB). Thread: any reads;
// built once by the control thread.
#pragma once

#include <memory>
#include <stdexcept>
#include <vector>

namespace svcdp::dp {

template <typename T>
class SharedArray {
 public:
  SharedArray() = default;
  explicit SharedArray(std::vector<T> items) : items_(std::make_shared<const std::vector<T>>(std::move(items))) {}

  const T& operator[](size_t i) const { return (*items_)[i]; }
  const T& at(size_t i) const {
    if (i >= size()) throw std::out_of_range("SharedArray::at");
    return (*items_)[i];
  }
  size_t size() const { return items_ ? items_->size() : 0; }
  bool empty() const { return size() == 0; }
  const T* begin() const { return items_ ? items_->data() : nullptr; }
  const T* end() const { return items_ ? items_->data() + items_->size() : nullptr; }

 private:
  std::shared_ptr<const std::vector<T>> items_;
};

}  // namespace svcdp::dp
