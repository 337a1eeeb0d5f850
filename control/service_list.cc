#include "control/service_list.h"

#include <algorithm>

namespace svcdp::control {

std::vector<lb::be32> announced_ips(const lb::Service& s) {
  std::vector<lb::be32> ips;
  if (!s.has_usable(true)) return ips;
  for (const lb::FrontendAddr& f : s.spec().frontends)
    if (f.kind == lb::Frontend::kExternalIp || f.kind == lb::Frontend::kLoadBalancerIp) ips.push_back(f.vip);
  return ips;
}

void ServiceList::count_announced(const lb::Service& s, int delta) {
  for (lb::be32 ip : announced_ips(s)) {
    if (delta > 0) {
      if (announced_count_[ip]++ == 0) announced_stale_ = true;
    } else if (auto it = announced_count_.find(ip); it != announced_count_.end() && --it->second == 0) {
      announced_count_.erase(it);
      announced_stale_ = true;
    }
  }
}

void ServiceList::replace(std::span<const Ptr> old, std::span<const Ptr> fresh) {
  std::vector<bool> taken(fresh.size(), false);
  for (const Ptr& o : old) {
    count_announced(*o, -1);
    const uint32_t id = o->spec().id;
    const uint32_t at = position_[id];
    auto f = std::find_if(fresh.begin(), fresh.end(), [&](const Ptr& p) { return p->spec().id == id; });
    if (f != fresh.end()) {
      all_[at] = *f;
      taken[static_cast<size_t>(f - fresh.begin())] = true;
      continue;
    }
    position_[id] = kNone;
    if (at + 1 != all_.size()) {
      all_[at] = std::move(all_.back());
      position_[all_[at]->spec().id] = at;
    }
    all_.pop_back();
  }
  for (size_t i = 0; i < fresh.size(); ++i) {
    count_announced(*fresh[i], +1);
    if (taken[i]) continue;
    const uint32_t id = fresh[i]->spec().id;
    if (id >= position_.size()) position_.resize(id + 1, kNone);
    position_[id] = static_cast<uint32_t>(all_.size());
    all_.push_back(fresh[i]);
  }
}

const std::vector<lb::be32>& ServiceList::announced() {
  if (announced_stale_) {
    announced_.clear();
    for (const auto& [ip, n] : announced_count_) announced_.push_back(ip);
    announced_stale_ = false;
  }
  return announced_;
}

}  // namespace svcdp::control
