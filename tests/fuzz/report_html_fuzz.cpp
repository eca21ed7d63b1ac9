// HTML rendering of a statement (verify/evidence/src/html.cpp): `tritium report html` on a signed envelope
// holding the input; the page goes to the scratch directory. Whatever the statement holds, the page
// must stay script-free (the report promises no scripts): text from the statement is escaped.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "report_cli.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static tritium::fuzz::report_cli cli;
  const std::string page = (cli.dir() / "report.html").string();
  if (cli.run(tritium::fuzz::bytes_of(data, size), "html", {"-o", page}) != 0) return 0;
  std::ifstream in(page, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  std::string html = text.str();
  std::transform(html.begin(), html.end(), html.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* active : {"<script", "javascript:", " onload=", " onerror=", "<iframe", "<object", "<embed"}) {
    if (html.find(active) != std::string::npos) {
      tritium::fuzz::finding("active content in the HTML page", std::string(active) + " in " + text.str().substr(0, 2000));
    }
  }
  return 0;
}
