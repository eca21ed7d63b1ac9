// `tritium detect`: exact KGW detection over documents of token ids (JSON Lines) or of raw text
// (with --tokenizer). Per-document rows test each document alone; the verdict of the whole run (its
// summary and exit code) corrects for the number of documents (Bonferroni), or is the pooled test.
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numbers>
#include <sstream>

#include "tritium/atomic_output.hpp"
#include "report_options.hpp"
#include "tritium/batch_pipeline.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "option_forms.hpp"
#include "progress_line.hpp"
#include "tritium/text_source.hpp"
#include "tritium/token_jsonl.hpp"
#include "tokenize_support.hpp"
#include "tritium/binomial_tail.hpp"
#include "tritium/detect.hpp"
#include "tritium/digest.hpp"
#include "tritium/error.hpp"
#include "tritium/key.hpp"
#include "tritium/number_text.hpp"
#include "tritium/scan.hpp"

namespace tritium::cli {

std::string windows_text(std::uint64_t min_window) {
  return "Windows: sizes " + std::to_string(min_window) +
         ", doubling, at half-window strides, plus the whole text; a document's verdict is its best\n"
         "window's p times the windows of its size times the number of sizes (weighted Bonferroni), so it\n"
         "holds whichever window is reported. The log10 p column is the whole text's, uncorrected.";
}

std::string window_line(const window_scan_result& w, const std::string& statistic) {
  constexpr double ln10 = std::numbers::ln10;
  return "    best window: tokens [" + std::to_string(w.token_begin) + ", " + std::to_string(w.token_end) + "), " +
         std::to_string(w.end - w.begin) + " scored, " + statistic + ", log10 p " + fixed_text(w.window_ln_p / ln10, 2) +
         " alone; corrected for " + std::to_string(w.windows) + " windows of " + std::to_string(w.sizes) +
         " sizes: log10 p " + fixed_text(w.ln_p_scan / ln10, 2) + "\n";
}

std::string window_statistic(const window_scan_result& w, scheme_kind scheme) {
  return scheme == scheme_kind::gumbel ? "S = " + fixed_text(w.window_score, 2) : std::to_string(w.window_green) + " green";
}

std::string window_fields(const window_scan_result& w, std::uint64_t min_window, const std::string& statistic_field) {
  constexpr double ln10 = std::numbers::ln10;
  std::string s = ",\"window\":{";
  s += "\"min_window\":" + std::to_string(min_window);
  s += ",\"token_begin\":" + std::to_string(w.token_begin);
  s += ",\"token_end\":" + std::to_string(w.token_end);
  s += ",\"scored\":" + std::to_string(w.end - w.begin);
  s += "," + statistic_field;
  s += ",\"log10_p\":" + exact_text(w.window_ln_p / ln10);
  s += ",\"log10_p_corrected\":" + exact_text(w.ln_p_scan / ln10);
  s += ",\"sizes\":" + std::to_string(w.sizes);
  s += ",\"windows\":" + std::to_string(w.windows);
  return s + "}";
}

std::string plain_id(const std::string& id_json) {
  if (id_json.size() >= 2 && id_json.front() == '"') {
    try {
      return nlohmann::json::parse(id_json).get<std::string>();
    } catch (const nlohmann::json::exception&) {
      return id_json;
    }
  }
  return id_json;
}

namespace {

// Prints the rows as the scan hands them out, and the run's verdict.
class reporter {
 public:
  reporter(std::ostream& os, bool json, const tritium::key& k, const detect_spec& spec)
      : os_(os), json_(json), key_id_(k.id()), gamma_(k.params().gamma()), spec_(spec),
        dedup_name_(dedup_mode_name(spec.dedup)), valid_(spec.dedup != dedup_mode::none),
        kgw_only_(spec.schemes == scheme_bit(scheme_kind::kgw)) {}

  void row(const std::string& id_json, const detection& d) {
    ++documents_;
    if (json_) {
      os_ << "{\"id\":" << id_json << fields(d) << "}\n";
      return;
    }
    if (!kgw_only_) {
      if (documents_ == 1) os_ << scheme_header;
      print_scheme_row(plain_id(id_json), d);
      if (d.window) os_ << window_line(*d.window, window_statistic(*d.window, d.scheme));
      return;
    }
    if (documents_ == 1) os_ << header;
    print_row(plain_id(id_json), d);
    if (d.window) os_ << window_line(*d.window, window_statistic(*d.window, d.scheme));
  }

