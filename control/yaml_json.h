// YAML → JSON text, so that YAML files go through the same JSON decoding
// as the API server's answers. Plain scalars that read as JSON numbers,
// booleans or null stay unquoted (YAML 1.2 core schema); quoted scalars
// stay strings, so `targetPort: "8080"` remains a string as in Kubernetes.
#pragma once

#include <string>

namespace YAML {
class Node;
}

namespace svcdp::control {

// Thread: any.
std::string yaml_to_json(const YAML::Node& node);

}  // namespace svcdp::control
