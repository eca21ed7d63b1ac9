// One spelling per concept on the command line. Every command names its output file `--output`
// (`-o`); old spellings (`--out`, `--tape`, `demo --length`) stay accepted as hidden aliases so that
// scripts keep working, but `--help` shows only the canonical name. A value that may be given in two
// forms (`key show KEY` or `--key KEY`) is given exactly once. Files a command makes for later use
// (keys, models, filters, rendered reports) are never replaced without `--force`.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "tritium/error.hpp"

namespace tritium::cli {

/// A command-line mistake found after CLI11 has matched the options (exit 4, with CLI11's "Run with
/// --help" hint), e.g. a value given in neither of its two forms.
class usage_error : public CLI::ParseError {
 public:
  explicit usage_error(std::string message)
      : CLI::ParseError("UsageError", std::move(message), CLI::ExitCodes::RequiredError) {}
};

/// Adds `old_name` as a hidden spelling of `canonical` (bound to the same variable): accepted, not
/// shown in --help, and refused beside the canonical spelling. `check` (a CLI11 validator or
/// transform, e.g. the canonical option's range, or old values mapped to new ones) applies to the
/// old spelling's values; nothing else of the canonical option is copied.
template <class T>
CLI::Option* add_hidden_alias(CLI::App& app, CLI::Option* canonical, const std::string& old_name, T& variable,
                              std::optional<CLI::Validator> check = std::nullopt) {
  CLI::Option* alias = app.add_option(old_name, variable, "Old spelling of " + canonical->get_name());
  alias->group("");
  // Not ->excludes(), nor errors returned by a validator: CLI11 leaves a hidden option's name out of
  // both (and would print it in the canonical option's help). A transform, so that `check` may map
  // old values to new ones; it runs once the whole command line is read, so the canonical option's
  // count is known here.
  alias->transform(CLI::Validator(
      [canonical, old_name, check](std::string& value) {
        if (canonical->count() > 0) {
          throw usage_error(old_name + ": an old spelling of " + canonical->get_name() + ", given beside it: give one");
        }
        if (check) {
          const std::string problem = (*check)(value);
          if (!problem.empty()) throw usage_error(old_name + ": " + problem);
        }
        return std::string();
      },
      ""));
  return alias;
}

/// The output file of a command: `--output,-o`, with `--out` as its hidden old spelling. When
/// `required`, one of the two spellings must be given (checked after parsing; --help still says
/// REQUIRED).
CLI::Option* add_output_option(CLI::App& app, std::string& path, const std::string& description, bool required);

/// A value given as a positional argument or as an option (`key show KEY` or `key show --key KEY`):
/// exactly one of the two forms, else a usage error naming both.
void require_one_form(CLI::App& app, CLI::Option* positional, CLI::Option* option, const std::string& what);

/// The overwrite policy for the files a command makes (key files, models, filters, rendered reports):
/// an existing regular file at `path` is refused (errc::usage, exit 4, the message names --force)
/// unless `force`. A target that is not a regular file (/dev/null, a pipe) is written in place as
/// every output is. `what` names the file ("model file").
void refuse_to_replace(const std::string& path, const std::string& what, bool force);

/// Runs `f()`; an errc::invalid_argument it throws (a value outside its documented range) is rethrown
/// as errc::usage (exit 4), same message: for values that come from the command line alone.
template <class F>
auto as_usage(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const error& e) {
    if (e.code() == errc::invalid_argument) throw error(errc::usage, e.what());
    throw;
  }
}

/// --dedup of detect and radioactivity: one concept, "how repeated tuples are scored". A tuple is the
/// key's context (the h tokens before a token, the radioactivity papers' "window") and the token.
inline constexpr const char* dedup_help =
    "How repeated (context, token) tuples are scored: each once (context+token, the default), each\n"
    "context once (context), or every one (none: the p-value assumes an independence that does not\n"
    "hold, so no verdict is given)";

/// For --help of the file-making commands and the README.
inline constexpr const char* overwrite_help =
    "An existing output file is never replaced unless --force: the command refuses before any work\n"
    "(exit 4) and names --force.";

}  // namespace tritium::cli