  /// Prints the verdict; returns the exit code.
  int verdict(const detect_verdict& v) {
    return spec_.pooled ? pooled(v) : per_document(v);
  }

 private:
  static constexpr const char* header =
      "id                         tokens   scored   green  green%     log10 p   this document\n";
  static constexpr const char* scheme_header =
      "id                      scheme      tokens   scored  statistic             log10 p   this document\n";

  int pooled(const detect_verdict& v) {
    const detection& d = v.pooled;
    const std::string label = "(pooled: " + std::to_string(v.documents) + " docs)";
    if (json_) {
      for (const detection& p : v.pooled_schemes) os_ << "{\"documents\":" << v.documents << fields(p) << "}\n";
    } else if (kgw_only_) {
      os_ << header;
      print_row(label, d);
      os_ << "\n" << null_line() << "\n";
    } else {
      os_ << scheme_header;
      for (const detection& p : v.pooled_schemes) print_scheme_row(label, p);
      os_ << "\n" << null_line() << "\n";
    }
    if (valid_) {
      std::string verdict = std::string(d.detected ? "WATERMARK DETECTED" : d.insufficient ? "insufficient evidence" : "no evidence") +
                            " at alpha = " + shortest_text(spec_.alpha);
      if (kgw_only_) {
        verdict += " (one pooled test over " + std::to_string(v.documents) + " document(s), log10 p = " + fixed_text(d.log10_p, 2) + ")";
      } else {
        verdict += " (one pooled test per scheme over " + std::to_string(v.documents) + " document(s); Bonferroni: smallest p, " +
                   std::string(scheme_name(d.scheme)) + "'s, times " + std::to_string(v.schemes) +
                   ", log10 = " + fixed_text(v.decisive_log10_p, 2) + ")";
      }
      // As for per-document rows: with --json the verdict goes to stderr, standard output stays JSON.
      if (json_) {
        std::cerr << "tritium: pooled verdict: " << verdict << "\n";
      } else {
        os_ << "Pooled verdict: " << verdict << ".\n";
      }
    }
    if (!valid_) return refuse();
    return exit_of(v);
  }

  int per_document(const detect_verdict& v) {
    if (v.documents == 0) {
      std::cerr << "tritium: warning: the input holds no documents\n";
      return exit_insufficient;
    }
    if (!valid_) return refuse();
    const bool detected = v.outcome == "evidence", insufficient = v.outcome == "insufficient evidence";
    std::ostringstream verdict;
    verdict << (detected ? "WATERMARK DETECTED" : insufficient ? "insufficient evidence" : "no evidence")
            << " at alpha = " << shortest_text(spec_.alpha) << " across " << v.documents << " document(s)";
    if (kgw_only_) {
      verdict << " (Bonferroni: smallest p times " << v.documents;
    } else {
      verdict << " and " << v.schemes << " scheme(s) (Bonferroni: smallest p times " << v.documents << " x "
              << v.schemes;
    }
    verdict << ", log10 = " << fixed_text(v.decisive_log10_p, 2) << ")";
    if (json_) {
      std::cerr << "tritium: " << verdict.str() << "\n";
    } else {
      os_ << "\n" << null_line() << "\n" << "Verdict: " << verdict.str() << ".\n";
      if (kgw_only_) {
        os_ << "Rows test each document alone at alpha; the verdict corrects for testing " << v.documents
            << " of them.\n";
      } else {
        os_ << "Rows test each document under one scheme alone at alpha; the verdict corrects for all "
            << v.documents * v.schemes << " tests.\n";
      }
    }
    return exit_of(v);
  }

  static int exit_of(const detect_verdict& v) {
    return v.outcome == "evidence" ? exit_evidence : v.outcome == "insufficient evidence" ? exit_insufficient : exit_no_evidence;
  }

  int refuse() {
    const char* message =
        "tritium: warning: --dedup none scores repeated tuples, so the p-values above assume an "
        "independence that does not hold; no verdict is given\n";
    std::cerr << message;
    return exit_no_verdict;
  }

