// svcdpctl: inspect and steer a running svcdp through its admin socket
// (control/admin_socket.h). Human tables by default, `-o json` for scripts.
//
//   svcdpctl [--socket PATH] [-o table|json] services
//   svcdpctl ... conntrack [--service NS/NAME[:PORT]] [--client IP] [--endpoint IP] [--proto tcp|udp] [--limit N]
//   svcdpctl ... status | stats | neighbours | nodes
//   svcdpctl ... flush all | flush service NS/NAME[:PORT] | flush flow PROTO CLIENT:PORT FRONTEND:PORT
//   svcdpctl ... dns lookup NAME [TYPE] | dns stats
#include <arpa/inet.h>
#include <boost/program_options.hpp>
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

using simdjson::dom::element;

constexpr const char* kUsage = R"(usage: svcdpctl [--socket PATH] [-o table|json] COMMAND
commands:
  services                       services with their front ends and endpoints (like ipvsadm -Ln)
  conntrack [--service NS/NAME[:PORT]] [--client IP] [--endpoint IP] [--proto tcp|udp] [--limit N]
                                 tracked flows (like conntrack -L)
  status                         version, uptime, the source and its state, generation, workers' load
  stats                          counters, drops, table generation
  neighbours                     the ARP table the workers use (address, MAC, resolved or not)
  nodes                          the remote nodes of the current tables (VTEP, next hop, pod CIDRs)
  trace N [--timeout S]          the next N packets each worker receives (up to 256, waiting up to S
                                 seconds, default 10): the stages each went through and its verdict
  flush all                      drop every tracked flow
  flush service NS/NAME[:PORT]   drop the flows of a service
  flush flow PROTO CLIENT:PORT FRONTEND:PORT
                                 drop one flow
  dns lookup NAME [TYPE]         what svcdp's workers answer to a query for NAME (type A by default),
                                 or that they pass it on to CoreDNS
  dns stats                      DNS queries by type and response code, answered or passed on
options:
  --socket PATH   svcdp's admin socket (default /run/svcdp/svcdp.sock, or $SVCDP_SOCKET)
  -o FORMAT       table (default) or json
  --version       print svcdpctl's version
)";

// A decimal number within [lo, hi], nothing else.
bool number_in(const std::string& s, unsigned long long lo, unsigned long long hi) {
  if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  const unsigned long long v = std::stoull(s);
  return v >= lo && v <= hi;
}

bool ipv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

int usage_error(const std::string& what) {
  std::cerr << "svcdpctl: " << what << " (svcdpctl --help for usage)\n";
  return 2;
}

bool request(const std::string& path, const std::string& line, std::string& answer, std::string& error) {
  sockaddr_un sa{};
  if (path.size() >= sizeof sa.sun_path) return error = "socket path too long", false;
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    error = "cannot reach svcdp at " + path + ": " + std::strerror(errno) + " (is svcdp running? --socket?)";
    if (fd >= 0) ::close(fd);
    return false;
  }
  const std::string msg = line + "\n";
  if (::write(fd, msg.data(), msg.size()) != static_cast<ssize_t>(msg.size())) {
    error = std::string("cannot send the request: ") + std::strerror(errno);
    ::close(fd);
    return false;
  }
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) answer.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return true;
}

std::string str(element e, const char* key) {
  std::string_view v;
  return e[key].get(v) == simdjson::SUCCESS ? std::string(v) : std::string("-");
}
uint64_t num(element e, const char* key) {
  uint64_t v = 0;
  return e[key].get(v) == simdjson::SUCCESS ? v : 0;
}
bool flag(element e, const char* key) {
  bool v = false;
  return e[key].get(v) == simdjson::SUCCESS && v;
}

