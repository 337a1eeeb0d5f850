// The deployment files under conf/deploy stay valid: the DaemonSet
// manifest parses (same YAML reader as the cluster file) and grants the
// watcher exactly what it needs; the Grafana dashboard and the alerting
// rules name only series svcdp exports; the PrometheusRule carries the
// rule file's groups.
#include "control/yaml_json.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace svcdp::control {
namespace {

std::string read(const std::string& rel) {
  std::ifstream in(std::string(SVCDP_SOURCE_ROOT) + "/" + rel);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(DeployFiles, DaemonSetManifestParsesWithTheRbacTheWatcherNeeds) {
  const auto docs = yaml_to_json(read("conf/deploy/daemonset.yaml"));
  std::set<std::string> kinds;
  simdjson::dom::parser parser;
  for (const auto& d : docs) {
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(d).get(e), simdjson::SUCCESS);
    std::string_view kind;
    ASSERT_EQ(e["kind"].get(kind), simdjson::SUCCESS);
    kinds.insert(std::string(kind));
    if (kind == "ClusterRole") {
      std::set<std::string> resources;
      for (simdjson::dom::element rule : e["rules"].get_array()) {
        for (simdjson::dom::element v : rule["verbs"].get_array()) {
          std::string_view verb = v.get_string();
          EXPECT_TRUE(verb == "get" || verb == "list" || verb == "watch") << "read-only: " << verb;
        }
        for (simdjson::dom::element r : rule["resources"].get_array()) resources.insert(std::string(r.get_string().value()));
      }
      EXPECT_EQ(resources, (std::set<std::string>{"services", "nodes", "endpointslices"}));
    }
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                                          "ConfigMap", "DaemonSet"}));
}

// How many svcdp_* series `text` names, each checked against those
// introspection.cc exports.
size_t check_series_exported(const std::string& text) {
  const std::string introspection = read("control/introspection.cc");
  const std::regex series("svcdp_[a-z_]+");
  size_t checked = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), series); it != std::sregex_iterator(); ++it) {
    std::string name = it->str();
    for (const char* suffix : {"_bucket", "_sum", "_count"})
      if (name.size() > std::strlen(suffix) && name.ends_with(suffix)) name.resize(name.size() - std::strlen(suffix));
    if (name == "svcdp_build_info") continue;
    EXPECT_NE(introspection.find("\"" + name + "\""), std::string::npos) << name << " is not exported";
    ++checked;
  }
  return checked;
}

TEST(DeployFiles, DashboardQueriesNameExportedSeries) {
  const std::string json = read("conf/deploy/grafana-dashboard.json");
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  ASSERT_EQ(parser.parse(json).get(e), simdjson::SUCCESS);
  EXPECT_GT(check_series_exported(json), 10u);
}

TEST(DeployFiles, AlertRulesNameExportedSeriesAndThePrometheusRuleCarriesThem) {
  const std::string rules = read("conf/deploy/alerts/svcdp-rules.yaml");
  EXPECT_GE(check_series_exported(rules), 6u);
  const auto file = yaml_to_json(rules), crd = yaml_to_json(read("conf/deploy/alerts/prometheusrule.yaml"));
  ASSERT_EQ(file.size(), 1u);
  ASSERT_EQ(crd.size(), 1u);
  simdjson::dom::parser a, b;
  simdjson::dom::element groups, spec;
  ASSERT_EQ(a.parse(file[0]).get(groups), simdjson::SUCCESS);
  ASSERT_EQ(b.parse(crd[0]).get(spec), simdjson::SUCCESS);
  EXPECT_EQ(std::string_view(spec["kind"].get_string().value()), "PrometheusRule");
  EXPECT_EQ(simdjson::minify(spec["spec"]), simdjson::minify(groups)) << "prometheusrule.yaml says what svcdp-rules.yaml says";
}

}  // namespace
}  // namespace svcdp::control
