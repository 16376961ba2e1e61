#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapters/host/history_store.hpp"
#include "core/gc/history.hpp"
#include "core/gc/planner.hpp"
#include "support/files.hpp"

namespace nodeimg::gc {
namespace {

constexpr Seconds kNow = 1'800'000'000;
constexpr Seconds kHour = 3600;
constexpr Seconds kDay = 86400;

std::string id_of(char c) { return "sha256:" + std::string(64, c); }

Image image(char c, std::vector<std::string> tags) {
  Image i;
  i.id = id_of(c);
  i.tags = std::move(tags);
  i.size = 100;
  return i;
}

Container container(std::string id, std::string image_ref, ContainerState state, Seconds created_at) {
  Container c;
  c.id = std::move(id);
  c.name = c.id;
  c.image = std::move(image_ref);
  c.state = state;
  c.created_at = created_at;
  return c;
}

TEST(UpdateHistory, NewImagesAreFirstSeenAndLastUsedNow) {
  Inventory inv;
  inv.images = {image('a', {"docker.io/library/busybox:1"})};
  auto h = update_history({}, inv, kNow);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[id_of('a')].first_seen, kNow);
  EXPECT_EQ(h[id_of('a')].last_used, kNow);
}

TEST(UpdateHistory, FirstSeenIsKept) {
  Inventory inv;
  inv.images = {image('a', {"docker.io/library/busybox:1"})};
  History old{{id_of('a'), {kNow - 5 * kDay, kNow - 4 * kDay}}};
  auto h = update_history(old, inv, kNow);
  EXPECT_EQ(h[id_of('a')].first_seen, kNow - 5 * kDay);
  EXPECT_EQ(h[id_of('a')].last_used, kNow - 4 * kDay);  // unused since
}

TEST(UpdateHistory, RunningAndCreatedContainersMakeLastUsedNow) {
  for (auto state : {ContainerState::Running, ContainerState::Created}) {
    Inventory inv;
    inv.images = {image('a', {"docker.io/library/busybox:1"})};
    inv.containers = {container("c1", "busybox:1", state, kNow - 3 * kDay)};
    History old{{id_of('a'), {kNow - 5 * kDay, kNow - 4 * kDay}}};
    auto h = update_history(old, inv, kNow);
    EXPECT_EQ(h[id_of('a')].last_used, kNow) << to_string(state);
    EXPECT_EQ(h[id_of('a')].first_seen, kNow - 5 * kDay);
  }
}

TEST(UpdateHistory, LastUsedIsAtLeastTheNewestCreatedAtOfAnyReferringContainer) {
  Inventory inv;
  inv.images = {image('a', {"docker.io/library/busybox:1"})};
  inv.containers = {container("c1", id_of('a'), ContainerState::Exited, kNow - 3 * kDay),
                    container("c2", "docker.io/library/busybox:1", ContainerState::Exited, kNow - 2 * kDay),
                    container("c3", "alpine", ContainerState::Exited, kNow - kHour)};
  History old{{id_of('a'), {kNow - 5 * kDay, kNow - 4 * kDay}}};
  auto h = update_history(old, inv, kNow);
  EXPECT_EQ(h[id_of('a')].last_used, kNow - 2 * kDay);
}

TEST(UpdateHistory, LastUsedNeverGoesBackwards) {
  Inventory inv;
  inv.images = {image('a', {"docker.io/library/busybox:1"})};
  inv.containers = {container("c1", id_of('a'), ContainerState::Exited, kNow - 3 * kDay)};
  History old{{id_of('a'), {kNow - 5 * kDay, kNow - kDay}}};
  EXPECT_EQ(update_history(old, inv, kNow)[id_of('a')].last_used, kNow - kDay);
}

TEST(UpdateHistory, ImagesGoneAreForgotten) {
  Inventory inv;
  inv.images = {image('a', {})};
  History old{{id_of('a'), {kNow - kDay, kNow - kDay}}, {id_of('b'), {kNow - kDay, kNow - kDay}}};
  auto h = update_history(old, inv, kNow);
  EXPECT_EQ(h.size(), 1u);
  EXPECT_FALSE(h.contains(id_of('b')));
}

TEST(UpdateHistory, NothingIsEverInTheFuture) {
  Inventory inv;
  inv.images = {image('a', {}), image('b', {})};
  inv.containers = {container("c1", id_of('b'), ContainerState::Exited, kNow + kDay)};  // a skewed clock
  History old{{id_of('a'), {kNow + kHour, kNow + 2 * kHour}}};
  auto h = update_history(old, inv, kNow);
  for (const auto& [id, e] : h) {
    EXPECT_LE(e.first_seen, kNow) << id;
    EXPECT_LE(e.last_used, kNow) << id;
  }
}

TEST(HistoryJson, SerializeThenParseGivesTheSameHistory) {
  History h{{id_of('a'), {kNow - 5 * kDay, kNow - kDay}}, {id_of('b'), {kNow, kNow}}};
  const std::string text = serialize_history(h, kNow);
  auto doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc["version"], kHistoryVersion);
  EXPECT_EQ(doc["updatedAt"], kNow);
  EXPECT_EQ(doc["images"][id_of('a')]["firstSeen"], kNow - 5 * kDay);
  EXPECT_EQ(doc["images"][id_of('a')]["lastUsed"], kNow - kDay);
  auto back = parse_history(text);
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[id_of('a')].first_seen, kNow - 5 * kDay);
  EXPECT_EQ((*back)[id_of('a')].last_used, kNow - kDay);
  EXPECT_EQ((*back)[id_of('b')].first_seen, kNow);
}

