// An immutable array that table generations share and that the next
// generation changes in O(log n): a radix tree -- leaves of 2^LeafBits
// items, inner nodes of 256 children -- copied along the path to each
// item that changes (Clojure's persistent vector, Bagwell's HAMT). A
// generation copied from another copies one pointer; a Node joining a
// 5,000-node cluster copies a leaf and one inner node, not the array.
//
// Edits go through an Edit, which copies a node the first time it
// changes it and marks the copy with its token, so later changes in the
// same edit write in place (Clojure's transients); nodes of the vector it
// started from, and so of every published generation, are never written.
// Thread: reads any; an Edit is the control thread's.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <vector>

namespace svcdp::dp {

template <typename T, unsigned LeafBits = 6>
class PersistentVector {
  static constexpr unsigned kFanBits = 8;
  static constexpr size_t kLeafSize = size_t{1} << LeafBits, kFan = size_t{1} << kFanBits;
  struct Node {
    uint64_t edit = 0;  // the Edit that made this copy (0: none)
  };
  struct Leaf : Node {
    std::array<T, kLeafSize> items{};
  };
  struct Inner : Node {
    std::array<std::shared_ptr<Node>, kFan> child{};
  };

 public:
  PersistentVector() = default;
  explicit PersistentVector(std::vector<T> items) {
    Edit e(PersistentVector{});
    for (T& t : items) e.push_back(std::move(t));
    *this = e.finish();
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Thread: any. `i` < size().
  const T& operator[](size_t i) const {
    const Node* n = root_.get();
    for (unsigned d = depth_; d > 0; --d)
      n = static_cast<const Inner*>(n)->child[(i >> (LeafBits + (d - 1) * kFanBits)) & (kFan - 1)].get();
    return static_cast<const Leaf*>(n)->items[i & (kLeafSize - 1)];
  }
  const T& at(size_t i) const {
    if (i >= size_) throw std::out_of_range("PersistentVector::at");
    return (*this)[i];
  }

  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;
    Iterator(const PersistentVector* v, size_t i) : v_(v), i_(i) {}
    const T& operator*() const { return (*v_)[i_]; }
    const T* operator->() const { return &(*v_)[i_]; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    Iterator operator++(int) {
      Iterator old = *this;
      ++i_;
      return old;
    }
    bool operator==(const Iterator& o) const { return i_ == o.i_; }

   private:
    const PersistentVector* v_;
    size_t i_;
  };
  Iterator begin() const { return {this, 0}; }
  Iterator end() const { return {this, size_}; }

  // Changes to a copy of a vector. Thread: control.
  class Edit {
   public:
    explicit Edit(PersistentVector base) : v_(std::move(base)), token_(fresh_token()) {}

    const PersistentVector& current() const { return v_; }
    size_t size() const { return v_.size_; }
    const T& operator[](size_t i) const { return v_[i]; }
    // Item `i` (< size()), to change.
    T& mut(size_t i) {
      Node* n = own_path(i);
      return static_cast<Leaf*>(n)->items[i & (kLeafSize - 1)];
    }
    void push_back(T item) {
      if (v_.size_ == capacity()) {
        if (v_.root_) {
          auto root = std::make_shared<Inner>();
          root->edit = token_;
          root->child[0] = std::move(v_.root_);
          v_.root_ = std::move(root);
          ++v_.depth_;
        } else {
          auto leaf = std::make_shared<Leaf>();
          leaf->edit = token_;
          v_.root_ = std::move(leaf);
        }
      }
      ++v_.size_;
      mut(v_.size_ - 1) = std::move(item);
    }
    // The vector as edited; the edit goes on from it, copying again.
    PersistentVector finish() {
      token_ = fresh_token();
      return v_;
    }

   private:
    static uint64_t fresh_token() {
      static std::atomic<uint64_t> last{0};
      return last.fetch_add(1, std::memory_order_relaxed) + 1;
    }
    size_t capacity() const { return v_.root_ ? kLeafSize << (v_.depth_ * kFanBits) : 0; }
    // Makes `p` a node of this edit (copying it unless it is one already,
    // or making it when missing); `leaf`: what kind it is.
    Node* own(std::shared_ptr<Node>& p, bool leaf) {
      if (!p) {
        p = leaf ? std::shared_ptr<Node>(std::make_shared<Leaf>()) : std::shared_ptr<Node>(std::make_shared<Inner>());
      } else if (p->edit != token_) {
        p = leaf ? std::shared_ptr<Node>(std::make_shared<Leaf>(static_cast<const Leaf&>(*p)))
                 : std::shared_ptr<Node>(std::make_shared<Inner>(static_cast<const Inner&>(*p)));
      } else {
        return p.get();
      }
      p->edit = token_;
      return p.get();
    }
    Node* own_path(size_t i) {
      Node* n = own(v_.root_, v_.depth_ == 0);
      for (unsigned d = v_.depth_; d > 0; --d) {
        auto& child = static_cast<Inner*>(n)->child[(i >> (LeafBits + (d - 1) * kFanBits)) & (kFan - 1)];
        n = own(child, d == 1);
      }
      return n;
    }

    PersistentVector v_;
    uint64_t token_;
  };

 private:
  std::shared_ptr<Node> root_;
  unsigned depth_ = 0;  // inner levels above the leaves
  size_t size_ = 0;
};

}  // namespace svcdp::dp
