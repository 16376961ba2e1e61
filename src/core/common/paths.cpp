#include "core/common/paths.hpp"

namespace nodeimg {

std::string under_root(std::string_view root, std::string_view path) {
  if (root.empty() || root == "/") return std::string(path);
  if (root.ends_with('/')) root.remove_suffix(1);
  return std::string(root) + std::string(path);
}

}  // namespace nodeimg
