// The version 4 predicate (papers/evidence-v4.md): a detect test under a transformers watermark
// configuration (`detect --hf-config`), which has keys but no tritium key. The report names the
// configuration by a commitment to it: an Argon2id digest of the whole configuration, salted by the
// subjects' digests, so that the keys are never in the report and low-entropy keys cost one Argon2id
// evaluation per guess.
#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>

#include "predicate.hpp"
#include "tritium/digest.hpp"
#include "tritium/error.hpp"
#include "tritium/hf_kgw_detect.hpp"
#include "tritium/hf_synthid_detect.hpp"
#include "tritium/number_text.hpp"

namespace tritium::evidence_detail {
namespace {

constexpr std::size_t excerpt_tokens = 400;

// The commitment's parameters, fixed by version 4: libsodium's interactive Argon2id limits.
constexpr const char* commitment_function = "argon2id13";
constexpr unsigned long long commitment_opslimit = 2;
constexpr std::size_t commitment_memlimit = std::size_t{64} << 20;
constexpr std::size_t commitment_salt_bytes = 16;
constexpr std::uint64_t transformers_default_hashing_key = 15485863;

const char* scheme_label(interop_kind kind) { return kind == interop_kind::hf_kgw ? "hf-kgw" : "hf-synthid"; }

// The whole configuration, keys included, as one canonical text: what the commitment binds.
std::string canonical_configuration(const interop_config& config) {
  ojson c;
  if (config.kind == interop_kind::hf_kgw) {
    const hf_kgw_params& p = config.kgw;
    c = {{"scheme", "hf-kgw"},
         {"greenlist_ratio", p.greenlist_ratio},
         {"bias", static_cast<double>(p.bias)},
         {"hashing_key", p.hashing_key},
         {"seeding_scheme", p.seeding == hf_seeding::selfhash ? "selfhash" : "lefthash"},
         {"context_width", p.context_width}};
  } else {
    const hf_synthid_params& p = config.synthid;
    c = {{"scheme", "hf-synthid"},
         {"ngram_len", p.ngram_len},
         {"keys", p.keys},
         {"context_history_size", p.context_history_size},
         {"sampling_table_seed", p.sampling_table_seed},
         {"sampling_table_size", p.sampling_table_size},
         {"skip_first_ngram_calls", p.skip_first_ngram_calls}};
  }
  return "tritium/evidence/interop-configuration/v1\n" + c.dump();
}

std::string hex_of(std::span<const unsigned char> bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
  out.pop_back();
  return out;
}

std::array<unsigned char, 32> commitment_of(const interop_config& config, std::span<const unsigned char> salt) {
  if (sodium_init() < 0) throw error(errc::io, "libsodium could not be initialised");
  // The message holds the keys: wiped however this returns.
  struct wiped_text {
    std::string text;
    ~wiped_text() { sodium_memzero(text.data(), text.size()); }
  } message{canonical_configuration(config)};
  std::array<unsigned char, 32> out{};
  if (crypto_pwhash(out.data(), out.size(), message.text.data(), message.text.size(), salt.data(), commitment_opslimit,
                    commitment_memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw error(errc::io, "the configuration's commitment (Argon2id, 64 MiB) could not be computed: out of memory");
  }
  return out;
}

// The configuration's identity in a report: the commitment and how to recompute it, never a key.
ojson configuration_identity(const interop_config& config, const subject_list& subjects) {
  // The salt is the subjects' digest: the same test makes the same report, and two reports on other
  // inputs give the same configuration other ids (a table of guesses serves one report only).
  const auto digest = sha256_bytes("tritium/evidence/interop-salt/v1\n" + subjects.to_json().dump());
  const std::span<const unsigned char> salt(digest.data(), commitment_salt_bytes);
  const auto id = commitment_of(config, salt);
  ojson j;
  j["id"] = hex_of(id);
  j["kind"] = "transformers watermark configuration";
  j["commitment"] = {{"function", commitment_function},
                     {"opslimit", commitment_opslimit},
                     {"memlimit", commitment_memlimit},
                     {"salt", hex_of(salt)},
                     {"message", "the configuration's canonical JSON, keys included (papers/evidence-v4.md)"}};
  return j;
}

ojson scheme_method(const interop_scan& scan) {
  ojson m;
  if (const hf_kgw* kgw = scan.kgw_scheme()) {
    m["name"] = "hf-kgw";
    m["reference"] = "Kirchenbauer et al., A Watermark for Large Language Models, ICML 2023, as Hugging Face "
                     "transformers' WatermarkLogitsProcessor and TGI run it";
    m["gamma"] = static_cast<double>(kgw->greenlist_size()) / static_cast<double>(kgw->vocab_size());
    m["statistic"] = "number of green tuples among the distinct (generator seed, token) tuples";
    m["test"] = "binomial upper tail P(Bin(scored, G/V) >= green) in log space: a proven upper bound on the exact p "
                "(Hoeffding 1956, Theorem 4), taken as 1 below scored * G/V + 1";
    m["specification"] = "papers/hf-kgw.md";
    m["p_is_bound"] = true;
  } else {
    m["name"] = "hf-synthid";
    m["reference"] = "Dathathri et al., Scalable watermarking for identifying large language model outputs, Nature "
                     "2024, as Hugging Face transformers' SynthIDTextWatermarkLogitsProcessor runs it";
    m["gamma"] = nullptr;
    m["statistic"] = "number of g-values equal to 1 over the counted positions and the layers (green); transformers' "
                     "mean score is that number over scored * layers (score)";
    m["test"] = "exact upper tail of the key-shift null of the counted g-values, in log space";
    m["specification"] = "papers/hf-synthid.md";
    m["p_is_bound"] = false;
  }
  return m;
}

// What the report needs beyond the printed rows: the rows (the most significant when there are
// many), their digest, the totals and the decisive document.
class interop_evidence {
 public:
  interop_evidence(const interop_scan& scan, const subject_list& subjects)
      : scan_(scan), subjects_(subjects), kgw_(scan.kgw_scheme() != nullptr) {}

  void row_of(const std::string& id_json, std::span<const token_id> tokens, const interop_detection& d) {
    row r{documents_++, id_json, d};
    tokens_ += d.tokens;
    scored_ += d.scored;
    count_ += d.count;
    if (documents_ == 1 || d.decision_ln_p() < best_.d.decision_ln_p()) {
      best_ = r;
      best_tokens_.assign(tokens.begin(), tokens.end());
    }
    const std::string line = digest_line(r);
    rows_.add(std::move(r), line);
  }

  ojson predicate(const detect_verdict& v) {
    const interop_spec& spec = scan_.spec();
    const interop_config& config = scan_.config();
    const std::string scheme = scheme_label(config.kind);
    ojson p;
    p["test"] = "interop detect";
    p["specification"] = specification_of(spec, config, scan_.text_tokenizer());
    const ojson identity = configuration_identity(config, subjects_);
    const std::string id = identity["id"].get<std::string>();
    p["hypothesis"] = {
        {"null", "H0: the tokens were produced independently of the keys of transformers watermark configuration " + id +
                     " (the keys are never disclosed; the id is a commitment to the configuration)"},
        {"alternative", "the tokens were generated with this configuration's watermark (" + scheme +
                            "), which favours what its keys mark"},
        {"not_claimed", "which model, person or organisation produced the text"}};
    ojson method;
    method["schemes"] = ojson::array({scheme_method(scan_)});
    method["configuration"] = public_configuration(config);
    method["deduplication"] = kgw_ ? "generator seed+token: each distinct (seed, token) tuple is scored once"
                              : spec.repetition_mask
                                  ? "transformers' context-repetition mask: a position whose context is among the last " +
                                        std::to_string(config.synthid.context_history_size) + " contexts is not counted"
                                  : "none: every position after its full context is counted (the key-shift null "
                                    "holds with repeats)";
    method["aggregation"] = "per document; the run's decision is Bonferroni-corrected across documents";
    method["windows"] = windows_method(spec.min_window);
    p["method"] = method;
    p["key"] = identity;
    p["input"] = input_of(scan_.text_tokenizer(), spec.tokenizer, spec.utf8);
    p["totals"] = {{"documents", documents_}, {"tokens", tokens_}, {scheme + "_scored", scored_}, {scheme + "_green", count_}};

    const double tests = static_cast<double>(std::max<std::size_t>(documents_, 1));
    p["decision"] = decision_of(spec.alpha, spec.alpha_source,
                                "Bonferroni across " + std::to_string(documents_) + " document(s): smallest p times " +
                                    std::to_string(documents_) +
                                    (spec.min_window > 0 ? ", each document's p already corrected for its window scan" : ""),
                                v.outcome, v.decisive_log10_p, words(v, id));
    const ojson listed = rows_.in_input_order([this](const row& r) { return row_json(r); });
    p["documents"] = {{"total", documents_},
                      {"rows_total", documents_},
                      {"listed", rows_.listed()},
                      {"selection", rows_.listed() == documents_ ? "all, in input order"
                                                                 : "the " + std::to_string(rows_.listed()) +
                                                                     " rows with the smallest p-values, in input order"},
                      {"p_values_valid", true},
                      {"all_rows_sha256", rows_.digest()},
                      {"columns", {"id", "scheme", "tokens", "scored", "green", "score", "log10_p", "detected",
                                   "insufficient", "window"}},
                      {"rows", listed}};

    const double threshold = std::log10(spec.alpha) - std::log10(tests);
    ojson decisive;
    if (documents_ > 0) {
      const interop_detection& d = best_.d;
      decisive["label"] = "the document with the smallest p-value" +
                          std::string(spec.min_window > 0 ? " after its window scan" : "") + " among " +
                          std::to_string(documents_) +
                          " document(s), chosen after the fact: its own figures overstate the evidence, so the "
                          "threshold is Bonferroni's alpha / " + std::to_string(documents_) +
                          (d.window ? "; it applies to the best window's corrected p, and the curve is the whole "
                                      "document's, whose bar in the scan is that threshold divided by the number of "
                                      "window sizes"
                                    : "");
      decisive["document"] = report_id(best_.id_json);
      fill_counts(decisive, d);
      decisive["threshold_log10_p"] = threshold;
      const std::span<const token_id> shown(best_tokens_);
      std::vector<token_mark> marks = marks_of(shown);
      decisive["curve"] = curve_of(document_curve(shown, marks));
      decisive["window"] = d.window ? window_json(*d.window, false) : ojson(nullptr);
      p["decisive_test"] = decisive;
      // A KGW tuple's colour is the key's verdict on a tuple anyone can read here: colours would let
      // anyone test a guessed hashing key in microseconds. The excerpt shows which tuples were scored.
      for (token_mark& m : marks) {
        if (m == token_mark::green || m == token_mark::red) m = token_mark::scored;
      }
      // From where the best window begins, when there is one.
      const std::size_t first = d.window ? std::min<std::size_t>(d.window->token_begin, shown.size()) : 0;
      const std::size_t n = std::min(excerpt_tokens, shown.size() - first);
      ojson e = excerpt_of(best_.id_json, shown.subspan(first, n), std::span<const token_mark>(marks).subspan(first, n),
                           scan_.text_tokenizer(), n);
      e["of"] = shown.size();
      e["first"] = first;
      e["scheme"] = scheme;
      p["excerpt"] = e;
    } else {
      p["decisive_test"] = {{"label", "no document"}, {"scheme", scheme},        {"scored", 0},
                            {"green", nullptr},       {"score", nullptr},        {"gamma", nullptr},
                            {"log10_p", 0.0},         {"threshold_log10_p", threshold}, {"curve", ojson::array()},
                            {"window", nullptr}};
    }
    p["limits"] = limits();
    return p;
  }

 private:
  struct row {
    std::size_t index = 0;
    std::string id_json;
    interop_detection d;
  };


  static bool less_significant(const row& a, const row& b) {  // heap order: the largest p on top
    const double pa = a.d.decision_ln_p(), pb = b.d.decision_ln_p();
    return pa != pb ? pa < pb : a.index < b.index;
  }
  ojson score_of(const interop_detection& d) const { return kgw_ ? ojson(nullptr) : ojson(d.mean); }
  // The figures a recomputation reproduces exactly; p-values and scores are compared within a
  // tolerance in the listed rows instead.
  std::string digest_line(const row& r) const {
    const interop_detection& d = r.d;
    ojson window = nullptr;
    if (d.window) window = ojson::array({d.window->token_begin, d.window->token_end, d.window->end - d.window->begin});
    return ojson::array({report_id(r.id_json), scheme_label(d.kind), d.tokens, d.scored, d.count, d.detected,
                         d.insufficient, window})
        .dump();
  }
  ojson row_json(const row& r) const {
    const interop_detection& d = r.d;
    ojson window = nullptr;
    if (d.window) {
      window = ojson::array({d.window->token_begin, d.window->token_end, d.window->window_ln_p / std::numbers::ln10,
                             d.window->ln_p_scan / std::numbers::ln10});
    }
    return ojson::array({report_id(r.id_json), scheme_label(d.kind), d.tokens, d.scored, d.count, score_of(d), d.log10_p,
                         d.detected, d.insufficient, window});
  }
  void fill_counts(ojson& j, const interop_detection& d) const {
    j["scheme"] = scheme_label(d.kind);
    j["scored"] = d.scored;
    j["green"] = d.count;
    j["score"] = score_of(d);
    j["gamma"] = kgw_ ? ojson(d.gamma) : ojson(nullptr);
    j["log10_p"] = d.log10_p;
  }


  // Each token's mark, in the input's own places: KGW its tuple's colour (g, r; d for a repeat, c
  // before a full context or for a dropped BOS); SynthID s for a counted position, d for one the
  // repetition mask drops, c before a full context or from the first EOS on.
  std::vector<token_mark> marks_of(std::span<const token_id> tokens) const {
    if (kgw_) {
      hf_kgw_detect_options o = scan_.kgw_options();
      o.want_marks = true;
      std::vector<token_mark> marks = hf_kgw_detect(*scan_.kgw_scheme(), tokens, o).marks;  // after a dropped BOS
      if (marks.size() < tokens.size()) marks.insert(marks.begin(), token_mark::no_context);
      return marks;
    }
    const hf_synthid& s = *scan_.synthid_scheme();
    std::vector<token_mark> marks(tokens.size(), token_mark::no_context);
    std::size_t end = tokens.size();
    if (const auto& eos = scan_.spec().eos) {
      end = static_cast<std::size_t>(std::find(tokens.begin(), tokens.end(), *eos) - tokens.begin());
    }
    for (std::size_t t = s.context_size(); t < end; ++t) marks[t] = token_mark::duplicate;
    for (const std::uint64_t t : hf_synthid_counted_positions(s, tokens, scan_.synthid_options())) marks[t] = token_mark::scored;
    return marks;
  }
  // The decisive document's -log10 p at up to 64 evenly spaced counts of its scored tuples or
  // positions. KGW: the bound over the green and red tuples in text order. SynthID: the exact test of
  // each prefix of the text (its null depends on the whole set of counted positions).
  std::vector<curve_point> document_curve(std::span<const token_id> tokens, std::span<const token_mark> marks) const {
    if (kgw_) {
      std::vector<std::uint8_t> green;
      for (const token_mark m : marks) {
        if (m == token_mark::green || m == token_mark::red) green.push_back(m == token_mark::green);
      }
      const double gamma = best_.d.gamma;
      std::uint64_t scored = 0, greens = 0;
      return prefix_curve(green.size(), [&](std::size_t end) {
        for (; scored < end; ++scored) greens += green[scored];
        return curve_point{scored, greens, -hf_kgw_p_bound_ln(scored, greens, gamma) / std::numbers::ln10};
      });
    }
    // The ends of the points first, then every prefix's exact test in one pass.
    const std::size_t n = hf_synthid_counted_positions(*scan_.synthid_scheme(), tokens, scan_.synthid_options()).size();
    std::vector<std::uint64_t> ends;
    prefix_curve(n, [&](std::size_t end) {
      ends.push_back(end);
      return curve_point{};
    });
    std::vector<curve_point> curve;
    for (const hf_synthid_prefix& t : hf_synthid_prefix_tests(*scan_.synthid_scheme(), tokens, scan_.synthid_options(), ends)) {
      curve.push_back({t.scored, t.ones, -t.ln_p / std::numbers::ln10});
    }
    return curve;
  }
  ojson limits() const {
    const interop_config& config = scan_.config();
    ojson l = ojson::array({"The p-value holds under H0; it says nothing about who wrote the text."});
    if (kgw_) {
      l.push_back("The p-value is a proven upper bound on the exact one (Hoeffding): it may understate the evidence, "
                  "never overstate it.");
    }
    l.push_back("A result without evidence is not proof of absence: paraphrasing, editing and low-entropy text weaken "
                "the signal.");
    l.push_back("Tokens are scored as given or as re-tokenized here; a tokenizer other than the model's changes them.");
    if (scan_.spec().min_window > 0) l.push_back(window_limit);
    l.push_back("The configuration's keys are not in this report: its id is an Argon2id commitment to the whole "
                "configuration, and the excerpt does not show the keys' verdicts. Keys that are few or guessable can "
                "still be found by trying candidates: from the report alone at one Argon2id evaluation per guess, and "
                "by anyone who also holds its input files at the cost of one detection per guess.");
    if (kgw_ && config.kgw.hashing_key == transformers_default_hashing_key) {
      l.push_back("This configuration's hashing key is the default published with transformers and TGI: anyone can "
                  "compute its green lists, so anyone can make text test positive or negative under it.");
    }
    return l;
  }
  std::string words(const detect_verdict& v, const std::string& id) const {
    std::ostringstream w;
    const std::string id16 = id.substr(0, 16);
    const double alpha = scan_.spec().alpha;
    const std::string scheme = scheme_label(scan_.config().kind);
    if (v.outcome == "evidence") {
      w << "Evidence of the watermark of transformers configuration " << id16 << " (" << scheme
        << "): if these tokens had been produced independently of its keys, a result at least this extreme would have "
           "probability "
        << (kgw_ ? "at most " : "") << "10^" << fixed_text(v.decisive_log10_p, 2)
        << " (corrected for the number of documents" << (scan_.spec().min_window > 0 ? " and for the window scan" : "")
        << "), at or below the decision threshold alpha = " << exact_text(alpha)
        << ". This concerns the configuration's keys only; it does not say which model or person produced the text.";
    } else if (v.outcome == "no evidence") {
      w << "No evidence at alpha = " << exact_text(alpha) << " under " << scheme
        << ": the text is consistent with tokens produced independently of configuration " << id16
        << " (log10 p = " << fixed_text(v.decisive_log10_p, 2)
        << "). This does not show that the text is unwatermarked: short, edited or low-entropy text can carry too "
           "little signal.";
    } else {
      w << "Insufficient evidence: with at most " << v.max_scored << " scored " << (kgw_ ? "tuples" : "positions")
        << ", not even the most extreme result could reach alpha = " << exact_text(alpha)
        << (scan_.spec().min_window > 0 ? " after the corrections for the window scan and the number of documents"
                                        : " after the correction for the number of documents")
        << "; no conclusion either way.";
    }
    return w.str();
  }

  const interop_scan& scan_;
  const subject_list& subjects_;
  bool kgw_;
  ranked_rows<row> rows_{less_significant};
  std::size_t documents_ = 0;
  std::uint64_t tokens_ = 0, scored_ = 0, count_ = 0;
  row best_{};
  std::vector<token_id> best_tokens_;
};

}  // namespace

detect_report run_interop_test(interop_scan& scan, const subject_list& subjects, const report_context& context,
                               const interop_scan::observer& on_document) {
  interop_evidence evidence(scan, subjects);
  return run_with_evidence(scan, evidence, subjects, context, 4, on_document);
}

void check_configuration_commitment(const ojson& predicate, const interop_config& config) {
  const ojson& c = predicate["key"]["commitment"];
  auto fail = [](const std::string& field, const std::string& what) {
    throw error(errc::parse, "statement: /predicate/key/commitment/" + field + ": " + what);
  };
  if (c["function"] != commitment_function) fail("function", "expected \"argon2id13\"");
  if (c["opslimit"] != commitment_opslimit) fail("opslimit", "expected " + std::to_string(commitment_opslimit));
  if (c["memlimit"] != commitment_memlimit) fail("memlimit", "expected " + std::to_string(commitment_memlimit));
  const std::string salt_hex = c["salt"].get<std::string>();
  std::array<unsigned char, commitment_salt_bytes> salt{};
  std::size_t salt_length = 0;
  if (salt_hex.size() != 2 * salt.size() ||
      sodium_hex2bin(salt.data(), salt.size(), salt_hex.data(), salt_hex.size(), nullptr, &salt_length, nullptr) != 0 ||
      salt_length != salt.size()) {
    fail("salt", "expected " + std::to_string(salt.size()) + " bytes in hexadecimal");
  }
  const std::string id_hex = predicate["key"]["id"].get<std::string>();
  std::array<unsigned char, 32> id{};
  std::size_t id_length = 0;
  if (id_hex.size() != 2 * id.size() ||
      sodium_hex2bin(id.data(), id.size(), id_hex.data(), id_hex.size(), nullptr, &id_length, nullptr) != 0 ||
      id_length != id.size()) {
    throw error(errc::parse, "statement: /predicate/key/id: expected 32 bytes in hexadecimal");
  }
  const auto given = commitment_of(config, salt);
  if (sodium_memcmp(given.data(), id.data(), id.size()) != 0) {
    throw error(errc::verification_failed, "recompute: the configuration given is not the report's: its commitment "
                                           "differs from the report's id " + json_quoted(id_hex.substr(0, 16)));
  }
}

}  // namespace tritium::evidence_detail
