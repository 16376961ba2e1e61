#include "core/gc/table.hpp"

#include <algorithm>
#include <numeric>

namespace nodeimg::gc {

namespace {

constexpr std::string_view kEllipsis = "…";
constexpr std::size_t kGap = 2;
constexpr std::size_t kFloor = 4;  // the narrowest a shrinking column is ever cut to

// One decoded code point: its bytes in the text and its display width.
struct Glyph {
  std::size_t size = 1;
  std::size_t width = 1;
};

bool wide(char32_t c) {
  return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) || (c >= 0x3041 && c <= 0x33FF) ||
         (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
         (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) ||
         (c >= 0xFF00 && c <= 0xFF60) || (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
         (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD);
}

bool combining(char32_t c) {
  return (c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) ||
         (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE20 && c <= 0xFE2F) || c == 0x200B || c == 0x200D;
}

// The code point that starts at s[i]; an invalid or truncated sequence is one byte of width 1.
Glyph glyph_at(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (n <= 1 || i + n > s.size()) return {};
  char32_t c = b & (0x7F >> n);
  for (std::size_t k = 1; k < n; ++k) {
    const auto cont = static_cast<unsigned char>(s[i + k]);
    if ((cont >> 6) != 0x2) return {};
    c = (c << 6) | (cont & 0x3F);
  }
  return {.size = n, .width = combining(c) ? 0u : wide(c) ? 2u : 1u};
}

std::vector<Glyph> glyphs(std::string_view s) {
  std::vector<Glyph> out;
  for (std::size_t i = 0; i < s.size(); i += out.back().size) out.push_back(glyph_at(s, i));
  return out;
}

std::string pad(const std::string& cell, std::size_t width, bool right) {
  const std::size_t w = display_width(cell);
  const std::string fill(w < width ? width - w : 0, ' ');
  return right ? fill + cell : cell + fill;
}

std::size_t total(const std::vector<std::size_t>& widths, const std::vector<bool>& shown) {
  std::size_t sum = 0, n = 0;
  for (std::size_t i = 0; i < widths.size(); ++i)
    if (shown[i]) sum += widths[i], ++n;
  return sum + (n > 0 ? (n - 1) * kGap : 0);
}

// Cuts the widest shrinking column, one column at a time, until the line fits or every
// shrinking column is at its floor. Returns whether it fits.
bool shrink(const Table& t, std::vector<std::size_t>& widths, const std::vector<bool>& shown, std::size_t width,
            bool last_resort) {
  auto floor_of = [&](std::size_t i) {
    const Column& c = t.columns[i];
    return last_resort ? std::min(kFloor, std::max<std::size_t>(c.min_width, 1)) : c.min_width;
  };
  while (total(widths, shown) > width) {
    std::size_t pick = widths.size();
    for (std::size_t i = 0; i < widths.size(); ++i)
      if (shown[i] && t.columns[i].shrinks && widths[i] > floor_of(i) && (pick == widths.size() || widths[i] > widths[pick]))
        pick = i;
    if (pick == widths.size()) return false;
    --widths[pick];
  }
  return true;
}

}  // namespace

std::size_t display_width(std::string_view s) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < s.size();) {
    const Glyph g = glyph_at(s, i);
    w += g.width;
    i += g.size;
  }
  return w;
}

std::string fit_text(std::string_view s, std::size_t width, Keep keep) {
  if (display_width(s) <= width) return std::string(s);
  if (width == 0) return "";
  const std::vector<Glyph> gs = glyphs(s);
  const std::size_t room = width - 1;  // the ellipsis takes one column
  std::size_t used = 0, bytes = 0;
  if (keep == Keep::Start) {
    for (const Glyph& g : gs) {
      if (used + g.width > room) break;
      used += g.width, bytes += g.size;
    }
    return std::string(s.substr(0, bytes)) + std::string(kEllipsis);
  }
  for (auto it = gs.rbegin(); it != gs.rend(); ++it) {
    if (used + it->width > room) break;
    used += it->width, bytes += it->size;
  }
  return std::string(kEllipsis) + std::string(s.substr(s.size() - bytes));
}

std::string render_table(const Table& t, std::size_t width) {
  const std::size_t n = t.columns.size();
  std::vector<std::size_t> natural(n);
  for (std::size_t i = 0; i < n; ++i) {
    natural[i] = display_width(t.columns[i].header);
    for (const auto& row : t.rows) natural[i] = std::max(natural[i], i < row.size() ? display_width(row[i]) : std::size_t{0});
  }
  std::vector<bool> shown(n, true);
  std::vector<std::size_t> widths = natural;
  if (width > 0) {
    while (!shrink(t, widths, shown, width, false)) {
      std::size_t drop = n;
      for (std::size_t i = 0; i < n; ++i)
        if (shown[i] && t.columns[i].drop > 0 && (drop == n || t.columns[i].drop > t.columns[drop].drop)) drop = i;
      if (drop == n) {
        shrink(t, widths, shown, width, true);
        break;
      }
      shown[drop] = false;
      widths = natural;
    }
  }
  std::string out;
  auto line = [&](auto cell_of) {
    std::string l;
    bool first = true;
    for (std::size_t i = 0; i < n; ++i) {
      if (!shown[i]) continue;
      if (!first) l += std::string(kGap, ' ');
      first = false;
      const Column& c = t.columns[i];
      l += pad(fit_text(cell_of(i), widths[i], c.keep), widths[i], c.right);
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line([&](std::size_t i) -> std::string_view { return t.columns[i].header; });
  for (const auto& row : t.rows)
    line([&](std::size_t i) { return i < row.size() ? std::string_view(row[i]) : std::string_view(); });
  return out;
}

}  // namespace nodeimg::gc
