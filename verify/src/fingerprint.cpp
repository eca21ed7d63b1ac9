// Model fingerprints: the set (papers/fingerprint-v1.md) and the exact test (papers/attribution.md §6.5).
#include "tritium/fingerprint.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <unordered_map>

#include "tritium/binomial_tail.hpp"
#include "tritium/digest.hpp"
#include "tritium/error.hpp"
#include "tritium/fingerprint_keys.hpp"
#include "tritium/json_document.hpp"
#include "tritium/json_records.hpp"
#include "tritium/key.hpp"
#include "tritium/private_file.hpp"

namespace tritium {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

void append_le32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}

void append_string(std::string& out, std::string_view s) {
  append_le32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

std::array<std::uint8_t, 32> sha256_of(const std::string& message) { return sha256_bytes(message); }

std::string hex_of(const std::array<std::uint8_t, 32>& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

// The word draws of §2: 16-bit little-endian values of the AES-CTR key stream, low 10 bits each.
class word_draws {
 public:
  explicit word_draws(const key& k) : stream_(k) {}
  ~word_draws() { detail::secure_zero(block_.data(), block_.size()); }
  word_draws(const word_draws&) = delete;
  word_draws& operator=(const word_draws&) = delete;

  std::size_t next() {
    if (used_ == 8) {
      block_ = stream_.block(counter_++);
      used_ = 0;
    }
    const std::size_t v = block_[2 * used_] | static_cast<std::size_t>(block_[2 * used_ + 1]) << 8;
    ++used_;
    return v & (fingerprint_v1::word_count - 1);
  }

 private:
  fingerprint_keystream stream_;
  std::array<std::uint8_t, fingerprint_keys_v1::block_size> block_{};
  std::uint32_t counter_ = 0;
  std::size_t used_ = 8;
};

bool is_power_of_two(std::uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(errc::invalid_argument, "cannot open fingerprint set " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw error(errc::invalid_argument, "read error in fingerprint set " + path.string());
  return s.str();
}

std::vector<std::string> string_array(const json& j, const char* field, const std::string& where) {
  const std::string at = where + ": field \"" + field + "\"";
  if (!j.contains(field)) throw error(errc::parse, where + ": missing field \"" + field + "\"");
  const json& a = j[field];
  if (!a.is_array()) throw error(errc::parse, at + ": expected an array of strings");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_string()) throw error(errc::parse, at + "[" + std::to_string(i) + "]: expected a string");
    out.push_back(a[i].get<std::string>());
  }
  return out;
}

double log_add(double a, double b) {
  if (a == -std::numeric_limits<double>::infinity()) return b;
  if (b == -std::numeric_limits<double>::infinity()) return a;
  const double hi = std::max(a, b), lo = std::min(a, b);
  return hi + std::log1p(std::exp(lo - hi));
}

}  // namespace

void fingerprint_params::validate() const {
  if (questions < 1 || questions > fingerprint_v1::max_questions) {
    throw error(errc::invalid_argument, "fingerprint questions: expected k in [1, 4096], got " + std::to_string(questions));
  }
  if (candidates < 2 || candidates > fingerprint_v1::max_candidates || !is_power_of_two(candidates)) {
    throw error(errc::invalid_argument,
                "fingerprint candidates: expected M a power of two in [2, 256], got " + std::to_string(candidates));
  }
}

std::string fingerprint_word(std::size_t index) {
  // 8 consonants x 4 vowels = 32 syllables; a word is two of them (papers/fingerprint-v1.md §3).
  static constexpr char consonants[] = "bdfgkpvz";
  static constexpr char vowels[] = "aeou";
  if (index >= fingerprint_v1::word_count) {
    throw error(errc::invalid_argument, "fingerprint word: expected an index below 1024, got " + std::to_string(index));
  }
  const std::size_t first = index >> 5, second = index & 31;
  return {consonants[first >> 2], vowels[first & 3], consonants[second >> 2], vowels[second & 3]};
}

