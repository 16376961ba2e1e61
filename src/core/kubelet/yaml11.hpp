#pragma once
// Plain-scalar resolution as kubelet's YAML decoder does it: sigs.k8s.io/yaml on top of
// go-yaml v2, which follows YAML 1.1 (`yes` is true, `010` is octal 8, `0x10` is 16,
// `1_000` is 1000, `+5` is 5, `~`/`null`/empty are null). The result is the JSON value
// sigs.k8s.io/yaml hands to kubelet's JSON decoder.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace nodeimg::kubelet {

// Go's strconv.ParseInt(text, 0, 64), which pflag uses for kubelet's integer flags:
// "0x10" is 16, "010" is 8, "0b11" is 3, "1_000" is 1000 (underscores only between
// digits). nullopt when Go would return an error.
std::optional<long long> parse_go_int(std::string_view text);

// The JSON value of an unquoted, untagged YAML scalar.
nlohmann::json resolve_plain_scalar(std::string_view s);

}  // namespace nodeimg::kubelet
