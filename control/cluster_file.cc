#include "control/cluster_file.h"

#include "control/yaml_json.h"

#include <fstream>
#include <sstream>

namespace svcdp::control {
namespace {

template <typename T>
void decode(simdjson::dom::element obj, std::optional<T> (*from_json)(simdjson::dom::element, std::string&),
            std::vector<T>& into, std::vector<std::string>& skipped) {
  std::string error;
  if (auto v = from_json(obj, error))
    into.push_back(std::move(*v));
  else
    skipped.push_back(error);
}

void add_typed(simdjson::dom::element obj, std::string_view kind, ClusterObjects& out) {
  if (kind == "Node") decode(obj, node_from_json, out.nodes, out.skipped);
  if (kind == "Service") decode(obj, service_from_json, out.services, out.skipped);
  if (kind == "EndpointSlice") decode(obj, endpoint_slice_from_json, out.slices, out.skipped);
}

void parse_json(std::string_view json, const std::string& origin, ClusterObjects& out) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(json.data(), json.size()).get(root))
    throw ClusterFileError(origin + ": not valid JSON: " + simdjson::error_message(err));
  add_object(root, out);
}

}  // namespace

void add_object(simdjson::dom::element obj, ClusterObjects& out) {
  std::string_view kind;
  if (obj["kind"].get(kind) != simdjson::SUCCESS) return;
  simdjson::dom::array items;
  if (kind.ends_with("List") && obj["items"].get(items) == simdjson::SUCCESS) {
    // Items of a typed list (NodeList) carry no kind of their own.
    const std::string_view item_kind = kind == "List" ? std::string_view() : kind.substr(0, kind.size() - 4);
    for (simdjson::dom::element item : items) {
      std::string_view own;
      if (item["kind"].get(own) == simdjson::SUCCESS)
        add_object(item, out);
      else
        add_typed(item, item_kind, out);
    }
    return;
  }
  add_typed(obj, kind, out);
}

ClusterObjects parse_cluster_text(std::string_view text, const std::string& origin) {
  ClusterObjects out;
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '{') {
    parse_json(text, origin, out);
    return out;
  }
  std::vector<std::string> docs;
  try {
    docs = yaml_to_json(text);
  } catch (const YamlError& e) {
    throw ClusterFileError(origin + ": " + e.what());
  }
  for (const std::string& doc : docs) parse_json(doc, origin, out);
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
