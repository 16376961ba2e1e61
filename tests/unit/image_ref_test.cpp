#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "core/gc/image_ref.hpp"
#include "support/param_names.hpp"

namespace nodeimg::gc {
namespace {

struct Norm {
  std::string in, out;
};

void PrintTo(const Norm& n, std::ostream* os) { *os << ::testing::PrintToString(n.in); }
class NormalizeReference : public ::testing::TestWithParam<Norm> {};

TEST_P(NormalizeReference, GivesTheFullyQualifiedForm) { EXPECT_EQ(normalize_reference(GetParam().in), GetParam().out); }

INSTANTIATE_TEST_SUITE_P(
    Cases, NormalizeReference,
    ::testing::Values(Norm{"busybox", "docker.io/library/busybox:latest"},
                      Norm{"busybox:1.36", "docker.io/library/busybox:1.36"},
                      Norm{"library/busybox", "docker.io/library/busybox:latest"},
                      Norm{"docker.io/busybox", "docker.io/library/busybox:latest"},
                      Norm{"index.docker.io/library/busybox:1", "docker.io/library/busybox:1"},
                      Norm{"docker.io/org/app:2", "docker.io/org/app:2"},
                      Norm{"org/app", "docker.io/org/app:latest"},
                      Norm{"ghcr.io/org/app", "ghcr.io/org/app:latest"},
                      Norm{"localhost/app", "localhost/app:latest"},
                      Norm{"registry.local:5000/team/svc", "registry.local:5000/team/svc:latest"},
                      Norm{"localhost:5000/app:v1", "localhost:5000/app:v1"},
                      Norm{"busybox@sha256:" + std::string(64, 'a'), "docker.io/library/busybox@sha256:" + std::string(64, 'a')},
                      Norm{"registry.local:5000/app@sha256:" + std::string(64, 'b'), "registry.local:5000/app@sha256:" + std::string(64, 'b')},
                      Norm{"sha256:" + std::string(64, 'c'), "sha256:" + std::string(64, 'c')}),
    [](const auto& param_info) { return testing::param_name(param_info.param.in, param_info.index); });

TEST(RepositoryOf, StripsTagAndDigest) {
  const std::string digest = "sha256:" + std::string(64, 'd');
  EXPECT_EQ(repository_of("busybox"), "docker.io/library/busybox");
  EXPECT_EQ(repository_of("busybox:1.36"), "docker.io/library/busybox");
  EXPECT_EQ(repository_of("ghcr.io/org/app@" + digest), "ghcr.io/org/app");
  EXPECT_EQ(repository_of("ghcr.io/org/app:1.2@" + digest), "ghcr.io/org/app");
  EXPECT_EQ(repository_of("registry.local:5000/team/svc:3"), "registry.local:5000/team/svc");
  EXPECT_EQ(repository_of("registry.local:5000/team/svc"), "registry.local:5000/team/svc");
}

TEST(DigestOf, NamesTheDigestOfADigestReference) {
  const std::string digest = "sha256:" + std::string(64, 'e');
  EXPECT_EQ(digest_of("ghcr.io/org/app@" + digest), digest);
  EXPECT_EQ(digest_of("ghcr.io/org/app:1@" + digest), digest);
  EXPECT_EQ(digest_of(digest), digest);
  EXPECT_EQ(digest_of("ghcr.io/org/app:1"), "");
}

TEST(GlobMatch, StarAndQuestionMarkMatchAnyCharacters) {
  EXPECT_TRUE(glob_match("ghcr.io/org/app:*", "ghcr.io/org/app:1.2"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "ac"));
  EXPECT_TRUE(glob_match("*/app:*", "ghcr.io/org/app:1"));
  EXPECT_FALSE(glob_match("ghcr.io/org/app:*", "ghcr.io/org/app2:1"));
  EXPECT_TRUE(glob_match("a*b*c", "axxbyyc"));
  EXPECT_FALSE(glob_match("a*b*c", "axxbyy"));
  EXPECT_FALSE(glob_match("abc", "abcd"));
}

TEST(GlobMatch, AStarMatchesALiteralStarInTheText) {
  // A '*' in the pattern is a wildcard even where the text holds a '*'.
  EXPECT_TRUE(glob_match("a*", "a*b"));
  EXPECT_TRUE(glob_match("a*b", "a*xb"));
}

TEST(ReferencePattern, ShortGlobMatchesNormalizedReferences) {
  auto p = ReferencePattern::parse("busybox:*");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->matches("docker.io/library/busybox:1.36"));
  EXPECT_TRUE(p->matches("busybox:1.36"));
  EXPECT_FALSE(p->matches("docker.io/library/alpine:3"));
  EXPECT_EQ(p->text(), "busybox:*");
}

TEST(ReferencePattern, RegexMatchesTheWholeReference) {
  auto p = ReferencePattern::parse("regex:ghcr\\.io/org/(app|tool):v[0-9]+");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(p->matches("ghcr.io/org/app:v12"));
  EXPECT_TRUE(p->matches("ghcr.io/org/tool:v1"));
  EXPECT_FALSE(p->matches("ghcr.io/org/app:v12-rc"));  // whole reference, not a search
  EXPECT_FALSE(p->matches("x.ghcr.io/org/app:v1"));
}

TEST(ReferencePattern, RegexAlsoMatchesTheNormalizedForm) {
  auto p = ReferencePattern::parse("regex:docker\\.io/library/busybox:.*");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->matches("busybox:1.36"));
}

