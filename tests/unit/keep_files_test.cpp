// gc.keepFromFile on a real directory tree: files and directories of keep patterns, a
// ConfigMap volume's layout (hidden ..data, keys as symlinks), and every way the list could
// be silently lost being an error instead.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "adapters/host/keep_files.hpp"
#include "support/files.hpp"

namespace nodeimg {
namespace {

namespace fs = std::filesystem;

class KeepFiles : public ::testing::Test {
 protected:
  void SetUp() override { root_ = testing::make_temp_dir("nodeimg-keep-files"); }
  void TearDown() override { fs::remove_all(root_); }
  void write(const std::string& path, const std::string& text) {
    fs::create_directories((root_ / path.substr(1)).parent_path());
    std::ofstream(root_ / path.substr(1)) << text;
  }
  std::vector<std::string> texts(const std::vector<std::string>& paths) {
    auto p = read_keep_files(HostFiles(root_.string()), paths);
    EXPECT_TRUE(p) << p.error().message;
    std::vector<std::string> out;
    if (p)
      for (const auto& pattern : *p) out.push_back(pattern.text());
    return out;
  }
  fs::path root_;
};

TEST_F(KeepFiles, AFileAndADirectoryInNameOrder) {
  write("/etc/nodeimg/site.keep", "# site\nghcr.io/site/*\n");
  write("/etc/nodeimg/keep.d/20-fledged", "docker.io/library/nginx:1.27\n");
  write("/etc/nodeimg/keep.d/10-nublado", "ghcr.io/lsst-sqre/sciplat-lab:*\n");
  write("/etc/nodeimg/keep.d/.10-nublado.swp", "not a pattern file: hidden\n");
  fs::create_directories(root_ / "etc/nodeimg/keep.d/sub");
  EXPECT_EQ(texts({"/etc/nodeimg/site.keep", "/etc/nodeimg/keep.d/"}),
            (std::vector<std::string>{"ghcr.io/site/*", "ghcr.io/lsst-sqre/sciplat-lab:*", "docker.io/library/nginx:1.27"}));
}

TEST_F(KeepFiles, AConfigMapVolumeIsReadThroughItsSymlinks) {
  // kubelet's layout: ..2026_01_01/KEY, ..data -> ..2026_01_01, KEY -> ..data/KEY
  write("/etc/nodeimg/keep.d/..2026_01_01/prepull", "quay.io/team/app:*\n");
  fs::create_directory_symlink("..2026_01_01", root_ / "etc/nodeimg/keep.d/..data");
  fs::create_symlink("..data/prepull", root_ / "etc/nodeimg/keep.d/prepull");
  EXPECT_EQ(texts({"/etc/nodeimg/keep.d"}), std::vector<std::string>{"quay.io/team/app:*"});
}

TEST_F(KeepFiles, AbsentPathsAndBadLinesAreErrorsNamingThem) {
  auto absent = read_keep_files(HostFiles(root_.string()), {"/etc/nodeimg/keep.d"});
  ASSERT_FALSE(absent);
  EXPECT_NE(absent.error().message.find((root_ / "etc/nodeimg/keep.d").string() + ": no such file or directory"),
            std::string::npos)
      << absent.error().message;
  write("/etc/nodeimg/keep.d/lab", "ok:*\n\nregex:((\n");
  auto bad = read_keep_files(HostFiles(root_.string()), {"/etc/nodeimg/keep.d"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("keep.d/lab:3:"), std::string::npos) << bad.error().message;
  EXPECT_TRUE(texts({}).empty());
}

}  // namespace
}  // namespace nodeimg
