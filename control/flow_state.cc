#include "control/flow_state.h"

#include "control/atomic_file.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <type_traits>

namespace svcdp::control {
namespace {

constexpr char kMagic[8] = {'S', 'V', 'C', 'D', 'P', 'C', 'T', '2'};  // 2: 32-bit affinity timeouts

// One flow on disk (host byte order: the file never leaves the node).
struct Record {
  uint32_t shard;
  uint32_t service;  // index into the file's service keys, or lb::kNoService
  lb::FlowKey fwd;
  lb::Nat nat;
  uint32_t idle_s;
  uint32_t timeout_s;
  uint8_t kind, external, fwd_flags, rep_flags;
};
static_assert(std::is_trivially_copyable_v<Record> && sizeof(Record) == 52);

std::string service_key(const lb::ServiceSpec& s) {
  return s.ns + "/" + s.name + ":" + s.port_name + "/" + std::to_string(s.proto);
}

template <typename T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <typename T>
void get(std::ifstream& in, T& v, const std::string& path) {
  if (!in.read(reinterpret_cast<char*>(&v), sizeof v)) throw std::runtime_error(path + ": truncated");
}

}  // namespace

uint64_t save_flows(const std::string& path, const lb::Conntrack& ct, uint32_t now_s, const lb::ServiceTable& table) {
  std::map<uint32_t, uint32_t> index;  // service id -> index in keys
  std::vector<std::string> keys;
  std::vector<Record> records;
  ct.for_each(now_s, [&](const lb::CtMatch& m) {
    Record r{};
    r.shard = m.shard;
    r.service = lb::kNoService;
    if (m.service_id != lb::kNoService) {
      const lb::Service* svc = table.by_id(m.service_id);
      if (svc == nullptr) return;  // its service is gone already
      auto [it, added] = index.try_emplace(m.service_id, static_cast<uint32_t>(keys.size()));
      if (added) keys.push_back(service_key(svc->spec()));
      r.service = it->second;
    }
    r.fwd = m.fwd;
    r.nat = m.nat;
    r.idle_s = now_s > m.last_seen_s ? now_s - m.last_seen_s : 0;
    r.timeout_s = m.timeout_s;
    r.kind = m.kind;
    r.external = m.external;
    r.fwd_flags = m.fwd_flags;
    r.rep_flags = m.rep_flags;
    records.push_back(r);
  });
  std::string out(kMagic, sizeof kMagic);
  put(out, ct.shards());
  put(out, static_cast<uint32_t>(keys.size()));
  for (const std::string& k : keys) {
    put(out, static_cast<uint32_t>(k.size()));
    out += k;
  }
  put(out, static_cast<uint64_t>(records.size()));
  out.append(reinterpret_cast<const char*>(records.data()), records.size() * sizeof(Record));
  write_file_atomically(path, out);
  return records.size();
}

std::optional<LoadedFlows> load_flows(const std::string& path, unsigned workers, const lb::ServiceTable& table) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  struct Remove {
    const std::string& p;
    ~Remove() { std::remove(p.c_str()); }
  } remove_after{path};
  char magic[sizeof kMagic];
  if (!in.read(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof magic) != 0)
    throw std::runtime_error(path + ": not a flow state file of this svcdp version");
  uint32_t shards = 0, nkeys = 0;
  get(in, shards, path);
  if (shards != workers)
    throw std::runtime_error(path + ": saved by " + std::to_string(shards) + " workers, now " +
                             std::to_string(workers) + " (SNAT ports would belong to other workers)");
  get(in, nkeys, path);
  std::map<std::string, uint32_t> ids;  // key -> id in this process
  for (const auto& svc : table.services()) ids.emplace(service_key(svc->spec()), svc->spec().id);
  std::vector<uint32_t> remap(nkeys, lb::kNoService);
  std::vector<bool> known(nkeys, false);
  for (uint32_t i = 0; i < nkeys; ++i) {
    uint32_t len = 0;
    get(in, len, path);
    if (len > 4096) throw std::runtime_error(path + ": corrupt service key");
    std::string k(len, '\0');
    if (!in.read(k.data(), len)) throw std::runtime_error(path + ": truncated");
    if (auto it = ids.find(k); it != ids.end()) {
      remap[i] = it->second;
      known[i] = true;
    }
  }
  uint64_t n = 0;
  get(in, n, path);
  LoadedFlows out;
  out.per_worker.resize(workers);
  for (uint64_t i = 0; i < n; ++i) {
    Record r;
    get(in, r, path);
    if (r.shard >= workers || (r.service != lb::kNoService && r.service >= nkeys))
      throw std::runtime_error(path + ": corrupt flow record " + std::to_string(i));
    if (r.service != lb::kNoService && !known[r.service]) {
      ++out.dropped;
      continue;
    }
    lb::CtMatch m{};
    m.shard = r.shard;
    m.fwd = r.fwd;
    m.nat = r.nat;
    m.service_id = r.service == lb::kNoService ? lb::kNoService : remap[r.service];
    m.kind = r.kind;
    m.external = r.external;
    m.fwd_flags = r.fwd_flags;
    m.rep_flags = r.rep_flags;
    m.timeout_s = r.timeout_s;
    out.per_worker[r.shard].push_back({m, r.idle_s});
    ++out.flows;
  }
  return out;
}

}  // namespace svcdp::control
