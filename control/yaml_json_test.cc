#include "control/yaml_json.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace svcdp::control {
namespace {

TEST(YamlJson, ScalarsKeepTheirKubernetesTypes) {
  auto j = yaml_to_json(YAML::Load(
      "port: 80\ntargetPort: \"8080\"\nname: http\nready: true\nnone: null\nneg: -1\nver: 1.5\nip: 10.0.0.1\n"
      "empty: ''\nlist: [a, 2]\nnested: {k: v}\nquote: 'say \"hi\"'\n"));
  EXPECT_EQ(j,
            R"({"port":80,"targetPort":"8080","name":"http","ready":true,"none":null,"neg":-1,"ver":1.5,)"
            R"("ip":"10.0.0.1","empty":"","list":["a",2],"nested":{"k":"v"},"quote":"say \"hi\""})");
}

TEST(YamlJson, ControlCharactersAreEscaped) {
  EXPECT_EQ(yaml_to_json(YAML::Load("a: \"x\\ty\\u0001\"")), R"({"a":"x\ty\u0001"})");
}

}  // namespace
}  // namespace svcdp::control