void print_services(element root) {
  std::printf("generation %llu\n", static_cast<unsigned long long>(num(root, "generation")));
  for (element s : root["services"].get_array()) {
    std::printf("%s/%s:%s %s%s  policy internal=%s external=%s  new_flows=%llu rejected=%llu packets=%llu\n",
                str(s, "namespace").c_str(), str(s, "name").c_str(), str(s, "port").c_str(), str(s, "protocol").c_str(),
                flag(s, "affinity") ? "  affinity=ClientIP" : "", str(s, "internal_policy").c_str(),
                str(s, "external_policy").c_str(), static_cast<unsigned long long>(num(s, "new_flows")),
                static_cast<unsigned long long>(num(s, "rejected")), static_cast<unsigned long long>(num(s, "packets")));
    for (element f : s["frontends"].get_array())
      std::printf("  %-13s %s\n", str(f, "type").c_str(), str(f, "address").c_str());
    for (const char* traffic : {"internal", "external"})
      if (const std::string v = str(s, (std::string(traffic) + "_verdict").c_str()); v != "endpoints")
        std::printf("  %s traffic: %s (%s)\n", traffic, v.c_str(),
                    v == "DROP" ? "no endpoint on this node" : "no endpoint at all");
    for (element r : s["source_ranges"].get_array()) {
      std::string_view range;
      if (r.get(range) == simdjson::SUCCESS) std::printf("  source range  %.*s\n", static_cast<int>(range.size()), range.data());
    }
    simdjson::dom::array eps = s["endpoints"].get_array();
    for (element e : eps) {
      std::string state = flag(e, "ready") ? "ready" : flag(e, "terminating") ? "terminating" : "not-ready";
      if (flag(e, "terminating") && flag(e, "serving") && !flag(e, "ready")) state += ",serving";
      std::printf("  -> %-21s %-10s %-6s %-20s %s\n", str(e, "address").c_str(), str(e, "node").c_str(),
                  flag(e, "local") ? "local" : "remote", state.c_str(),
                  flag(e, "usable") ? "takes new flows" : "existing flows only");
    }
  }
}

void print_conntrack(element root) {
  for (element f : root["flows"].get_array()) {
    std::string proto = str(f, "protocol");
    for (char& c : proto) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::printf("%-4s %-12s idle=%llus/%llus client=%s frontend=%s endpoint=%s snat=%s service=%s worker=%llu\n",
                proto.c_str(), str(f, "state").c_str(), static_cast<unsigned long long>(num(f, "idle_s")),
                static_cast<unsigned long long>(num(f, "timeout_s")), str(f, "client").c_str(),
                str(f, "frontend").c_str(), str(f, "endpoint").c_str(), str(f, "snat").c_str(),
                str(f, "service").c_str(), static_cast<unsigned long long>(num(f, "worker")));
  }
  std::printf("%llu flows shown of %llu matching\n", static_cast<unsigned long long>(num(root, "shown")),
              static_cast<unsigned long long>(num(root, "total")));
}

void print_trace(element root) {
  size_t count = 0;
  for (element p : root["packets"].get_array()) {
    std::string stages;
    for (element s : p["stages"].get_array()) {
      std::string_view v;
      if (s.get(v) != simdjson::SUCCESS) continue;
      if (!stages.empty()) stages += ' ';
      stages += v;
    }
    const std::string what = str(p, "proto") == "-" ? "ether " + str(p, "ether_type")
                                                    : str(p, "proto") + " " + str(p, "src") + " > " + str(p, "dst");
    std::printf("w%llu %-9s %-48s %s -> %s\n", static_cast<unsigned long long>(num(p, "worker")),
                str(p, "port").c_str(), what.c_str(), stages.c_str(), str(p, "verdict").c_str());
    ++count;
  }
  std::printf("%zu packets traced\n", count);
}

void print_lines(element root, const char* section, const char* title) {
  simdjson::dom::array lines;
  if (root[section].get(lines) != simdjson::SUCCESS || lines.size() == 0) return;
  if (title) std::printf("%s:\n", title);
  for (element l : lines) {
    std::string_view v;
    if (l.get(v) == simdjson::SUCCESS) std::printf("  %.*s\n", static_cast<int>(v.size()), v.data());
  }
}

