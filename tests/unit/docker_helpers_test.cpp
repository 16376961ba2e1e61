// The Docker adapter's pure helpers: image names as POST /images/create wants them, API
// version negotiation, container states, URL encoding, and the checks a batch of removals
// makes against one listing. No daemon needed.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

using Outcome = nodeimg::ImageRuntime::Outcome;

TEST(DockerHelpers, ParentIdsComeFromEveryImageOfTheListing) {
  const auto all = nlohmann::json::parse(R"([
    {"Id": "sha256:child", "ParentId": "sha256:base"},
    {"Id": "sha256:base", "ParentId": ""},
    {"Id": "sha256:grandchild", "ParentId": "sha256:child"},
    {"Id": "sha256:odd", "ParentId": 7},
    "not an object"
  ])");
  EXPECT_EQ(docker::parent_ids_of(all), (std::set<std::string>{"sha256:base", "sha256:child"}));
  EXPECT_TRUE(docker::parent_ids_of(nlohmann::json::object()).empty());
}

TEST(DockerHelpers, AListingBlocksImagesInUseAndParents) {
  const docker::NodeListing listing{
      .containers = {gc::Container{.id = "c1", .image = "example.com/a:1", .image_id = "sha256:used"},
                     gc::Container{.id = "c2", .image = "sha256:by-id", .image_id = ""}},
      .parents = {"sha256:base"},
  };
  EXPECT_EQ(docker::blocked_by("sha256:used", listing), Outcome::InUse);
  EXPECT_EQ(docker::blocked_by("sha256:by-id", listing), Outcome::InUse);
  EXPECT_EQ(docker::blocked_by("sha256:base", listing), Outcome::HasDependents);
  EXPECT_EQ(docker::blocked_by("sha256:free", listing), std::nullopt);
  // In use wins over parent: a container keeps it whatever its children do.
  auto both = listing;
  both.parents.insert("sha256:used");
  EXPECT_EQ(docker::blocked_by("sha256:used", both), Outcome::InUse);
  EXPECT_EQ(docker::blocked_by("sha256:free", docker::NodeListing{}), std::nullopt);
}

TEST(DockerHelpers, ChildrenGoBeforeTheirParentsInTheGivenOrder) {
  const std::vector<gc::Image> images{{.id = "sha256:p1"}, {.id = "sha256:a"}, {.id = "sha256:p2"}, {.id = "sha256:b"}};
  const auto order = docker::children_first(images, {"sha256:p1", "sha256:p2", "sha256:elsewhere"});
  EXPECT_EQ(order.first, (std::vector<std::size_t>{1, 3}));
  EXPECT_EQ(order.then, (std::vector<std::size_t>{0, 2}));
  const auto none = docker::children_first(images, {});
  EXPECT_EQ(none.first, (std::vector<std::size_t>{0, 1, 2, 3}));
  EXPECT_TRUE(none.then.empty());
}

TEST(DockerHelpers, ADeleteAnswerSaysWhetherTheImageItselfWent) {
  EXPECT_TRUE(docker::deletes_image(R"([{"Untagged":"a:1"},{"Deleted":"sha256:img"},{"Deleted":"sha256:layer"}])",
                                    "sha256:img"));
  // Untagged only: other names keep it.
  EXPECT_FALSE(docker::deletes_image(R"([{"Untagged":"a:1"}])", "sha256:img"));
  // A layer of that name or another image is not the image.
  EXPECT_FALSE(docker::deletes_image(R"([{"Deleted":"sha256:other"}])", "sha256:img"));
  EXPECT_FALSE(docker::deletes_image(R"({"Deleted":"sha256:img"})", "sha256:img"));
  EXPECT_FALSE(docker::deletes_image("not json", "sha256:img"));
  EXPECT_FALSE(docker::deletes_image(R"([{"Deleted":""}])", ""));
}
