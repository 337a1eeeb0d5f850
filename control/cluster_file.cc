#include "control/cluster_file.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace svcdp::control {
namespace {

void add_object(const YAML::Node& obj, ClusterObjects& out) {
  if (!obj.IsMap()) return;
  const std::string kind = obj["kind"] && obj["kind"].IsScalar() ? obj["kind"].Scalar() : "";
  if (kind.ends_with("List") && obj["items"] && obj["items"].IsSequence()) {
    for (const auto& item : obj["items"]) {
      // Items of a typed list (NodeList) carry no kind of their own.
      if (!item["kind"] && kind != "List") {
        YAML::Node copy = YAML::Clone(item);
        copy["kind"] = kind.substr(0, kind.size() - 4);
        add_object(copy, out);
      } else {
        add_object(item, out);
      }
    }
    return;
  }
  if (kind == "Node") {
    std::string error;
    if (auto node = node_from_object(obj, error))
      out.nodes.push_back(std::move(*node));
    else
      out.skipped.push_back(error);
  }
}

}  // namespace

ClusterObjects parse_cluster_text(std::string_view text, const std::string& origin) {
  ClusterObjects out;
  try {
    for (const YAML::Node& doc : YAML::LoadAll(std::string(text))) add_object(doc, out);
  } catch (const YAML::Exception& e) {
    throw ClusterFileError(origin + ": " + e.what());
  }
  return out;
}

ClusterObjects load_cluster_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ClusterFileError(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_cluster_text(ss.str(), path);
}

}  // namespace svcdp::control