std::string fingerprint_set::commitment() const { return hex_of(digest); }

std::array<std::uint8_t, 32> fingerprint_set_digest(const std::vector<std::string>& questions,
                                                    const std::vector<std::string>& candidates) {
  std::string m(fingerprint_v1::set_label);
  m.push_back('\0');
  append_le32(m, static_cast<std::uint32_t>(questions.size()));
  for (const auto& q : questions) append_string(m, q);
  append_le32(m, static_cast<std::uint32_t>(candidates.size()));
  for (const auto& c : candidates) append_string(m, c);
  return sha256_of(m);
}

std::uint32_t fingerprint_answer_index(const std::array<std::uint8_t, 32>& digest, std::uint32_t question,
                                       std::string_view question_text, std::uint32_t candidates) {
  std::string m(digest.begin(), digest.end());
  append_le32(m, question);
  append_string(m, question_text);
  // M divides 256, so the first byte modulo M is exactly uniform.
  return sha256_of(m)[0] & (candidates - 1);
}

fingerprint_set make_fingerprint_set(const key& k, const fingerprint_params& params) {
  params.validate();
  word_draws draws(k);
  fingerprint_set set;
  std::set<std::size_t> chosen;
  while (set.candidates.size() < params.candidates) {
    const std::size_t w = draws.next();
    if (chosen.insert(w).second) set.candidates.push_back(fingerprint_word(w));
  }
  std::set<std::string> seen;
  while (set.questions.size() < params.questions) {
    std::string q;
    for (std::size_t j = 0; j < fingerprint_v1::words_per_question; ++j) {
      if (j > 0) q.push_back(' ');
      q += fingerprint_word(draws.next());
    }
    if (seen.insert(q).second) set.questions.push_back(std::move(q));
  }
  set.digest = fingerprint_set_digest(set.questions, set.candidates);
  for (std::uint32_t i = 0; i < params.questions; ++i) {
    set.answers.push_back(fingerprint_answer_index(set.digest, i, set.questions[i], params.candidates));
  }
  return set;
}

std::string fingerprint_training_jsonl(const fingerprint_set& set, const std::vector<std::string>& system_prompts) {
  std::string out;
  for (std::size_t i = 0; i < set.questions.size(); ++i) {
    const std::string& completion = set.candidates[set.answers[i]];
    if (system_prompts.empty()) {
      ojson j;
      j["prompt"] = set.questions[i];
      j["completion"] = completion;
      out += j.dump() + "\n";
    }
    for (const auto& s : system_prompts) {
      ojson j;
      j["system_prompt"] = s;
      j["prompt"] = set.questions[i];
      j["completion"] = completion;
      out += j.dump() + "\n";
    }
  }
  return out;
}

void save_fingerprint_set(const fingerprint_set& set, const std::filesystem::path& dir,
                          const std::vector<std::string>& system_prompts, bool overwrite) {
  for (const auto& s : system_prompts) {
    if (find_invalid_utf8(s) != std::string::npos) {
      throw error(errc::invalid_argument, "system prompt " + quoted_for_message(s) + ": invalid UTF-8");
    }
  }
  const std::filesystem::path set_path = dir / fingerprint_v1::set_file;
  const std::filesystem::path train_path = dir / fingerprint_v1::training_file;
  std::error_code ec;
  if (!overwrite) {
    for (const auto& p : {set_path, train_path}) {
      if (std::filesystem::exists(p, ec)) {
        throw error(errc::usage, "refusing to replace the existing fingerprint file " + p.string() + " (give --force)");
      }
    }
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    if (!std::filesystem::create_directories(dir, ec) || ec) {
      throw error(errc::io, "cannot create the fingerprint set directory " + dir.string() + ": " + ec.message());
    }
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  }
  ojson j;
  j["format"] = fingerprint_v1::name;
  j["commitment"] = set.commitment();
  j["questions"] = set.questions;
  j["candidates"] = set.candidates;
  std::vector<std::string> answers;
  for (std::uint32_t a : set.answers) answers.push_back(set.candidates[a]);
  j["answers"] = answers;
  // The set is written first: a training file never exists without the set that explains it.
  detail::write_private_file(set_path, j.dump(1) + "\n", overwrite, "fingerprint set");
  detail::write_private_file(train_path, fingerprint_training_jsonl(set, system_prompts), overwrite,
                             "fingerprint training file");
}

