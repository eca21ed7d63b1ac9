#include "option_forms.hpp"

#include <filesystem>

#include "tritium/error.hpp"

namespace tritium::cli {

CLI::Option* add_output_option(CLI::App& app, std::string& path, const std::string& description, bool required) {
  CLI::Option* output = app.add_option("--output,-o", path, description);
  CLI::Option* out = add_hidden_alias(app, output, "--out", path);
  if (required) {
    // Neither option can be ->required(): either spelling satisfies the requirement. The check runs
    // after --help and CLI11's own checks, as a parse error (exit 4).
    output->option_text("TEXT REQUIRED");
    app.final_callback([output, out] {
      if (output->count() == 0 && out->count() == 0) throw CLI::RequiredError(output->get_name());
    });
  }
  return output;
}

void require_one_form(CLI::App& app, CLI::Option* positional, CLI::Option* option, const std::string& what) {
  app.final_callback([positional, option, what] {
    const std::string forms = "as the argument or as " + option->get_name();
    if (positional->count() + option->count() == 0) throw usage_error(what + " is required: give it " + forms);
    if (positional->count() + option->count() > 1) throw usage_error(what + " given twice: give it once, " + forms);
  });
}

void refuse_to_replace(const std::string& path, const std::string& what, bool force) {
  std::error_code ec;
  if (force || !std::filesystem::is_regular_file(path, ec)) return;
  throw error(errc::usage, "refusing to overwrite the existing " + what + " " + path + ": give --force to replace it");
}

}  // namespace tritium::cli