void print_dns_lookup(element root) {
  std::printf("%s %s: ", str(root, "name").c_str(), str(root, "type").c_str());
  if (str(root, "answered_by") != "svcdp") {
    std::printf("passed on to CoreDNS (not a name svcdp answers)\n");
    return;
  }
  std::printf("%s from svcdp%s\n", str(root, "rcode").c_str(), flag(root, "truncated") ? ", truncated" : "");
  print_lines(root, "answer", nullptr);
  print_lines(root, "authority", "authority");
  print_lines(root, "additional", "additional");
}

void print_dns_stats(element root) {
  if (!flag(root, "enabled")) std::printf("cluster DNS is off (svcdp --dns-service)\n");
  std::printf("answered %llu, passed on %llu, not queries %llu\n", static_cast<unsigned long long>(num(root, "answered")),
              static_cast<unsigned long long>(num(root, "passed")),
              static_cast<unsigned long long>(num(root, "not_queries")));
  for (element q : root["queries"].get_array())
    std::printf("  %-6s %-9s %-8s %llu\n", str(q, "type").c_str(),
                str(q, "answered_by") == "svcdp" ? str(q, "rcode").c_str() : "-", str(q, "answered_by").c_str(),
                static_cast<unsigned long long>(num(q, "queries")));
}

// A value as a person reads it: strings without their quotes.
std::string plain(element v) {
  std::string_view text;
  if (v.get(text) == simdjson::SUCCESS) return std::string(text);
  if (v.is_null()) return "-";
  return simdjson::minify(v);
}

void print_object(element e, const std::string& indent) {
  for (auto [key, value] : e.get_object()) {
    if (value.is_object()) {
      std::printf("%s%.*s:\n", indent.c_str(), static_cast<int>(key.size()), key.data());
      print_object(value, indent + "  ");
    } else {
      std::printf("%s%-22.*s %s\n", indent.c_str(), static_cast<int>(key.size()), key.data(), plain(value).c_str());
    }
  }
}

void print_flush(element root) {
  const uint64_t n = num(root, "entries");
  if (n == 0)
    std::printf("nothing flushed: no tracked flow matched %s\n", str(root, "flushed").c_str());
  else
    std::printf("flushed %llu entries (%s)\n", static_cast<unsigned long long>(n), str(root, "flushed").c_str());
}

void print_status(element root) {
  std::printf("svcdp %s, up %llus\n", str(root, "version").c_str(), static_cast<unsigned long long>(num(root, "uptime_s")));
  element src = root["source"];
  std::printf("source      %s (%s", str(src, "description").c_str(), str(src, "state").c_str());
  simdjson::dom::object contact;
  if (src["last_contact_age_s"].get(contact) == simdjson::SUCCESS) {
    std::printf(", %llu events; last answer:", static_cast<unsigned long long>(num(src, "events")));
    for (auto [kind, age] : contact)
      std::printf(" %.*s %ss ago", static_cast<int>(kind.size()), kind.data(), plain(age).c_str());
  }
  std::printf(")\n");
  std::printf("generation  %llu, published %ss ago, %llu service ports, %llu remote nodes, %llu services pending\n",
              static_cast<unsigned long long>(num(root, "generation")), plain(root["generation_age_s"]).c_str(),
              static_cast<unsigned long long>(num(root, "services")), static_cast<unsigned long long>(num(root, "remote_nodes")),
              static_cast<unsigned long long>(num(root, "changes_pending")));
  for (element w : root["workers"].get_array()) {
    double ratio = 0;
    if (w["busy_ratio"].get(ratio) == simdjson::SUCCESS)
      std::printf("worker %-4llu busy %.1f %% (last %llu ms)\n", static_cast<unsigned long long>(num(w, "worker")),
                  ratio * 100, static_cast<unsigned long long>(num(root, "load_window_ms")));
    else
      std::printf("worker %-4llu STALLED (did not go round in %llu ms)\n", static_cast<unsigned long long>(num(w, "worker")),
                  static_cast<unsigned long long>(num(root, "load_window_ms")));
  }
}

