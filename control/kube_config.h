// Where the Kubernetes API server is and how to authenticate to it: from a
// kubeconfig file (its current context) or from the in-cluster service
// account, as client-go's clientcmd and rest.InClusterConfig() read them.
// Credentials are kept here and handed to the HTTP client only; nothing
// here logs them.
#pragma once

#include <stdexcept>
#include <string>

namespace svcdp::control {

struct KubeConfig {
  std::string server;  // https://host:port, no trailing slash
  // Trust: a CA file or PEM data; insecure skips verification (only when
  // the kubeconfig says insecure-skip-tls-verify).
  std::string ca_file, ca_pem;
  bool insecure = false;
  // Client certificate authentication (file or PEM data).
  std::string cert_file, cert_pem, key_file, key_pem;
  // Bearer token, or a file re-read on every request (rotated tokens).
  std::string token, token_file;
  std::string origin;  // where this came from, for messages
};

struct KubeConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads a kubeconfig: `path`, else $KUBECONFIG (its first entry), else
// ~/.kube/config; uses its current-context. Relative file names are
// relative to the kubeconfig's directory. Throws KubeConfigError.
// Thread: control.
KubeConfig load_kubeconfig(const std::string& path);

// The in-cluster configuration: KUBERNETES_SERVICE_HOST/_PORT and the
// service account's token and CA under `account_dir`
// (/var/run/secrets/kubernetes.io/serviceaccount). Throws KubeConfigError.
// Thread: control.
KubeConfig in_cluster_config(const std::string& account_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// Decodes standard base64 (RFC 4648 section 4), ignoring line breaks.
// Throws KubeConfigError on bad input. Thread: any.
std::string base64_decode(const std::string& in);

}  // namespace svcdp::control
