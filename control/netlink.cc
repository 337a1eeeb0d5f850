#include "control/netlink.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <type_traits>

// The rtnetlink macros (NLMSG_NEXT, RTA_NEXT, NLMSG_OK...) cast char
// pointers to the header types and compare the length with an int: the
// buffers are NLMSG_ALIGN-ed (4 bytes), so the casts are sound.
#pragma GCC diagnostic ignored "-Wcast-align"
#pragma GCC diagnostic ignored "-Wsign-compare"

namespace svcdp::control {
namespace {

std::string err(const std::string& what, int e) { return what + ": " + std::strerror(e); }

// A request: nlmsghdr, a fixed family header, then rtattrs (RFC 3549
// section 2.3.2), each padded to 4 bytes.
class Request {
 public:
  Request(uint16_t type, uint16_t flags, const void* body, size_t len) : b_(NLMSG_SPACE(len)) {
    auto* h = reinterpret_cast<nlmsghdr*>(b_.data());
    h->nlmsg_type = type;
    h->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
    std::memcpy(NLMSG_DATA(h), body, len);
  }
  void attr(uint16_t type, uint32_t be_value) { attr(type, &be_value, sizeof be_value); }
  void attr(uint16_t type, const void* data, size_t len) {
    const size_t at = b_.size();
    b_.resize(at + RTA_SPACE(len));
    auto* a = reinterpret_cast<rtattr*>(b_.data() + at);
    a->rta_type = type;
    a->rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
    std::memcpy(RTA_DATA(a), data, len);
  }
  std::vector<uint8_t> done() {
    reinterpret_cast<nlmsghdr*>(b_.data())->nlmsg_len = static_cast<uint32_t>(b_.size());
    return std::move(b_);
  }

 private:
  std::vector<uint8_t> b_;
};

template <typename F>
void for_each_attr(const rtattr* a, int len, F f) {
  for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) f(a);
}

uint32_t attr_u32(const rtattr* a) {
  uint32_t v = 0;
  std::memcpy(&v, RTA_DATA(a), std::min<size_t>(sizeof v, RTA_PAYLOAD(a)));
  return v;
}

// The address families, in the forms the structs hold: IPv4 in host
// order, IPv6 as its 16 bytes.
template <class Addr>
constexpr uint8_t kFamily = std::is_same_v<Addr, Ip6> ? AF_INET6 : AF_INET;

void read(const rtattr* a, uint32_t& v) { v = ntohl(attr_u32(a)); }
void read(const rtattr* a, Ip6& v) {
  if (RTA_PAYLOAD(a) >= v.size()) std::memcpy(v.data(), RTA_DATA(a), v.size());
}
void put(Request& r, uint16_t type, uint32_t v) { r.attr(type, htonl(v)); }
void put(Request& r, uint16_t type, const Ip6& v) { r.attr(type, v.data(), v.size()); }
template <class Addr>
bool is_set(const Addr& v) {
  return v != Addr{};
}

int ioctl_socket() { return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); }

ifreq named(const std::string& name) {
  ifreq r{};
  std::strncpy(r.ifr_name, name.c_str(), IFNAMSIZ - 1);
  return r;
}

}  // namespace

Netlink::Netlink() : fd_(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {
  if (fd_ < 0) throw NetlinkError(err("netlink socket", errno));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) throw NetlinkError(err("netlink bind", errno));
}

Netlink::~Netlink() {
  if (fd_ >= 0) close(fd_);
}

std::vector<std::vector<uint8_t>> Netlink::transact(std::vector<uint8_t> request, const std::string& what) {
  auto* h = reinterpret_cast<nlmsghdr*>(request.data());
  h->nlmsg_seq = ++seq_;
  if (send(fd_, request.data(), request.size(), 0) < 0) throw NetlinkError(err(what, errno));
  std::vector<std::vector<uint8_t>> out;
  std::vector<uint8_t> buf(1 << 16);
  for (;;) {
    const ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    if (n < 0) throw NetlinkError(err(what, errno));
    int len = static_cast<int>(n);
    for (auto* m = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(m, len); m = NLMSG_NEXT(m, len)) {
      if (m->nlmsg_seq != seq_) continue;
      if (m->nlmsg_type == NLMSG_DONE) return out;
      if (m->nlmsg_type == NLMSG_ERROR) {
        const int e = -reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(m))->error;
        if (e == 0) return out;  // the ACK of a request without answers
        throw NetlinkError(err(what, e));
      }
      const auto* p = reinterpret_cast<const uint8_t*>(m);
      out.emplace_back(p, p + m->nlmsg_len);
    }
  }
}

