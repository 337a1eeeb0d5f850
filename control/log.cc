#include "control/log.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>

namespace svcdp::log {
namespace {

Level g_level = Level::INFO;
constexpr const char* kNames[] = {"error", "warning", "info", "debug"};

void append_value(std::string& line, std::string_view v) { line += logfmt_value(v); }

}  // namespace

// Quoted when it has to be (empty, a space, a quote, '=', a backslash or a
// control character), with JSON's string escapes (\n, \t, \", \u001b...;
// invalid UTF-8 replaced), so that one event is always one line.
std::string logfmt_value(std::string_view v) {
  const bool quote = v.empty() || std::any_of(v.begin(), v.end(), [](char c) {
                       return c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
                     });
  if (!quote) return std::string(v);
  return nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void set_level(Level level) { g_level = level; }

bool enabled(Level level) { return level <= g_level; }

bool parse_level(std::string_view text, Level& out) {
  for (int i = 0; i < 4; ++i)
    if (text == kNames[i]) {
      out = static_cast<Level>(i);
      return true;
    }
  return false;
}

// Warnings and errors repeat when something stays broken (a watch that
// keeps failing, a node that keeps being skipped): at most kBurst lines of
// one message per kWindow, then one line saying how many were left out.
struct RateLimit {
  std::chrono::steady_clock::time_point window_start{};
  unsigned lines = 0;
  unsigned suppressed = 0;
};
constexpr unsigned kBurst = 10;
constexpr auto kWindow = std::chrono::seconds(10);

void write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  if (level > g_level) return;
  static std::mutex mu;
  static std::map<std::string, RateLimit, std::less<>> limits;
  std::string suppressed_note;
  if (level <= Level::WARNING) {
    std::lock_guard lock(mu);
    auto it = limits.find(msg);
    if (it == limits.end()) it = limits.emplace(std::string(msg), RateLimit{}).first;
    RateLimit& r = it->second;
    const auto now = std::chrono::steady_clock::now();
    if (now - r.window_start >= kWindow) {
      if (r.suppressed) suppressed_note = " suppressed_before=" + std::to_string(r.suppressed);
      r = {now, 0, 0};
    }
    if (++r.lines > kBurst) {
      ++r.suppressed;
      return;
    }
  }
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
  line += suppressed_note;
  line += '\n';
  std::lock_guard lock(mu);
  std::fputs(line.c_str(), stderr);
}

}  // namespace svcdp::log