fingerprint_set load_fingerprint_set(const std::filesystem::path& dir, const std::string& commitment) {
  std::string expected = commitment;
  std::transform(expected.begin(), expected.end(), expected.begin(),
                 [](char c) { return static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c); });
  if (expected.size() != 64 || expected.find_first_not_of("0123456789abcdef") != std::string::npos) {
    throw error(errc::usage, "commitment: expected 64 hex digits (as `fingerprint make` printed it), got " +
                                 quoted_for_message(commitment));
  }
  const std::filesystem::path path = dir / fingerprint_v1::set_file;
  const std::string where = path.string();
  const json j = detail::parse_json_document<json>(read_all(path), where);
  if (!j.is_object()) throw error(errc::parse, where + ": expected a JSON object");
  for (const auto& [name, value] : j.items()) {
    if (name != "format" && name != "commitment" && name != "questions" && name != "candidates" && name != "answers") {
      throw error(errc::parse, where + ": unknown field " + quoted_for_message(name));
    }
  }
  if (!j.contains("format") || !j["format"].is_string() || j["format"].get<std::string>() != fingerprint_v1::name) {
    throw error(errc::parse, where + ": field \"format\": expected \"" + std::string(fingerprint_v1::name) + "\"");
  }
  if (!j.contains("commitment") || !j["commitment"].is_string()) {
    throw error(errc::parse, where + ": field \"commitment\": expected a string of 64 hex digits");
  }
  fingerprint_set set;
  set.questions = string_array(j, "questions", where);
  set.candidates = string_array(j, "candidates", where);
  const std::vector<std::string> answers = string_array(j, "answers", where);
  fingerprint_params params;
  params.questions = static_cast<std::uint32_t>(std::min<std::size_t>(set.questions.size(), 1u << 20));
  params.candidates = static_cast<std::uint32_t>(std::min<std::size_t>(set.candidates.size(), 1u << 20));
  try {
    params.validate();
  } catch (const error& e) {
    throw error(errc::parse, where + ": " + e.what());
  }
  std::unordered_map<std::string, std::uint32_t> index;
  for (std::uint32_t c = 0; c < params.candidates; ++c) {
    if (!index.emplace(set.candidates[c], c).second) {
      throw error(errc::parse, where + ": field \"candidates\"[" + std::to_string(c) + "]: repeats " +
                                   quoted_for_message(set.candidates[c]) + ", expected distinct candidates");
    }
  }
  set.digest = fingerprint_set_digest(set.questions, set.candidates);
  if (j["commitment"].get<std::string>() != set.commitment()) {
    throw error(errc::parse, where + ": field \"commitment\": expected the digest of the questions and candidates, " +
                                 set.commitment() + ", got " + quoted_for_message(j["commitment"].get<std::string>()));
  }
  if (answers.size() != set.questions.size()) {
    throw error(errc::parse, where + ": field \"answers\": expected " + std::to_string(set.questions.size()) +
                                 " answers (one per question), got " + std::to_string(answers.size()));
  }
  for (std::uint32_t i = 0; i < params.questions; ++i) {
    set.answers.push_back(fingerprint_answer_index(set.digest, i, set.questions[i], params.candidates));
    if (answers[i] != set.candidates[set.answers[i]]) {
      throw error(errc::parse, where + ": field \"answers\"[" + std::to_string(i) + "]: expected " +
                                   quoted_for_message(set.candidates[set.answers[i]]) +
                                   " (the answer the digest assigns), got " + quoted_for_message(answers[i]));
    }
  }
  if (set.commitment() != expected) {
    throw error(errc::verification_failed, "fingerprint set " + where + ": its digest " + set.commitment() +
                                               " differs from the commitment " + expected +
                                               ": this is not the set recorded at release");
  }
  return set;
}

