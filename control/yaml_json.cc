#include "control/yaml_json.h"

#include <yaml.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <regex>

namespace svcdp::control {
namespace {

bool json_literal(std::string_view s) {
  static const std::regex number(R"(-?(0|[1-9][0-9]{0,18})(\.[0-9]{1,18})?([eE][-+]?[0-9]{1,3})?)");
  return s == "true" || s == "false" || s == "null" || (s.size() <= 48 && std::regex_match(s.begin(), s.end(), number));
}

// The booleans and nulls of YAML 1.1, which kubectl's reader
// (sigs.k8s.io/yaml over go-yaml v2, resolve.go) gives plain scalars:
// `ready: False`, `serving: off` and `terminating: NO` are booleans there.
std::optional<bool> yaml11_bool(std::string_view s) {
  for (std::string_view t : {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})
    if (s == t) return true;
  for (std::string_view f : {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})
    if (s == f) return false;
  return std::nullopt;
}

bool yaml11_null(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

void quote(std::string_view s, std::string& out) {
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

[[noreturn]] void fail(const std::string& what, const yaml_mark_t& mark) {
  throw YamlError("line " + std::to_string(mark.line + 1) + " column " + std::to_string(mark.column + 1) + ": " + what);
}

// Where the converter is inside the event stream: for each open
// collection, whether it is a mapping and how many items it has so far
// (a mapping alternates key, value).
struct Frame {
  bool mapping;
  size_t items;
};

class Converter {
 public:
  std::vector<std::string> run(std::string_view yaml) {
    std::unique_ptr<yaml_parser_t, void (*)(yaml_parser_t*)> parser(new yaml_parser_t, [](yaml_parser_t* p) {
      yaml_parser_delete(p);
      delete p;
    });
    if (!yaml_parser_initialize(parser.get())) throw YamlError("out of memory");
    yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(yaml.data()), yaml.size());
    for (;;) {
      yaml_event_t event;
      if (!yaml_parser_parse(parser.get(), &event))
        fail(parser->problem ? parser->problem : "malformed YAML", parser->problem_mark);
      std::unique_ptr<yaml_event_t, void (*)(yaml_event_t*)> guard(&event, yaml_event_delete);
      if (event.type == YAML_STREAM_END_EVENT) break;
      handle(event);
    }
    return std::move(docs_);
  }

 private:
  void before_item(const yaml_event_t& e, bool is_scalar) {
    if (stack_.empty()) return;
    Frame& f = stack_.back();
    if (f.mapping && f.items % 2 == 0) {
      if (!is_scalar) fail("mapping keys must be plain strings", e.start_mark);
      if (f.items) out_ += ',';
    } else if (f.mapping) {
      out_ += ':';
    } else if (f.items) {
      out_ += ',';
    }
    ++f.items;
  }

  void open(const yaml_event_t& e, bool mapping) {
    before_item(e, false);
    if (stack_.size() >= kYamlMaxDepth) fail("nesting deeper than " + std::to_string(kYamlMaxDepth), e.start_mark);
    stack_.push_back({mapping, 0});
    out_ += mapping ? '{' : '[';
  }

  void handle(const yaml_event_t& e) {
    switch (e.type) {
      case YAML_DOCUMENT_START_EVENT:
        out_.clear();
        return;
      case YAML_DOCUMENT_END_EVENT:
        if (!out_.empty() && out_ != "null") docs_.push_back(std::move(out_));
        out_.clear();
        return;
      case YAML_ALIAS_EVENT:
        fail("YAML aliases are not supported", e.start_mark);
      case YAML_MAPPING_START_EVENT:
        return open(e, true);
      case YAML_SEQUENCE_START_EVENT:
        return open(e, false);
      case YAML_MAPPING_END_EVENT:
      case YAML_SEQUENCE_END_EVENT:
        out_ += stack_.back().mapping ? '}' : ']';
        stack_.pop_back();
        return;
      case YAML_SCALAR_EVENT: {
        const bool key = !stack_.empty() && stack_.back().mapping && stack_.back().items % 2 == 0;
        before_item(e, true);
        std::string_view v(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
        const bool plain = e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (!key && plain && yaml11_null(v))
          out_ += "null";
        else if (auto b = plain && !key ? yaml11_bool(v) : std::nullopt)
          out_ += *b ? "true" : "false";
        else if (!key && plain && json_literal(v))
          out_ += v;
        else
          quote(v, out_);
        return;
      }
      default:
        return;
    }
  }

  std::vector<Frame> stack_;
  std::string out_;
  std::vector<std::string> docs_;
};

}  // namespace

std::vector<std::string> yaml_to_json(std::string_view yaml) { return Converter().run(yaml); }

}  // namespace svcdp::control
