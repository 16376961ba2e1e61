// What nodeimg decodes from container runtimes outside protobuf/JSON libraries: Docker
// image names and API versions (src/adapters/runtime/docker_runtime) and image references
// (src/core/gc/image_ref). The Docker/CRI list responses are decoded inline in the adapter
// methods (nlohmann::json / generated protobuf), not as pure functions: not reached here.
// Invariants: errors are values; a parsed image name renders to a reference that parses
// back to the same name; url_encode output holds only unreserved bytes or %XX.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "adapters/runtime/docker_runtime.hpp"
#include "core/gc/image_ref.hpp"
#include "fuzz_support.hpp"

using nodeimg::fuzz::require;
namespace gc = nodeimg::gc;
namespace docker = nodeimg::docker;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)docker::negotiate_api_version(text);
  (void)docker::container_state(text);
  (void)gc::normalize_reference(text);
  (void)gc::repository_of(text);
  (void)gc::digest_of(text);
  const auto split = text.find('\n');
  if (split != std::string_view::npos) (void)gc::glob_match(text.substr(0, split), text.substr(split + 1));

  const std::string encoded = docker::url_encode(text, "/:@");
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(encoded[i]);
    if (c == '%') {
      require(i + 2 < encoded.size() && std::isxdigit(static_cast<unsigned char>(encoded[i + 1])) &&
                  std::isxdigit(static_cast<unsigned char>(encoded[i + 2])),
              "url_encode writes %XX");
      i += 2;
      continue;
    }
    require(std::isalnum(c) || std::string_view("-._~/:@").find(static_cast<char>(c)) != std::string_view::npos,
            "url_encode leaves only unreserved and kept bytes");
  }

  auto name = docker::parse_image_name(text);
  if (!name) return 0;
  auto again = docker::parse_image_name(name->reference());
  require(again.has_value(), "a parsed image name's reference parses");
  require(again->reference() == name->reference(), "an image name's reference is stable");
  return 0;
}
