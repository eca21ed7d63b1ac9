// tritium/number_text.hpp — how figures are written as text, the same in every front end and report.
#pragma once

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

}  // namespace tritium
