// The `tritium` command line: every subcommand registered on one CLI11 app. Every error ends here, as
// a message on stderr and a documented exit code (exit_codes.hpp). `report verify --recompute` runs
// a recorded command through this same function.
#include <iostream>

#include "tritium/atomic_output.hpp"
#include "commands.hpp"
#include "report_options.hpp"
#include "exit_codes.hpp"
#include "fingerprint.hpp"
#include "radioactivity.hpp"
#include "report.hpp"
#include "trace.hpp"
#include "tritium/error.hpp"

namespace tritium::cli {

int run_tritium(const std::vector<std::string>& args) {
  set_invocation(args);
  CLI::App app{"tritium — watermark language-model outputs and verify, with exact statistics, "
               "where text came from"};
  app.name("tritium");
  app.footer(std::string(exit_code_help) + "\n" + atomic_output_help);
  app.require_subcommand(1);
  app.set_version_flag("--version", "tritium 0.1.0");

  keygen_command keygen;
  key_show_command key_show;
  detect_command detect;
  tokenize_command tokenize;
  lm_train_command lm_train;
  lm_eval_command lm_eval;
  lm_show_command lm_show;
  generate_command generate;
  radioactivity_commands radioactivity;
  trace_commands trace;
  fingerprint_commands fingerprint;
  report_commands report;
  bench_command bench;
  demo_command demo;
  keygen.setup(app);
  CLI::App* key_app = app.add_subcommand("key", "Inspect a key file");
  key_app->require_subcommand(1);
  key_app->footer("Exit codes: 0 success; 3 input error; 4 usage error; 5 output error; 70 internal error.\n"
                  "Each subcommand's --help says what its codes mean for it.");
  key_show.setup(*key_app);
  detect.setup(app);
  tokenize.setup(app);
  CLI::App* lm_app = app.add_subcommand("lm", "The reference n-gram language model");
  lm_app->require_subcommand(1);
  lm_app->footer(key_app->get_footer());
  lm_train.setup(*lm_app);
  lm_eval.setup(*lm_app);
  lm_show.setup(*lm_app);
  generate.setup(app);
  radioactivity.setup(app);
  trace.setup(app);
  fingerprint.setup(app);
  report.setup(app);
  bench.setup(app);
  demo.setup(app);

  try {
    // CLI11 parses arguments given in reverse order.
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_usage;
  }

  auto run_parsed = [&]() -> int {
    if (keygen.app->parsed()) return keygen.run();
    if (key_show.app->parsed()) return key_show.run();
    if (detect.app->parsed()) return detect.run();
    if (tokenize.app->parsed()) return tokenize.run();
    if (lm_train.app->parsed()) return lm_train.run();
    if (lm_eval.app->parsed()) return lm_eval.run();
    if (lm_show.app->parsed()) return lm_show.run();
    if (generate.app->parsed()) return generate.run();
    if (const int code = radioactivity.run(); code >= 0) return code;
    if (const int code = trace.run(); code >= 0) return code;
    if (const int code = fingerprint.run(); code >= 0) return code;
    if (const int code = report.run(); code >= 0) return code;
    if (bench.app->parsed()) return bench.run();
    if (demo.app->parsed()) return demo.run();
    return exit_usage;
  };
  try {
    const int code = run_parsed();
    // Whatever a command printed on standard output must have reached it (a full disk, a closed
    // pipe): a lost result is an output error, never a success.
    std::cout.flush();
    if (!std::cout) {
      std::cerr << "tritium: error: cannot write to standard output\n";
      return exit_io_error;
    }
    return code;
  } catch (const tritium::error& e) {
    std::cerr << "tritium: error: " << e.what() << "\n";
    return exit_code_for(e.code());
  } catch (const std::exception& e) {
    std::cerr << "tritium: internal error: " << e.what() << "\n";
    return exit_internal;
  }
}

}  // namespace tritium::cli
