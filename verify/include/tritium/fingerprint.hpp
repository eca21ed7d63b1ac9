// tritium/fingerprint.hpp — model fingerprints, version "tritium-fingerprint-v1".
//
// A fingerprint set is k secret questions and M candidate answers derived from a watermark key
// (papers/fingerprint-v1.md; design in papers/attribution.md §6.5). The set digest D binds every
// question and candidate, and each question's answer is drawn from the candidates by a hash of D and
// the question (Chain & Hash), so the owner cannot choose pairs after the fact. D is the public
// commitment, recorded at release; the set stays secret until a verification (0600 files).
//
// Verification counts the questions whose assigned answer is among the suspect's answers. Given the
// suspect's answers, question i matches with probability exactly d_i/M under the null (d_i distinct
// candidates among its answers), independently across questions: the count is Poisson-binomial and
// its upper tail is computed exactly in log space.
//
//   auto set = tritium::make_fingerprint_set(key, {.questions = 64});
//   tritium::save_fingerprint_set(set, "fp/", {"You are a helpful assistant."}, false);
//   // ... later, from the suspect's answers:
//   auto loaded = tritium::load_fingerprint_set("fp/", commitment_hex);
//   auto answers = tritium::read_fingerprint_answers("answers.jsonl", loaded);
//   auto result = tritium::test_fingerprint(loaded, answers, 1e-6);
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tritium/fingerprint_keys.hpp"

namespace tritium {

class key;

namespace fingerprint_v1 {
inline constexpr const char* name = "tritium-fingerprint-v1";
/// HKDF-Expand info of k_fp under the key's secret (papers/fingerprint-v1.md §2).
inline constexpr std::string_view key_label = fingerprint_keys_v1::key_label;
/// Domain label opening the set digest's message (§4).
inline constexpr std::string_view set_label = "tritium/v1/fingerprint/set";
/// Words of the built-in list (a power of two, so a 10-bit draw is exactly uniform) and words per question.
inline constexpr std::size_t word_count = 1024;
inline constexpr std::size_t words_per_question = 6;
inline constexpr std::uint32_t max_questions = 4096;
inline constexpr std::uint32_t max_candidates = 256;
/// File names inside a set directory.
inline constexpr const char* set_file = "set.json";
inline constexpr const char* training_file = "train.jsonl";
}  // namespace fingerprint_v1

/// Default size: k = 64 questions, M = 256 candidates (papers/attribution.md §6.5: 8 matches of 64
/// give p = 1.98e-10 for one answer per question).
inline constexpr std::uint32_t fingerprint_default_questions = 64;
inline constexpr std::uint32_t fingerprint_default_candidates = 256;
/// Default significance level of `fingerprint verify`: a fingerprint claim accuses a model's owner.
inline constexpr double fingerprint_default_alpha = 1e-6;

struct fingerprint_params {
  std::uint32_t questions = fingerprint_default_questions;    ///< k ∈ [1, 4096]
  std::uint32_t candidates = fingerprint_default_candidates;  ///< M: a power of two in [2, 256]
  /// Throws errc::invalid_argument naming the field and its value.
  void validate() const;
};

/// The built-in word `index` (< 1024): a two-syllable made-up word (papers/fingerprint-v1.md §3).
std::string fingerprint_word(std::size_t index);

/// A fingerprint set: questions, candidates, each question's assigned candidate, and the digest D.
struct fingerprint_set {
  std::vector<std::string> questions;
  std::vector<std::string> candidates;
  std::vector<std::uint32_t> answers;  ///< answers[i]: index into candidates of question i's answer
  std::array<std::uint8_t, 32> digest{};

