#pragma once
// nodeimg's version, from packaging/VERSION (the one place it is kept); the definitions are
// generated at build time by packaging/git-version.cmake.
namespace nodeimg {

// "0.1.0", or "0.1.0 (git 1d1be44abc12)" when built from a git checkout: what --version prints.
const char* version_text();
// "0.1.0" alone: what packages and documents carry.
const char* version_number();

}  // namespace nodeimg
