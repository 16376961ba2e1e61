#include "core/common/unified_diff.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "core/common/text.hpp"

namespace nodeimg {

namespace {

enum class Op { Keep, Del, Add };
struct Edit {
  Op op;
  std::string_view line;  // with its line ending
};

// Longest-common-subsequence edit script. The common prefix and suffix are peeled off
// first: nodeimg's edits touch a few lines, so the quadratic middle stays tiny.
std::vector<Edit> edit_script(const std::vector<std::string_view>& a,
                              const std::vector<std::string_view>& b) {
  std::size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  std::size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre &&
         a[a.size() - 1 - suf] == b[b.size() - 1 - suf])
    ++suf;
  const std::size_t n = a.size() - pre - suf, m = b.size() - pre - suf;
  std::vector<std::vector<std::uint32_t>> lcs(n + 1, std::vector<std::uint32_t>(m + 1, 0));
  for (std::size_t i = n; i-- > 0;)
    for (std::size_t j = m; j-- > 0;)
      lcs[i][j] = a[pre + i] == b[pre + j] ? lcs[i + 1][j + 1] + 1
                                           : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  std::vector<Edit> out;
  for (std::size_t i = 0; i < pre; ++i) out.push_back({Op::Keep, a[i]});
  std::size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[pre + i] == b[pre + j]) {
      out.push_back({Op::Keep, a[pre + i]});
      ++i, ++j;
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push_back({Op::Del, a[pre + i++]});  // deletions first, as diff(1) prints them
    } else {
      out.push_back({Op::Add, b[pre + j++]});
    }
  }
  for (std::size_t k = a.size() - suf; k < a.size(); ++k) out.push_back({Op::Keep, a[k]});
  return out;
}

void append_line(std::string& out, char mark, std::string_view line) {
  out += mark;
  if (line.ends_with('\n')) {
    out += line;  // CR, if any, is kept: the diff shows the file's real bytes
  } else {
    out += line;
    out += "\n\\ No newline at end of file\n";
  }
}

}  // namespace

std::string unified_diff(std::string_view path, std::string_view before, std::string_view after,
                         bool before_exists, int context, bool after_exists) {
  if (before == after && before_exists && after_exists) return {};
  auto a = text::lines_with_endings(before);
  auto b = text::lines_with_endings(after);
  auto script = edit_script(a, b);

  std::string out = fmt::format("--- {}\n+++ {}\n", before_exists ? "a" + std::string(path) : "/dev/null",
                                after_exists ? "b" + std::string(path) : "/dev/null");
  const auto ctx = static_cast<std::size_t>(context);
  std::size_t k = 0;
  while (k < script.size()) {
    // Find the next change; a hunk spans it and every change within 2*context lines.
    while (k < script.size() && script[k].op == Op::Keep) ++k;
    if (k == script.size()) break;
    std::size_t start = k >= ctx ? k - ctx : 0;
    std::size_t end = k;
    std::size_t last_change = k;
    while (end < script.size()) {
      if (script[end].op != Op::Keep) last_change = end;
      if (end - last_change > 2 * ctx) break;
      ++end;
    }
    end = std::min(script.size(), last_change + ctx + 1);
    // Line numbers of the hunk's first line in each file.
    std::size_t a_line = 1, b_line = 1;
    for (std::size_t x = 0; x < start; ++x) {
      if (script[x].op != Op::Add) ++a_line;
      if (script[x].op != Op::Del) ++b_line;
    }
    std::size_t a_count = 0, b_count = 0;
    for (std::size_t x = start; x < end; ++x) {
      if (script[x].op != Op::Add) ++a_count;
      if (script[x].op != Op::Del) ++b_count;
    }
    out += fmt::format("@@ -{},{} +{},{} @@\n", a_count ? a_line : a_line - 1, a_count,
                       b_count ? b_line : b_line - 1, b_count);
    for (std::size_t x = start; x < end; ++x)
      append_line(out, script[x].op == Op::Keep ? ' ' : script[x].op == Op::Del ? '-' : '+',
                  script[x].line);
    k = end;
  }
  return out;
}

}  // namespace nodeimg
