#include "conf/options.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace svcdp::conf {
namespace {

ParseResult parse_args(std::vector<std::string> args) {
  args.insert(args.begin(), "svcdp");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return parse(static_cast<int>(argv.size()), argv.data());
}

const std::vector<std::string> kMinimal = {"--uplink", "net_ring0", "--pods", "net_ring1",
                                           "--cluster-file", "c.yaml", "--node-name", "node-a"};

TEST(Options, MinimalCommandLine) {
  auto r = parse_args(kMinimal);
  ASSERT_TRUE(r.options);
  EXPECT_EQ(r.options->uplink, "net_ring0");
  EXPECT_EQ(r.options->pods, "net_ring1");
  EXPECT_EQ(r.options->vni, 1u);
  EXPECT_EQ(r.options->vxlan_port, 4789);
  EXPECT_EQ(r.options->node_name, "node-a");
}

TEST(Options, HelpExitsZeroWithoutOptions) {
  testing::internal::CaptureStdout();
  auto r = parse_args({"--help"});
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_FALSE(r.options);
  EXPECT_EQ(r.exit_code, 0);
  for (const char* opt : {"--uplink", "--pods", "--cluster-file", "--vni", "--config", "--node-name"})
    EXPECT_NE(out.find(opt), std::string::npos) << opt;
}

struct BadCase {
  std::vector<std::string> extra;
  const char* message;
};

class OptionsBad : public testing::TestWithParam<BadCase> {};

TEST_P(OptionsBad, OneLineErrorAndNonZeroExit) {
  auto args = kMinimal;
  args.insert(args.end(), GetParam().extra.begin(), GetParam().extra.end());
  testing::internal::CaptureStderr();
  auto r = parse_args(args);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_FALSE(r.options);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(err.rfind("svcdp: error: ", 0), 0u) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find(GetParam().message), std::string::npos) << err;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, OptionsBad,
    testing::Values(BadCase{{"--no-such-option"}, "no-such-option"},
                    BadCase{{"--vni", "0"}, "--vni"},
                    BadCase{{"--vni", "16777216"}, "--vni"},
                    BadCase{{"--vni", "seven"}, "vni"},
                    BadCase{{"--burst", "65"}, "--burst"},
                    BadCase{{"--mtu", "100"}, "--mtu"},
                    BadCase{{"--log-level", "loud"}, "--log-level"},
                    BadCase{{"--uplink-gateway", "10.0.0"}, "--uplink-gateway"},
                    BadCase{{"--pod-gateway", "x"}, "--pod-gateway"},
                    BadCase{{"--exception-iface", "a-very-long-interface-name"}, "15 characters"},
                    BadCase{{"--config", "/nonexistent/svcdp.conf"}, "config file"},
                    BadCase{{"--dns-service", "kube-dns"}, "NAMESPACE/NAME"},
                    BadCase{{"--dns-service", "a/b/c"}, "NAMESPACE/NAME"},
                    BadCase{{"--dns-service", "kube-system/kube-dns", "--cluster-domain", "a..b"}, "--cluster-domain"},
                    BadCase{{"--dns-service", "kube-system/kube-dns", "--dns-ttl", "86400"}, "--dns-ttl"},
                    BadCase{{"--dns-policy", "p.yaml"}, "needs --dns-service"},
                    BadCase{{"--static-neigh", "pods,10.244.1.300,02:00:00:00:00:01"}, "uplink|pods,IP,MAC"},
                    BadCase{{"--static-neigh", "uplink,fd00::1,02:00:00:00:00:01"}, "pods port's only"},
                    BadCase{{"--exception-iface", "svcdp0", "--kernel-route", "fd00:10:244::/129"}, "--kernel-route"},
                    BadCase{{"--kernel-route", "fd00:10:96::/112"}, "needs --exception-iface"}));

TEST(Options, KernelRoutesOfBothFamilies) {
  auto args = kMinimal;
  args.insert(args.end(), {"--exception-iface", "svcdp0", "--kernel-route", "10.244.0.0/16", "--kernel-route",
                           "fd00:10:244::/56"});
  auto r = parse_args(args);
  ASSERT_TRUE(r.options);
  EXPECT_EQ(r.options->kernel_routes, (std::vector<std::string>{"10.244.0.0/16", "fd00:10:244::/56"}));
}