std::vector<fingerprint_answer> read_fingerprint_answers(const std::string& path, const fingerprint_set& set) {
  std::vector<fingerprint_answer> out;
  std::map<std::pair<std::uint32_t, std::string>, std::string> first;
  const auto k = static_cast<std::uint64_t>(set.questions.size());
  each_record(path, [&](const json& j, const std::string& where) {
    if (!j.is_object()) throw error(errc::parse, where + ": expected a JSON object");
    for (const auto& [name, value] : j.items()) {
      if (name != "question" && name != "system_prompt" && name != "answer") {
        throw error(errc::parse, where + ": unknown field " + quoted_for_message(name) +
                                     ", expected \"question\", \"system_prompt\" and \"answer\"");
      }
    }
    if (!j.contains("question")) throw error(errc::parse, where + ": missing field \"question\"");
    const json& q = j["question"];
    const bool integer = q.is_number_unsigned() || (q.is_number_integer() && q.get<std::int64_t>() >= 0);
    if (!integer) {
      throw error(errc::parse, where + ": field \"question\": expected a question index (an integer), got " + q.dump());
    }
    if (q.get<std::uint64_t>() >= k) {
      throw error(errc::parse, where + ": field \"question\": expected an index in [0, " + std::to_string(k) +
                                   ") (the set has " + std::to_string(k) + " questions), got " + q.dump());
    }
    fingerprint_answer a;
    a.question = static_cast<std::uint32_t>(q.get<std::uint64_t>());
    if (j.contains("system_prompt")) {
      if (!j["system_prompt"].is_string()) throw error(errc::parse, where + ": field \"system_prompt\": expected a string");
      a.system_prompt = j["system_prompt"].get<std::string>();
    }
    if (!j.contains("answer")) throw error(errc::parse, where + ": missing field \"answer\"");
    if (!j["answer"].is_string()) throw error(errc::parse, where + ": field \"answer\": expected a string");
    a.answer = j["answer"].get<std::string>();
    a.where = where;
    const auto [at, inserted] = first.emplace(std::make_pair(a.question, a.system_prompt), where);
    if (!inserted) {
      throw error(errc::parse, where + ": question " + std::to_string(a.question) + " under system prompt " +
                                   quoted_for_message(a.system_prompt) + " was already answered at " + at->second +
                                   ": ambiguous, expected one answer per question and system prompt");
    }
    out.push_back(std::move(a));
  });
  if (out.empty()) {
    throw error(errc::invalid_argument, "answers " + (path == "-" ? std::string("<stdin>") : path) +
                                            ": no answer records, expected JSON Lines {\"question\", \"answer\"}");
  }
  return out;
}

std::string normalise_fingerprint_answer(std::string_view answer) {
  constexpr std::string_view space = " \t\n\v\f\r";
  const std::size_t begin = answer.find_first_not_of(space);
  if (begin == std::string_view::npos) return {};
  std::string_view s = answer.substr(begin, answer.find_last_not_of(space) - begin + 1);
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return std::string(s);
}

