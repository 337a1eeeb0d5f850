#include "control/admin_socket.h"

#include <nlohmann/json.hpp>

#include "conf/inet.h"
#include "control/log.h"

#include <poll.h>
#include <rte_byteorder.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <stdexcept>

namespace svcdp::control {

// How long svcdpctl flush waits for every worker to finish its shard.
constexpr unsigned kFlushTimeoutMs = 5000;
namespace {

std::string error_json(const std::string& what) { return json_line(nlohmann::json{{"error", what}}); }

std::optional<uint8_t> parse_proto(const std::string& s) {
  if (s == "tcp" || s == "TCP") return lb::kTcp;
  if (s == "udp" || s == "UDP") return lb::kUdp;
  return std::nullopt;
}

// "10.0.0.1:80" → address and port, network order.
bool parse_addr_port(const std::string& s, lb::be32& addr, lb::be16& port) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  auto ip = conf::parse_ipv4(s.substr(0, colon));
  char* end = nullptr;
  const unsigned long p = std::strtoul(s.c_str() + colon + 1, &end, 10);
  if (!ip || *end || p == 0 || p > 65535) return false;
  addr = rte_cpu_to_be_32(*ip);
  port = rte_cpu_to_be_16(static_cast<uint16_t>(p));
  return true;
}

}  // namespace

AdminSocket::AdminSocket(const std::string& path, Introspection& introspection, dp::Dataplane& dataplane)
    : path_(path), introspection_(introspection), dataplane_(dataplane) {
  sockaddr_un sa{};
  if (path.size() >= sizeof sa.sun_path) throw std::runtime_error("--admin-socket path too long: " + path);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  ::unlink(path.c_str());
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd_, 8) != 0) {
    const std::string why = std::strerror(errno);
    if (fd_ >= 0) ::close(fd_);
    throw std::runtime_error("cannot listen on admin socket " + path + ": " + why);
  }
  ::chmod(path.c_str(), 0660);
  thread_ = std::thread([this] { serve(); });
}

AdminSocket::~AdminSocket() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(fd_);
  ::unlink(path_.c_str());
}

