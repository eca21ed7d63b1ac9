// A detect test under another project's watermark configuration (tritium/interop_scan.hpp).
#include "tritium/interop_scan.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>

#include "scan_documents.hpp"
#include "tritium/error.hpp"
#include "tritium/hf_kgw_detect.hpp"
#include "tritium/hf_synthid_bayesian.hpp"
#include "tritium/hf_synthid_detect.hpp"
#include "tritium/inputs.hpp"
#include "tritium/json_document.hpp"
#include "tritium/number_text.hpp"

namespace tritium {
namespace {

using json = nlohmann::json;

// The fields of each configuration class, as transformers' to_dict() writes them.
constexpr const char* kgw_fields[] = {"greenlist_ratio", "bias", "hashing_key", "seeding_scheme", "context_width"};
constexpr const char* synthid_fields[] = {"ngram_len",          "keys",
                                          "context_history_size", "sampling_table_seed",
                                          "sampling_table_size",  "skip_first_ngram_calls",
                                          "debug_mode"};

bool is_one_of(const std::string& name, std::span<const char* const> names) {
  return std::any_of(names.begin(), names.end(), [&](const char* n) { return name == n; });
}

[[noreturn]] void bad_field(const std::string& where, const std::string& field, const std::string& why) {
  throw error(errc::invalid_argument, where + ": field \"" + field + "\": " + why);
}

std::uint64_t unsigned_field(const json& v, const std::string& where, const std::string& field, std::uint64_t lo,
                             std::uint64_t hi) {
  if (!v.is_number_integer()) bad_field(where, field, "expected an integer");
  if (v.is_number_unsigned()) {
    const std::uint64_t x = v.get<std::uint64_t>();
    if (x >= lo && x <= hi) return x;
  } else if (v.get<std::int64_t>() >= 0 && static_cast<std::uint64_t>(v.get<std::int64_t>()) >= lo &&
             static_cast<std::uint64_t>(v.get<std::int64_t>()) <= hi) {
    return static_cast<std::uint64_t>(v.get<std::int64_t>());
  }
  bad_field(where, field, "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + v.dump());
}

double number_field(const json& v, const std::string& where, const std::string& field) {
  if (!v.is_number()) bad_field(where, field, "expected a number");
  return v.get<double>();
}

bool bool_field(const json& v, const std::string& where, const std::string& field) {
  if (!v.is_boolean()) bad_field(where, field, "expected true or false");
  return v.get<bool>();
}

}  // namespace

interop_config parse_interop_config(std::string_view json_text, const std::string& what) {
  const json doc = detail::parse_json_document<json>(json_text, what);
  if (!doc.is_object()) throw error(errc::invalid_argument, what + ": expected a JSON object");
  const json* config = &doc;
  std::string where = what;
  if (doc.contains("watermarking_config")) {
    config = &doc["watermarking_config"];
    where = what + ": watermarking_config";
    if (config->is_null()) {
      throw error(errc::invalid_argument, what + ": the generation config's watermarking_config is null: it watermarks nothing");
    }
    if (!config->is_object()) throw error(errc::invalid_argument, where + ": expected a JSON object");
  }
  interop_config out;
  bool any_kgw = false, any_synthid = false;
  for (const auto& [name, value] : config->items()) {
    if (is_one_of(name, kgw_fields)) {
      any_kgw = true;
    } else if (is_one_of(name, synthid_fields)) {
      any_synthid = true;
    } else {
      bad_field(where, name, std::string("not a field of transformers' WatermarkingConfig or SynthIDTextWatermarkingConfig") +
                                 (config == &doc ? " (a generation config holds the watermark as \"watermarking_config\")" : ""));
    }
    out.fields.push_back(name);
  }
  if (any_kgw && any_synthid) {
    throw error(errc::invalid_argument, where + ": it mixes fields of WatermarkingConfig (KGW) and of "
                                                "SynthIDTextWatermarkingConfig; which scheme is meant is ambiguous");
  }
  if (!any_kgw && !any_synthid) {
    throw error(errc::invalid_argument, where + ": no watermark field: expected those of WatermarkingConfig (greenlist_ratio, "
                                                "bias, hashing_key, seeding_scheme, context_width) or of "
                                                "SynthIDTextWatermarkingConfig (ngram_len, keys, ...)");
  }
  if (any_kgw) {
    out.kind = interop_kind::hf_kgw;
    hf_kgw_params& p = out.kgw;
    for (const auto& [name, v] : config->items()) {
      if (name == "greenlist_ratio") {
        p.greenlist_ratio = number_field(v, where, name);
        if (!(p.greenlist_ratio > 0.0 && p.greenlist_ratio < 1.0)) bad_field(where, name, "expected a value in (0, 1), got " + v.dump());
      } else if (name == "bias") {
        const double b = number_field(v, where, name);
        if (!std::isfinite(b) || std::fabs(b) > 1e30) bad_field(where, name, "expected a finite float32 value, got " + v.dump());
        p.bias = static_cast<float>(b);
      } else if (name == "hashing_key") {
        p.hashing_key = unsigned_field(v, where, name, 0, (std::uint64_t{1} << 63) - 1);
      } else if (name == "seeding_scheme") {
        if (v == "lefthash") {
          p.seeding = hf_seeding::lefthash;
        } else if (v == "selfhash") {
          p.seeding = hf_seeding::selfhash;
        } else {
          bad_field(where, name, "expected \"lefthash\" or \"selfhash\", got " + v.dump());
        }
      } else if (name == "context_width") {
        p.context_width = static_cast<std::uint32_t>(unsigned_field(v, where, name, 1, 1024));
      }
    }
    return out;
  }
  out.kind = interop_kind::hf_synthid;
  hf_synthid_params& p = out.synthid;
  if (!config->contains("keys")) throw error(errc::invalid_argument, where + ": SynthID needs its \"keys\" (one per layer)");
  if (!config->contains("ngram_len")) throw error(errc::invalid_argument, where + ": SynthID needs its \"ngram_len\"");
  for (const auto& [name, v] : config->items()) {
    if (name == "ngram_len") {
      p.ngram_len = static_cast<std::uint32_t>(unsigned_field(v, where, name, 2, 1024));
    } else if (name == "keys") {
      if (!v.is_array() || v.empty()) bad_field(where, name, "expected a non-empty array of integers");
      p.keys.clear();
      for (std::size_t i = 0; i < v.size(); ++i) {
        const json& k = v[i];
        if (!k.is_number_integer() || (k.is_number_unsigned() && k.get<std::uint64_t>() > std::uint64_t{INT64_MAX})) {
          bad_field(where, name + "[" + std::to_string(i) + "]", "expected a 64-bit signed integer, got " + k.dump());
        }
        p.keys.push_back(k.get<std::int64_t>());
      }
    } else if (name == "context_history_size") {
      p.context_history_size = static_cast<std::uint32_t>(unsigned_field(v, where, name, 1, 1u << 24));
    } else if (name == "sampling_table_seed") {
      p.sampling_table_seed = unsigned_field(v, where, name, 0, std::numeric_limits<std::uint64_t>::max());
    } else if (name == "sampling_table_size") {
      p.sampling_table_size = static_cast<std::uint32_t>(unsigned_field(v, where, name, 2, 1u << 24));
    } else if (name == "skip_first_ngram_calls") {
      p.skip_first_ngram_calls = bool_field(v, where, name);
    } else if (name == "debug_mode") {
      // Generation only (the processor replaces the scores by ones first); detection reads no scores.
      bool_field(v, where, name);
    }
  }
  return out;
}

interop_config load_interop_config(const std::filesystem::path& path) {
  constexpr std::uintmax_t max_bytes = 16u << 20;
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_bytes) {
    throw error(errc::invalid_argument, path.string() + ": " + std::to_string(size) +
                                            " bytes: a watermark configuration is at most 16 MiB");
  }
  if (std::filesystem::is_directory(path, ec)) {
    throw error(errc::invalid_argument, path.string() + ": a folder, not a watermark configuration file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(errc::invalid_argument, "cannot open watermark configuration " + path.string());
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw error(errc::invalid_argument, "cannot read watermark configuration " + path.string());
  return parse_interop_config(bytes, path.string());
}

std::string interop_description(const interop_config& c) {
  if (c.kind == interop_kind::hf_kgw) {
    const hf_kgw_params& p = c.kgw;
    return std::string("transformers KGW: ") + (p.seeding == hf_seeding::selfhash ? "selfhash" : "lefthash") +
           ", context width " + std::to_string(p.context_width) + ", greenlist ratio " + shortest_text(p.greenlist_ratio) +
           ", bias " + shortest_text(static_cast<double>(p.bias)) + ", V = " + std::to_string(p.vocab_size);
  }
  const hf_synthid_params& p = c.synthid;
  return "transformers SynthID-Text: " + std::to_string(p.keys.size()) + " layers, ngram_len " +
         std::to_string(p.ngram_len) + ", context history " + std::to_string(p.context_history_size) +
         ", sampling table " + std::to_string(p.sampling_table_size);
}

interop_scan::interop_scan(interop_spec spec, const interop_config& config, scan_environment env,
                           const hf_synthid_bayesian* bayesian)
    : spec_(std::move(spec)), config_(config), env_(std::move(env)), bayesian_(bayesian) {
  if (!(spec_.alpha > 0.0 && spec_.alpha < 1.0)) {
    throw error(errc::usage, "alpha: expected a value in (0, 1), got " + shortest_text(spec_.alpha));
  }
  if (spec_.min_window > 0 && spec_.min_window < 10) {
    throw error(errc::usage, "min_window: expected at least 10, got " + std::to_string(spec_.min_window));
  }
  if (spec_.pooled && spec_.min_window > 0) {
    throw error(errc::usage, "a pooled test is one test over all documents; a window scan tests each document's windows");
  }
  if (spec_.pooled && bayesian_ != nullptr) {
    throw error(errc::usage, "a Bayesian detector gives one text's posterior; a pooled test has none");
  }
  if (config_.kind == interop_kind::hf_kgw) {
    if (spec_.eos) throw error(errc::usage, "--eos: transformers' KGW detector does not stop at EOS; it is for SynthID");
    if (!spec_.repetition_mask) {
      throw error(errc::usage, "the context-repetition mask is SynthID's; KGW deduplicates (seed, token) tuples instead");
    }
    if (bayesian_ != nullptr) throw error(errc::usage, "a Bayesian detector scores SynthID g-values, not KGW");
    if (config_.kgw.vocab_size == 0) {
      throw error(errc::invalid_argument, "transformers KGW needs the vocabulary size its green lists were drawn over "
                                          "(model_config.vocab_size; TGI: the logits width)");
    }
    kgw_ = std::make_unique<const hf_kgw>(config_.kgw);
  } else {
    if (spec_.bos) throw error(errc::usage, "--bos: SynthID never hashes the prompt, so there is no BOS to drop; it is for KGW");
    if (config_.kgw.vocab_size != 0) {
      throw error(errc::usage, "SynthID's g-values do not depend on the vocabulary size; it is for KGW");
    }
    const std::uint32_t s = config_.synthid.sampling_table_size;
    if ((s & (s - 1)) != 0 || s > (1u << 16)) {
      throw error(errc::invalid_argument, "sampling_table_size " + std::to_string(s) +
                                              ": tritium's exact SynthID null needs a power of two up to 65536");
    }
    synthid_ = std::make_unique<const hf_synthid>(config_.synthid);
    if (bayesian_ != nullptr && bayesian_->depth() != synthid_->depth()) {
      throw error(errc::mismatch, "the Bayesian detector has " + std::to_string(bayesian_->depth()) +
                                      " layers, the configuration " + std::to_string(synthid_->depth()) + " keys");
    }
  }
  if (spec_.tokenizer.empty()) return;
  tokenizer_ = std::make_unique<tritium::tokenizer>(load_tokenizer(env_.resolve(spec_.tokenizer).string()));
  if (kgw_ && tokenizer_->vocab_size() > config_.kgw.vocab_size) {
    throw error(errc::mismatch, "tokenizer " + spec_.tokenizer + " has " + std::to_string(tokenizer_->vocab_size()) +
                                    " ids, more than the configuration's V = " + std::to_string(config_.kgw.vocab_size) +
                                    " (V is the model's logits width, at least the tokenizer's ids)");
  }
  detail::list_input(spec_.input, env_, spec_.format, listed_files_, named_files_);
}

std::vector<std::string> interop_scan::files() const {
  return detail::input_files(spec_.tokenizer, spec_.input, env_, tokenizer_ != nullptr, named_files_);
}

interop_scan::~interop_scan() = default;

hf_kgw_detect_options interop_scan::kgw_options() const {
  hf_kgw_detect_options o;
  o.alpha = spec_.alpha;
  o.bos = spec_.bos;
  return o;
}

hf_synthid_detect_options interop_scan::synthid_options() const {
  hf_synthid_detect_options o;
  o.alpha = spec_.alpha;
  o.eos = spec_.eos;
  o.repetition_mask = spec_.repetition_mask;
  return o;
}

namespace {

// A test in the scan's terms.
interop_detection of_kgw(const detection& d) {
  interop_detection r;
  r.kind = interop_kind::hf_kgw;
  r.tokens = d.tokens;  // after a dropped BOS
  r.scored = d.scored;
  r.count = d.green;
  r.gamma = d.gamma;
  r.mean = d.scored ? static_cast<double>(d.green) / static_cast<double>(d.scored) : 0.0;
  r.ln_p = d.ln_p;
  r.log10_p = d.log10_p;
  r.p_is_bound = d.p_is_bound;
  r.ln_p_floor = hf_kgw_p_bound_ln(d.scored, d.scored, d.gamma);
  r.detected = d.detected;
  r.insufficient = d.insufficient;
  return r;
}

interop_detection of_synthid(const hf_synthid_detection& d) {
  interop_detection r;
  r.kind = interop_kind::hf_synthid;
  r.tokens = d.tokens;
  r.scored = d.scored;
  r.count = d.ones;
  r.mean = d.mean;
  r.weighted_mean = d.weighted_mean;
  r.ln_p = d.ln_p;
  r.log10_p = d.log10_p;
  r.ln_p_floor = d.ln_p_min;
  r.detected = d.detected;
  r.insufficient = d.insufficient;
  r.bayesian_posterior = d.bayesian_posterior;
  return r;
}

}  // namespace

interop_detection interop_scan::detect(std::span<const token_id> tokens, hf_kgw_green_cache* cache) const {
  interop_detection r;
  r.kind = config_.kind;
  const double ln_alpha = std::log(spec_.alpha);
  // The scan's decision: the corrected p, and a floor raised by the whole text's weight J.
  auto decide_on_window = [&](const window_scan_result& w) {
    r.detected = w.ln_p_scan <= ln_alpha;
    if (w.sizes > 0) r.ln_p_floor += std::log(static_cast<double>(w.sizes));
    r.insufficient = r.ln_p_floor > ln_alpha;
    r.window = w;
  };
  if (kgw_) {
    hf_kgw_detect_options o = kgw_options();
    o.cache = cache;
    o.want_marks = spec_.min_window > 0;
    const detection d = hf_kgw_detect(*kgw_, tokens, o);
    r = of_kgw(d);
    if (spec_.min_window > 0) {
      window_scan_result w = window_scan(d, {.min_window = spec_.min_window});
      // The scan counts tokens after a dropped BOS; the window is given in the input's own places.
      if (spec_.bos && !tokens.empty() && tokens.front() == *spec_.bos && w.scored > 0) {
        ++w.token_begin;
        ++w.token_end;
      }
      decide_on_window(w);
    }
    return r;
  }
  hf_synthid_detect_options o = synthid_options();
  o.bayesian = bayesian_;
  const hf_synthid_detection d = hf_synthid_detect(*synthid_, tokens, o);
  r = of_synthid(d);
  if (spec_.min_window > 0) {
    // A window's smallest p can be below the whole text's (fewer shifts reach its maximum): the floor
    // is the smallest any window could reach, one shift in S^m.
    r.ln_p_floor = std::min(r.ln_p_floor, -static_cast<double>(synthid_->depth()) *
                                              std::log(static_cast<double>(config_.synthid.sampling_table_size)));
    decide_on_window(hf_synthid_window_scan(*synthid_, tokens, synthid_options(), {.min_window = spec_.min_window}));
  }
  return r;
}

detect_verdict interop_scan::run(const observer& on_document) {
  if (spec_.pooled) return run_pooled();
  std::size_t documents = 0;
  double min_ln_p = 0.0, min_ln_p_floor = 0.0;
  std::uint64_t max_scored = 0;
  progress_meter progress(env_.progress, "documents");
  auto take = [&](const std::string& id_json, std::span<const token_id> tokens, const interop_detection& d) {
    ++documents;
    min_ln_p = std::min(min_ln_p, d.decision_ln_p());
    min_ln_p_floor = std::min(min_ln_p_floor, d.ln_p_floor);
    max_scored = std::max(max_scored, d.scored);
    if (on_document) on_document(id_json, tokens, d);
    progress.advance();
  };
  detail::document_input in = detail::input_of(spec_.input, env_, tokenizer_.get(), spec_.format, spec_.utf8);
  if (tokenizer_) in.listed = &listed_files_;
  // Green lists kept across documents, one cache per worker (made on its first document).
  const unsigned workers = in.workers;
  std::vector<std::unique_ptr<hf_kgw_green_cache>> caches(workers);
  auto cache_of = [&](unsigned w) -> hf_kgw_green_cache* {
    if (!kgw_ || env_.cache_bytes == 0) return nullptr;
    if (!caches[w]) caches[w] = std::make_unique<hf_kgw_green_cache>(*kgw_, env_.cache_bytes / workers);
    return caches[w].get();
  };
  detail::scan_documents<interop_detection>(
      in, [&](std::span<const token_id> tokens, interop_detection& d, unsigned w) { d = detect(tokens, cache_of(w)); },
      [&](const std::string& id_json, std::span<const token_id> tokens, interop_detection& d, const std::string&) {
        take(id_json, tokens, d);
      });
  progress.finish();

  detect_verdict v;
  v.documents = documents;
  v.schemes = 1;
  v.max_scored = max_scored;
  if (documents == 0) {
    v.outcome = "insufficient evidence";
    return v;
  }
  decide_bonferroni(v, min_ln_p, min_ln_p_floor, static_cast<double>(documents), spec_.alpha);  // across documents
  return v;
}

detect_verdict interop_scan::run_pooled() {
  // The documents are read (and tokenized) by the workers and added in input order; the test itself
  // runs once, over everything added.
  std::optional<hf_kgw_pool> kgw_pool;
  std::optional<hf_synthid_pool> synthid_pool;
  if (kgw_) {
    kgw_pool.emplace(*kgw_, kgw_options());
  } else {
    synthid_pool.emplace(*synthid_, synthid_options());
  }
  progress_meter progress(env_.progress, "documents");
  detail::document_input in = detail::input_of(spec_.input, env_, tokenizer_.get(), spec_.format, spec_.utf8);
  if (tokenizer_) in.listed = &listed_files_;
  std::size_t documents = 0;
  detail::scan_documents<interop_detection>(
      in, [](std::span<const token_id>, interop_detection&, unsigned) {},
      [&](const std::string&, std::span<const token_id> tokens, interop_detection&, const std::string& where) {
        try {
          if (kgw_pool) kgw_pool->add(tokens); else synthid_pool->add(tokens);
        } catch (const error& e) {
          throw error(e.code(), where + ": " + e.what());  // the file and line of the document
        }
        ++documents;
        progress.advance();
      });
  progress.finish();
  detect_verdict v;
  v.documents = documents;
  v.schemes = 1;
  if (documents == 0) {
    pooled_.reset();
    v.outcome = "insufficient evidence";
    return v;
  }
  pooled_ = kgw_pool ? of_kgw(kgw_pool->result()) : of_synthid(synthid_pool->result());
  v.max_scored = pooled_->scored;
  decide_bonferroni(v, pooled_->ln_p, pooled_->ln_p_floor, 1.0, spec_.alpha);  // one test
  return v;
}

}  // namespace tritium
