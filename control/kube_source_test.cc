// Scripted scenarios against the test API server (tests/kube-api/server.py,
// real TLS with a CA made at start-up, the wire format of the recorded
// kube-apiserver): the real KubeSource (three reflectors over libcurl)
// feeds a TableSync; after every step the generation it builds must equal
// the one built from the server's own state.
#include "control/cluster_file.h"
#include "control/kube_source.h"
#include "control/table_sync.h"
#include "control/testing/table_text.h"

#include <gtest/gtest.h>
#include <rte_byteorder.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace svcdp::control {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

uint64_t steady_ns() {
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

using testing::table_text;

class TestApiServer {
 public:
  TestApiServer() {
    dir_ = fs::temp_directory_path() / ("svcdp-kube-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    const std::string cmd = "exec python3 " + std::string(SVCDP_SOURCE_ROOT) + "/tests/kube-api/server.py " +
                            dir_.string() + " 2>" + (dir_ / "server.err").string();
    pipe_ = popen(cmd.c_str(), "r");
    char line[64] = {};
    if (pipe_ == nullptr || std::fgets(line, sizeof line, pipe_) == nullptr) return;
    ready_ = std::string(line).rfind("ready ", 0) == 0;
    port_ = std::atoi(line + 6);
  }
  ~TestApiServer() {
    if (pipe_) {
      std::system(("pkill -f '" + dir_.string() + "' 2>/dev/null").c_str());
      pclose(pipe_);
    }
    fs::remove_all(dir_);
  }
  bool ready() const { return ready_; }
  fs::path dir() const { return dir_; }

  std::string control(const std::string& op) {
    KubeHttp http(control_config());
    const HttpResult r = http.get("/_test/" + op);
    EXPECT_EQ(r.status, 200) << op << ": " << r.error << r.body;
    return r.body;
  }

  // What the cluster is now, built the same way as svcdp's tables.
  std::string expected() {
    ClusterObjects objs = parse_cluster_text(control("state"), "test server");
    // kube-proxy's label selector, applied by the server to svcdp's requests.
    std::erase_if(objs.services, [](const ServiceInfo& s) { return s.other_proxy; });
    return table_text(*testing::full_build(std::move(objs)));
  }

 private:
  KubeConfig control_config() const { return load_kubeconfig((dir_ / "kubeconfig").string()); }
  fs::path dir_;
  FILE* pipe_ = nullptr;
  bool ready_ = false;
  int port_ = 0;
};

class KubeSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v python3 >/dev/null && command -v openssl >/dev/null") != 0)
      GTEST_SKIP() << "python3 and openssl are needed (make deps)";
    server_ = std::make_unique<TestApiServer>();
    ASSERT_TRUE(server_->ready()) << "the test API server did not start";
    ReflectorOptions ro;
    ro.watch_timeout_s = 30;
    ro.backoff_min_ms = 20;
    ro.backoff_max_ms = 400;
    ro.page_size = 2;  // the fixtures' lists come in several pages
    HttpTimeouts to;
    to.stall_s = 2;
    source_ = std::make_unique<KubeSource>(load_kubeconfig((server_->dir() / "kubeconfig").string()), ro, to);
    ASSERT_TRUE(converge()) << "initial list";
  }
  void TearDown() override {
    source_.reset();
    server_.reset();
  }

  // Drains events and builds until the tables equal the server's state
  // (or `timeout` passes). Every generation built is checked by `each`.
  bool converge(std::chrono::milliseconds timeout = 8000ms,
                const std::function<void(const std::string&)>& each = nullptr) {
    const std::string want = server_->expected();
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      for (const KubeEvent& e : source_->events().drain()) sync_.apply(e);
      if (auto fib = sync_.build_if_due(steady_ns())) {
        sync_.published(steady_ns());
        current_ = table_text(*fib);
        if (each) each(current_);
      }
      if (current_ == want) return true;
      std::this_thread::sleep_for(2ms);
    }
    ADD_FAILURE() << "tables:\n" << current_ << "\nexpected:\n" << want << "\nwatch: " << source_->stats();
    return false;
  }

  std::unique_ptr<TestApiServer> server_;
  TableBuilder builder_{FibParams{"node-a", 1, 4789, {}, {}, {}, {}, {}, {}, {}}, 251};
  TableSync sync_{builder_, 100'000};
  std::unique_ptr<KubeSource> source_;
  std::string current_;
};

TEST_F(KubeSourceTest, RecordedChangesStreamIn) {
  EXPECT_NE(current_.find("shop/payments:http/6"), std::string::npos);
  EXPECT_EQ(current_.find("payments-headless"), std::string::npos) << "headless: left alone";
  server_->control("apply?file=watch-endpointslices.jsonl");  // E1-E7: scale, not ready, terminating, move
  ASSERT_TRUE(converge());
  server_->control("apply?file=watch-services.jsonl");  // S1-S3
  server_->control("apply?file=watch-nodes.jsonl");     // N1-N5: node-b moves to 192.168.56.22
  ASSERT_TRUE(converge());
  EXPECT_NE(current_.find("node node-b 3232249878"), std::string::npos) << current_;
}

TEST_F(KubeSourceTest, ClosedWatchesResumeWithoutRelisting) {
  const std::string before = server_->control("stats");
  server_->control("close");
  std::this_thread::sleep_for(300ms);
  server_->control("apply?file=watch-endpointslices.jsonl");
  ASSERT_TRUE(converge());
  const std::string after = server_->control("stats");
  EXPECT_EQ(before.substr(0, before.find(',')), after.substr(0, after.find(','))) << "no new list: " << after;
}

