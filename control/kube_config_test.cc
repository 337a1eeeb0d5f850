#include "control/kube_config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace svcdp::control {
namespace {

namespace fs = std::filesystem;

class KubeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("svcdp-kc-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

TEST_F(KubeConfigTest, CurrentContextWithFilesRelativeToTheKubeconfig) {
  const auto path = write("config", R"(apiVersion: v1
kind: Config
current-context: prod
clusters:
- {name: dev, cluster: {server: "https://dev:6443"}}
- {name: prod, cluster: {server: "https://10.0.0.1:6443/", certificate-authority: pki/ca.crt}}
contexts:
- {name: prod, context: {cluster: prod, user: admin}}
users:
- {name: admin, user: {client-certificate: pki/admin.crt, client-key: /abs/admin.key, token: s3cr3t}}
)");
  const KubeConfig c = load_kubeconfig(path);
  EXPECT_EQ(c.server, "https://10.0.0.1:6443");
  EXPECT_EQ(c.ca_file, (dir_ / "pki/ca.crt").string());
  EXPECT_EQ(c.cert_file, (dir_ / "pki/admin.crt").string());
  EXPECT_EQ(c.key_file, "/abs/admin.key");
  EXPECT_EQ(c.token, "s3cr3t");
  EXPECT_FALSE(c.insecure);
}

TEST_F(KubeConfigTest, InlineDataIsBase64Decoded) {
  const auto path = write("config", R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k:443", certificate-authority-data: "LS0tLS1CRUdJTg==", insecure-skip-tls-verify: true}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users: [{name: u, user: {client-key-data: "a2V5", tokenFile: tok}}]
)");
  const KubeConfig c = load_kubeconfig(path);
  EXPECT_EQ(c.ca_pem, "-----BEGIN");
  EXPECT_EQ(c.key_pem, "key");
  EXPECT_TRUE(c.insecure);
  EXPECT_EQ(c.token_file, (dir_ / "tok").string());
}

TEST_F(KubeConfigTest, ErrorsNameTheProblem) {
  EXPECT_THROW(load_kubeconfig((dir_ / "missing").string()), KubeConfigError);
  const auto path = write("config", "current-context: nope\ncontexts: []\n");
  try {
    load_kubeconfig(path);
    FAIL();
  } catch (const KubeConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos) << e.what();
  }
  EXPECT_THROW(base64_decode("a*b"), KubeConfigError);
}

TEST_F(KubeConfigTest, InClusterFromTheServiceAccount) {
  write("token", "tok\n");
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  const KubeConfig c = in_cluster_config(dir_.string());
  EXPECT_EQ(c.server, "https://10.96.0.1:443");
  EXPECT_EQ(c.token_file, (dir_ / "token").string());
  EXPECT_EQ(c.ca_file, (dir_ / "ca.crt").string());
  unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_THROW(in_cluster_config(dir_.string()), KubeConfigError);
}

}  // namespace
}  // namespace svcdp::control
