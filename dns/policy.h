// The FQDN policy of cluster DNS (--dns-policy): which names the pods of
// a namespace (or of a CIDR block) may resolve. Rules have the form of
// Cilium's toFQDNs selectors, matchName (exact) and matchPattern (`*`
// wildcards), plus matchRegex; each allows or denies, for some namespaces
// or CIDR blocks or everyone; the first rule in file order that matches
// the name and applies to the client decides, else the client's scope
// default, else the policy's.
//
// Matching scales to 100 k rules: matchName rules are one hash lookup of
// the name, matchPattern rules of the common form `*.suffix` one lookup
// of the name after its first label; every other pattern and every
// matchRegex is compiled into one Hyperscan database (hs_compile_multi,
// caseless, single-match), scanned with a scratch per worker. (Hyperscan
// alone takes 8 s to compile 5,000 anchored names and 177 s for 100 k
// literals on the development VM: a SIGHUP would stall the control thread
// for minutes.) No DPDK.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

// Hyperscan's handles (hs.h stays out of this header).
struct hs_database;
struct hs_scratch;

namespace svcdp::dns {

struct PolicyCidr {
  uint32_t addr = 0;  // host order, host bits clear
  uint8_t len = 0;
  bool contains(uint32_t ip) const { return len == 0 || (ip >> (32 - len)) == (addr >> (32 - len)); }
};

// Who a rule or a scope applies to: these namespaces, these CIDR blocks
// (either matching), or everyone when both are empty.
struct PolicySubjects {
  std::vector<std::string> namespaces;
  std::vector<PolicyCidr> cidrs;
  bool applies(uint32_t client, std::string_view ns) const;
};

struct PolicyRule {
  enum class Match : uint8_t { kName, kPattern, kRegex };
  std::string name;  // for counters and logs
  Match match = Match::kName;
  std::string value;  // the name, pattern or regular expression
  bool deny = false;
  PolicySubjects subjects;
};

struct PolicyScope {
  PolicySubjects subjects;
  bool deny = false;  // the default for these clients
};

struct PolicySpec {
  bool deny = false;  // the default for clients no scope names
  uint16_t deny_rcode = 3;  // NXDOMAIN, or 5 (REFUSED)
  std::vector<PolicyRule> rules;
  std::vector<PolicyScope> scopes;
};

// The regular expression a rule's match stands for (anchored; names
// without their trailing dot). Thread: any.
std::string policy_regex(const PolicyRule& rule);

class Policy {
 public:
  // Compiles `spec` for `workers` workers; nullptr with `error` saying
  // which rule does not compile. Thread: control.
  static std::unique_ptr<Policy> compile(PolicySpec spec, unsigned workers, std::string& error);
  ~Policy();
  Policy(const Policy&) = delete;
  Policy& operator=(const Policy&) = delete;

  struct Verdict {
    bool deny = false;
    int rule = -1;  // the deciding rule; -1: a default
  };
  // The verdict for a query for `qname` (lower case, no trailing dot)
  // from `client` (host order) of namespace `ns` ("" when unknown); the
  // deciding rule counted. No allocation. Thread: worker `worker`.
  Verdict check(unsigned worker, std::string_view qname, uint32_t client, std::string_view ns) const;

  const PolicySpec& spec() const { return spec_; }
  // Queries rule `rule` decided, over all workers. Thread: any.
  uint64_t decided(size_t rule) const;

 private:
  explicit Policy(PolicySpec spec) : spec_(std::move(spec)) {}

  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Index = std::unordered_map<std::string, std::vector<unsigned>, Hash, std::equal_to<>>;

  PolicySpec spec_;
  Index names_;     // matchName → rules
  Index suffixes_;  // matchPattern `*.x` → rules, by ".x"
  std::vector<unsigned> scanned_;  // Hyperscan id → rule
  hs_database* db_ = nullptr;
  std::vector<hs_scratch*> scratch_;  // one per worker
  // Per worker, per rule: written by that worker only (plain stores).
  std::vector<std::unique_ptr<uint64_t[]>> decided_;
};

}  // namespace svcdp::dns
