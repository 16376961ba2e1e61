#pragma once
// The version of every --json document nodeimg prints ("schemaVersion"), one for all
// commands, documented in docs/json.md with a JSON Schema per command under docs/schema/.
// Raised only when a field is removed or changes meaning; new fields keep the version.
namespace nodeimg {

inline constexpr int kJsonSchemaVersion = 1;

}  // namespace nodeimg