TEST(HistoryJson, EmptyHistoryRoundTrips) {
  auto back = parse_history(serialize_history({}, kNow));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_TRUE(back->empty());
}

struct BadHistory {
  std::string name, text, message;
};
void PrintTo(const BadHistory& b, std::ostream* os) { *os << b.name << ": " << ::testing::PrintToString(b.text); }
class HistoryParseError : public ::testing::TestWithParam<BadHistory> {};

TEST_P(HistoryParseError, NamesWhatIsWrong) {
  auto h = parse_history(GetParam().text);
  ASSERT_FALSE(h);
  EXPECT_NE(h.error().message.find(GetParam().message), std::string::npos) << h.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HistoryParseError,
    ::testing::Values(
        BadHistory{"corrupt_json", R"({"version": 1, "images": {)", "not valid JSON"},
        BadHistory{"empty_file", "", "not valid JSON"},
        BadHistory{"not_an_object", "[1, 2]", "top level must be an object"},
        BadHistory{"future_version", R"({"version": 3, "updatedAt": 1, "images": {}})", "unsupported version 3"},
        BadHistory{"string_version", R"({"version": "1", "updatedAt": 1, "images": {}})", "unsupported version"},
        BadHistory{"no_version", R"({"updatedAt": 1, "images": {}})", "missing \"version\""},
        BadHistory{"no_images", R"({"version": 1, "updatedAt": 1})", "missing \"images\""},
        BadHistory{"images_not_object", R"({"version": 1, "images": []})", "\"images\" must be an object"},
        BadHistory{"entry_not_object", R"({"version": 1, "images": {"sha256:x": 5}})", "image sha256:x: must be an object"},
        BadHistory{"missing_last_used", R"({"version": 1, "images": {"sha256:x": {"firstSeen": 5}}})",
                   "image sha256:x: missing \"lastUsed\""},
        BadHistory{"string_time", R"({"version": 1, "images": {"sha256:x": {"firstSeen": "yesterday", "lastUsed": 5}}})",
                   "image sha256:x: \"firstSeen\" must be an integer"},
        BadHistory{"negative_time", R"({"version": 1, "images": {"sha256:x": {"firstSeen": -5, "lastUsed": 5}}})",
                   "\"firstSeen\" must not be negative"}),
    [](const auto& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace nodeimg::gc

// The history file on a node (adapters/host/history_store), on a temporary root.
namespace nodeimg {
namespace {

class HistoryOnDisk : public ::testing::Test {
 protected:
  testing::TempDir root_{"nodeimg-history"};
  HostFiles files_{root_.path().string()};
  HistoryStore store_{files_, "/var/lib/nodeimg"};
  void write(const std::string& path, const std::string& text) {
    std::filesystem::create_directories((root_.path() / path.substr(1)).parent_path());
    std::ofstream(root_.path() / path.substr(1)) << text;
  }
};

TEST_F(HistoryOnDisk, ACorruptFileIsMovedAsideAndSaid) {
  write("/var/lib/nodeimg/state.json", "{not json");
  auto loaded = store_.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_TRUE(loaded->history.empty());
  ASSERT_EQ(loaded->warnings.size(), 1u);
  EXPECT_NE(loaded->warnings[0].find("moved to " + (root_.path() / "var/lib/nodeimg/state.json.corrupt").string()),
            std::string::npos)
      << loaded->warnings[0];
  EXPECT_EQ(testing::read_file(root_.path() / "var/lib/nodeimg/state.json.corrupt"), "{not json");
  EXPECT_FALSE(std::filesystem::exists(root_.path() / "var/lib/nodeimg/state.json"));
}

TEST_F(HistoryOnDisk, AFailedMoveAsideKeepsItsCause) {
  write("/var/lib/nodeimg/state.json", "{not json");
  // Something that is not a file where the copy should go: the move cannot happen.
  std::filesystem::create_directories(root_.path() / "var/lib/nodeimg/state.json.corrupt/x");
  auto loaded = store_.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->warnings.size(), 1u);
  const std::string& w = loaded->warnings[0];
  EXPECT_NE(w.find("left in place (could not keep a copy: "), std::string::npos) << w;
  EXPECT_NE(w.find("state.json.corrupt"), std::string::npos) << w << ": the cause names what could not be written";
  EXPECT_EQ(testing::read_file(root_.path() / "var/lib/nodeimg/state.json"), "{not json") << "nothing is lost";
}

}  // namespace
}  // namespace nodeimg