void print_neighbours(element root) {
  size_t count = 0;
  for (element n : root["neighbours"].get_array()) {
    std::printf("%-10s %-16s %-18s %s\n", str(n, "port").c_str(), str(n, "address").c_str(), plain(n["mac"]).c_str(),
                str(n, "state").c_str());
    ++count;
  }
  std::printf("%zu neighbours (table holds %llu)\n", count, static_cast<unsigned long long>(num(root, "capacity")));
}

void print_nodes(element root) {
  size_t count = 0;
  for (element n : root["nodes"].get_array()) {
    std::string cidrs;
    for (element c : n["pod_cidrs"].get_array()) {
      if (!cidrs.empty()) cidrs += ',';
      cidrs += plain(c);
    }
    std::printf("%-24s vtep %-16s via %-16s %-18s pods %s\n", str(n, "name").c_str(), str(n, "vtep").c_str(),
                str(n, "next_hop").c_str(), str(n, "vtep_mac").c_str(), cidrs.c_str());
    ++count;
  }
  std::printf("%zu remote nodes in generation %llu\n", count, static_cast<unsigned long long>(num(root, "generation")));
}

namespace po = boost::program_options;

// The admin-socket request line of a command and its own options, or ""
// with `error` set.
std::string request_line(const std::string& cmd, const std::vector<std::string>& rest, std::string& error) {
  const auto fail = [&](const std::string& what) { return error = what, std::string(); };
  po::variables_map vm;
  const auto parse = [&](const po::options_description& opts, const po::positional_options_description& pos) {
    po::store(po::command_line_parser(rest).options(opts).positional(pos).run(), vm);
    po::notify(vm);
  };
  std::vector<std::string> words;
  po::positional_options_description rest_words;
  rest_words.add("words", -1);
  po::options_description none;
  none.add_options()("words", po::value(&words));
  if (cmd == "services" || cmd == "stats" || cmd == "status" || cmd == "neighbours" || cmd == "nodes") {
    parse(none, rest_words);
    if (!words.empty()) return fail(cmd + " takes no arguments");
    return cmd;
  }
  if (cmd == "conntrack") {
    std::string service, client, endpoint, proto, limit;
    po::options_description opts;
    opts.add_options()("service", po::value(&service))("client", po::value(&client))("endpoint", po::value(&endpoint))(
        "proto", po::value(&proto))("limit", po::value(&limit))("words", po::value(&words));
    parse(opts, rest_words);
    if (!words.empty()) return fail("conntrack: unexpected " + words[0]);
    std::string line = "conntrack";
    if (vm.count("limit") && !number_in(limit, 1, 100'000'000))
      return fail("conntrack: --limit must be a number from 1 to 100000000, not '" + limit + "'");
    for (const auto& [key, value] : {std::pair{"client", &client}, {"endpoint", &endpoint}})
      if (vm.count(key) && !ipv4(*value))
        return fail(std::string("conntrack: --") + key + " must be an IPv4 address, not '" + *value + "'");
    if (vm.count("proto") && proto != "tcp" && proto != "udp" && proto != "sctp")
      return fail("conntrack: --proto must be tcp, udp or sctp, not '" + proto + "'");
    for (const auto& [key, value] : {std::pair{"service", &service}, {"client", &client}, {"endpoint", &endpoint},
                                     {"proto", &proto}, {"limit", &limit}})
      if (vm.count(key)) line += std::string(" ") + key + "=" + *value;
    return line;
  }
  if (cmd == "trace") {
    std::string n, timeout;
    po::options_description opts;
    opts.add_options()("timeout", po::value(&timeout))("words", po::value(&words));
    parse(opts, rest_words);
    if (words.size() != 1) return fail("trace N [--timeout SECONDS]");
    if (!number_in(words[0], 1, 256)) return fail("trace: N must be a number from 1 to 256");
    if (vm.count("timeout") && !number_in(timeout, 1, 3600))
      return fail("trace: --timeout must be a number of seconds from 1 to 3600");
    return "trace n=" + words[0] + (vm.count("timeout") ? " timeout=" + timeout : "");
  }
  parse(none, rest_words);
  if (cmd == "flush") {
    if (words.size() == 1 && words[0] == "all") return "flush all";
    if (words.size() == 2 && words[0] == "service") return "flush service=" + words[1];
    if (words.size() == 4 && words[0] == "flow") return "flush flow=" + words[1] + "," + words[2] + "," + words[3];
    return fail("flush all | flush service NS/NAME[:PORT] | flush flow PROTO CLIENT:PORT FRONTEND:PORT");
  }
  if (cmd == "dns") {
    if (words.size() == 1 && words[0] == "stats") return "dns stats";
    if ((words.size() == 2 || words.size() == 3) && words[0] == "lookup")
      return "dns lookup name=" + words[1] + (words.size() == 3 ? " type=" + words[2] : "");
    return fail("dns lookup NAME [TYPE] | dns stats");
  }
  return fail("unknown command " + cmd);
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket = std::getenv("SVCDP_SOCKET") ? std::getenv("SVCDP_SOCKET") : "/run/svcdp/svcdp.sock";
  std::string format = "table";
  // Global options up to the command (the first word that is not an
  // option or a global option's value); the command's own after it.
  po::options_description global;
  global.add_options()("help,h", "")("version", "")("socket", po::value(&socket))("output,o", po::value(&format));
  int at = 1;
  while (at < argc && argv[at][0] == '-') {
    const std::string a = argv[at];
    at += (a == "--socket" || a == "-o" || a == "--output") ? 2 : 1;
  }
  at = std::min(at, argc);
  std::string line, error;
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(at, argv).options(global).run(), vm);
    po::notify(vm);
    if (vm.count("help")) return std::cout << kUsage, 0;
    if (vm.count("version")) return std::cout << "svcdpctl " << SVCDP_VERSION << "\n", 0;
    if (format != "table" && format != "json") return usage_error("-o must be table or json");
    if (at >= argc) return usage_error("which command?");
    line = request_line(argv[at], std::vector<std::string>(argv + at + 1, argv + argc), error);
  } catch (const po::error& e) {
    return usage_error(e.what());
  }
  if (line.empty()) return usage_error(error);

  std::string answer;
  if (!request(socket, line, answer, error)) {
    std::cerr << "svcdpctl: " << error << "\n";
    return 1;
  }
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(answer).get(root) != simdjson::SUCCESS) {
    std::cerr << "svcdpctl: svcdp's answer is not JSON\n";
    return 1;
  }
  std::string_view err;
  if (root["error"].get(err) == simdjson::SUCCESS) {
    std::cerr << "svcdpctl: " << err << "\n";
    return 1;
  }
  if (format == "json") {
    std::cout << answer;
    return 0;
  }
  const std::string cmd = argv[at];
  if (cmd == "services")
    print_services(root);
  else if (cmd == "conntrack")
    print_conntrack(root);
  else if (cmd == "trace")
    print_trace(root);
  else if (line.rfind("dns lookup", 0) == 0)
    print_dns_lookup(root);
  else if (cmd == "dns")
    print_dns_stats(root);
  else if (cmd == "status")
    print_status(root);
  else if (cmd == "flush")
    print_flush(root);
  else if (cmd == "neighbours")
    print_neighbours(root);
  else if (cmd == "nodes")
    print_nodes(root);
  else
    print_object(root, "");
  return 0;
}