  std::string null_line() const {
    if (!kgw_only_) {
      std::string s = "H0: the tokens were produced independently of key " + key_id_.substr(0, 16) + ". Dedup " +
                      dedup_name_ + ". Exact tests:";
      for (const scheme_kind k : schemes_in(spec_.schemes)) {
        switch (k) {
          case scheme_kind::kgw:
            s += "\n  kgw      one-sided binomial tail of the green count, gamma = " + exact_text(gamma_);
            break;
          case scheme_kind::gumbel:
            s += "\n  gumbel   Gamma(N, 1) tail of S, the sum of -ln(1 - U) over the N scored tuples";
            break;
          case scheme_kind::unigram:
            s += "\n  unigram  hypergeometric tail of the green count over distinct token ids";
            break;
        }
      }
      if (spec_.min_window > 0) s += "\n" + windows_text(spec_.min_window);
      return s;
    }
    std::string s = "H0: the tokens were produced independently of key " + key_id_.substr(0, 16) +
                    ". Exact one-sided binomial test, gamma = " + exact_text(gamma_) + ", dedup " + dedup_name_ + ".";
    if (spec_.min_window > 0) s += "\n" + windows_text(spec_.min_window);
    return s;
  }

  std::string fields(const detection& d) const {
    std::string s;
    s += std::string(",\"scheme\":\"") + scheme_name(d.scheme) + "\"";
    s += ",\"tokens\":" + std::to_string(d.tokens);
    s += ",\"scored\":" + std::to_string(d.scored);
    if (d.scheme != scheme_kind::gumbel) {
      s += ",\"green\":" + std::to_string(d.green);
      s += ",\"gamma\":" + exact_text(d.gamma);
    }
    s += ",\"p_value\":" + exact_text(d.p_value);
    s += ",\"log10_p\":" + exact_text(d.log10_p);
    if (d.scheme == scheme_kind::kgw) s += ",\"z\":" + exact_text(d.z);
    if (d.scheme == scheme_kind::gumbel) s += ",\"score\":" + exact_text(d.score);
    s += std::string(",\"detected\":") + (d.detected ? "true" : "false");
    s += std::string(",\"insufficient\":") + (d.insufficient ? "true" : "false");
    if (d.window) {
      s += window_fields(*d.window, spec_.min_window,
                         d.scheme == scheme_kind::gumbel ? "\"score\":" + exact_text(d.window->window_score)
                                                         : "\"green\":" + std::to_string(d.window->window_green));
    }
    if (!valid_) s += ",\"p_value_valid\":false";
    s += ",\"dedup\":\"" + dedup_name_ + "\"";
    s += ",\"alpha\":" + exact_text(spec_.alpha);
    s += ",\"key_id\":\"" + key_id_ + "\"";
    return s;
  }

  void print_row(const std::string& id, const detection& d) {
    const double share = d.scored ? 100.0 * static_cast<double>(d.green) / static_cast<double>(d.scored) : 0.0;
    const char* verdict = !valid_ ? "(no valid p-value)" : d.detected ? "p <= alpha" : d.insufficient ? "insufficient tokens" : "no evidence";
    os_ << std::left << std::setw(24) << (id.size() > 23 ? id.substr(0, 22) + "~" : id) << std::right
        << std::setw(9) << d.tokens << std::setw(9) << d.scored << std::setw(8) << d.green << std::setw(8)
        << fixed_text(share, 1) + "%" << std::setw(12) << fixed_text(d.log10_p, 2) << "   " << verdict << "\n";
  }

  void print_scheme_row(const std::string& id, const detection& d) {
    std::string statistic;
    if (d.scheme == scheme_kind::gumbel) {
      statistic = "S = " + fixed_text(d.score, 2);
    } else {
      const double share = d.scored ? 100.0 * static_cast<double>(d.green) / static_cast<double>(d.scored) : 0.0;
      statistic = std::to_string(d.green) + " green " + fixed_text(share, 1) + "%";
    }
    const char* verdict = !valid_ ? "(no valid p-value)" : d.detected ? "p <= alpha" : d.insufficient ? "insufficient tokens" : "no evidence";
    os_ << std::left << std::setw(24) << (id.size() > 23 ? id.substr(0, 22) + "~" : id) << std::setw(9)
        << scheme_name(d.scheme) << std::right << std::setw(9) << d.tokens << std::setw(9) << d.scored << "  "
        << std::left << std::setw(18) << statistic << std::right << std::setw(12) << fixed_text(d.log10_p, 2)
        << "   " << verdict << "\n";
  }

