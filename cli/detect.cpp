// `tritium detect`: exact KGW detection over JSON Lines documents of token ids.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "atomic_output.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "token_jsonl.hpp"
#include "tritium/detect.hpp"
#include "tritium/error.hpp"
#include "tritium/key.hpp"

namespace tritium::cli {
namespace {

using ojson = nlohmann::ordered_json;

// Numbers are printed with enough digits to round-trip; a p-value that underflows a double is
// printed as 0 while log10_p keeps the exact magnitude.
ojson result_json(const detection& d) {
  ojson j;
  j["tokens"] = d.tokens;
  j["scored"] = d.scored;
  j["green"] = d.green;
  j["gamma"] = d.gamma;
  j["p_value"] = d.p_value;
  j["log10_p"] = d.log10_p;
  j["z"] = d.z;
  j["detected"] = d.detected;
  j["insufficient"] = d.insufficient;
  return j;
}

std::string verdict(const detection& d, double alpha) {
  std::ostringstream s;
  if (d.detected) {
    s << "WATERMARKED (p <= " << alpha << ")";
  } else if (d.insufficient) {
    s << "insufficient tokens";
  } else {
    s << "no evidence";
  }
  return s.str();
}

std::string fixed(double x, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << x;
  return s.str();
}

void print_row(std::ostream& out, const std::string& id, const detection& d, double alpha) {
  const double share = d.scored ? 100.0 * static_cast<double>(d.green) / static_cast<double>(d.scored) : 0.0;
  out << std::left << std::setw(24) << (id.size() > 23 ? id.substr(0, 22) + "~" : id) << std::right
      << std::setw(9) << d.tokens << std::setw(9) << d.scored << std::setw(8) << d.green
      << std::setw(8) << fixed(share, 1) + "%" << std::setw(12) << fixed(d.log10_p, 2) << "   "
      << verdict(d, alpha) << "\n";
}

std::string plain_id(const std::string& id_json) {
  if (id_json.size() >= 2 && id_json.front() == '"') {
    try {
      return ojson::parse(id_json).get<std::string>();
    } catch (const ojson::exception&) {
      return id_json;
    }
  }
  return id_json;
}

}  // namespace

void detect_command::setup(CLI::App& parent) {
  app = parent.add_subcommand("detect", "Test token sequences for a watermark (exact binomial test)");
  app->add_option("--key,-k", key_path, "Key file")->required();
  app->add_option("--input,-i", input,
                  "JSON Lines file of {\"id\": ..., \"tokens\": [...]} documents, or - for stdin")
      ->required();
  app->add_option("--output,-o", output, "Write results here (atomically) instead of stdout");
  app->add_flag("--pool", pool, "One pooled test over all documents, with one global deduplication");
  app->add_flag("--json", json, "JSON Lines output: one object per document (or one with --pool)");
  app->add_option("--dedup", dedup, "Deduplication: context+token (default), context, or none")
      ->check(CLI::IsMember({"context+token", "context", "none"}))
      ->capture_default_str();
  app->add_option("--alpha", alpha, "Pre-registered significance level of the decision")
      ->check(CLI::Range(1e-300, 0.5))
      ->capture_default_str();
  app->add_option("--vocab-size", vocab_size,
                  "Refuse unless the key was made for this vocabulary size");
  app->add_option("--tokenizer-digest", tokenizer_digest,
                  "Refuse unless the key is bound to this tokenizer (or to none)");
  app->footer(
      "Null hypothesis: the tokens were produced independently of the key. The p-value is the exact\n"
      "binomial upper tail after deduplication; z is informational only.");
}

int detect_command::run() const {
  const tritium::key k = load_key_warn(key_path);
  if (vocab_size != 0) k.require_vocab_size(vocab_size);
  if (!tokenizer_digest.empty()) k.require_tokenizer(tokenizer_digest);
  const kgw_detector detector(k);
  detect_options options;
  options.dedup = *dedup_mode_from_name(dedup);
  options.alpha = alpha;

  std::ifstream file;
  std::istream* in = &std::cin;
  if (input != "-") {
    file.open(input, std::ios::binary);
    if (!file) throw error(errc::invalid_argument, "cannot open input " + input);
    in = &file;
  }
  token_jsonl_reader reader(*in, input);
  atomic_output out(output);
  std::ostream& os = out.stream();

  const std::string header = "id                         tokens   scored   green  green%     log10 p   verdict\n";
  bool any_detected = false;
  bool all_insufficient = true;
  std::size_t documents = 0;
  token_document doc;
  kgw_detector::corpus pooled(detector, options);
  while (reader.next(doc)) {
    ++documents;
    if (pool) {
      try {
        pooled.add(doc.tokens);
      } catch (const error& e) {
        throw error(e.code(), input + ":" + std::to_string(doc.line) + ": " + e.what());
      }
      continue;
    }
    detection d;
    try {
      d = detector.detect(doc.tokens, options);
    } catch (const error& e) {
      throw error(e.code(), input + ":" + std::to_string(doc.line) + ": " + e.what());
    }
    any_detected = any_detected || d.detected;
    all_insufficient = all_insufficient && d.insufficient;
    if (json) {
      ojson j;
      j["id"] = ojson::parse(doc.id_json);
      j.update(result_json(d));
      os << j.dump() << "\n";
    } else {
      if (documents == 1) os << header;
      print_row(os, plain_id(doc.id_json), d, alpha);
    }
  }
  if (pool) {
    const detection d = pooled.result();
    any_detected = d.detected;
    all_insufficient = d.insufficient;
    if (json) {
      ojson j;
      j["documents"] = documents;
      j.update(result_json(d));
      j["dedup"] = dedup;
      os << j.dump() << "\n";
    } else {
      os << header;
      print_row(os, "(pooled: " + std::to_string(documents) + " docs)", d, alpha);
    }
  }
  if (!json) {
    os << "\nH0: the tokens were produced independently of key " << k.id().substr(0, 16)
       << ". Exact one-sided binomial test, gamma = " << k.params().gamma() << ", dedup " << dedup
       << ", alpha = " << alpha << ".\n";
  }
  out.commit();
  if (documents == 0) {
    std::cerr << "tritium: warning: " << input << " holds no documents\n";
    return exit_insufficient;
  }
  if (any_detected) return exit_evidence;
  return all_insufficient ? exit_insufficient : exit_no_evidence;
}

}  // namespace tritium::cli
