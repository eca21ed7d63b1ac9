// `tritium`: a thin shell over the subcommands (app.cpp).
#include <string>
#include <vector>

#include "report_options.hpp"

int main(int argc, char** argv) {
  return tritium::cli::run_tritium(std::vector<std::string>(argv + 1, argv + argc));
}