  std::ostream& os_;
  bool json_;
  std::string key_id_;
  double gamma_;
  detect_spec spec_;
  std::string dedup_name_;
  bool valid_;
  bool kgw_only_;  ///< the layout of KGW alone (the same as before schemes could be chosen)
  std::size_t documents_ = 0;
};

}  // namespace

void detect_command::setup(CLI::App& parent) {
  app = parent.add_subcommand("detect", "Test documents for a watermark (exact tests: KGW, Gumbel, Unigram; transformers' KGW and SynthID)");
  CLI::Option* key_option = app->add_option("--key,-k", key_path, "Key file (or --hf-config)");
  CLI::Option* hf_option = app->add_option(
      "--hf-config", hf_config,
      "Instead of a key: a transformers watermark configuration (generation_config.json with "
      "\"watermarking_config\", or that object alone): WatermarkingConfig (KGW, also TGI's) or "
      "SynthIDTextWatermarkingConfig");
  key_option->excludes(hf_option);
  hf_option->excludes(key_option);
  app->add_option("--input,-i", input,
                  "JSON Lines of {\"id\": ..., \"tokens\": [...]}, or - for stdin; with --tokenizer: text "
                  "(.txt, a folder of .txt, or JSON Lines {\"id\": ..., \"text\": ...})")
      ->required();
  add_output_option(*app, output, "Write results here (atomically, replacing the file) instead of stdout", false);
  app->add_flag("--pool", pool, "One pooled test over all documents, with one global deduplication (SynthID under --hf-config: one key-shift null, which needs none)");
  app->add_flag("--json", json, "JSON Lines output: one object per document (or one with --pool)");
  CLI::Option* windows_flag = app->add_flag(
      "--windows", windows,
      "Also scan each document in windows (for a watermarked passage inside longer text): the best "
      "window, its p, and the p corrected for every window tested, which then decides");
  app->add_option("--min-window", min_window, "With --windows: the smallest window, in scored tuples (>= 10)")
      ->check(CLI::Range(std::uint64_t{10}, std::uint64_t{1} << 40))
      ->needs(windows_flag)
      ->capture_default_str();
  windows_flag->excludes("--pool");
  app->add_option("--scheme", schemes,
                  "Which schemes to test: auto (every scheme the key names, params.schemes) or a comma-separated "
                  "list of kgw, gumbel, unigram (each must be one the key names); more than one multiplies "
                  "the Bonferroni correction")
      ->delimiter(',')
      ->check(CLI::IsMember({"auto", "kgw", "gumbel", "unigram"}))
      ->capture_default_str();
  app->add_option("--dedup", dedup, dedup_help)
      ->check(CLI::IsMember({"context+token", "context", "none"}))
      ->capture_default_str();
  app->add_option("--alpha", alpha, "Pre-registered significance level of the decision")
      ->check(CLI::Range(1e-300, 0.5))
      ->capture_default_str();
  app->add_option("--vocab-size", vocab_size,
                  "With --key: refuse unless the key's V (the logits width it watermarks) is this; with a KGW "
                  "--hf-config: the V its green lists are drawn over (model_config.vocab_size, TGI: the logits width)");
  app->add_option("--bos", bos, "KGW --hf-config: drop this token when it opens a document (model_config.bos_token_id)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{INT32_MAX}));
  app->add_option("--eos", eos, "SynthID --hf-config: score nothing from the first occurrence of this token on")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{INT32_MAX}));
  app->add_flag("--no-repetition-mask", no_repetition_mask,
                "SynthID --hf-config: score every position, not only those whose context is new (transformers' mask)");
  app->add_option("--bayesian-weights", bayesian_weights,
                  "SynthID --hf-config: a trained BayesianDetectorModel (model.safetensors); its posterior is "
                  "printed beside the exact p-value, which alone decides");
  app->add_option("--tokenizer-digest", tokenizer_digest,
                  "Refuse unless the key is bound to this tokenizer (or to none)");
  app->add_option("--tokenizer,-t", tokenizer_path,
                  "Detect from raw text, tokenized with this tokenizer.json or .gguf file");
  app->add_flag("--allow-tokenizer-mismatch", allow_tokenizer_mismatch,
                "Proceed (with a warning) when the key is bound to a different tokenizer");
  add_text_input_options(*app, format, invalid_utf8, threads);
  add_report_options(*app, report);
  add_quiet_flag(*app, quiet);
  app->footer(
      "Null hypothesis: the tokens were produced independently of the key. The p-value is exact after\n"
      "deduplication: KGW's binomial tail (z is informational only), Gumbel's Gamma(N, 1) tail, Unigram's\n"
      "hypergeometric tail. Rows test each document under one scheme alone; the verdict and exit code\n"
      "correct for the number of documents times schemes (Bonferroni) or, with --pool, come from one\n"
      "test over all documents per scheme (Bonferroni over the schemes).\n"
      "With --hf-config (no key): transformers' KGW (binomial bound on distinct (seed, token) tuples,\n"
      "needs --vocab-size) or SynthID (exact key-shift null), Bonferroni across documents or, with\n"
      "--pool, one test over all of them (KGW tuples deduplicated across documents).\n\n" +
      exit_codes_footer({{exit_evidence, "WATERMARK DETECTED: the run's verdict at alpha (Bonferroni across documents,\n"
                                         "      or the pooled test)"},
                         {exit_no_evidence, "no evidence at alpha"},
                         {exit_insufficient, "no conclusion: insufficient evidence (too few scored tokens to reach alpha,\n"
                                             "      or no documents), or no verdict (--dedup none)"},
                         {exit_input_error, input_meaning},
                         {exit_usage, usage_meaning},
                         {exit_io_error, output_meaning},
                         {exit_internal, internal_meaning}}));
}