TEST(Options, StaticNeighboursOfBothFamilies) {
  auto args = kMinimal;
  args.insert(args.end(), {"--static-neigh", "uplink,192.168.56.12,02:5d:00:00:02:01", "--static-neigh",
                           "pods,fd00:10:244:1::5,02:5d:00:00:01:0a"});
  auto r = parse_args(args);
  ASSERT_TRUE(r.options);
  ASSERT_EQ(r.options->static_neighbours.size(), 2u);
  EXPECT_TRUE(r.options->static_neighbours[0].uplink);
  EXPECT_EQ(r.options->static_neighbours[0].ip, 0xc0a8380cu);
  EXPECT_FALSE(r.options->static_neighbours[0].ip6);
  EXPECT_FALSE(r.options->static_neighbours[1].uplink);
  EXPECT_EQ(r.options->static_neighbours[1].ip6, parse_ipv6("fd00:10:244:1::5"));
}

// A config file's mistake names the file, the line and the closest option.
TEST(Options, ConfigFileErrorsNameTheLine) {
  const std::string path = ::testing::TempDir() + "/svcdp-typo.conf";
  for (auto [text, want] :
       {std::pair{"# comment\nvni = 2\nconntrak-capacity = 5000\n",
                  path + ":3: unknown option 'conntrak-capacity', did you mean 'conntrack-capacity'?"},
        {"vni = seven\n", path + ":1: the argument ('seven') for option 'vni' is invalid"},
        {"just words\n", path + ":1: expected `name = value`, not 'just words'"}}) {
    {
      std::ofstream(path) << text;
    }
    testing::internal::CaptureStderr();
    auto r = parse_args({"--config", path});
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_FALSE(r.options);
    EXPECT_EQ(err, "svcdp: error: " + want + "\n");
  }
  std::remove(path.c_str());
}

TEST(Options, VersionIsPrinted) {
  testing::internal::CaptureStdout();
  auto r = parse_args({"--version"});
  EXPECT_EQ(testing::internal::GetCapturedStdout(), std::string("svcdp ") + SVCDP_VERSION + "\n");
  EXPECT_FALSE(r.options);
  EXPECT_EQ(r.exit_code, 0);
}

TEST(Options, SameDeviceForBothRoles) {
  testing::internal::CaptureStderr();
  auto r = parse_args({"--uplink", "x", "--pods", "x", "--cluster-file", "c", "--node-name", "n"});
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_FALSE(r.options);
  EXPECT_NE(err.find("same device"), std::string::npos) << err;
}

TEST(Options, MissingRequiredPort) {
  testing::internal::CaptureStderr();
  auto r = parse_args({"--pods", "p", "--cluster-file", "c"});
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_FALSE(r.options);
  EXPECT_NE(err.find("--uplink is required"), std::string::npos);
}

TEST(Options, ConfigFileFillsWhatTheCommandLineLeaves) {
  std::string path = testing::TempDir() + "svcdp-options-test.conf";
  {
    std::ofstream f(path);
    f << "# comment\nuplink = net_ring0\npods = net_ring1\ncluster-file = c.yaml\nvni = 42\nmtu = 9000\n";
  }
  auto r = parse_args({"--config", path, "--vni", "7", "--node-name", "n"});
  std::remove(path.c_str());
  ASSERT_TRUE(r.options);
  EXPECT_EQ(r.options->vni, 7u);  // command line wins
  EXPECT_EQ(r.options->mtu, 9000);
  EXPECT_EQ(r.options->uplink, "net_ring0");
}

TEST(Options, ExampleConfigInTreeParses) {
  auto r = parse_args({"--config", "svcdp.conf"});
  ASSERT_TRUE(r.options) << "conf/svcdp.conf must stay valid";
}

TEST(Options, SeparatorSplitsEalFromSvcdp) {
  const char* argv[] = {"svcdp", "-l", "0,1", "--", "--uplink", "x"};
  EXPECT_EQ(find_separator(6, argv), 3);
  const char* none[] = {"svcdp", "-l", "0,1"};
  EXPECT_EQ(find_separator(3, none), 3);
}

}  // namespace
}  // namespace svcdp::conf