void AdminSocket::serve() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    timeval tv{2, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string line;
    char ch;
    while (line.size() < 4096 && ::read(c, &ch, 1) == 1 && ch != '\n') line += ch;
    const std::string answer = handle(line);
    for (size_t off = 0; off < answer.size();) {
      const ssize_t n = ::write(c, answer.data() + off, answer.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(c);
  }
}

std::string AdminSocket::handle(const std::string& request) {
  std::istringstream in(request);
  std::string cmd, word;
  in >> cmd;
  std::map<std::string, std::string> args;
  std::vector<std::string> plain;
  while (in >> word) {
    const auto eq = word.find('=');
    if (eq == std::string::npos)
      plain.push_back(word);
    else
      args[word.substr(0, eq)] = word.substr(eq + 1);
  }
  // ns/name[:port] → service ids.
  auto service_ids = [&](const std::string& spec, std::string& error) -> std::vector<uint32_t> {
    const auto slash = spec.find('/');
    const auto colon = spec.find(':');
    if (slash == std::string::npos) {
      error = "service must be NAMESPACE/NAME[:PORT], not '" + spec + "'";
      return {};
    }
    const std::string ns = spec.substr(0, slash);
    const std::string name = spec.substr(slash + 1, colon == std::string::npos ? std::string::npos : colon - slash - 1);
    const std::string port = colon == std::string::npos ? "" : spec.substr(colon + 1);
    auto ids = introspection_.service_ids(ns, name, port);
    if (!ids) error = "no service " + spec;
    return ids.value_or(std::vector<uint32_t>{});
  };

  if (cmd == "services") return introspection_.services_json();
  if (cmd == "stats") return introspection_.stats_json();
  if (cmd == "status") return introspection_.status_json(250);
  if (cmd == "neighbours") return introspection_.neighbours_json();
  if (cmd == "nodes") return introspection_.nodes_json();
  if (cmd == "dns") {
    if (!plain.empty() && plain[0] == "stats") return introspection_.dns_stats_json();
    if (!plain.empty() && plain[0] == "lookup" && args.count("name"))
      return introspection_.dns_lookup_json(args["name"], args.count("type") ? args["type"] : "A");
    return error_json("dns stats | dns lookup name=NAME [type=TYPE]");
  }
  if (cmd == "trace") {
    const unsigned long count = args.count("n") ? std::strtoul(args["n"].c_str(), nullptr, 10) : 0;
    if (count < 1 || count > dp::TraceBuffer::kMax)
      return error_json("trace needs n=1.." + std::to_string(dp::TraceBuffer::kMax));
    const unsigned long seconds = args.count("timeout") ? std::strtoul(args["timeout"].c_str(), nullptr, 10) : 10;
    return trace_json(dataplane_.trace(static_cast<uint32_t>(count), static_cast<unsigned>(std::min(seconds, 60ul) * 1000)));
  }
  if (cmd == "conntrack") {
    FlowFilter f;
    std::string error;
    if (args.count("service")) {
      auto ids = service_ids(args["service"], error);
      if (!error.empty()) return error_json(error);
      f.service_id = ids[0];
    }
    for (const char* key : {"client", "endpoint"}) {
      if (!args.count(key)) continue;
      auto ip = conf::parse_ipv4(args[key]);
      if (!ip) return error_json(std::string(key) + " must be an IPv4 address");
      (std::string(key) == "client" ? f.client : f.endpoint) = rte_cpu_to_be_32(*ip);
    }
    if (args.count("proto")) {
      f.proto = parse_proto(args["proto"]);
      if (!f.proto) return error_json("proto must be tcp or udp");
    }
    if (args.count("limit")) f.limit = std::strtoul(args["limit"].c_str(), nullptr, 10);
    return introspection_.conntrack_json(f);
  }
  if (cmd == "flush") {
    dp::FlushRequest r;
    std::vector<dp::FlushRequest> requests;
    std::string what;
    if (!plain.empty() && plain[0] == "all") {
      what = "all flows";
      requests.push_back(r);
    } else if (args.count("service")) {
      std::string error;
      auto ids = service_ids(args["service"], error);
      if (!error.empty()) return error_json(error);
      for (uint32_t id : ids) {
        r.kind = dp::FlushRequest::Kind::kService;
        r.service_id = id;
        requests.push_back(r);
      }
      what = "service " + args["service"];
    } else if (args.count("flow")) {
      // PROTO,CLIENT:PORT,FRONTEND:PORT
      std::istringstream f(args["flow"]);
      std::string proto, client, frontend;
      std::getline(f, proto, ',');
      std::getline(f, client, ',');
      std::getline(f, frontend, ',');
      auto p = parse_proto(proto);
      r.kind = dp::FlushRequest::Kind::kFlow;
      if (!p || !parse_addr_port(client, r.flow.src, r.flow.sport) || !parse_addr_port(frontend, r.flow.dst, r.flow.dport))
        return error_json("flow must be PROTO,CLIENT:PORT,FRONTEND:PORT");
      r.flow.proto = *p;
      what = "flow " + args["flow"];
      requests.push_back(r);
    } else {
      return error_json("flush what? all, service=NS/NAME[:PORT] or flow=PROTO,CLIENT:PORT,FRONTEND:PORT");
    }
    const auto removed = dataplane_.flush(requests, kFlushTimeoutMs);
    if (!removed) return error_json("flush of " + what + " did not finish within 5 s (workers stalled?)");
    log::info("flushed", {{"what", what}, {"entries", std::to_string(*removed)}});
    return json_line(nlohmann::ordered_json{{"flushed", what}, {"entries", *removed}});
  }
  return error_json("unknown request '" + cmd + "' (services, conntrack, stats, status, neighbours, nodes, trace, flush, dns)");
}

}  // namespace svcdp::control