int detect_command::run() const {
  if (!hf_config.empty()) return run_interop();
  if (key_path.empty()) throw error(errc::usage, "detect needs --key KEY, or --hf-config CONFIG for a transformers watermark");
  for (const char* name : {"--bos", "--eos", "--no-repetition-mask", "--bayesian-weights"}) {
    if (app->count(name) > 0) {
      throw error(errc::usage, std::string(name) + " reads a transformers watermark: it needs --hf-config, not a key");
    }
  }
  const tritium::key k = load_key_warn(key_path);
  if (vocab_size != 0) k.require_vocab_size(vocab_size);
  if (!tokenizer_digest.empty()) k.require_tokenizer(tokenizer_digest);
  const std::unique_ptr<report_writer> writer = report.open();  // a bad signing key or output path fails first
  detect_spec spec;
  spec.input = report.name(input);
  spec.tokenizer = report.name(tokenizer_path);
  spec.format = format;
  spec.utf8 = parse_invalid_utf8(invalid_utf8);
  spec.dedup = *dedup_mode_from_name(dedup);
  spec.pooled = pool;
  spec.min_window = windows ? min_window : 0;
  spec.schemes = 0;
  for (const std::string& name : schemes) {
    if (name == "auto") {
      if (schemes.size() != 1) throw error(errc::usage, "--scheme auto stands alone: it means every scheme the key names");
      spec.schemes = k.params().schemes;
      continue;
    }
    const scheme_kind s = *scheme_from_name(name);
    if (spec.schemes & scheme_bit(s)) throw error(errc::usage, "--scheme names " + name + " twice");
    spec.schemes = static_cast<scheme_set>(spec.schemes | scheme_bit(s));
  }
  spec.alpha = alpha;
  spec.alpha_source = alpha_source_of(*app, "--alpha");
  scan_environment env;
  env.base = report.requested() ? report.context().base : std::filesystem::path();
  env.threads = threads;
  env.allow_tokenizer_mismatch = allow_tokenizer_mismatch;
  progress_line line = stderr_progress("detect", quiet, output.empty() && !pool);
  env.progress = line.callback();
  env.warn = [&line](const std::string& message) {
    line.finish();  // the warning on a line of its own; the progress line is redrawn below it
    std::cerr << "tritium: warning: " << message << "\n";
  };
  detect_scan scan(spec, k, env);
  atomic_output out(output);
  reporter rows(out.stream(), json, k, spec);
  auto print = [&](const std::string& id_json, std::span<const token_id>, const detection& d) {
    if (!pool) rows.row(id_json, d);
  };
  detect_verdict verdict;
  ojson statement;
  if (writer) {
    detect_report r = run_detect_test(scan, report.context(), print);
    verdict = std::move(r.verdict);
    statement = std::move(r.statement);
  } else {
    verdict = scan.run(print);
  }
  const int code = rows.verdict(verdict);
  out.commit();
  if (writer) writer->write(statement);
  return code;
}

}  // namespace tritium::cli
