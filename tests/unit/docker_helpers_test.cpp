// The Docker adapter's pure helpers: image names as POST /images/create wants them, API
// version negotiation, container states and URL encoding. No daemon needed.
#include <gtest/gtest.h>

#include "adapters/runtime/docker_runtime.hpp"

namespace gc = nodeimg::gc;
namespace docker = nodeimg::docker;

TEST(DockerHelpers, ParsesImageNames) {
  auto n = docker::parse_image_name("busybox");
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(n->repository, "busybox");
  EXPECT_EQ(n->tag, "latest");
  EXPECT_EQ(n->digest, "");
  EXPECT_EQ(n->reference(), "busybox:latest");

  n = docker::parse_image_name("127.0.0.1:5000/org/app:v1.2");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->repository, "127.0.0.1:5000/org/app");
  EXPECT_EQ(n->tag, "v1.2");

  n = docker::parse_image_name("localhost:5000/app");  // the port is not a tag
  ASSERT_TRUE(n);
  EXPECT_EQ(n->repository, "localhost:5000/app");
  EXPECT_EQ(n->tag, "latest");

  const std::string digest = "sha256:" + std::string(64, 'a');
  n = docker::parse_image_name("ghcr.io/org/app@" + digest);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->repository, "ghcr.io/org/app");
  EXPECT_EQ(n->tag, "");
  EXPECT_EQ(n->digest, digest);
  EXPECT_EQ(n->reference(), "ghcr.io/org/app@" + digest);

  n = docker::parse_image_name("ghcr.io/org/app:1@" + digest);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->tag, "1");
  EXPECT_EQ(n->reference(), "ghcr.io/org/app@" + digest);

  for (const char* bad : {"", "app:", "app@", "app@sha256", "/app", "a//b", "sha256:abcd", "sha256", "sha256:latest", "a b:1", ":tag"}) {
    EXPECT_FALSE(docker::parse_image_name(bad)) << bad;
  }
}

TEST(DockerHelpers, NegotiatesApiVersion) {
  EXPECT_EQ(docker::negotiate_api_version("1.41").value(), "1.41");
  EXPECT_EQ(docker::negotiate_api_version("1.40").value(), "1.40");
  EXPECT_EQ(docker::negotiate_api_version("1.24").value(), "1.24");
  EXPECT_EQ(docker::negotiate_api_version("1.47").value(), std::string(docker::kNewestApiVersion));
  EXPECT_EQ(docker::negotiate_api_version("2.0").value(), std::string(docker::kNewestApiVersion));
  auto old = docker::negotiate_api_version("1.23");
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().message.find("too old"), std::string::npos) << old.error().message;
  EXPECT_FALSE(docker::negotiate_api_version(""));
  EXPECT_FALSE(docker::negotiate_api_version("1"));
  EXPECT_FALSE(docker::negotiate_api_version("1.x"));
}

TEST(DockerHelpers, MapsContainerStates) {
  EXPECT_EQ(docker::container_state("running"), gc::ContainerState::Running);
  EXPECT_EQ(docker::container_state("paused"), gc::ContainerState::Running);
  EXPECT_EQ(docker::container_state("restarting"), gc::ContainerState::Running);
  EXPECT_EQ(docker::container_state("created"), gc::ContainerState::Created);
  EXPECT_EQ(docker::container_state("exited"), gc::ContainerState::Exited);
  EXPECT_EQ(docker::container_state("dead"), gc::ContainerState::Exited);
  EXPECT_EQ(docker::container_state("removing"), gc::ContainerState::Unknown);
}

TEST(DockerHelpers, EncodesUrls) {
  EXPECT_EQ(docker::url_encode("a b/c:d@e?f&g=h#"), "a%20b%2Fc%3Ad%40e%3Ff%26g%3Dh%23");
  EXPECT_EQ(docker::url_encode("example.com:5000/a/b:1", "/:@"), "example.com:5000/a/b:1");
  EXPECT_EQ(docker::url_encode("x?y", "/:@"), "x%3Fy");
}
