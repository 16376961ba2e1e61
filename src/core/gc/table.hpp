#pragma once
// Tables for people, laid out to fit a terminal: pure (the width arrives as a number; the
// command asks the terminal). Text is UTF-8; widths are display columns, so a reference with
// non-ASCII characters lines up and is never cut inside a character.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace nodeimg::gc {

// Columns `s` takes on a terminal: one per code point, two for East Asian wide and fullwidth
// ones, none for combining marks; a byte that is not valid UTF-8 counts one (it is shown as
// a replacement character).
std::size_t display_width(std::string_view s);

// Which end of a cut text stays visible.
enum class Keep { Start, End };

// `s` in at most `width` columns: as it is when it fits, else cut with "…" where text went
// (Keep::End keeps the end: "…example.com/team/app:v1.2.3", the tag stays visible).
std::string fit_text(std::string_view s, std::size_t width, Keep keep);

struct Column {
  std::string header{};
  bool right = false;        // right-aligned (sizes, ages)
  bool shrinks = false;      // may be cut (down to min_width) to fit
  std::size_t min_width = 0; // shrinks: the narrowest it is cut to before columns are dropped
  Keep keep = Keep::Start;   // shrinks: which end stays visible
  int drop = 0;              // 0: always shown; otherwise dropped to fit, highest first
};

struct Table {
  std::vector<Column> columns{};
  std::vector<std::vector<std::string>> rows{};  // one cell per column
};

// The table in at most `width` columns per line (0: no limit, nothing cut or dropped): each
// column at its widest cell, then, while too wide, shrinking columns cut (widest first) down
// to their min_width, then droppable columns dropped (highest `drop` first, the others
// widened again), and as a last resort shrinking columns cut below min_width (to 4). Columns
// are two spaces apart; lines carry no trailing spaces.
std::string render_table(const Table& table, std::size_t width);

}  // namespace nodeimg::gc