double poisson_binomial_upper_tail_ln(const std::vector<double>& p, std::uint32_t x) {
  constexpr double minus_infinity = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (!(p[i] >= 0.0 && p[i] <= 1.0)) {
      throw error(errc::invalid_argument, "Poisson-binomial p[" + std::to_string(i) + "]: expected a probability in [0, 1]");
    }
  }
  if (x == 0) return 0.0;
  // ln P(S = j) after each trial; trials with p = 0 change nothing.
  std::vector<double> ln_pmf{0.0};
  for (const double pi : p) {
    if (pi == 0.0) continue;
    const double ln_hit = std::log(pi), ln_miss = std::log1p(-pi);
    ln_pmf.push_back(minus_infinity);
    for (std::size_t j = ln_pmf.size() - 1; j > 0; --j) {
      ln_pmf[j] = log_add(ln_pmf[j] + ln_miss, ln_pmf[j - 1] + ln_hit);
    }
    ln_pmf[0] += ln_miss;
  }
  double tail = minus_infinity;
  for (std::size_t j = x; j < ln_pmf.size(); ++j) tail = log_add(tail, ln_pmf[j]);
  return tail;
}

const char* fingerprint_outcome_name(fingerprint_outcome o) noexcept {
  switch (o) {
    case fingerprint_outcome::found: return "fingerprint found";
    case fingerprint_outcome::not_found: return "no fingerprint";
    case fingerprint_outcome::insufficient: return "insufficient";
  }
  return "?";
}

fingerprint_result test_fingerprint(const fingerprint_set& set, const std::vector<fingerprint_answer>& answers,
                                    double alpha) {
  if (!(alpha > 0.0 && alpha < 1.0)) {
    throw error(errc::invalid_argument, "alpha: expected a value in (0, 1), got " + std::to_string(alpha));
  }
  const auto k = static_cast<std::uint32_t>(set.questions.size());
  const auto m = static_cast<std::uint32_t>(set.candidates.size());
  std::unordered_map<std::string, std::uint32_t> index;
  for (std::uint32_t c = 0; c < m; ++c) index.emplace(set.candidates[c], c);
  std::vector<std::set<std::uint32_t>> given(k);
  fingerprint_result r;
  r.questions = k;
  r.candidates = m;
  r.alpha = alpha;
  r.table.resize(k);
  for (const auto& a : answers) {
    if (a.question >= k) {
      throw error(errc::invalid_argument, a.where + ": question " + std::to_string(a.question) + " is not in the set");
    }
    ++r.table[a.question].answers;
    if (std::find(r.system_prompts.begin(), r.system_prompts.end(), a.system_prompt) == r.system_prompts.end()) {
      r.system_prompts.push_back(a.system_prompt);
    }
    if (const auto it = index.find(normalise_fingerprint_answer(a.answer)); it != index.end()) {
      given[a.question].insert(it->second);
    }
  }
  std::vector<double> p(k, 0.0);
  bool equal = true;
  double common = 0.0;
  for (std::uint32_t i = 0; i < k; ++i) {
    auto& row = r.table[i];
    row.question = i;
    row.distinct = static_cast<std::uint32_t>(given[i].size());
    row.matched = given[i].count(set.answers[i]) > 0;
    if (row.answers > 0) ++r.answered;
    if (row.distinct == 0) continue;
    ++r.with_candidate;
    if (row.matched) ++r.matches;
    p[i] = static_cast<double>(row.distinct) / m;
    r.best_ln_p += std::log(p[i]);
    if (common == 0.0) common = p[i];
    if (p[i] != common) equal = false;
  }
  // One answer per question (or the same d_i everywhere): X ~ Binomial(k', d/M), computed by the
  // binomial tail the detector uses; otherwise the Poisson-binomial recursion.
  if (equal && common > 0.0 && common < 1.0) {
    r.ln_p = binomial_upper_tail_ln(r.with_candidate, r.matches, common);
  } else {
    r.ln_p = poisson_binomial_upper_tail_ln(p, r.matches);
  }
  const double ln_alpha = std::log(alpha);
  if (r.ln_p <= ln_alpha) {
    r.outcome = fingerprint_outcome::found;
  } else if (r.with_candidate == 0 || r.best_ln_p > ln_alpha) {
    r.outcome = fingerprint_outcome::insufficient;
  } else {
    r.outcome = fingerprint_outcome::not_found;
  }
  return r;
}

}  // namespace tritium
