// Revert that really undoes (issue 11): the history of applies since nodeimg first touched
// the files, the full revert to the originals and `--last`, refusals when someone else
// changed a file, the owned list after a revert, the stored format (and the previous
// version's), and a state directory with no backup left after a full revert.
#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "adapters/host/host_files.hpp"
#include "adapters/host/state_store.hpp"
#include "core/kubelet/apply_record.hpp"
#include "support/files.hpp"

namespace nodeimg::kubelet {
namespace {

namespace fs = std::filesystem;
using Current = std::map<std::string, std::optional<std::string>>;

const std::string kConfig = "/var/lib/kubelet/config.yaml";
const std::string kDropIn = "/etc/kubernetes/kubelet.conf.d/99-nodeimg.conf";

ApplyRecord step(std::string at, std::vector<RecordedFile> files) {
  return {.applied_at = std::move(at), .unit = "kubelet.service", .files = std::move(files)};
}
RecordedFile modified(const std::string& path, std::string before, std::string after) {
  return {.path = path, .before = std::move(before), .after = std::move(after)};
}
RecordedFile created(const std::string& path, std::string after) {
  return {.path = path, .before = std::nullopt, .after = std::move(after), .own = true};
}

// apply 200, then apply 300, on the config file.
ApplyHistory two_applies() {
  ApplyHistory h = with_step({}, step("t1", {modified(kConfig, "max: 50\n", "max: 200\n")}));
  return with_step(std::move(h), step("t2", {modified(kConfig, "max: 200\n", "max: 300\n")}));
}

TEST(RevertHistory, FullRevertGoesBackToTheFilesBeforeNodeimgFirstTouchedThem) {
  const auto net = net_record(two_applies());
  ASSERT_TRUE(net);
  const auto rp = plan_revert(*net, Current{{kConfig, "max: 300\n"}}, false);
  ASSERT_TRUE(rp.refusal.empty()) << rp.refusal;
  ASSERT_EQ(rp.changes.size(), 1u);
  EXPECT_EQ(rp.changes[0].after, "max: 50\n");  // not 200: the original
  EXPECT_EQ(rp.changes[0].before, "max: 300\n");
}

TEST(RevertHistory, LastUndoesOnlyTheLastApply) {
  const auto h = two_applies();
  const auto rp = plan_revert(h.steps.back(), Current{{kConfig, "max: 300\n"}}, false);
  ASSERT_EQ(rp.changes.size(), 1u);
  EXPECT_EQ(rp.changes[0].after, "max: 200\n");
}

TEST(RevertHistory, StepsGetFreshIdsThatNameTheirBackups) {
  const auto h = two_applies();
  ASSERT_EQ(h.steps.size(), 2u);
  EXPECT_NE(h.steps[0].id, h.steps[1].id);
  const auto a = index_of(h.steps[0]);
  const auto b = index_of(h.steps[1]);
  EXPECT_NE(*a.files[0].before_name, *b.files[0].before_name);
}

TEST(RevertHistory, ADropInCreatedAndThenChangedIsRemovedByAFullRevert) {
  auto h = with_step({}, step("t1", {created(kDropIn, "# Written by nodeimg\nv: 1\n")}));
  h = with_step(std::move(h), step("t2", {RecordedFile{.path = kDropIn, .before = "# Written by nodeimg\nv: 1\n",
                                                       .after = "# Written by nodeimg\nv: 2\n", .own = true}}));
  const auto net = net_record(h);
  const auto rp = plan_revert(*net, Current{{kDropIn, "# Written by nodeimg\nv: 2\n"}}, false);
  ASSERT_EQ(rp.changes.size(), 1u);
  EXPECT_FALSE(rp.changes[0].after.has_value());  // removed
  EXPECT_TRUE(rp.changes[0].own);
  const auto last = plan_revert(h.steps.back(), Current{{kDropIn, "# Written by nodeimg\nv: 2\n"}}, false);
  ASSERT_EQ(last.changes.size(), 1u);
  EXPECT_EQ(last.changes[0].after, "# Written by nodeimg\nv: 1\n");
}

TEST(RevertHistory, FilesTouchedInDifferentAppliesAreAllPutBack) {
  auto h = with_step({}, step("t1", {modified(kConfig, "a\n", "b\n")}));
  h = with_step(std::move(h), step("t2", {created(kDropIn, "# Written by nodeimg\n")}));
  const auto rp = plan_revert(*net_record(h), Current{{kConfig, "b\n"}, {kDropIn, "# Written by nodeimg\n"}}, false);
  ASSERT_EQ(rp.changes.size(), 2u);
  EXPECT_EQ(rp.changes[0].after, "a\n");
  EXPECT_FALSE(rp.changes[1].after.has_value());
}

TEST(RevertHistory, AFileChangedBySomeoneElseRefusesTheWholeRevertNamingIt) {
  auto h = with_step({}, step("t1", {modified(kConfig, "a\n", "b\n")}));
  h = with_step(std::move(h), step("t2", {created(kDropIn, "# Written by nodeimg\n")}));
  const auto rp = plan_revert(*net_record(h), Current{{kConfig, "hand edit\n"}, {kDropIn, "# Written by nodeimg\n"}}, false);
  EXPECT_TRUE(rp.changes.empty());  // not even the untouched drop-in
  EXPECT_NE(rp.refusal.find(kConfig + " was changed"), std::string::npos) << rp.refusal;
  EXPECT_NE(rp.refusal.find("--force"), std::string::npos) << rp.refusal;
  const auto forced = plan_revert(*net_record(h), Current{{kConfig, "hand edit\n"}, {kDropIn, "# Written by nodeimg\n"}}, true);
  EXPECT_EQ(forced.changes.size(), 2u);
}

TEST(RevertHistory, AFileDeletedByHandIsNamedAsDeleted) {
  const auto h = with_step({}, step("t1", {modified(kConfig, "a\n", "b\n")}));
  const auto rp = plan_revert(*net_record(h), Current{{kConfig, std::nullopt}}, false);
  EXPECT_NE(rp.refusal.find(kConfig + " was deleted"), std::string::npos) << rp.refusal;
}

TEST(RevertHistory, ANodeimgDropInDeletedByHandNeedsNothing) {
  const auto h = with_step({}, step("t1", {created(kDropIn, "# Written by nodeimg\n")}));
  const auto rp = plan_revert(*net_record(h), Current{{kDropIn, std::nullopt}}, false);
  EXPECT_TRUE(rp.refusal.empty());
  EXPECT_TRUE(rp.changes.empty());
}

TEST(RevertHistory, ManyAppliesAreMergedButKeepTheOriginals) {
  ApplyHistory h;
  for (int i = 0; i < 40; ++i)
    h = with_step(std::move(h), step("t" + std::to_string(i), {modified(kConfig, std::to_string(i), std::to_string(i + 1))}));
  EXPECT_EQ(h.steps.size(), kMaxSteps);
  const auto net = net_record(h);
  EXPECT_EQ(net->files[0].before, "0");
  EXPECT_EQ(net->files[0].after, "40");
  EXPECT_EQ(h.steps.back().files[0].before, "39");
  std::set<std::uint64_t> ids;
  for (const auto& s : h.steps) ids.insert(s.id);
  EXPECT_EQ(ids.size(), h.steps.size());
}

TEST(RevertHistory, OwnedListAfterARevertFollowsTheTargetState) {
  auto h = with_step({}, step("t1", {created(kDropIn, "v1")}));
  h = with_step(std::move(h), step("t2", {RecordedFile{.path = kDropIn, .before = "v1", .after = "v2", .own = true}}));
  const OwnedFiles owned{{kDropIn, "v2"}, {"/other", "x"}};
  EXPECT_EQ(owned_after_revert(owned, h.steps.back()), (OwnedFiles{{kDropIn, "v1"}, {"/other", "x"}}));
  EXPECT_EQ(owned_after_revert(owned, *net_record(h)), (OwnedFiles{{"/other", "x"}}));
}

TEST(RevertHistory, IndexRoundTripsAndThePreviousFormatStillReads) {
  const auto h = two_applies();
  std::vector<RecordIndex> index;
  for (const auto& s : h.steps) index.push_back(index_of(s));
  auto back = parse_history_index(render_history_index(index), "r");
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].files[0].before_name, index[1].files[0].before_name);

