// `tritium detect --hf-config`: detection under a transformers watermark configuration
// (tritium/interop_scan.hpp); the options are parsed here, the test runs in the library.
#include <iomanip>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "option_forms.hpp"
#include "report_options.hpp"
#include "progress_line.hpp"
#include "tokenize_support.hpp"
#include "tritium/atomic_output.hpp"
#include "tritium/evidence/report.hpp"
#include "tritium/error.hpp"
#include "tritium/hf_synthid_bayesian.hpp"
#include "tritium/interop_scan.hpp"
#include "tritium/number_text.hpp"

namespace tritium::cli {
namespace {

// Prints the rows and the verdict of an interop scan.
class interop_reporter {
 public:
  interop_reporter(std::ostream& os, bool json, const interop_config& config, double alpha, bool bayesian,
                   std::uint64_t min_window)
      : os_(os), json_(json), config_(config), alpha_(alpha), bayesian_(bayesian),
        kgw_(config.kind == interop_kind::hf_kgw), min_window_(min_window) {}

  /// One document's row (with a pooled test: the pool's, under a plain label).
  void row(const std::string& id_json, const interop_detection& d) {
    ++documents_;
    gamma_ = d.gamma;  // G/V, the same on every KGW row
    if (json_) {
      os_ << "{\"id\":" << id_json << fields(d) << "}\n";
      return;
    }
    if (documents_ == 1) {
      os_ << interop_description(config_) << "\n"
          << "id                        tokens   scored  statistic              log10 p   "
          << (pooled_ ? "all documents" : "this document")
          << (bayesian_ ? "                   posterior" : "") << "\n";
    }
    const std::string id = plain_id(id_json);
    std::string statistic = kgw_ ? std::to_string(d.count) + " green " + fixed_text(100.0 * d.mean, 1) + "%"
                                 : "mean " + fixed_text(d.mean, 4);
    const char* verdict = d.detected ? "p <= alpha" : d.insufficient ? "insufficient tokens" : "no evidence";
    os_ << std::left << std::setw(24) << (id.size() > 23 ? id.substr(0, 22) + "~" : id) << std::right << std::setw(8)
        << d.tokens << std::setw(9) << d.scored << "  " << std::left << std::setw(17) << statistic << std::right
        << std::setw(12) << fixed_text(d.log10_p, 2) << "   ";
    if (d.bayesian_posterior) {
      os_ << std::left << std::setw(19) << verdict << std::right << std::setw(12) << fixed_text(*d.bayesian_posterior, 4);
    } else {
      os_ << verdict;
    }
    os_ << std::right << "\n";
    if (d.window && d.window->scored > 0) os_ << window_line(*d.window, std::to_string(d.window->window_green) + (kgw_ ? " green" : " g-values of 1"));
  }

  /// Prints the pooled test and its verdict; returns the exit code.
  int pooled(const detect_verdict& v, const std::optional<interop_detection>& d) {
    if (v.documents == 0 || !d) {
      std::cerr << "tritium: warning: the input holds no documents\n";
      return exit_insufficient;
    }
    const std::string label = "(pooled: " + std::to_string(v.documents) + " docs)";
    pooled_ = true;
    if (json_) {
      os_ << "{\"documents\":" << v.documents << fields(*d) << "}\n";
    } else {
      row(label, *d);
      os_ << "\n" << null_line() << "\n";
    }
    const bool detected = v.outcome == "evidence", insufficient = v.outcome == "insufficient evidence";
    const std::string verdict = std::string(detected ? "WATERMARK DETECTED" : insufficient ? "insufficient evidence" : "no evidence") +
                                " at alpha = " + shortest_text(alpha_) + " (one pooled test over " +
                                std::to_string(v.documents) + " document(s), log10 p = " + fixed_text(d->log10_p, 2) + ")";
    // As for per-document rows: with --json the verdict goes to stderr, standard output stays JSON.
    if (json_) {
      std::cerr << "tritium: pooled verdict: " << verdict << "\n";
    } else {
      os_ << "Pooled verdict: " << verdict << ".\n";
    }
    return detected ? exit_evidence : insufficient ? exit_insufficient : exit_no_evidence;
  }

