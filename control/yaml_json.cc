#include "control/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <regex>

namespace svcdp::control {
namespace {

bool json_literal(const std::string& s) {
  static const std::regex number(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?)");
  return s == "true" || s == "false" || s == "null" || std::regex_match(s, number);
}

void quote(const std::string& s, std::string& out) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void emit(const YAML::Node& n, std::string& out) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out += "null";
      return;
    case YAML::NodeType::Scalar:
      // yaml-cpp tags plain scalars "?" and quoted ones "!".
      if (n.Tag() == "?" && json_literal(n.Scalar()))
        out += n.Scalar();
      else
        quote(n.Scalar(), out);
      return;
    case YAML::NodeType::Sequence: {
      out += '[';
      bool first = true;
      for (const auto& item : n) {
        if (!first) out += ',';
        first = false;
        emit(item, out);
      }
      out += ']';
      return;
    }
    case YAML::NodeType::Map: {
      out += '{';
      bool first = true;
      for (const auto& kv : n) {
        if (!first) out += ',';
        first = false;
        quote(kv.first.Scalar(), out);
        out += ':';
        emit(kv.second, out);
      }
      out += '}';
      return;
    }
  }
}

}  // namespace

std::string yaml_to_json(const YAML::Node& node) {
  std::string out;
  emit(node, out);
  return out;
}

}  // namespace svcdp::control
