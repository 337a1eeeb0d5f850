#include "control/yaml_json.h"

#include <gtest/gtest.h>

namespace svcdp::control {
namespace {

std::string one(std::string_view yaml) {
  auto docs = yaml_to_json(yaml);
  EXPECT_EQ(docs.size(), 1u);
  return docs.empty() ? "" : docs[0];
}

TEST(YamlJson, ScalarsKeepTheirKubernetesTypes) {
  EXPECT_EQ(one("port: 80\ntargetPort: \"8080\"\nname: http\nready: true\nnone: null\nneg: -1\nver: 1.5\n"
                "ip: 10.0.0.1\nempty: ''\nlist: [a, 2]\nnested: {k: v}\nquote: 'say \"hi\"'\ntilde: ~\nblank:\n"),
            R"({"port":80,"targetPort":"8080","name":"http","ready":true,"none":null,"neg":-1,"ver":1.5,)"
            R"("ip":"10.0.0.1","empty":"","list":["a",2],"nested":{"k":"v"},"quote":"say \"hi\"",)"
            R"("tilde":null,"blank":null})");
}

// kubectl reads YAML 1.1 (sigs.k8s.io/yaml over go-yaml v2): these plain
// scalars are booleans there; quoted, they stay strings.
TEST(YamlJson, Yaml11BooleansAreBooleans) {
  EXPECT_EQ(one("a: False\nb: NO\nc: off\nd: Yes\ne: ON\nf: y\ng: 'no'\nh: Null\nNo: 1\n"),
            R"({"a":false,"b":false,"c":false,"d":true,"e":true,"f":true,"g":"no","h":null,"No":1})");
}

TEST(YamlJson, JsonIsYaml) {
  EXPECT_EQ(one(R"({"a": [1, "x", {"b": false}]})"), R"({"a":[1,"x",{"b":false}]})");
}

TEST(YamlJson, DocumentsAndEscapes) {
  auto docs = yaml_to_json("a: \"x\\ty\\u0001\"\n---\n---\nb: [ ]\n");
  ASSERT_EQ(docs.size(), 2u) << "the empty document is left out";
  EXPECT_EQ(docs[0], R"({"a":"x\ty\u0001"})");
  EXPECT_EQ(docs[1], R"({"b":[]})");
}

TEST(YamlJson, UntrustedInputIsRefusedWithAPlace) {
  for (const char* bad : {"a: &x [1]\nb: *x\n",       // aliases: no billion laughs
                          "? [complex]\n: key\n",    // non-scalar key
                          "a: [unclosed\n",          // malformed
                          "a: b: c\n"}) {
    try {
      yaml_to_json(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const YamlError& e) {
      EXPECT_NE(std::string(e.what()).find("line "), std::string::npos) << e.what();
    }
  }
  std::string deep(200, '[');
  EXPECT_THROW(yaml_to_json(deep), YamlError);
}

}  // namespace
}  // namespace svcdp::control
