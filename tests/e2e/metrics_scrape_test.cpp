// nodeimg's metrics files through a real node_exporter (Debian prometheus-node-exporter,
// textfile collector, on a free loopback port) and Prometheus's own linter (`promtool check
// metrics`): what nodeimg writes is what Prometheus scrapes, with the right types.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/gc/metrics.hpp"
#include "support/process.hpp"

namespace nodeimg::testing {
namespace {

namespace fs = std::filesystem;

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// GET http://127.0.0.1:PORT/metrics; "" when nothing answers.
std::string get_metrics(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  (void)::write(fd, request.data(), request.size());
  std::string response;
  char buf[8192];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) response.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  const auto body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

// node_exporter with only the textfile collector, on loopback; stopped by PID.
class NodeExporter {
 public:
  explicit NodeExporter(const fs::path& directory) : port_(free_port()) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
      const std::string dir = "--collector.textfile.directory=" + directory.string();
      ::execlp("prometheus-node-exporter", "prometheus-node-exporter", "--collector.disable-defaults",
               "--collector.textfile", dir.c_str(), listen.c_str(), static_cast<char*>(nullptr));
      std::perror("exec prometheus-node-exporter");
      ::_exit(127);
    }
  }
  ~NodeExporter() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  // Polls until node_exporter answers (it starts in well under a second).
  std::string scrape() const {
    for (int i = 0; i < 200; ++i) {
      if (auto text = get_metrics(port_); !text.empty()) return text;
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return "";
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "";
  }

 private:
  int port_;
  pid_t pid_ = -1;
};

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

class MetricsScrape : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nodeimg-e2e-metrics-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    fs::copy(fs::path(NODEIMG_FIXTURES) / "platforms/kubeadm/root", root_, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    textfiles_ = root_ / "var/lib/prometheus/node-exporter";
    fs::create_directories(textfiles_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_, textfiles_;
};

TEST_F(MetricsScrape, WhatNodeimgWritesIsScrapedAndPassesPromtool) {
  // A gc run that cannot reach its runtime (a failure, counted), and kubelet status (kubelet's facts).
  std::ofstream(root_ / "etc/nodeimg/config.yaml") << "runtime:\n  endpoint: unix://" << (root_ / "none.sock").string() << "\n";
  EXPECT_EQ(run({NODEIMG_BINARY, "--root", root_.string(), "gc"}).exit_code, 1);
  EXPECT_EQ(run({NODEIMG_BINARY, "--root", root_.string(), "kubelet", "status"}).exit_code, 0);
  ASSERT_TRUE(fs::exists(textfiles_ / "nodeimg.prom"));
  ASSERT_TRUE(fs::exists(textfiles_ / "nodeimg-kubelet.prom"));
  for (const auto& e : fs::directory_iterator(textfiles_))  // written atomically: no temporary file left
    EXPECT_EQ(e.path().extension(), ".prom") << e.path();

  NodeExporter exporter(textfiles_);
  const auto text = exporter.scrape();
  ASSERT_FALSE(text.empty()) << "node_exporter did not answer";
  EXPECT_TRUE(has_line(text, "node_textfile_scrape_error 0")) << text;
  EXPECT_TRUE(has_line(text, "# TYPE nodeimg_gc_runs_total counter")) << text;
  EXPECT_TRUE(has_line(text, "nodeimg_gc_runs_total{result=\"failure\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "nodeimg_gc_last_run_success 0")) << text;
  EXPECT_TRUE(has_line(text, "nodeimg_gc_runtime_reachable 0")) << text;
  EXPECT_TRUE(has_line(text, "nodeimg_kubelet_node_status_max_images 50")) << text;

  const auto lint = run({"promtool", "check", "metrics"}, {}, text);
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
}

TEST_F(MetricsScrape, AFullRunsMetricsAreScrapedAndPassPromtool) {
  gc::RunReport r;
  r.runtime = "containerd 1.6.20 (cri unix:///run/containerd/containerd.sock)";
  r.duration_seconds = 2.5;
  r.before = {"/var/lib/containerd", 100ULL << 30, 10ULL << 30, 1000, 100};
  r.after = {"/var/lib/containerd", 100ULL << 30, 30ULL << 30, 1000, 400};
  r.images_after = 7;
  r.removed = {{gc::ObjectKind::Image, "sha256:a", "a:1", 1 << 20, gc::Phase::Threshold, "least recently used"},
               {gc::ObjectKind::Container, "c", "job", 0, gc::Phase::ExitedContainer, "exited"}};
  r.shortfalls = {{.kind = gc::Shortfall::Kind::Low, .message = "low not reached: the rest is in use"}};
  const gc::RunTotals totals{.runs_success = 3, .removed_images = 9, .freed_bytes = 1ULL << 33};
  std::ofstream(textfiles_ / "nodeimg.prom")
      << gc::render_metrics(r, 1'764'000'000, {.totals = totals, .high_ratio = 0.75, .low_ratio = 0.65});
  std::ofstream(textfiles_ / "nodeimg-kubelet.prom")
      << gc::render_kubelet_metrics({.node_status_max_images = -1, .image_gc_high_threshold_percent = 85, .observed_at = 1});

  NodeExporter exporter(textfiles_);
  const auto text = exporter.scrape();
  ASSERT_FALSE(text.empty()) << "node_exporter did not answer";
  EXPECT_TRUE(has_line(text, "node_textfile_scrape_error 0")) << text;
  for (const auto* line : {"nodeimg_images 7", "nodeimg_gc_shortfall 1", "nodeimg_gc_high_ratio 0.75",
                           "nodeimg_gc_removed_total{kind=\"image\"} 9", "nodeimg_gc_freed_bytes_total 8.589934592e+09",
                           "nodeimg_image_filesystem_used_ratio{mountpoint=\"/var/lib/containerd\"} 0.7",
                           "nodeimg_kubelet_node_status_max_images -1"})
    EXPECT_TRUE(has_line(text, line)) << line << "\n" << text;
  const auto lint = run({"promtool", "check", "metrics"}, {}, text);
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
}

}  // namespace
}  // namespace nodeimg::testing
