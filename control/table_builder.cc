#include "control/table_builder.h"

namespace svcdp::control {

TableBuilder::TableBuilder(FibParams params, uint32_t max_services, uint32_t maglev_size)
    : params_(std::move(params)), maglev_size_(maglev_size), ids_(max_services) {}

std::unique_ptr<dp::Fib> TableBuilder::build(const std::vector<NodeInfo>& nodes,
                                             const std::vector<ServiceInfo>& services,
                                             const EndpointSliceCache& slices, uint64_t generation,
                                             std::vector<std::string>& warnings) {
  auto fib = build_fib(nodes, params_, generation, warnings);
  ServiceBuild sb = build_services(services, slices, *fib, params_.node_name, ids_);
  warnings.insert(warnings.end(), sb.warnings.begin(), sb.warnings.end());
  auto table = std::make_shared<const lb::ServiceTable>(std::move(sb.specs), generation, maglev_size_, previous_.get());
  fib->announced = announced_ips(*table);
  fib->services = table;
  previous_ = std::move(table);
  return fib;
}

}  // namespace svcdp::control
