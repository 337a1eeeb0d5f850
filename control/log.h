// Logging for the control thread and start-up: one line per event,
// `level=... msg="..." key=value ...`, to stderr. Never called per packet.
// Warnings and errors are rate-limited per message: 10 lines per 10 s,
// then the next line that passes carries suppressed_before=N.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace svcdp::log {

enum class Level { ERROR, WARNING, INFO, DEBUG };

// Thread: main, before other threads log.
void set_level(Level level);
bool parse_level(std::string_view text, Level& out);

using Field = std::pair<std::string_view, std::string>;

// Whether lines of `level` are written (to skip working out their
// fields). Thread: any non-worker thread.
bool enabled(Level level);

// A field's value as it is written: bare, or quoted and escaped so that
// no value can break the line (newlines, quotes, control characters).
// Thread: any.
std::string logfmt_value(std::string_view v);

// Thread: any non-worker thread.
void write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});
inline void error(std::string_view msg, std::initializer_list<Field> f = {}) { write(Level::ERROR, msg, f); }
inline void warning(std::string_view msg, std::initializer_list<Field> f = {}) { write(Level::WARNING, msg, f); }
inline void info(std::string_view msg, std::initializer_list<Field> f = {}) { write(Level::INFO, msg, f); }
inline void debug(std::string_view msg, std::initializer_list<Field> f = {}) { write(Level::DEBUG, msg, f); }

}  // namespace svcdp::log