// A regex rule refuses a reference that lacks the regex's literal prefix without running the
// regex: over tricky patterns (quantified, optional, escaped, alternatives, anchors, classes)
// and references that share or miss their beginnings, the answer is exactly std::regex's.
TEST(ReferencePattern, RegexAnswersAreExactlyStdRegexMatchOnTheReferenceOrItsNormalizedForm) {
  const std::vector<std::string> regexes = {
      "^quay\\.io/prom/app[0-9]+:v1[0-9]$", "quay\\.io/prom/.*", "ghcr.io/org/app:v1", "ab?c.*", "abc*", "a{2}b.*",
      "docker\\.io/library/busybox:.*", "busybox:1|nginx:.*", "^(ghcr|quay)\\.io/.*", "[a-z]+:[0-9]", "\\w+/.*",
      "docker\\.io/library/app4\\.?.*", "^^docker.*", "x*", ".*", "ghcr\\.io/org/app@sha256:[0-9a-f]{64}",
      "registry\\.local:5000/.*", "docker\\.io/library/busybox:1\\.36$"};
  const std::vector<std::string> refs = {
      "quay.io/prom/app12:v13", "quay.io/prom/app1:v2", "quayXio/prom/app1:v13", "quay.io/prom", "ghcr.io/org/app:v1",
      "ghcrXio/org/app:v1", "ac", "abc", "abbc", "ab", "aab", "aabxyz", "busybox:1", "busybox:1.36", "nginx:1", "nginx",
      "docker.io/library/busybox:1.36", "docker.io/library/app4:v1", "app4:v1", "app4.x", "docker.io/library/app4x:1",
      "ghcr.io/org/app@sha256:" + std::string(64, 'a'), "registry.local:5000/team/svc:1", "", "x", "xxx", "sha256:" + std::string(64, 'b')};
  std::size_t matched = 0, refused = 0;
  for (const auto& text : regexes) {
    auto p = ReferencePattern::parse("regex:" + text);
    ASSERT_TRUE(p) << text << ": " << p.error().message;
    const std::regex re(text, std::regex::ECMAScript);
    for (const auto& ref : refs) {
      const bool expected = std::regex_match(ref, re) || std::regex_match(normalize_reference(ref), re);
      EXPECT_EQ(p->matches(ref), expected) << "regex " << text << ", reference " << ref;
      (expected ? matched : refused) += 1;
    }
  }
  EXPECT_GT(matched, 40u);
  EXPECT_GT(refused, 200u);
}

TEST(ReferencePattern, InvalidRegexIsAnError) {
  auto p = ReferencePattern::parse("regex:ghcr.io/(unclosed");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("invalid regular expression \"ghcr.io/(unclosed\""), std::string::npos) << p.error().message;
}

TEST(ReferencePattern, EmptyPatternsAreErrors) {
  EXPECT_FALSE(ReferencePattern::parse(""));
  EXPECT_FALSE(ReferencePattern::parse("regex:"));
}

}  // namespace
}  // namespace nodeimg::gc

namespace nodeimg::gc {
namespace {

TEST(SplitReference, SplitsWhereTheGrammarDoes) {
  const std::string digest = "sha256:" + std::string(64, 'e');
  const std::string ref = "registry.local:5000/team/svc:3@" + digest;  // the parts are views of it
  auto p = split_reference(ref);
  EXPECT_EQ(p.name, "registry.local:5000/team/svc");
  EXPECT_EQ(p.tag, "3");
  EXPECT_EQ(p.digest, digest);
  p = split_reference("localhost:5000/app");  // a port is not a tag
  EXPECT_EQ(p.name, "localhost:5000/app");
  EXPECT_FALSE(p.tag);
  EXPECT_FALSE(p.digest);
  p = split_reference("app:");  // written, if empty
  EXPECT_EQ(p.name, "app");
  EXPECT_EQ(p.tag, "");
  p = split_reference("app@");
  EXPECT_EQ(p.digest, "");
  EXPECT_FALSE(p.tag);
}

}  // namespace
}  // namespace nodeimg::gc
