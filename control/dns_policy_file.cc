#include "control/dns_policy_file.h"

#include "conf/inet.h"
#include "conf/suggest.h"
#include "control/yaml_json.h"

#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <sstream>

namespace svcdp::control {
namespace {

using simdjson::dom::element;

class Reader {
 public:
  explicit Reader(std::string origin) : origin_(std::move(origin)) {}

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw DnsPolicyError(origin_ + ": " + (where.empty() ? "" : where + ": ") + what);
  }

  // Refuses fields other than `known`, naming the closest.
  void only(element obj, const std::string& where, std::initializer_list<std::string_view> known) const {
    simdjson::dom::object o;
    if (obj.get(o) != simdjson::SUCCESS) fail(where, "must be a mapping");
    for (auto [key, value] : o) {
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      const std::string best = conf::closest(key, std::vector<std::string>(known.begin(), known.end()));
      fail(where, "unknown field '" + std::string(key) + "'" + (best.empty() ? "" : ", did you mean '" + best + "'?"));
    }
  }

  std::string string(element obj, const char* key, const std::string& where, bool required = false) const {
    element v;
    if (obj[key].get(v) != simdjson::SUCCESS) {
      if (required) fail(where, std::string("needs ") + key);
      return {};
    }
    std::string_view s;
    if (v.get(s) != simdjson::SUCCESS) fail(where, std::string(key) + " must be a string");
    return std::string(s);
  }

  bool action(element obj, const char* key, const std::string& where, bool otherwise) const {
    const std::string a = string(obj, key, where);
    if (a.empty()) return otherwise;
    if (a != "allow" && a != "deny") fail(where, std::string(key) + " must be allow or deny, not '" + a + "'");
    return a == "deny";
  }

  dns::PolicySubjects subjects(element obj, const std::string& where) const {
    dns::PolicySubjects s;
    simdjson::dom::array list;
    if (obj["namespaces"].get(list) == simdjson::SUCCESS)
      for (element n : list) {
        std::string_view v;
        if (n.get(v) != simdjson::SUCCESS || v.empty()) fail(where, "namespaces must be a list of names");
        s.namespaces.emplace_back(v);
      }
    else if (obj["namespaces"].error() != simdjson::NO_SUCH_FIELD)
      fail(where, "namespaces must be a list");
    if (obj["cidrs"].get(list) == simdjson::SUCCESS)
      for (element c : list) {
        std::string_view v;
        const auto p = c.get(v) == simdjson::SUCCESS ? conf::parse_ipv4_prefix(v) : std::nullopt;
        if (!p) fail(where, "cidrs must be IPv4 CIDRs (A.B.C.D/LEN)");
        s.cidrs.push_back({p->addr & p->mask(), p->len});
      }
    else if (obj["cidrs"].error() != simdjson::NO_SUCH_FIELD)
      fail(where, "cidrs must be a list");
    return s;
  }

 private:
  std::string origin_;
};

}  // namespace

dns::PolicySpec parse_dns_policy(std::string_view text, const std::string& origin) {
  const Reader r(origin);
  std::vector<std::string> docs;
  try {
    docs = yaml_to_json(text);
  } catch (const YamlError& e) {
    r.fail("", e.what());
  }
  if (docs.size() != 1) r.fail("", "must be one YAML document");
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(docs[0]).get(root) != simdjson::SUCCESS) r.fail("", "not a YAML or JSON mapping");
  r.only(root, "", {"default", "denyWith", "scopes", "rules"});
  dns::PolicySpec spec;
  spec.deny = r.action(root, "default", "", false);
  const std::string with = r.string(root, "denyWith", "");
  if (!with.empty() && with != "NXDOMAIN" && with != "REFUSED")
    r.fail("", "denyWith must be NXDOMAIN or REFUSED, not '" + with + "'");
  spec.deny_rcode = with == "REFUSED" ? 5 : 3;
  simdjson::dom::array list;
  if (root["scopes"].get(list) == simdjson::SUCCESS) {
    size_t i = 0;
    for (element s : list) {
      const std::string where = "scopes[" + std::to_string(i++) + "]";
      r.only(s, where, {"namespaces", "cidrs", "default"});
      dns::PolicyScope scope{r.subjects(s, where), r.action(s, "default", where, false)};
      if (scope.subjects.namespaces.empty() && scope.subjects.cidrs.empty())
        r.fail(where, "names no namespace and no CIDR (the policy's own default is `default`)");
      spec.scopes.push_back(std::move(scope));
    }
  }
  if (root["rules"].get(list) == simdjson::SUCCESS) {
    size_t i = 0;
    for (element e : list) {
      std::string where = "rules[" + std::to_string(i) + "]";
      r.only(e, where, {"name", "namespaces", "cidrs", "action", "matchName", "matchPattern", "matchRegex"});
      dns::PolicyRule rule;
      rule.name = r.string(e, "name", where);
      if (rule.name.empty()) rule.name = "rule-" + std::to_string(i);
      where += " (" + rule.name + ")";
      int matches = 0;
      for (auto [key, kind] : {std::pair{"matchName", dns::PolicyRule::Match::kName},
                               {"matchPattern", dns::PolicyRule::Match::kPattern},
                               {"matchRegex", dns::PolicyRule::Match::kRegex}}) {
        const std::string v = r.string(e, key, where);
        if (v.empty()) continue;
        ++matches;
        rule.match = kind;
        rule.value = v;
      }
      if (matches != 1) r.fail(where, "needs exactly one of matchName, matchPattern, matchRegex");
      if (rule.match != dns::PolicyRule::Match::kRegex)
        std::transform(rule.value.begin(), rule.value.end(), rule.value.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (r.string(e, "action", where).empty()) r.fail(where, "needs action (allow or deny)");
      rule.deny = r.action(e, "action", where, false);
      rule.subjects = r.subjects(e, where);
      spec.rules.push_back(std::move(rule));
      ++i;
    }
  } else if (root["rules"].error() != simdjson::NO_SUCH_FIELD) {
    r.fail("", "rules must be a list");
  }
  return spec;
}

std::shared_ptr<const dns::Policy> load_dns_policy(const std::string& path, unsigned workers) {
  std::ifstream in(path);
  if (!in) throw DnsPolicyError(path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  std::string error;
  auto p = dns::Policy::compile(parse_dns_policy(text.str(), path), workers, error);
  if (!p) throw DnsPolicyError(path + ": " + error);
  return p;
}

}  // namespace svcdp::control
