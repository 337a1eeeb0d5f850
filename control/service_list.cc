#include "control/service_list.h"

#include <algorithm>

namespace svcdp::control {

template <lb::Family F>
std::vector<typename F::Addr> announced_ips(const lb::BasicService<F>& s) {
  std::vector<typename F::Addr> ips;
  if (!s.has_usable(true)) return ips;
  for (const lb::BasicFrontendAddr<F>& f : s.spec().frontends)
    if (f.kind == lb::Frontend::kExternalIp || f.kind == lb::Frontend::kLoadBalancerIp) ips.push_back(f.vip);
  return ips;
}

template <lb::Family F>
void BasicServiceList<F>::count_announced(const lb::BasicService<F>& s, int delta) {
  for (const Addr& ip : announced_ips(s)) {
    if (delta > 0) {
      if (announced_count_[ip]++ == 0) announced_stale_ = true;
    } else if (auto it = announced_count_.find(ip); it != announced_count_.end() && --it->second == 0) {
      announced_count_.erase(it);
      announced_stale_ = true;
    }
  }
}

template <lb::Family F>
void BasicServiceList<F>::set(uint32_t at, Ptr p) {
  if (at == all_.size()) {
    all_.emplace_back();
    items_.push_back(nullptr);
  }
  items_[at] = p.get();
  all_[at] = std::move(p);
  const size_t c = at / kChunk;
  if (c >= chunk_stale_.size()) chunk_stale_.resize(c + 1, true);
  chunk_stale_[c] = true;
}

template <lb::Family F>
void BasicServiceList<F>::replace(std::span<const Ptr> old, std::span<const Ptr> fresh) {
  std::vector<bool> taken(fresh.size(), false);
  for (const Ptr& o : old) {
    count_announced(*o, -1);
    const uint32_t id = o->spec().id;
    const uint32_t at = position_[id];
    auto f = std::find_if(fresh.begin(), fresh.end(), [&](const Ptr& p) { return p->spec().id == id; });
    if (f != fresh.end()) {
      set(at, *f);
      taken[static_cast<size_t>(f - fresh.begin())] = true;
      continue;
    }
    position_[id] = kNone;
    const auto last = static_cast<uint32_t>(all_.size() - 1);
    if (at != last) {
      position_[all_[last]->spec().id] = at;
      set(at, std::move(all_[last]));
    }
    all_.pop_back();
    items_.pop_back();
    chunk_stale_[last / kChunk] = true;
  }
  for (size_t i = 0; i < fresh.size(); ++i) {
    count_announced(*fresh[i], +1);
    if (taken[i]) continue;
    const uint32_t id = fresh[i]->spec().id;
    if (id >= position_.size()) position_.resize(id + 1, kNone);
    position_[id] = static_cast<uint32_t>(all_.size());
    set(static_cast<uint32_t>(all_.size()), fresh[i]);
  }
}

template <lb::Family F>
typename lb::BasicServiceTable<F>::Services BasicServiceList<F>::services() {
  const size_t chunks = (all_.size() + kChunk - 1) / kChunk;
  chunks_.resize(chunks);
  chunk_stale_.resize(chunks);
  for (size_t c = 0; c < chunks; ++c) {
    if (!chunk_stale_[c]) continue;
    const auto first = all_.begin() + static_cast<std::ptrdiff_t>(c * kChunk);
    const auto last = all_.begin() + static_cast<std::ptrdiff_t>(std::min(all_.size(), (c + 1) * kChunk));
    chunks_[c] = std::make_shared<const std::vector<Ptr>>(first, last);
    chunk_stale_[c] = false;
  }
  return {items_, chunks_};
}

template <lb::Family F>
auto BasicServiceList<F>::announced() -> const std::vector<Addr>& {
  if (announced_stale_) {
    announced_.clear();
    for (const auto& [ip, n] : announced_count_) announced_.push_back(ip);
    announced_stale_ = false;
  }
  return announced_;
}

template std::vector<lb::be32> announced_ips<lb::Ip4>(const lb::Service&);
template std::vector<lb::Addr6> announced_ips<lb::Ip6>(const lb::Service6&);
template class BasicServiceList<lb::Ip4>;
template class BasicServiceList<lb::Ip6>;

}  // namespace svcdp::control
