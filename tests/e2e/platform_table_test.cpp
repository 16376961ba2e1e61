// The nodeimg binary on a copy of every platform fixture under --root (links and modes
// kept): `kubelet status` exits 0 and names the unit and the source of the value;
// `kubelet apply` writes exactly the expected file, byte for byte, keeping every file's
// mode; a second apply changes nothing; `kubelet revert` puts the bytes back.
#include <sys/stat.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "support/files.hpp"
#include "support/process.hpp"

namespace nodeimg::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path platforms() { return fs::path(NODEIMG_FIXTURES) / "platforms"; }

std::vector<std::string> fixture_names() { return testing::platform_fixture_names(platforms()); }

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

// Every regular file's bytes and mode, by node path.
std::map<std::string, std::pair<std::string, mode_t>> snapshot(const fs::path& root) {
  std::map<std::string, std::pair<std::string, mode_t>> out{};
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && !e.is_symlink())
      out["/" + e.path().lexically_relative(root).generic_string()] = {read_file(e.path()), mode_of(e.path())};
  return out;
}

class PlatformOnRoot : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    expect_ = json::parse(read_file(platforms() / GetParam() / "expected.json"));
    fs::copy(platforms() / GetParam() / "root", root_.path(), fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    for (const auto& [path, mode] : expect_["modes"].items())
      fs::permissions(root_.path() / path.substr(1), static_cast<fs::perms>(std::stoi(mode.get<std::string>(), nullptr, 8)));
  }
  ProcessResult nodeimg(std::vector<std::string> args) {
    args.insert(args.begin(), {NODEIMG_BINARY, "--root", root_.path().string()});
    return run(args);
  }
  std::string str(const char* key) const { return expect_[key].is_null() ? "" : expect_[key].get<std::string>(); }
  TempDir root_{"nodeimg-platform"};
  json expect_;
};

TEST_P(PlatformOnRoot, StatusExitsZeroAndNamesTheUnitAndTheSource) {
  auto r = nodeimg({"--json", "kubelet", "status"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["unit"].is_null() ? "" : j["unit"]["name"].get<std::string>(), str("unit"));
  EXPECT_EQ(j["settings"][0]["effective"], expect_["before"]["nodeStatusMaxImages"]);
  EXPECT_EQ(j["settings"][0]["source"], expect_["before"]["source"]);
  EXPECT_EQ(j["settings"][0]["sourceDetail"], expect_["before"]["sourceDetail"]);
  EXPECT_EQ(j["apply"]["changes"].size(), 1u);
  EXPECT_EQ(j["apply"]["changes"][0]["path"], expect_["writes"]);
  if (!str("unit").empty()) {
    EXPECT_FALSE(j["unitChoice"].get<std::string>().empty());
  }
  auto text = nodeimg({"kubelet", "status"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  const auto detail = expect_["before"]["sourceDetail"].get<std::string>();
  EXPECT_NE(text.out.find(detail.empty() ? "kubelet default" : detail), std::string::npos) << text.out;
  if (!str("unit").empty()) {
    const auto line = text.out.find("candidate:    " + str("unit") + " (");
    ASSERT_NE(line, std::string::npos) << text.out;
    EXPECT_NE(text.out.substr(line, text.out.find('\n', line) - line).find("<- chosen"), std::string::npos) << text.out;
  }
}

TEST_P(PlatformOnRoot, ApplyWritesTheOneExpectedFileKeepsModesAndRevertPutsItBack) {
  const auto before = snapshot(root_.path());
  auto r = nodeimg({"--json", "kubelet", "apply", "--defaults"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["changed"], true);
  EXPECT_EQ(j["effective"]["nodeStatusMaxImages"], expect_["after"]["nodeStatusMaxImages"]);
  EXPECT_EQ(j["unit"].is_null() ? "" : j["unit"].get<std::string>(), str("restart"));
  ASSERT_EQ(j["files"].size(), 1u);
  EXPECT_EQ(j["files"][0]["path"], expect_["writes"]);
  auto after = snapshot(root_.path());
  const std::string written = str("writes");
  EXPECT_EQ(after.at(written).first, read_file(platforms() / GetParam() / "expected" / written.substr(1)));
  for (const auto& [path, content_mode] : before) {
    if (path == written) {
      EXPECT_EQ(after.at(path).second, content_mode.second) << path << ": the mode changed";
      continue;
    }
    EXPECT_EQ(after.at(path), content_mode) << path << " changed but only " << written << " may";
  }
  auto again = nodeimg({"--json", "kubelet", "apply", "--defaults"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(json::parse(again.out)["changed"], false);
  auto revert = nodeimg({"kubelet", "revert"});
  ASSERT_EQ(revert.exit_code, 0) << revert.err;
  auto reverted = snapshot(root_.path());
  for (const auto& [path, content_mode] : before) EXPECT_EQ(reverted.at(path), content_mode) << path;
  EXPECT_EQ(reverted.count(written), before.count(written));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, PlatformOnRoot, ::testing::ValuesIn(fixture_names()), [](const auto& param_info) {
  std::string n = param_info.param;
  for (auto& ch : n)
    if (ch == '-') ch = '_';
  return n;
});

}  // namespace
}  // namespace nodeimg::testing
