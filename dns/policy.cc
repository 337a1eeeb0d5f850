#include "dns/policy.h"

#include <hs.h>

#include <algorithm>
#include <cctype>

namespace svcdp::dns {
namespace {

// A name's characters as a literal in a regular expression.
std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') out += '\\';
    out += c;
  }
  return out;
}

std::string_view strip_dot(std::string_view s) { return !s.empty() && s.back() == '.' ? s.substr(0, s.size() - 1) : s; }

struct ScanContext {
  const PolicySpec* spec;
  const std::vector<unsigned>* scanned;
  uint32_t client;
  std::string_view ns;
  unsigned best;
  void consider(unsigned rule) {
    if (rule < best && spec->rules[rule].subjects.applies(client, ns)) best = rule;
  }
};

int on_match(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
  auto* c = static_cast<ScanContext*>(ctx);
  c->consider((*c->scanned)[id]);
  return 0;  // go on: a rule earlier in the file may match too
}

// `*.suffix` with no other `*`: the suffix (".suffix"), else "".
std::string_view star_suffix(std::string_view pattern) {
  if (pattern.size() < 3 || pattern[0] != '*' || pattern[1] != '.') return {};
  const std::string_view rest = pattern.substr(1);
  return rest.find('*') == std::string_view::npos ? rest : std::string_view{};
}

// What `*` stands for: characters of a DNS label (Cilium's matchpattern).
bool label_chars(std::string_view s) {
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  return true;
}

}  // namespace

bool PolicySubjects::applies(uint32_t client, std::string_view ns) const {
  if (namespaces.empty() && cidrs.empty()) return true;
  if (!ns.empty())
    for (const std::string& n : namespaces)
      if (n == ns) return true;
  for (const PolicyCidr& c : cidrs)
    if (c.contains(client)) return true;
  return false;
}

// Cilium's matchpattern: `*` alone is every name; elsewhere a `*` stands
// for any run of the characters of a DNS label, within that label.
std::string policy_regex(const PolicyRule& rule) {
  const std::string_view v = strip_dot(rule.value);
  switch (rule.match) {
    case PolicyRule::Match::kName: {
      std::string re(1, '^');  // (built by appending: GCC 12's -Wrestrict misfires on "^" + s)
      re += escape(v);
      re += '$';
      return re;
    }
    case PolicyRule::Match::kPattern: {
      if (v == "*") return "^.*$";
      std::string re(1, '^');
      for (size_t pos = 0; pos <= v.size();) {
        const size_t star = std::min(v.find('*', pos), v.size());
        re += escape(v.substr(pos, star - pos));
        if (star < v.size()) re += "[-a-z0-9_]*";
        pos = star + 1;
      }
      re += '$';
      return re;
    }
    case PolicyRule::Match::kRegex:
      return rule.value;  // as written: names are matched without their trailing dot
  }
  return {};
}

std::unique_ptr<Policy> Policy::compile(PolicySpec spec, unsigned workers, std::string& error) {
  std::unique_ptr<Policy> p(new Policy(std::move(spec)));
  const size_t n = p->spec_.rules.size();
  std::vector<std::string> regexes;
  for (size_t i = 0; i < n; ++i) {
    const PolicyRule& r = p->spec_.rules[i];
    const auto id = static_cast<unsigned>(i);
    if (r.match == PolicyRule::Match::kName) {
      p->names_[std::string(strip_dot(r.value))].push_back(id);
    } else if (const std::string_view suffix = star_suffix(strip_dot(r.value));
               r.match == PolicyRule::Match::kPattern && !suffix.empty()) {
      p->suffixes_[std::string(suffix)].push_back(id);
    } else {
      regexes.push_back(policy_regex(r));
      p->scanned_.push_back(id);
    }
  }
  if (!regexes.empty()) {
    std::vector<const char*> exprs;
    std::vector<unsigned> flags, ids;
    for (size_t i = 0; i < regexes.size(); ++i) {
      exprs.push_back(regexes[i].c_str());
      flags.push_back(HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY);
      ids.push_back(static_cast<unsigned>(i));
    }
    hs_compile_error_t* err = nullptr;
    if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK,
                         nullptr, &p->db_, &err) != HS_SUCCESS) {
      const int at = err ? err->expression : -1;
      error = "rule '";
      error += at >= 0 ? p->spec_.rules[p->scanned_[static_cast<size_t>(at)]].name : std::string("?");
      error += "' does not compile: ";
      error += err ? err->message : "?";
      hs_free_compile_error(err);
      return nullptr;
    }
    for (unsigned w = 0; w < workers; ++w) {
      hs_scratch_t* s = nullptr;
      if (hs_alloc_scratch(p->db_, &s) != HS_SUCCESS) {
        error = "cannot allocate Hyperscan scratch";
        return nullptr;
      }
      p->scratch_.push_back(s);
    }
  }
  for (unsigned w = 0; w < workers; ++w) p->decided_.push_back(std::make_unique<uint64_t[]>(n + 1));
  return p;
}

Policy::~Policy() {
  for (hs_scratch_t* s : scratch_) hs_free_scratch(s);
  hs_free_database(db_);
}

Policy::Verdict Policy::check(unsigned worker, std::string_view qname, uint32_t client, std::string_view ns) const {
  const auto n = static_cast<unsigned>(spec_.rules.size());
  ScanContext ctx{&spec_, &scanned_, client, ns, n};
  if (const auto it = names_.find(qname); it != names_.end())
    for (unsigned r : it->second) ctx.consider(r);
  if (const size_t dot = qname.find('.'); dot != std::string_view::npos && !suffixes_.empty())
    if (const auto it = suffixes_.find(qname.substr(dot)); it != suffixes_.end() && label_chars(qname.substr(0, dot)))
      for (unsigned r : it->second) ctx.consider(r);
  if (db_)  // (the root is the empty name: Hyperscan takes a 0-byte block)
    hs_scan(db_, qname.empty() ? "" : qname.data(), static_cast<unsigned>(qname.size()), 0, scratch_[worker], on_match,
            &ctx);
  uint64_t* decided = decided_[worker].get();
  if (ctx.best < n) {
    ++decided[ctx.best];
    return {spec_.rules[ctx.best].deny, static_cast<int>(ctx.best)};
  }
  ++decided[n];
  for (const PolicyScope& sc : spec_.scopes)
    if (sc.subjects.applies(client, ns)) return {sc.deny, -1};
  return {spec_.deny, -1};
}

uint64_t Policy::decided(size_t rule) const {
  uint64_t sum = 0;
  for (const auto& d : decided_) sum += d[rule];
  return sum;
}

}  // namespace svcdp::dns
