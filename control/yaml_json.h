// YAML → JSON text with libyaml's event parser, so that YAML files go
// through the same JSON decoding as the API server's answers. Plain
// scalars that read as JSON numbers, booleans or null stay unquoted (YAML
// 1.2 core schema); quoted scalars stay strings, so `targetPort: "8080"`
// remains a string as in Kubernetes.
//
// Input is untrusted: aliases are refused (no "billion laughs"), nesting
// is bounded, and every error names its line and column.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace svcdp::control {

struct YamlError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline constexpr int kYamlMaxDepth = 64;

// One JSON text per YAML document; empty documents are left out.
// Throws YamlError. Thread: any.
std::vector<std::string> yaml_to_json(std::string_view yaml);

}  // namespace svcdp::control