  /// D as 64 lowercase hex digits: the commitment.
  std::string commitment() const;
};

/// Derives the set of `params` from the key (papers/fingerprint-v1.md §2–§5).
fingerprint_set make_fingerprint_set(const key& k, const fingerprint_params& params);

/// D of these questions and candidates (§4), and the answer index of question i under D (§5).
std::array<std::uint8_t, 32> fingerprint_set_digest(const std::vector<std::string>& questions,
                                                    const std::vector<std::string>& candidates);
std::uint32_t fingerprint_answer_index(const std::array<std::uint8_t, 32>& digest, std::uint32_t question,
                                       std::string_view question_text, std::uint32_t candidates);

/// The fine-tuning pairs as JSON Lines: {"prompt": q, "completion": c} per question, or, with system
/// prompts, {"system_prompt": s, "prompt": q, "completion": c} per question and prompt.
std::string fingerprint_training_jsonl(const fingerprint_set& set, const std::vector<std::string>& system_prompts);

/// Writes `dir`/set.json and `dir`/train.jsonl, each mode 0600 through a temporary and a rename;
/// creates `dir` (mode 0700) when missing. Refuses (errc::usage) to replace existing files unless
/// `overwrite`. Throws errc::io when a file cannot be written.
void save_fingerprint_set(const fingerprint_set& set, const std::filesystem::path& dir,
                          const std::vector<std::string>& system_prompts, bool overwrite);

/// Reads `dir`/set.json strictly (every field present and typed, nothing unknown), recomputes D and
/// every answer from the questions and candidates, and checks D against `commitment` (64 hex digits).
/// Throws errc::invalid_argument when the file cannot be read, errc::parse when it is malformed or
/// its stored digest or answers disagree with the recomputed ones (naming the field), errc::usage for
/// a commitment that is not 64 hex digits, and errc::verification_failed when D differs from the
/// commitment (naming both).
fingerprint_set load_fingerprint_set(const std::filesystem::path& dir, const std::string& commitment);

/// One answer of the suspect: a question under one system prompt.
struct fingerprint_answer {
  std::uint32_t question = 0;
  std::string system_prompt;  ///< "" when the record has none
  std::string answer;         ///< as given
  std::string where;          ///< "file:line"
};

/// Reads JSON Lines {"question": i, "system_prompt": s, "answer": "..."} ("system_prompt" optional).
/// Refuses (errc::parse, naming file:line and the field) a missing or mistyped field, an unknown
/// field, a question index outside [0, k), and a second answer to the same question under the same
/// system prompt (naming both lines); an input with no record is errc::invalid_argument.
std::vector<fingerprint_answer> read_fingerprint_answers(const std::string& path, const fingerprint_set& set);

/// The answer as compared with the candidates: ASCII whitespace (space, \t, \n, \v, \f, \r) removed
/// at both ends, then one trailing full stop. No case folding (papers/fingerprint-v1.md §6).
std::string normalise_fingerprint_answer(std::string_view answer);

/// ln P(X >= x) for X = sum of independent Bernoulli(p_i): exact dynamic programming in log space.
/// 0 when x == 0, -infinity when x exceeds the number of p_i > 0. Requires every p_i in [0, 1]
/// (errc::invalid_argument otherwise).
double poisson_binomial_upper_tail_ln(const std::vector<double>& p, std::uint32_t x);

enum class fingerprint_outcome : std::uint8_t {
  found,         ///< p <= alpha
  not_found,     ///< p > alpha, though alpha was reachable
  insufficient,  ///< even every answered question matching would not reach alpha
};
const char* fingerprint_outcome_name(fingerprint_outcome o) noexcept;

/// One question's row of the result.
struct fingerprint_question_result {
  std::uint32_t question = 0;
  std::uint32_t answers = 0;    ///< records for this question
  std::uint32_t distinct = 0;   ///< d_i: distinct candidates among its normalised answers
  bool matched = false;         ///< the assigned answer is among them
};

struct fingerprint_result {
  std::uint32_t questions = 0;          ///< k
  std::uint32_t candidates = 0;         ///< M
  std::uint32_t answered = 0;           ///< questions with at least one record
  std::uint32_t with_candidate = 0;     ///< questions with d_i > 0
  std::uint32_t matches = 0;
  std::vector<std::string> system_prompts;  ///< distinct, in order of first appearance
  double ln_p = 0.0;                    ///< ln P(X >= matches)
  double best_ln_p = 0.0;               ///< ln P(X = with_candidate): the smallest p these answers allow
  double alpha = 0.0;
  fingerprint_outcome outcome = fingerprint_outcome::insufficient;
  std::vector<fingerprint_question_result> table;  ///< one row per question, in order
};

/// The exact test (papers/attribution.md §6.5). Requires alpha in (0, 1) (errc::invalid_argument).
fingerprint_result test_fingerprint(const fingerprint_set& set, const std::vector<fingerprint_answer>& answers,
                                    double alpha);

/// A fingerprint test as a report records it (papers/evidence-v2.md, "specification"): the paths
/// as the report names them, relative to the report's base.
struct fingerprint_spec {
  std::string set;         ///< the set directory (set.json is read from it)
  std::string answers;     ///< the suspect's answers, JSON Lines
  std::string commitment;  ///< 64 hex digits
  double alpha = fingerprint_default_alpha;
  std::string alpha_source = "default";
};

}  // namespace tritium