std::optional<int> Netlink::ifindex(const std::string& name) const {
  const unsigned i = if_nametoindex(name.c_str());
  return i == 0 ? std::nullopt : std::optional<int>(static_cast<int>(i));
}

template <class Addr>
std::vector<BasicIfAddress<Addr>> Netlink::addresses(int ifindex) {
  ifaddrmsg q{};
  q.ifa_family = kFamily<Addr>;
  std::vector<BasicIfAddress<Addr>> out;
  for (const auto& msg : transact(Request(RTM_GETADDR, NLM_F_DUMP, &q, sizeof q).done(), "list addresses")) {
    const auto* h = reinterpret_cast<const nlmsghdr*>(msg.data());
    const auto* ifa = static_cast<const ifaddrmsg*>(NLMSG_DATA(h));
    if (static_cast<int>(ifa->ifa_index) != ifindex || ifa->ifa_family != kFamily<Addr>) continue;
    if (ifa->ifa_scope != RT_SCOPE_UNIVERSE || (ifa->ifa_flags & IFA_F_TEMPORARY)) continue;
    BasicIfAddress<Addr> a;
    a.prefix_len = ifa->ifa_prefixlen;
    for_each_attr(IFA_RTA(ifa), static_cast<int>(IFA_PAYLOAD(h)), [&](const rtattr* r) {
      // IPv4's own address is IFA_LOCAL (IFA_ADDRESS is the peer's on a
      // point-to-point link); IPv6 has only IFA_ADDRESS.
      if (r->rta_type == (kFamily<Addr> == AF_INET ? IFA_LOCAL : IFA_ADDRESS)) read(r, a.local);
      if (r->rta_type == IFA_BROADCAST) read(r, a.broadcast);
    });
    if (is_set(a.local)) out.push_back(a);
  }
  return out;
}

template <class Addr>
std::vector<BasicIfRoute<Addr>> Netlink::routes(int ifindex) {
  rtmsg q{};
  q.rtm_family = kFamily<Addr>;
  std::vector<BasicIfRoute<Addr>> out;
  for (const auto& msg : transact(Request(RTM_GETROUTE, NLM_F_DUMP, &q, sizeof q).done(), "list routes")) {
    const auto* h = reinterpret_cast<const nlmsghdr*>(msg.data());
    const auto* rt = static_cast<const rtmsg*>(NLMSG_DATA(h));
    if (rt->rtm_family != kFamily<Addr> || rt->rtm_protocol == RTPROT_KERNEL || rt->rtm_type != RTN_UNICAST) continue;
    BasicIfRoute<Addr> r;
    r.dst_len = rt->rtm_dst_len;
    r.protocol = rt->rtm_protocol;
    r.scope = rt->rtm_scope;
    r.onlink = rt->rtm_flags & RTNH_F_ONLINK;
    int oif = 0;
    uint32_t table = rt->rtm_table;
    for_each_attr(RTM_RTA(rt), static_cast<int>(RTM_PAYLOAD(h)), [&](const rtattr* a) {
      switch (a->rta_type) {
        case RTA_DST: read(a, r.dst); break;
        case RTA_GATEWAY: read(a, r.gateway); break;
        case RTA_PREFSRC: read(a, r.prefsrc); break;
        case RTA_PRIORITY: r.metric = attr_u32(a); break;
        case RTA_OIF: oif = static_cast<int>(attr_u32(a)); break;
        case RTA_TABLE: table = attr_u32(a); break;
      }
    });
    if (oif == ifindex && table == RT_TABLE_MAIN) out.push_back(r);
  }
  return out;
}