  const std::string v2 = R"({"version": 2, "appliedAt": "2026-01-01T00:00:00Z", "unit": "kubelet.service",
    "unitFilesChanged": false, "healthzURL": null, "files": [{"path": "/var/lib/kubelet/config.yaml", "mode": 420,
    "uid": 0, "gid": 0, "before": "files/0.before", "after": "files/0.after", "own": false}]})";
  auto legacy = parse_history_index(v2, "r");
  ASSERT_TRUE(legacy) << legacy.error().message;
  ASSERT_EQ(legacy->size(), 1u);
  EXPECT_EQ((*legacy)[0].files[0].before_name, "files/0.before");
}

TEST(RevertHistory, ABackupNameOutsideTheStateDirectoryIsRefused) {
  const std::string bad = R"({"version": 3, "steps": [{"id": 1, "appliedAt": "t", "unit": "u", "files": [
    {"path": "/x", "mode": 420, "uid": 0, "gid": 0, "before": "files/../../../etc/shadow", "after": null}]}]})";
  EXPECT_FALSE(parse_history_index(bad, "r"));
}

class StateStoreOnDisk : public ::testing::Test {
 protected:
  testing::TempDir dir_{"nodeimg-state"};
  HostFiles files_{dir_.path().string()};
  StateStore store_{files_, "/var/lib/nodeimg"};
  std::vector<std::string> backups() const {
    std::vector<std::string> out;
    const auto d = dir_ / "var/lib/nodeimg/kubelet/files";
    if (fs::exists(d))
      for (const auto& e : fs::directory_iterator(d)) out.push_back(e.path().filename());
    return out;
  }
};