  /// Prints the verdict; returns the exit code.
  int verdict(const detect_verdict& v) {
    if (v.documents == 0) {
      std::cerr << "tritium: warning: the input holds no documents\n";
      return exit_insufficient;
    }
    const bool detected = v.outcome == "evidence", insufficient = v.outcome == "insufficient evidence";
    std::ostringstream verdict;
    verdict << (detected ? "WATERMARK DETECTED" : insufficient ? "insufficient evidence" : "no evidence")
            << " at alpha = " << shortest_text(alpha_) << " across " << v.documents
            << " document(s) (Bonferroni: smallest p times " << v.documents << ", log10 = "
            << fixed_text(v.decisive_log10_p, 2) << ")";
    if (json_) {
      std::cerr << "tritium: " << verdict.str() << "\n";
    } else {
      os_ << "\n" << null_line() << (min_window_ > 0 ? "\n" + windows_text(min_window_) : std::string())
          << "\nVerdict: " << verdict.str() << ".\n"
          << "Rows test each document alone at alpha; the verdict corrects for testing " << v.documents
          << " of them.\n";
    }
    return detected ? exit_evidence : insufficient ? exit_insufficient : exit_no_evidence;
  }

 private:
  std::string null_line() const {
    if (kgw_) {
      const std::string opening = "H0: the tokens were produced independently of this configuration's green lists. Each distinct\n";
      if (pooled_) {
        return opening + "(seed, token) tuple across all documents is scored once; p is the binomial tail at gamma' = G/V = " +
               shortest_text(gamma_) +
               ",\na proven upper bound on the exact p (Hoeffding 1956; papers/hf-kgw.md section 5): it never overstates\n"
               "the evidence.";
      }
      return opening + "(seed, token) tuple is scored once; p is the binomial tail at gamma' = G/V = " + shortest_text(gamma_) +
             ", a proven upper bound\n"
             "on the exact p (Hoeffding 1956; papers/hf-kgw.md section 5): it never overstates the evidence.";
    }
    std::string s =
        pooled_ ? "H0: the text does not depend on the layer keys. p is exact under the key-shift null over the\n"
                  "counted g-values of all documents (papers/hf-synthid.md section 4); the mean is transformers'\n"
                  "score, for information."
                : "H0: the text does not depend on the layer keys. p is exact under the key-shift null over the\n"
                  "counted g-values (papers/hf-synthid.md section 4); the mean is transformers' score, for information.";
    if (bayesian_) {
      s += "\nThe posterior is the Bayesian detector's P(watermarked | g-values) under its prior: not a p-value,\n"
           "and never part of the verdict.";
    }
    return s;
  }

  std::string fields(const interop_detection& d) const {
    std::string s = std::string(",\"scheme\":\"") + (kgw_ ? "hf-kgw" : "hf-synthid") + "\"";
    s += ",\"tokens\":" + std::to_string(d.tokens);
    s += ",\"scored\":" + std::to_string(d.scored);
    if (kgw_) {
      s += ",\"green\":" + std::to_string(d.count);
      s += ",\"gamma\":" + exact_text(d.gamma);
    } else {
      s += ",\"g_ones\":" + std::to_string(d.count);
      s += ",\"mean\":" + exact_text(d.mean);
      s += ",\"weighted_mean\":" + exact_text(d.weighted_mean);
    }
    s += ",\"log10_p\":" + exact_text(d.log10_p);
    s += std::string(",\"p_is_bound\":") + (d.p_is_bound ? "true" : "false");
    s += std::string(",\"detected\":") + (d.detected ? "true" : "false");
    s += std::string(",\"insufficient\":") + (d.insufficient ? "true" : "false");
    if (d.bayesian_posterior) s += ",\"bayesian_posterior\":" + exact_text(*d.bayesian_posterior);
    s += ",\"alpha\":" + exact_text(alpha_);
    if (d.window) {
      s += window_fields(*d.window, min_window_,
                         std::string(kgw_ ? "\"green\":" : "\"g_ones\":") + std::to_string(d.window->window_green));
    }
    return s;
  }

