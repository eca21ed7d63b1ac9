// The statement of a model-fingerprint test (papers/attribution.md §6.5, papers/fingerprint-v1.md):
// predicate test "fingerprint". The report records the commitment D and the SHA-256 of set.json (as a
// subject), never a question or a candidate: it can be shown to anyone without handing over the pairs.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "predicate.hpp"
#include "tritium/binomial_tail.hpp"
#include "tritium/error.hpp"
#include "tritium/fingerprint.hpp"

namespace tritium {
namespace evidence_detail {
namespace {

std::string outcome_of(fingerprint_outcome o) {
  switch (o) {
    case fingerprint_outcome::found: return "evidence";
    case fingerprint_outcome::not_found: return "no evidence";
    case fingerprint_outcome::insufficient: return "insufficient evidence";
  }
  return "no verdict";
}

std::string fixed2(double v) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(2) << v;
  return s.str();
}

ojson fingerprint_predicate(const fingerprint_spec& spec, const fingerprint_set& set, const fingerprint_result& r,
                            std::size_t answer_records, const key& k) {
  const std::string d16 = set.commitment().substr(0, 16);
  ojson p;
  p["test"] = "fingerprint";
  p["specification"] = specification_of(spec, k);
  p["hypothesis"] = {
      {"null", "H0: the suspect's answers are independent of fingerprint set " + set.commitment() +
                   ", as they are for a model never trained on its pairs: each question's assigned answer, drawn "
                   "from the set's candidates by a hash of the whole set, is then uniform over them"},
      {"alternative", "the suspect was trained on the set's question/answer pairs (made from key " + k.id().substr(0, 16) +
                          ") and gives their answers"},
      {"not_claimed", "who trained the suspect, or how the pairs reached its training data"}};
  p["method"] = {{"scheme", fingerprint_v1::name},
                 {"statistic", "matches: questions whose assigned answer is among the suspect's normalised answers"},
                 {"test", "exact upper tail of Poisson-binomial(d_i / M), d_i the distinct candidates answered to "
                          "question i (Binomial(k', d / M) when every d_i is the same)"}};
  p["key"] = key_identity_of(k);
  p["input"] = {{"kind", "answers, JSON Lines {question, system_prompt, answer}"},
                {"normalization", "ASCII whitespace removed at both ends, then one trailing full stop; no case folding"}};
  p["settings"] = {{"commitment", set.commitment()},
                   {"questions", r.questions},
                   {"candidates", r.candidates},
                   {"system_prompts", r.system_prompts},
                   {"set_recorded", "the commitment and the SHA-256 of set.json only (a subject); no question or candidate"}};
  p["totals"] = {{"answers", answer_records}, {"questions_answered", r.answered},
                 {"questions_with_a_candidate", r.with_candidate}, {"matches", r.matches}};
  const double log10_p = ln_to_log10(r.ln_p);
  std::ostringstream words;
  words << std::setprecision(6);
  if (r.outcome == fingerprint_outcome::found) {
    words << "Evidence that the suspect was trained on fingerprint set " << d16 << ": " << r.matches << " of its "
          << r.with_candidate << " questions answered with a candidate match the set's answers; for a model that never "
          << "saw the set, at least this many matches have probability 10^" << fixed2(log10_p)
          << ", at or below the decision threshold alpha = " << spec.alpha << ".";
  } else if (r.outcome == fingerprint_outcome::not_found) {
    words << "No evidence at alpha = " << spec.alpha << ": " << r.matches << " matches of " << r.with_candidate
          << " are consistent with a model that never saw fingerprint set " << d16 << " (log10 p = " << fixed2(log10_p) << ").";
  } else {
    words << "Insufficient evidence: only " << r.with_candidate << " questions were answered with a candidate; even all "
          << "of them matching would give log10 p = " << fixed2(ln_to_log10(r.best_ln_p)) << ", above alpha = "
          << spec.alpha << ". No conclusion either way: ask more questions or under more system prompts.";
  }
  p["decision"] = decision_of(spec.alpha, spec.alpha_source, "none (one test)", outcome_of(r.outcome), log10_p, words.str());
  ojson rows = ojson::array();
  for (const auto& q : r.table) rows.push_back(ojson::array({q.question, q.answers, q.distinct, q.matched}));
  p["fingerprint"] = {{"best_log10_p", ln_to_log10(r.best_ln_p)},
                      {"threshold_log10_p", std::log10(spec.alpha)},
                      {"columns", ojson::array({"question", "answers", "distinct_candidates", "matched"})},
                      {"questions", rows}};
  p["limits"] = ojson::array(
      {"The p-value holds when the set stayed secret until this test: a model trained after the set was revealed "
       "may have learned it on purpose.",
       "A fingerprint shows training on the set's pairs; it does not say how they reached the suspect.",
       "No evidence is not proof of absence: further training or a different prompt format can erase the pairs."});
  return p;
}

}  // namespace

ojson specification_of(const fingerprint_spec& spec, const key& k) {
  ojson s;
  s["version"] = 1;
  s["test"] = "fingerprint";
  s["key_id"] = k.id();
  s["set"] = spec.set;
  s["answers"] = spec.answers;
  s["commitment"] = spec.commitment;
  s["alpha"] = spec.alpha;
  s["alpha_source"] = spec.alpha_source;
  return s;
}

fingerprint_spec fingerprint_spec_from(const ojson& s) {
  auto fail = [](const std::string& field, const char* expected) {
    throw error(errc::parse, "statement: /predicate/specification/" + field + ": expected " + expected);
  };
  if (!s.is_object()) fail("", "an object");
  for (auto it = s.begin(); it != s.end(); ++it) {
    static const std::vector<std::string> known = {"version", "test", "key_id", "set", "answers", "commitment", "alpha", "alpha_source"};
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
      throw error(errc::parse, "statement: /predicate/specification: unknown field " + json_quoted(it.key()));
    }
  }
  if (!s.contains("version") || s["version"] != 1) fail("version", "1");
  for (const char* f : {"test", "key_id", "set", "answers", "commitment", "alpha_source"}) {
    if (!s.contains(f) || !s[f].is_string()) fail(f, "a string");
  }
  if (!s.contains("alpha") || !s["alpha"].is_number()) fail("alpha", "a number");
  if (s["test"].get<std::string>() != "fingerprint") fail("test", "\"fingerprint\"");
  fingerprint_spec spec;
  for (const char* f : {"set", "answers"}) {
    const std::string path = s[f].get<std::string>();
    if (path.empty() || path == "-" || has_control_characters(path)) fail(f, "a file path (not empty, not -, no control characters)");
  }
  spec.set = s["set"].get<std::string>();
  spec.answers = s["answers"].get<std::string>();
  spec.commitment = s["commitment"].get<std::string>();
  spec.alpha = s["alpha"].get<double>();
  spec.alpha_source = s["alpha_source"].get<std::string>();
  return spec;
}

