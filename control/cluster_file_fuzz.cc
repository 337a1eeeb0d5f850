// libFuzzer target: the cluster file parser (YAML or JSON Kubernetes
// objects). Any input must end in objects or a ClusterFileError.
#include "control/cluster_file.h"

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    svcdp::control::parse_cluster_text(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  } catch (const svcdp::control::ClusterFileError&) {
  }
  return 0;
}