TEST_F(KubeSourceTest, ExpiredWatchRelistsAndAppliesOnlyTheDifference) {
  // Changes the watch never reports (lost to compaction), then 410 mid-stream.
  server_->control("silent-delete?resource=endpointslices&ns=shop&name=payments-7x9kq");
  server_->control("silent-delete?resource=services&ns=shop&name=payments-lb");
  server_->control("expire");
  // The NodePort service exists throughout: no generation may lack it.
  ASSERT_TRUE(converge(8000ms, [](const std::string& t) {
    EXPECT_NE(t.find("shop/payments-nodeport:http"), std::string::npos) << "spurious delete:\n" << t;
  }));
  EXPECT_EQ(current_.find("payments-lb"), std::string::npos);
  EXPECT_GE(source_->stats(ResourceKind::kSlice).expired, 1u) << source_->stats();
}

TEST_F(KubeSourceTest, ExpiredListContinuationStartsOver) {
  server_->control("expire-continue");
  server_->control("silent-delete?resource=services&ns=shop&name=payments-lb");
  server_->control("expire");
  ASSERT_TRUE(converge());
}

// client-go's reflector (tools/cache/reflector.go): the first lists at
// resourceVersion 0 (the watch cache, not a quorum read of etcd); after a
// watch expired, a relist from the last version seen, NotOlderThan, never
// back in time; when that list gets 410 too, a quorum read.
TEST_F(KubeSourceTest, ListsFromTheWatchCacheAndRelistsNotOlderThan) {
  server_->control("silent-delete?resource=services&ns=shop&name=payments-lb");
  server_->control("expire-list");
  server_->control("expire");
  ASSERT_TRUE(converge(8000ms, [](const std::string&) {}));
  EXPECT_EQ(current_.find("payments-lb"), std::string::npos);
  const std::string stats = server_->control("stats");
  const auto first = stats.find("\"list_versions\":[");
  ASSERT_NE(first, std::string::npos) << stats;
  const std::string versions = stats.substr(first, stats.find(']', first) - first);
  EXPECT_EQ(versions.find("\"0/\",\"0/\",\"0/\""), versions.find('[') + 1) << "the three first lists: " << versions;
  EXPECT_NE(versions.find("/NotOlderThan\""), std::string::npos) << versions;
  EXPECT_NE(versions.find("\"/\""), std::string::npos) << "one relist got 410 and read etcd: " << versions;
}

TEST_F(KubeSourceTest, GarbageAndTruncatedEventsAreSurvived) {
  server_->control("garbage?text=%7B%22type%22%3A%22MODIFIED%22%2C%22object%22%3A%7B%22kind");  // truncated JSON
  server_->control("garbage?text=not-json-at-all");
  server_->control("apply?file=watch-endpointslices.jsonl");
  ASSERT_TRUE(converge());
  uint64_t bad = 0;
  for (auto kind : {ResourceKind::kNode, ResourceKind::kService, ResourceKind::kSlice}) bad += source_->stats(kind).bad_events;
  EXPECT_GE(bad, 2u) << "each open watch saw garbage twice: " << source_->stats();
}

TEST_F(KubeSourceTest, StalledConnectionIsReplaced) {
  server_->control("stall?seconds=4");
  server_->control("apply?file=watch-endpointslices.jsonl");
  // No byte for 2 s (the stall timeout here): reconnect, and the new watch
  // (after the stall) delivers the changes.
  ASSERT_TRUE(converge(10000ms));
}

TEST_F(KubeSourceTest, ServerDownThenBackWithBackoff) {
  server_->control("down?seconds=2");
  server_->control("apply?file=watch-services.jsonl");
  ASSERT_TRUE(converge(10000ms));
  const std::string stats = server_->control("stats");
  EXPECT_EQ(stats.find("\"unavailable\":0,"), std::string::npos) << "the outage was seen: " << stats;
  EXPECT_GE(source_->stats(ResourceKind::kService).errors, 1u) << "and counted as API errors";
  // And by verb and code, as client-go's rest_client_requests_total.
  const ApiRequestStats& r = source_->stats(ResourceKind::kService).requests;
  auto at = [&](ApiRequestStats::Verb v, int code) {
    const size_t i = std::find(ApiRequestStats::kCodes.begin(), ApiRequestStats::kCodes.end(), code) -
                     ApiRequestStats::kCodes.begin();
    return r.by_code[v][i].load();
  };
  EXPECT_GE(at(ApiRequestStats::kList, 200), 1u);
  EXPECT_GE(at(ApiRequestStats::kList, 503) + at(ApiRequestStats::kWatch, 503), 1u);
  uint64_t timed = 0;
  for (const auto& b : r.list_latency) timed += b.load();
  EXPECT_GE(timed, at(ApiRequestStats::kList, 200)) << "every answered list page timed";
}

TEST_F(KubeSourceTest, RotatedTokenIsReadAgain) {
  server_->control("token?value=rotated-token");
  server_->control("close");
  server_->control("apply?file=watch-services.jsonl");
  std::this_thread::sleep_for(500ms);  // 401s meanwhile
  {
    std::ofstream(server_->dir() / "token") << "rotated-token\n";
  }
  ASSERT_TRUE(converge(10000ms));
}

}  // namespace
}  // namespace svcdp::control