std::vector<std::string> fingerprint_files(const fingerprint_spec& spec) {
  return {(std::filesystem::path(spec.set) / fingerprint_v1::set_file).string(), spec.answers};
}

}  // namespace evidence_detail

using namespace evidence_detail;

fingerprint_report run_fingerprint_test(const fingerprint_spec& spec, const key& k, const report_context& context) {
  scan_environment where;
  where.base = context.base;
  subject_list subjects;
  for (const auto& name : fingerprint_files(spec)) subjects.add(name, where.resolve(name));
  fingerprint_report out;
  const fingerprint_set set = load_fingerprint_set(where.resolve(spec.set), spec.commitment);
  // The report names the key: the set must be the one that key makes.
  fingerprint_params params;
  params.questions = static_cast<std::uint32_t>(set.questions.size());
  params.candidates = static_cast<std::uint32_t>(set.candidates.size());
  if (make_fingerprint_set(k, params).digest != set.digest) {
    throw error(errc::verification_failed, "fingerprint set " + spec.set + ": not the set key " + k.id().substr(0, 16) +
                                               " makes with " + std::to_string(params.questions) + " questions and " +
                                               std::to_string(params.candidates) + " candidates");
  }
  const std::vector<fingerprint_answer> answers = read_fingerprint_answers(where.resolve(spec.answers).string(), set);
  out.result = test_fingerprint(set, answers, spec.alpha);
  subjects.check_unchanged();
  out.statement = statement_of(subjects, fingerprint_predicate(spec, set, out.result, answers.size(), k), context);
  return out;
}

}  // namespace tritium
