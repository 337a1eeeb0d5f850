#include "control/kube_config.h"

#include "control/yaml_json.h"

#include <simdjson.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace svcdp::control {
namespace {

namespace fs = std::filesystem;

std::string read_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw KubeConfigError("cannot read " + what + " " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) != simdjson::SUCCESS) return {};
  return std::string(v);
}

// The element of a kubeconfig's named list (clusters, contexts, users)
// called `name`, its inner object under `inner`.
simdjson::dom::element named(simdjson::dom::element root, const char* list, const std::string& name,
                             const char* inner, const std::string& origin) {
  simdjson::dom::array items;
  if (root[list].get(items) == simdjson::SUCCESS)
    for (simdjson::dom::element item : items)
      if (str(item, "name") == name) {
        simdjson::dom::element in;
        if (item[inner].get(in) == simdjson::SUCCESS) return in;
      }
  throw KubeConfigError(origin + ": no " + std::string(inner) + " named '" + name + "' in " + list);
}

std::string relative_to(const fs::path& dir, const std::string& file) {
  if (file.empty() || fs::path(file).is_absolute()) return file;
  return (dir / file).string();
}

}  // namespace

std::string base64_decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '\n' || c == '\r' || c == ' ') continue;
    if (c == '=') break;
    const int v = value(c);
    if (v < 0) throw KubeConfigError("invalid base64 data");
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

KubeConfig load_kubeconfig(const std::string& path_arg) {
  std::string path = path_arg;
  if (path.empty())
    if (const char* env = std::getenv("KUBECONFIG"); env && *env) path = std::string(env).substr(0, std::string(env).find(':'));
  if (path.empty())
    if (const char* home = std::getenv("HOME")) path = std::string(home) + "/.kube/config";
  if (path.empty()) throw KubeConfigError("no kubeconfig: give --kubeconfig or set KUBECONFIG");
  std::vector<std::string> docs;
  try {
    docs = yaml_to_json(read_file(path, "kubeconfig"));
  } catch (const YamlError& e) {
    throw KubeConfigError(path + ": " + e.what());
  }
  if (docs.size() != 1) throw KubeConfigError(path + ": expected one YAML document");
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(docs[0]).get(root) != simdjson::SUCCESS) throw KubeConfigError(path + ": not a kubeconfig");
  const std::string ctx_name = str(root, "current-context");
  if (ctx_name.empty()) throw KubeConfigError(path + ": no current-context");
  const auto ctx = named(root, "contexts", ctx_name, "context", path);
  const auto cluster = named(root, "clusters", str(ctx, "cluster"), "cluster", path);
  const auto user = named(root, "users", str(ctx, "user"), "user", path);
  const fs::path dir = fs::path(path).parent_path();

  KubeConfig c;
  c.origin = path;
  c.server = str(cluster, "server");
  while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  if (c.server.rfind("https://", 0) != 0 && c.server.rfind("http://", 0) != 0)
    throw KubeConfigError(path + ": cluster server '" + c.server + "' is not an http(s) URL");
  c.ca_file = relative_to(dir, str(cluster, "certificate-authority"));
  c.ca_pem = base64_decode(str(cluster, "certificate-authority-data"));
  bool insecure = false;
  c.insecure = cluster["insecure-skip-tls-verify"].get(insecure) == simdjson::SUCCESS && insecure;
  c.cert_file = relative_to(dir, str(user, "client-certificate"));
  c.cert_pem = base64_decode(str(user, "client-certificate-data"));
  c.key_file = relative_to(dir, str(user, "client-key"));
  c.key_pem = base64_decode(str(user, "client-key-data"));
  c.token = str(user, "token");
  c.token_file = relative_to(dir, str(user, "tokenFile"));
  return c;
}

KubeConfig in_cluster_config(const std::string& account_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port)
    throw KubeConfigError("not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
  KubeConfig c;
  c.origin = "in-cluster service account " + account_dir;
  const std::string h = host;
  c.server = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
  c.token_file = account_dir + "/token";
  c.ca_file = account_dir + "/ca.crt";
  if (!fs::exists(c.token_file)) throw KubeConfigError("no service account token at " + c.token_file);
  return c;
}

}  // namespace svcdp::control