template <class Addr>
void Netlink::add_address(int ifindex, const BasicIfAddress<Addr>& a) {
  ifaddrmsg m{};
  m.ifa_family = kFamily<Addr>;
  m.ifa_prefixlen = a.prefix_len;
  m.ifa_index = static_cast<unsigned>(ifindex);
  if (kFamily<Addr> == AF_INET6) m.ifa_flags = IFA_F_NODAD;
  Request r(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &m, sizeof m);
  if (kFamily<Addr> == AF_INET) put(r, IFA_LOCAL, a.local);
  put(r, IFA_ADDRESS, a.local);
  if (is_set(a.broadcast)) put(r, IFA_BROADCAST, a.broadcast);
  transact(r.done(), "add address");
}

template <class Addr>
void Netlink::del_address(int ifindex, const BasicIfAddress<Addr>& a) {
  ifaddrmsg m{};
  m.ifa_family = kFamily<Addr>;
  m.ifa_prefixlen = a.prefix_len;
  m.ifa_index = static_cast<unsigned>(ifindex);
  Request r(RTM_DELADDR, 0, &m, sizeof m);
  put(r, kFamily<Addr> == AF_INET ? IFA_LOCAL : IFA_ADDRESS, a.local);
  transact(r.done(), "delete address");
}

template <class Addr>
void Netlink::add_route(int ifindex, const BasicIfRoute<Addr>& route) {
  rtmsg m{};
  m.rtm_family = kFamily<Addr>;
  m.rtm_dst_len = route.dst_len;
  m.rtm_table = RT_TABLE_MAIN;
  m.rtm_protocol = route.protocol;
  m.rtm_scope = route.scope;
  m.rtm_type = RTN_UNICAST;
  if (route.onlink) m.rtm_flags = RTNH_F_ONLINK;
  Request r(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &m, sizeof m);
  if (route.dst_len) put(r, RTA_DST, route.dst);
  if (is_set(route.gateway)) put(r, RTA_GATEWAY, route.gateway);
  if (is_set(route.prefsrc)) put(r, RTA_PREFSRC, route.prefsrc);
  if (route.metric) r.attr(RTA_PRIORITY, &route.metric, sizeof route.metric);
  r.attr(RTA_OIF, static_cast<uint32_t>(ifindex));
  transact(r.done(), "add route");
}

// The two families are all there are.
template std::vector<IfAddress> Netlink::addresses(int);
template std::vector<IfAddress6> Netlink::addresses(int);
template std::vector<IfRoute> Netlink::routes(int);
template std::vector<IfRoute6> Netlink::routes(int);
template void Netlink::add_address(int, const IfAddress&);
template void Netlink::add_address(int, const IfAddress6&);
template void Netlink::del_address(int, const IfAddress&);
template void Netlink::del_address(int, const IfAddress6&);
template void Netlink::add_route(int, const IfRoute&);
template void Netlink::add_route(int, const IfRoute6&);

int Netlink::mtu(const std::string& name) const {
  const int s = ioctl_socket();
  ifreq r = named(name);
  const int rc = ioctl(s, SIOCGIFMTU, &r);
  const int e = errno;
  close(s);
  if (rc != 0) throw NetlinkError(err("MTU of " + name, e));
  return r.ifr_mtu;
}

void Netlink::set_mtu(const std::string& name, int mtu) const {
  const int s = ioctl_socket();
  ifreq r = named(name);
  r.ifr_mtu = mtu;
  const int rc = ioctl(s, SIOCSIFMTU, &r);
  const int e = errno;
  close(s);
  if (rc != 0) throw NetlinkError(err("set MTU of " + name, e));
}

void Netlink::set_up(const std::string& name) const {
  const int s = ioctl_socket();
  ifreq r = named(name);
  int rc = ioctl(s, SIOCGIFFLAGS, &r);
  if (rc == 0) {
    r.ifr_flags = static_cast<short>(r.ifr_flags | IFF_UP);
    rc = ioctl(s, SIOCSIFFLAGS, &r);
  }
  const int e = errno;
  close(s);
  if (rc != 0) throw NetlinkError(err("bring " + name + " up", e));
}

}  // namespace svcdp::control
