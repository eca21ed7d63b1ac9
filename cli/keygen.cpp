// `tritium keygen` and `tritium key show`.
#include <iostream>
#include <optional>

#include "tritium/atomic_output.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "option_forms.hpp"
#include "tritium/error.hpp"
#include "tokenize_support.hpp"
#include "tritium/key.hpp"
#include "tritium/ngram_lm.hpp"

namespace tritium::cli {

tritium::key load_key_warn(const std::string& path) {
  key_load_info info;
  // For the command line a key that cannot be read is an input error (exit 3), not an output one.
  tritium::key k = as_input([&] { return tritium::key::load(path, &info); });
  if (info.permissions_too_open) {
    std::cerr << "tritium: warning: key file " << path
              << " is readable by group or others; run: chmod 600 " << path << "\n";
  }
  return k;
}

void keygen_command::setup(CLI::App& parent) {
  app = parent.add_subcommand("keygen", "Create a new watermark key (256 bits from libsodium's CSPRNG)");
  add_output_option(*app, out, "Key file to create (mode 0600)", true);
  app->add_option("--vocab-size,-V", vocab_size,
                  "V: the width of the logits the key watermarks, i.e. the model's vocabulary rows, which "
                  "may exceed the tokenizer's ids (Qwen3: 151936 logits, 151669 ids)");
  app->add_option("--model,-m", model_path,
                  "Take V from this reference model (.tlm) and bind the tokenizer it records");
  app->add_option("--gamma", gamma, "Green fraction γ in (0, 1)")->capture_default_str();
  app->add_option("--delta", delta,
                  "Logit bias δ added to green tokens (default 2; with --trace 1.9, which keeps text quality "
                  "with the account mark within 1% of δ = 2 alone: papers/attribution.md §7.1)");
  app->add_option("--context-width,-H", context_width, "Context width h (previous tokens)")
      ->capture_default_str();
  app->add_option("--seeding", seeding, "lefthash or selfhash")
      ->check(CLI::IsMember({"lefthash", "selfhash"}))
      ->capture_default_str();
  app->add_option("--tokenizer,-t", tokenizer_path,
                  "Bind the key to this tokenizer.json or .gguf file (its digest and number of ids)");
  app->add_option("--tokenizer-digest", tokenizer_digest,
                  "Bind the key to a tokenizer by digest (sha256:<hex>) without reading it")
      ->excludes("--tokenizer");
  CLI::Option* trace_flag =
      app->add_flag("--trace", trace,
                    "Also write account-tracing parameters (params.trace, papers/trace-v1.md): needed by "
                    "`generate --account` and tritium_stream_set_account");
  app->add_option("--trace-code-length", trace_code_length,
                  "With --trace: code length L, a power of two in [64, 4096] (default 1024)")
      ->needs(trace_flag);
  app->add_option("--account-delta", account_delta,
                  "With --trace: account bias δ_a in (0, 8] (default 0.75)")
      ->needs(trace_flag);
  app->add_option("--trace-position-width", trace_position_width,
                  "With --trace: position window h_p in [1, 16] tokens (default max(h, 3))")
      ->needs(trace_flag);
  app->add_option("--scheme", schemes,
                  "The schemes the key embeds with and is tested for, comma-separated: kgw, gumbel, "
                  "unigram (params.schemes; `detect --scheme auto` tests each)")
      ->delimiter(',')
      ->check(CLI::IsMember({"kgw", "gumbel", "unigram"}))
      ->capture_default_str();
  app->add_flag("--force", force, "Replace an existing key file (without it: refused, exit 4)");
  app->footer(exit_codes_footer({{exit_evidence, "the key was written"},
                                 {exit_input_error, "--model or --tokenizer is unreadable or malformed, they disagree, or\n"
                                                    "      --vocab-size is narrower than the tokenizer's ids"},
                                 {exit_usage, usage_meaning_force},
                                 {exit_io_error, output_meaning},
                                 {exit_internal, internal_meaning}}) +
              "\n" + overwrite_help);
}

int keygen_command::run() const {
  refuse_to_replace(out, "key file", force);  // before any work (the key's own save checks again, atomically)
  kgw_params p;
  // --gamma, --delta, --context-width, --vocab-size and --seeding come from the command line alone: a
  // value out of range is a usage error.
  as_usage([&] { p.set_gamma(gamma); });
  // A traced key's default δ leaves room for the account bias (trace_default_kgw_delta).
  p.delta = trace && app->count("--delta") == 0 ? trace_default_kgw_delta : delta;
  p.context_width = context_width;
  p.seeding_scheme = *seeding_from_name(seeding);
  p.tokenizer_digest = tokenizer_digest;
  p.schemes = 0;
  for (const std::string& name : schemes) {
    const scheme_kind s = *scheme_from_name(name);
    if (p.names(s)) throw error(errc::usage, "--scheme names " + name + " twice");
    p.schemes = static_cast<scheme_set>(p.schemes | scheme_bit(s));
  }
  if (trace && !p.names(scheme_kind::kgw)) {
    throw error(errc::usage, "--trace marks accounts through KGW: --scheme must include kgw");
  }
  key_vocab_sources sources;
  sources.requested = vocab_size;
  if (!model_path.empty()) {
    const ngram_lm model = load_model(model_path);
    sources.model_width = model.vocab_size();
    const std::string& recorded = model.tokenizer_digest();
    if (!recorded.empty() && !p.tokenizer_digest.empty() && recorded != p.tokenizer_digest) {
      throw error(errc::mismatch, "tokenizer: the model " + model_path + " was trained with " + recorded +
                                      ", not --tokenizer-digest " + quoted_for_message(p.tokenizer_digest));
    }
    if (!recorded.empty()) p.tokenizer_digest = recorded;
  }
  if (!tokenizer_path.empty()) {
    const tokenizer tok = load_tokenizer(tokenizer_path);
    if (!p.tokenizer_digest.empty() && p.tokenizer_digest != tok.digest()) {
      throw error(errc::mismatch, "tokenizer: the model " + model_path + " was trained with " + p.tokenizer_digest +
                                      ", but " + tokenizer_path + " is " + tok.digest());
    }
    p.tokenizer_digest = tok.digest();
    p.tokenizer_vocab_size = tok.vocab_size();
    sources.tokenizer_ids = tok.vocab_size();
  }
  // No source of V, or two that disagree: a usage error.
  const key_vocab_choice choice = as_usage([&] { return choose_key_vocab_size(sources); });
  p.vocab_size = choice.vocab_size;
  std::optional<trace_params> trace_options;
  if (trace) {
    // Every trace value comes from the command line: one out of range is a usage error (exit 4).
    trace_params t = trace_defaults_for(p);
    if (app->count("--trace-code-length") != 0) t.code_length = trace_code_length;
    if (app->count("--account-delta") != 0) t.account_delta = account_delta;
    if (app->count("--trace-position-width") != 0) t.position_width = trace_position_width;
    as_usage([&] { t.validate(); });
    trace_options = t;
  }
  const tritium::key k = as_usage([&] { return tritium::key::generate(p, trace_options); });
  atomic_output::remove_stale_temporaries(out);
  k.save(out, force);
  std::cerr << "tritium: wrote key " << k.id().substr(0, 16) << " to " << out << " (mode 0600)\n";
  const char* origin = choice.from == key_vocab_choice::origin::model       ? "the model's logits width"
                       : choice.from == key_vocab_choice::origin::requested ? "--vocab-size"
                                                                             : "the tokenizer's id count";
  std::cerr << "tritium: V = " << p.vocab_size << " (the logits width the key watermarks), from " << origin << "\n";
  if (choice.from == key_vocab_choice::origin::tokenizer) {
    std::cerr << "tritium: note: a model whose logits are wider than its tokenizer's " << p.vocab_size
              << " ids (Qwen3: 151936 logits, 151669 ids) needs a key made with --model or --vocab-size\n";
  }
  if (p.gamma() != gamma) {
    std::cerr << "tritium: note: gamma " << gamma << " is stored as " << p.gamma_threshold << "/2^"
              << p.gamma_bits << " = " << p.gamma() << "\n";
  }
  std::cout << k.public_json() << "\n";
  return exit_evidence;
}

void key_show_command::setup(CLI::App& parent) {
  app = parent.add_subcommand("show", "Print the public part of a key (never the secret)");
  CLI::Option* positional = app->add_option("key", key_path, "Key file (or give it as --key)");
  CLI::Option* option = app->add_option("--key,-k", key_path, "Key file (or give it as the argument)");
  require_one_form(*app, positional, option, "the key file");
  app->add_flag("--json", json, "Print JSON");
  app->footer(exit_codes_footer({{exit_evidence, "the key's public part was printed"},
                                 {exit_input_error, "the key file is missing, unreadable, corrupt or edited"},
                                 {exit_usage, usage_meaning},
                                 {exit_io_error, "standard output could not be written"},
                                 {exit_internal, internal_meaning}}));
}

int key_show_command::run() const {
  const tritium::key k = load_key_warn(key_path);
  if (json) {
    std::cout << k.public_json() << "\n";
    return exit_evidence;
  }
  const auto& p = k.params();
  std::cout << "key id           " << k.id() << "\n"
            << (p.schemes == scheme_bit(scheme_kind::kgw) ? std::string("scheme           kgw")
                                                          : "schemes          " + scheme_list_text(p.schemes))
            << " (PRF tritium-prf-v1)\n"
            << "gamma            " << p.gamma() << " (" << p.gamma_threshold << "/2^" << p.gamma_bits
            << ")\n"
            << "delta            " << p.delta << "\n"
            << "context width    " << p.context_width << "\n"
            << "seeding          " << seeding_name(p.seeding_scheme) << "\n"
            << "V                " << p.vocab_size << " (logits width: the model's vocabulary rows)\n"
            << "tokenizer        " << (p.tokenizer_digest.empty() ? "(not bound)" : p.tokenizer_digest) << "\n"
            << "tokenizer ids    "
            << (p.tokenizer_vocab_size ? std::to_string(p.tokenizer_vocab_size) : std::string("(not recorded)"))
            << "\n";
  if (const trace_params* t = k.trace()) {
    std::cout << "trace            " << trace_v1::name << ": L = " << t->code_length << ", "
              << (1u << t->symbol_bits) << " symbols, position width " << t->position_width
              << ", account delta " << t->account_delta << "\n";
  }
  return exit_evidence;
}

}  // namespace tritium::cli
