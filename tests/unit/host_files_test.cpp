// The file adapter on a real temporary directory: atomic writes that keep mode and
// owner, and the refusals that keep a redirected path from being written.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "adapters/host/host_files.hpp"

namespace nodeimg {
namespace {

namespace fs = std::filesystem;

class HostFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nodeimg-hostfiles-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    fs::create_directories(root_ / "etc");
  }
  void TearDown() override { fs::remove_all(root_); }
  void put(const std::string& path, const std::string& content, mode_t mode = 0644) {
    std::ofstream(root_ / path.substr(1), std::ios::binary) << content;
    ::chmod((root_ / path.substr(1)).c_str(), mode);
  }
  std::string get(const std::string& path) {
    std::ifstream in(root_ / path.substr(1), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  fs::path root_;
};

TEST_F(HostFilesTest, AtomicWriteKeepsModeAndLeavesNoTemporaryFile) {
  put("/etc/k.yaml", "old\n", 0640);
  HostFiles files(root_.string());
  ASSERT_TRUE(files.write_atomic("/etc/k.yaml", "new\r\n"));
  EXPECT_EQ(get("/etc/k.yaml"), "new\r\n");
  struct stat st {};
  ASSERT_EQ(::stat((root_ / "etc/k.yaml").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(std::distance(fs::directory_iterator(root_ / "etc"), fs::directory_iterator{}), 1);
}

TEST_F(HostFilesTest, NewFileGetsTheRequestedOwnership) {
  HostFiles files(root_.string());
  ASSERT_TRUE(files.write_atomic("/etc/new.conf", "x", FileOwnership{0600, ::geteuid(), ::getegid()}));
  struct stat st {};
  ASSERT_EQ(::stat((root_ / "etc/new.conf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(HostFilesTest, RefusesToWriteThroughASymlinkedFile) {
  put("/etc/real.yaml", "real\n");
  fs::create_symlink("real.yaml", root_ / "etc/link.yaml");
  HostFiles files(root_.string());
  auto r = files.write_atomic("/etc/link.yaml", "changed\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("is a symlink"), std::string::npos) << r.error().message;
  EXPECT_EQ(get("/etc/real.yaml"), "real\n");
  EXPECT_TRUE(fs::is_symlink(root_ / "etc/link.yaml"));
}

TEST_F(HostFilesTest, RefusesAGroupWritableDirectory) {
  fs::create_directories(root_ / "shared");
  ::chmod((root_ / "shared").c_str(), 0775);
  put("/shared/k.yaml", "keep\n");
  HostFiles files(root_.string());
  auto r = files.write_atomic("/shared/k.yaml", "changed\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("could redirect"), std::string::npos) << r.error().message;
  EXPECT_EQ(get("/shared/k.yaml"), "keep\n");
}

TEST_F(HostFilesTest, RefusesANonRegularFile) {
  ASSERT_EQ(::mkfifo((root_ / "etc/fifo").c_str(), 0644), 0);
  HostFiles files(root_.string());
  EXPECT_FALSE(files.read("/etc/fifo"));
  auto r = files.write_atomic("/etc/fifo", "x");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not a regular file"), std::string::npos);
}

TEST_F(HostFilesTest, ReadingFollowsSymlinksInsideTheRoot) {
  fs::create_directories(root_ / "usr/lib/systemd/system");
  put("/usr/lib/systemd/system/kubelet.service", "[Service]\n");
  fs::create_symlink("usr/lib", root_ / "lib");  // merged /usr, as on Debian
  fs::create_symlink("/etc/../usr/lib/systemd/system/kubelet.service", root_ / "etc/abs-link");
  HostFiles files(root_.string());
  auto via_lib = files.read("/lib/systemd/system/kubelet.service");
  ASSERT_TRUE(via_lib);
  EXPECT_EQ(via_lib->value_or(""), "[Service]\n");
  auto absolute = files.read("/etc/abs-link");  // an absolute target resolves under root, not on the host
  ASSERT_TRUE(absolute);
  EXPECT_EQ(absolute->value_or(""), "[Service]\n");
  auto missing = files.read("/nope/x");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

TEST_F(HostFilesTest, StickyWorldWritableDirectoriesAreRefusedForKubeletsFiles) {
  fs::create_directories(root_ / "tmp");
  ::chmod((root_ / "tmp").c_str(), 01777);
  put("/tmp/k.yaml", "old\n");
  HostFiles kubelet(root_.string(), StickyDirs::Refused);
  auto refused = kubelet.write_atomic("/tmp/k.yaml", "new\n");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("directory /tmp"), std::string::npos) << refused.error().message;
  EXPECT_EQ(get("/tmp/k.yaml"), "old\n");
  HostFiles state(root_.string());  // nodeimg's own state accepts them
  EXPECT_TRUE(state.write_atomic("/tmp/k.yaml", "new\n"));
}

TEST_F(HostFilesTest, AFileOthersCanWriteIsRefused) {
  put("/etc/k.yaml", "old\n", 0664);
  HostFiles files(root_.string());
  auto r = files.inspect_for_write("/etc/k.yaml");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("group-writable, mode 0664 (group-writable rule; fix: chmod g-w)"), std::string::npos)
      << r.error().message;
}

TEST_F(HostFilesTest, ReadLinkSeesMasksInsideTheRoot) {
  fs::create_directories(root_ / "etc/systemd/system");
  fs::create_symlink("/dev/null", root_ / "etc/systemd/system/kubelet.service");
  put("/etc/plain", "x");
  HostFiles files(root_.string());
  EXPECT_EQ(files.read_link("/etc/systemd/system/kubelet.service").value(), std::optional<std::string>("/dev/null"));
  EXPECT_EQ(files.read_link("/etc/plain").value(), std::nullopt);
  EXPECT_EQ(files.read_link("/no/such/file").value(), std::nullopt);
}

TEST_F(HostFilesTest, ListingReportsEveryEntry) {
  put("/etc/a.conf", "a");
  fs::create_directories(root_ / "etc/sub");
  fs::create_symlink("a.conf", root_ / "etc/link.conf");
  HostFiles files(root_.string());
  auto entries = files.list("/etc");
  ASSERT_TRUE(entries && *entries);
  std::vector<std::string> names;
  for (const auto& e : **entries) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a.conf", "link.conf", "sub"}));
}

TEST_F(HostFilesTest, RemoveAndMakeDirectories) {
  HostFiles files(root_.string());
  ASSERT_TRUE(files.make_directories("/var/lib/nodeimg/kubelet", 0700));
  EXPECT_TRUE(fs::is_directory(root_ / "var/lib/nodeimg/kubelet"));
  put("/etc/gone", "x");
  ASSERT_TRUE(files.remove("/etc/gone"));
  EXPECT_FALSE(fs::exists(root_ / "etc/gone"));
  EXPECT_TRUE(files.remove("/etc/gone"));  // already absent: done
}

}  // namespace
}  // namespace nodeimg