TEST_F(StateStoreOnDisk, HistoryRoundTripsAndAnEmptyOneLeavesNoBackupBehind) {
  ASSERT_TRUE(store_.save_history(two_applies()));
  auto back = store_.load_history();
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->steps.size(), 2u);
  EXPECT_EQ(back->steps[0].files[0].before, "max: 50\n");
  EXPECT_EQ(back->steps[1].files[0].after, "max: 300\n");
  EXPECT_EQ(backups().size(), 4u);

  kubelet::ApplyHistory one = *back;
  one.steps.pop_back();  // revert --last
  ASSERT_TRUE(store_.save_history(one));
  EXPECT_EQ(backups().size(), 2u);

  ASSERT_TRUE(store_.clear());  // full revert
  EXPECT_TRUE(backups().empty());
  EXPECT_FALSE(fs::exists(dir_ / "var/lib/nodeimg/kubelet/last-apply.json"));
  auto none = store_.load_history();
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->steps.empty());
}

TEST_F(StateStoreOnDisk, ARecordOfThePreviousVersionIsReadAndConvertedOnTheNextSave) {
  const auto base = dir_ / "var/lib/nodeimg/kubelet";
  fs::create_directories(base / "files");
  std::ofstream(base / "files/0.before") << "max: 50\n";
  std::ofstream(base / "files/0.after") << "max: 200\n";
  std::ofstream(base / "last-apply.json")
      << R"({"version": 2, "appliedAt": "2026-01-01T00:00:00Z", "unit": "kubelet.service", "unitFilesChanged": false,
             "healthzURL": null, "files": [{"path": "/var/lib/kubelet/config.yaml", "mode": 420, "uid": 0, "gid": 0,
             "before": "files/0.before", "after": "files/0.after", "own": false}]})";
  auto h = store_.load_history();
  ASSERT_TRUE(h) << h.error().message;
  ASSERT_EQ(h->steps.size(), 1u);
  EXPECT_EQ(h->steps[0].files[0].before, "max: 50\n");
  auto next = with_step(*h, step("t2", {modified(kConfig, "max: 200\n", "max: 300\n")}));
  ASSERT_TRUE(store_.save_history(next));
  auto again = store_.load_history();
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(net_record(*again)->files[0].before, "max: 50\n");
  for (const auto& name : backups()) EXPECT_NE(name, "0.before");  // the old names are gone
}

TEST_F(StateStoreOnDisk, AnEmptyOwnedListRemovesItsFile) {
  ASSERT_TRUE(store_.save_owned({{kDropIn, "x"}}));
  EXPECT_TRUE(fs::exists(dir_ / "var/lib/nodeimg/kubelet/owned.json"));
  ASSERT_TRUE(store_.save_owned({}));
  EXPECT_FALSE(fs::exists(dir_ / "var/lib/nodeimg/kubelet/owned.json"));
}

}  // namespace
}  // namespace nodeimg::kubelet
