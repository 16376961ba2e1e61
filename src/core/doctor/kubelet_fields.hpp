#pragma once
// The top-level fields of kubelet's KubeletConfiguration (kubelet.config.k8s.io/v1beta1),
// written down from the upstream API reference up to Kubernetes 1.34, so that doctor can
// name keys kubelet does not know. kubelet decodes its files leniently: a misspelt key is
// silently ignored (it only logs "Using lenient decoding as strict decoding failed").
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/kubelet/document.hpp"

namespace nodeimg::doctor {

bool is_known_kubelet_field(std::string_view key);

// The known field closest to `key` (same letters in another case, or at most two edits
// away), as a "did you mean" hint; nullopt when nothing is close.
std::optional<std::string> closest_kubelet_field(std::string_view key);

// A key inside a structured top-level field that the field's type does not have, e.g.
// "authentication.webhook.enabeld" or "registerWithTaints[1].efect"; kubelet ignores it
// like a misspelt top-level key.
struct UnknownField {
  std::string path;
  std::optional<std::string> suggestion;  // the sibling field it is closest to
};
// The unknown keys under top-level `field` whose value is `value`; empty for fields whose
// value is a scalar or a map with free keys.
std::vector<UnknownField> unknown_nested_fields(std::string_view field, const kubelet::Json& value);

}  // namespace nodeimg::doctor
