// Every platform fixture under tests/fixtures/platforms/NAME: root/ (the node as the
// platform's installer leaves it), expected/ (the one file apply writes, byte for byte) and
// expected.json (the unit, the sources, the value before and after, the file written).
// One table, driven by the directories: a new fixture without expectations fails.
#include <filesystem>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "core/kubelet/plan.hpp"
#include "support/files.hpp"
#include "support/memory_tree.hpp"

namespace nodeimg::kubelet {
namespace {

namespace fs = std::filesystem;
using testing::MemoryTree;

fs::path platforms() { return fs::path(NODEIMG_FIXTURES) / "platforms"; }

std::vector<std::string> fixture_names() { return testing::platform_fixture_names(platforms()); }

const Values kDesired = {{"nodeStatusMaxImages", -1}};

class PlatformTable : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const auto expect_file = platforms() / GetParam() / "expected.json";
    ASSERT_TRUE(fs::exists(expect_file)) << "every fixture states its expectations in " << expect_file;
    expect_ = Json::parse(testing::read_file(expect_file));
    tree_ = MemoryTree::from_directory(platforms() / GetParam() / "root");
  }
  std::string str(const char* key) const { return expect_[key].is_null() ? "" : expect_[key].get<std::string>(); }
  Json expect_;
  MemoryTree tree_;
};

TEST_P(PlatformTable, FindsTheUnitAndEverySource) {
  auto sources = discover(tree_, {});
  ASSERT_TRUE(sources) << sources.error().message;
  EXPECT_EQ(sources->unit_refusal, "");
  EXPECT_EQ(sources->unit ? sources->unit->name : "", str("unit"));
  if (expect_.contains("unitReason")) {
    EXPECT_EQ(sources->unit_reason, str("unitReason"));
  }
  if (expect_.contains("candidates")) {
    std::vector<std::string> seen{};
    for (const auto& c : sources->candidates) seen.push_back(c.name);
    EXPECT_EQ(Json(seen), expect_["candidates"]);
  }
  EXPECT_EQ(sources->config_file.value_or(""), str("configFile"));
  EXPECT_EQ(sources->dropin_dir.value_or(""), str("dropInDir"));
  EXPECT_EQ(sources->args_file ? sources->args_file->path : "", str("argsFile"));
  if (sources->unit) {
    EXPECT_EQ(Json(sources->unit->environment_files), expect_["environmentFiles"]);
    if (expect_.contains("absentEnvironmentFiles")) {
      EXPECT_EQ(Json(sources->unit->absent_environment_files), expect_["absentEnvironmentFiles"]);
    }
  }
  EXPECT_TRUE(sources->warnings.empty()) << sources->warnings.front();
}

TEST_P(PlatformTable, EffectiveValueAndItsSourceBeforeApply) {
  auto sources = discover(tree_, {});
  ASSERT_TRUE(sources) << sources.error().message;
  auto p = plan(tree_, {}, *sources, kDesired);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->refusal, "");
  ASSERT_FALSE(p->settings.empty());
  const auto& before = expect_["before"];
  EXPECT_EQ(p->settings[0].name, "nodeStatusMaxImages");
  EXPECT_EQ(p->settings[0].effective, before["nodeStatusMaxImages"]);
  EXPECT_EQ(std::string(to_string(p->settings[0].source)), before["source"].get<std::string>());
  EXPECT_EQ(p->settings[0].source_detail, before["sourceDetail"].get<std::string>());
}

TEST_P(PlatformTable, ApplyWritesTheOneExpectedFile) {
  auto sources = discover(tree_, {});
  ASSERT_TRUE(sources) << sources.error().message;
  auto p = plan(tree_, {}, *sources, kDesired);
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(p->changes.size(), 1u) << p->refusal;
  EXPECT_EQ(p->changes[0].path, str("writes"));
  ASSERT_TRUE(p->changes[0].after);
  const auto expected = platforms() / GetParam() / "expected" / str("writes").substr(1);
  ASSERT_TRUE(fs::exists(expected)) << expected;
  EXPECT_EQ(*p->changes[0].after, testing::read_file(expected));
  // Exactly one file under expected/: the table and the tree agree.
  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(platforms() / GetParam() / "expected")) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);
}

TEST_P(PlatformTable, AfterApplyTheValueIsDesiredAndASecondApplyChangesNothing) {
  auto sources = discover(tree_, {});
  ASSERT_TRUE(sources);
  auto first = plan(tree_, {}, *sources, kDesired);
  ASSERT_TRUE(first) << first.error().message;
  DiscoveryOptions options;
  for (const auto& c : first->changes) {
    tree_.files[c.path] = *c.after;
    if (c.own) options.owned_files[c.path] = *c.after;
  }
  auto again = discover(tree_, options);
  ASSERT_TRUE(again) << again.error().message;
  auto second = plan(tree_, options, *again, kDesired);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(second->changes.empty());
  EXPECT_EQ(second->settings[0].effective, expect_["after"]["nodeStatusMaxImages"]);
  EXPECT_EQ(again->unit ? again->unit->name : "", str("unit"));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, PlatformTable, ::testing::ValuesIn(fixture_names()), [](const auto& param_info) {
  std::string n = param_info.param;
  for (auto& ch : n)
    if (ch == '-') ch = '_';
  return n;
});

// The issue names these platforms; each must have a fixture.
TEST(PlatformTableCoverage, EveryPlatformOfTheIssueHasAFixture) {
  const auto names = fixture_names();
  for (const char* p : {"kubeadm", "kubeadm-rpm", "kind", "minikube", "kops", "eks-al2", "eks-al2023", "gke", "aks",
                        "kubespray", "k3s", "rke2", "rke2-rpm", "typhoon-fcos", "microk8s", "sealos"})
    EXPECT_NE(std::find(names.begin(), names.end(), p), names.end()) << p;
}

}  // namespace
}  // namespace nodeimg::kubelet
