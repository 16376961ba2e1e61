#pragma once
// The setting of the gc-unit and doctor tests on real systemd: a real containerd (state on
// a small tmpfs) holding generated images, and a systemd container that sees containerd's
// directory at the same path. The directory is under /run, not /tmp: nodeimg's units have
// PrivateTmp=yes, and the paths must be the same inside and out.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/containerd.hpp"
#include "support/files.hpp"
#include "support/systemd_container.hpp"

namespace nodeimg::testing {

class ContainerdBesideSystemd : public ::testing::Test {
 protected:
  // Boots containerd with `images` (and the pause image), then the container with nodeimg's
  // build at /opt/nodeimg, `binds`, and containerd's directory.
  void boot_node(const std::vector<std::string>& images, std::vector<std::string> binds = {}) {
    dir_ = make_temp_dir("nodeimg-it", "/run").string();
    ContainerdOptions options;
    options.state_dir = dir_;
    options.fs_size = "128M";
    containerd_ = ContainerdInstance::boot(options);
    const std::string tar = dir_ + "/images.tar";
    make_images(tar, images, /*with_pause=*/true);
    containerd_->import(tar);
    std::filesystem::remove(tar);
    binds.insert(binds.begin(), std::string(NODEIMG_BINARY_DIR) + ":/opt/nodeimg");
    binds.push_back(dir_ + ":" + dir_);
    container_ = SystemdContainer::boot(binds);
  }
  void TearDown() override {
    if (container_) {
      EXPECT_EQ(container_->stop(), 0) << "the systemd container was not cleaned up safely";
    }
    container_.reset();
    if (containerd_) {
      EXPECT_EQ(containerd_->stop(), 0) << "containerd was not cleaned up";
    }
    containerd_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  std::string dir_;
  std::unique_ptr<ContainerdInstance> containerd_;
  std::unique_ptr<SystemdContainer> container_;
};

}  // namespace nodeimg::testing
