// tritium/number_text.hpp — how figures are written as text, the same in every front end and report.
#pragma once

#include <charconv>
#include <iomanip>
#include <sstream>
#include <string>

namespace tritium {

/// `x` with `digits` digits after the point ("-12.69").
inline std::string fixed_text(double x, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << x;
  return s.str();
}

/// `x` with 17 significant digits: reads back as the same double.
inline std::string exact_text(double x) {
  std::ostringstream s;
  s << std::setprecision(17) << x;
  return s.str();
}

/// The shortest text that reads back as `x` ("0.001", "1e-05"): a setting shown as it was given.
inline std::string shortest_text(double x) {
  char b[32];
  const auto r = std::to_chars(b, b + sizeof b, x);
  return std::string(b, r.ptr);
}

}  // namespace tritium