  std::ostream& os_;
  bool json_;
  const interop_config& config_;
  double alpha_;
  bool bayesian_;
  bool kgw_;
  std::uint64_t min_window_;
  double gamma_ = 0.0;
  std::size_t documents_ = 0;
  bool pooled_ = false;
};

}  // namespace

int detect_command::run_interop() const {
  // What a tritium key's test has and a transformers configuration does not.
  for (const char* name : {"--scheme", "--dedup", "--tokenizer-digest",
                           "--allow-tokenizer-mismatch"}) {
    if (app->count(name) > 0) {
      throw error(errc::usage, std::string(name) + " is for tests under a tritium key; it is not used with --hf-config");
    }
  }
  if (pool && report.requested()) {
    throw error(errc::usage, "--pool with --report/--html: a pooled test under a transformers configuration has no "
                             "report yet (version 4 records one test per document); run it without them");
  }
  if (pool && !bayesian_weights.empty()) {
    throw error(errc::usage, "--bayesian-weights with --pool: the Bayesian detector gives one text's posterior; a pooled "
                             "test has none");
  }
  if (report.requested() && !bayesian_weights.empty()) {
    throw error(errc::usage, "--bayesian-weights with --report/--html: a report records the exact test only; run the "
                             "Bayesian detector without them (its posterior is not a p-value)");
  }
  interop_config config = load_interop_config(hf_config);
  const bool kgw = config.kind == interop_kind::hf_kgw;
  if (kgw) {
    if (vocab_size == 0) {
      throw error(errc::usage, "--vocab-size: " + hf_config +
                                   " is a KGW configuration; its green lists are drawn over the model's vocabulary "
                                   "size (model_config.vocab_size; TGI: the logits width): give it");
    }
    config.kgw.vocab_size = vocab_size;
  } else if (vocab_size != 0) {
    throw error(errc::usage, "--vocab-size: " + hf_config + " is a SynthID configuration, whose g-values do not depend on it");
  }
  const std::unique_ptr<report_writer> writer = report.open();  // a bad signing key or output path fails first
  interop_spec spec;
  spec.input = report.name(input);
  spec.tokenizer = report.name(tokenizer_path);
  spec.format = format;
  spec.utf8 = parse_invalid_utf8(invalid_utf8);
  spec.alpha = alpha;
  spec.alpha_source = alpha_source_of(*app, "--alpha");
  if (bos >= 0) spec.bos = static_cast<token_id>(bos);
  if (eos >= 0) spec.eos = static_cast<token_id>(eos);
  spec.repetition_mask = !no_repetition_mask;
  spec.min_window = windows ? min_window : 0;
  spec.pooled = pool;
  std::optional<hf_synthid_bayesian> bayesian;
  if (!bayesian_weights.empty()) {
    if (kgw) throw error(errc::usage, "--bayesian-weights: a Bayesian detector scores SynthID g-values, not KGW");
    bayesian.emplace(hf_synthid_bayesian::load_safetensors(bayesian_weights));
  }
  scan_environment env;
  env.base = report.requested() ? report.context().base : std::filesystem::path();
  env.threads = threads;
  progress_line line = stderr_progress("detect", quiet, output.empty() && !pool);
  env.progress = line.callback();
  env.warn = [&line](const std::string& message) {
    line.finish();
    std::cerr << "tritium: warning: " << message << "\n";
  };
  interop_scan scan(spec, config, env, bayesian ? &*bayesian : nullptr);
  atomic_output out(output);
  interop_reporter rows(out.stream(), json, scan.config(), alpha, bayesian.has_value(), spec.min_window);
  auto print = [&](const std::string& id_json, std::span<const token_id>, const interop_detection& d) { rows.row(id_json, d); };
  detect_verdict verdict;
  ojson statement;
  if (writer) {
    detect_report r = run_interop_detect_test(scan, report.context(), print);
    verdict = std::move(r.verdict);
    statement = std::move(r.statement);
  } else {
    verdict = scan.run(print);
  }
  const int code = pool ? rows.pooled(verdict, scan.pooled()) : rows.verdict(verdict);
  out.commit();
  if (writer) writer->write(statement);
  return code;
}

}  // namespace tritium::cli
