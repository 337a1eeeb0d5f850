#include "control/log.h"

#include <cstdio>
#include <mutex>

namespace svcdp::log {
namespace {

Level g_level = Level::INFO;
constexpr const char* kNames[] = {"error", "warning", "info", "debug"};

void append_value(std::string& line, std::string_view v) {
  const bool quote = v.empty() || v.find_first_of(" \"=") != std::string_view::npos;
  if (!quote) {
    line += v;
    return;
  }
  line += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') line += '\\';
    line += c;
  }
  line += '"';
}

}  // namespace

void set_level(Level level) { g_level = level; }

bool parse_level(std::string_view text, Level& out) {
  for (int i = 0; i < 4; ++i)
    if (text == kNames[i]) {
      out = static_cast<Level>(i);
      return true;
    }
  return false;
}

void write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  if (level > g_level) return;
  std::string line = "svcdp: level=";
  line += kNames[static_cast<int>(level)];
  line += " msg=";
  append_value(line, msg);
  for (const auto& [k, v] : fields) {
    line += ' ';
    line += k;
    line += '=';
    append_value(line, v);
  }
  line += '\n';
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::fputs(line.c_str(), stderr);
}

}  // namespace svcdp::log
