// A detect test under another project's watermark configuration (tritium/interop_scan.hpp).
#include "tritium/interop_scan.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "scan_documents.hpp"
#include "tritium/error.hpp"
#include "tritium/hf_kgw_detect.hpp"
#include "tritium/hf_synthid_bayesian.hpp"
#include "tritium/hf_synthid_detect.hpp"
#include "tritium/inputs.hpp"
#include "tritium/number_text.hpp"

namespace tritium {

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
