// nodeimg's own configuration (/etc/nodeimg/config.yaml) and threshold syntax. Invariant:
// any input is a configuration or an error value; an accepted threshold pair is ordered.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/config/app_config.hpp"
#include "core/gc/threshold.hpp"
#include "fuzz_support.hpp"

using nodeimg::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)nodeimg::gc::parse_threshold(text.substr(0, 64));
  auto config = nodeimg::parse_app_config(text, "config.yaml");
  if (!config) {
    require(!config.error().message.empty(), "a refused configuration says why");
    return 0;
  }
  return 0;
}
