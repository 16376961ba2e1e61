// The shipped units against real systemd: nodeimg-gc.service, hardened as shipped, runs
// `nodeimg gc` inside a systemd container against a real containerd on the host (its
// socket and image filesystem bind-mounted at the same paths), and its run lands in the
// journal with structured fields. Proves the hardening leaves the collector able to work.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "support/containerd.hpp"
#include "support/cri_pods.hpp"
#include "support/files.hpp"
#include "support/registry.hpp"
#include "support/containerd_beside_systemd.hpp"

namespace nodeimg::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class GcUnitOnSystemd : public ContainerdBesideSystemd {
 protected:
  void SetUp() override { boot_node({"reg.test/u:1", "reg.test/u:2", "reg.test/u:3"}); }
};

TEST_F(GcUnitOnSystemd, TimerAndHardenedServiceCollectAndLogStructuredFields) {
  auto& c = *container_;
  const fs::path units = fs::path(NODEIMG_FIXTURES).parent_path().parent_path() / "systemd";
  c.write("/etc/systemd/system/nodeimg-gc.service", read_file(units / "nodeimg-gc.service"));
  c.write("/etc/systemd/system/nodeimg-gc.timer", read_file(units / "nodeimg-gc.timer"));
  c.exec({"ln", "-sf", "/opt/nodeimg/nodeimg", "/usr/bin/nodeimg"});
  c.write("/etc/nodeimg/config.yaml", "runtime:\n  endpoint: " + containerd_->endpoint() +
                                          "\ngc:\n  minAge: 0s\n  maxImages: 2\n");
  c.systemctl({"daemon-reload"});
  c.systemctl({"enable", "--now", "nodeimg-gc.timer"});
  EXPECT_EQ(c.show("nodeimg-gc.timer", {"ActiveState"})["ActiveState"], "active");

  // One run now, as the timer would start it.
  auto start = c.exec({"systemctl", "start", "nodeimg-gc.service"});
  EXPECT_EQ(start.exit_code, 0) << start.err << c.exec({"journalctl", "-u", "nodeimg-gc.service", "--no-pager"}).out;
  auto props = c.show("nodeimg-gc.service", {"Result", "ExecMainStatus"});
  EXPECT_EQ(props["Result"], "success");
  EXPECT_EQ(props["ExecMainStatus"], "0");

  CriPods pods(containerd_->endpoint());
  EXPECT_EQ(pods.images().size(), 2u) << "maxImages 2: the pause image and one more";
  EXPECT_TRUE(c.exists("/var/lib/nodeimg/state.json"));

  c.exec({"journalctl", "--sync"});
  auto j = c.exec({"journalctl", "-t", "nodeimg", "NODEIMG_COMMAND=gc", "-o", "json", "--no-pager"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  std::istringstream lines(j.out);
  std::string line, last;
  while (std::getline(lines, line))
    if (!line.empty()) last = line;
  ASSERT_FALSE(last.empty()) << "no journal entry with NODEIMG_COMMAND=gc";
  auto entry = json::parse(last);
  EXPECT_EQ(entry["NODEIMG_IMAGES_REMOVED"], "2");
  EXPECT_EQ(entry["NODEIMG_FAILURES"], "0");
  EXPECT_EQ(entry["_SYSTEMD_UNIT"], "nodeimg-gc.service");
  EXPECT_NE(entry["MESSAGE"].get<std::string>().find("removed"), std::string::npos);
}

TEST_F(GcUnitOnSystemd, PrepullServicePullsFromALocalRegistryAtBoot) {
  auto registry = LocalRegistry::start();
  const std::string oci = dir_ + "/one.tar";
  make_oci_single("reg.test/warm:1", oci);
  const std::string ref = registry->push(oci, "warm:1");
  auto& c = *container_;
  const fs::path units = fs::path(NODEIMG_FIXTURES).parent_path().parent_path() / "systemd";
  c.write("/etc/systemd/system/nodeimg-prepull.service", read_file(units / "nodeimg-prepull.service"));
  c.exec({"ln", "-sf", "/opt/nodeimg/nodeimg", "/usr/bin/nodeimg"});
  c.write("/etc/nodeimg/config.yaml", "runtime:\n  endpoint: " + containerd_->endpoint() + "\nprepull: [\"" + ref + "\"]\n");
  c.systemctl({"daemon-reload"});
  c.systemctl({"start", "nodeimg-prepull.service"});
  std::map<std::string, std::string> props;
  for (int i = 0; i < 300; ++i) {  // Type=exec: started at once, done when the pull is
    props = c.show("nodeimg-prepull.service", {"ActiveState", "Result", "ExecMainStatus"});
    if (props["ActiveState"] == "inactive" || props["ActiveState"] == "failed") break;
    c.exec({"sleep", "0.1"});
  }
  EXPECT_EQ(props["ActiveState"], "inactive") << c.exec({"journalctl", "-u", "nodeimg-prepull.service", "--no-pager"}).out;
  EXPECT_EQ(props["Result"], "success");
  bool present = false;
  for (const auto& i : CriPods(containerd_->endpoint()).images())
    for (const auto& t : i.repo_tags()) present = present || t == ref;
  EXPECT_TRUE(present) << ref << " was not pulled";
  EXPECT_EQ(registry->stop(), 0);
}

}  // namespace
}  // namespace nodeimg::testing
