// The --dns-policy file: YAML (or JSON) in the shape of Cilium's toFQDNs
// selectors, compiled into a dns::Policy.
//
//   default: allow          # or deny: for clients no scope names
//   denyWith: NXDOMAIN      # or REFUSED
//   scopes:                 # defaults of their own for some clients
//   - {namespaces: [restricted], default: deny}
//   rules:                  # the first that matches and applies decides
//   - name: no-blocked-in-shop
//     namespaces: [shop]    # and/or cidrs: [10.244.1.0/24]; neither: everyone
//     action: deny          # or allow
//     matchPattern: "*.blocked.test"   # or matchName: a.b.c, matchRegex: ...
#pragma once

#include "dns/policy.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace svcdp::control {

struct DnsPolicyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses and compiles; throws DnsPolicyError naming the file and what is
// wrong in it ("rules[2] (ads): unknown field 'matchPatern', did you mean
// 'matchPattern'?"). Thread: control.
dns::PolicySpec parse_dns_policy(std::string_view text, const std::string& origin);
std::shared_ptr<const dns::Policy> load_dns_policy(const std::string& path, unsigned workers);

}  // namespace svcdp::control
