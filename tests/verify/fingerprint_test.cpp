// Model fingerprints: the known answers of tritium-fingerprint-v1 (fixtures/kat/fingerprint_v1.json, from
// the independent fixtures/kat/make_fingerprint_kat.py), the exact Poisson-binomial tail against brute
// force, the null rate of a suspect that always gives the same answer, and the refusals of the readers.
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "tritium/binomial_tail.hpp"
#include "tritium/digest.hpp"
#include "tritium/error.hpp"
#include "tritium/fingerprint.hpp"
#include "tritium/key.hpp"

using namespace tritium;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

json load_kat() {
  std::ifstream in(TRITIUM_FIXTURES_DIR "/kat/fingerprint_v1.json");
  REQUIRE(in);
  return json::parse(in);
}

key key_of_hex(const std::string& hex) {
  std::array<std::uint8_t, key::secret_size> secret{};
  for (std::size_t i = 0; i < secret.size(); ++i) {
    secret[i] = static_cast<std::uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  }
  kgw_params p;
  p.vocab_size = 1000;
  return key::from_secret(secret, p);
}

key numbered_key(std::uint32_t n) {
  std::array<std::uint8_t, key::secret_size> secret{};
  for (std::size_t i = 0; i < 4; ++i) secret[i] = static_cast<std::uint8_t>(n >> (8 * i));
  secret[31] = 0x5a;
  kgw_params p;
  p.vocab_size = 1000;
  return key::from_secret(secret, p);
}

// SHA-256 of the LE32-length-prefixed strings, as the KAT script digests a list.
std::string list_digest(const std::vector<std::string>& strings) {
  std::string bytes;
  for (const auto& s : strings) {
    const auto n = static_cast<std::uint32_t>(s.size());
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
    bytes += s;
  }
  return sha256_digest(bytes).substr(7);
}

struct scratch_dir {
  fs::path path;
  scratch_dir() {
    path = fs::temp_directory_path() / ("tritium-fingerprint-" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return (path / name).string();
  }
};

std::string error_text(const std::function<void()>& f, errc expected) {
  try {
    f();
  } catch (const error& e) {
    CHECK(e.code() == expected);
    return e.what();
  }
  FAIL("expected an error");
  return {};
}

}  // namespace

TEST_CASE("fingerprint-v1 known answers from the independent Python implementation", "[fingerprint][kat]") {
  const json kat = load_kat();
  for (const auto& [index, word] : kat["words"].items()) {
    CHECK(fingerprint_word(std::stoul(index)) == word.get<std::string>());
  }
  REQUIRE(kat["sets"].size() == 3);
  for (const auto& v : kat["sets"]) {
    fingerprint_params params;
    params.questions = v["questions"].get<std::uint32_t>();
    params.candidates = v["candidates"].get<std::uint32_t>();
    const fingerprint_set set = make_fingerprint_set(key_of_hex(v["secret"]), params);
    CHECK(set.commitment() == v["commitment"].get<std::string>());
    CHECK(list_digest(set.candidates) == v["candidates_sha256"].get<std::string>());
    CHECK(list_digest(set.questions) == v["questions_sha256"].get<std::string>());
    for (std::size_t c = 0; c < v["first_candidates"].size(); ++c) {
      CHECK(set.candidates[c] == v["first_candidates"][c].get<std::string>());
    }
    for (const auto& pair : v["pairs"]) {
      const auto i = pair["question"].get<std::size_t>();
      CHECK(set.questions[i] == pair["text"].get<std::string>());
      CHECK(set.candidates[set.answers[i]] == pair["answer"].get<std::string>());
    }
    CHECK(set.answers == v["answer_indices"].get<std::vector<std::uint32_t>>());
  }
}

TEST_CASE("Poisson-binomial tail equals brute force at k = 8", "[fingerprint][statistics]") {
  std::mt19937_64 rng(20261203);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> p(8);
    for (auto& pi : p) pi = trial % 4 == 0 ? std::floor(unif(rng) * 4) / 256 : unif(rng) * unif(rng);
    std::vector<double> pmf(9, 0.0);
    for (unsigned pattern = 0; pattern < 256; ++pattern) {
      double prob = 1.0;
      unsigned hits = 0;
      for (unsigned i = 0; i < 8; ++i) {
        const bool hit = (pattern >> i) & 1u;
        prob *= hit ? p[i] : 1.0 - p[i];
        hits += hit;
      }
      pmf[hits] += prob;
    }
    unsigned positive = 0;
    for (double pi : p) positive += pi > 0.0;
    for (std::uint32_t x = 0; x <= 9; ++x) {
      double tail = 0.0;
      for (std::uint32_t j = x; j <= 8; ++j) tail += pmf[j];
      const double got = poisson_binomial_upper_tail_ln(p, x);
      if (x > positive) {
        CHECK(got == -std::numeric_limits<double>::infinity());
      } else {
        CHECK(std::exp(got) == Approx(tail).epsilon(1e-12));
      }
    }
  }
  // Equal probabilities: the binomial tail, and the paper's figures (attribution.md §6.5).
  const std::vector<double> equal(64, 1.0 / 256);
  CHECK(poisson_binomial_upper_tail_ln(equal, 8) == Approx(binomial_upper_tail_ln(64, 8, 1.0 / 256)).epsilon(1e-12));
  CHECK(std::exp(binomial_upper_tail_ln(64, 8, 1.0 / 256)) == Approx(1.98e-10).epsilon(0.005));
  CHECK(std::exp(binomial_upper_tail_ln(64, 7, 1.0 / 256)) == Approx(7.1e-9).epsilon(0.01));
  CHECK(error_text([] { poisson_binomial_upper_tail_ln({0.5, 1.5}, 1); }, errc::invalid_argument) ==
        "Poisson-binomial p[1]: expected a probability in [0, 1]");
}

TEST_CASE("A suspect that always gives the same answer is flagged no more often than alpha says",
          "[fingerprint][statistics]") {
  // 1,000 keys; the suspect answers every question of the key's set with its first candidate, so the
  // match count is Binomial(64, 1/256) and "p <= 0.01" happens with the exact probability q below.
  constexpr std::uint32_t keys = 1000;
  constexpr double alpha = 0.01;
  std::uint64_t flagged = 0;
  for (std::uint32_t n = 0; n < keys; ++n) {
    const fingerprint_set set = make_fingerprint_set(numbered_key(n), {});
    std::vector<fingerprint_answer> answers;
    for (std::uint32_t i = 0; i < set.questions.size(); ++i) answers.push_back({i, "", set.candidates[0], "t"});
    const fingerprint_result r = test_fingerprint(set, answers, alpha);
    REQUIRE(r.with_candidate == 64);
    flagged += r.outcome == fingerprint_outcome::found;
  }
  // The upper 99.9% bound of Binomial(1000, alpha): the count may not exceed it.
  std::uint64_t bound = 0;
  while (std::exp(binomial_upper_tail_ln(keys, bound + 1, alpha)) > 0.001) ++bound;
  CHECK(flagged <= bound);
  // And, the p-value being discrete, the rate is the exact q = P(X >= x*) with x* the smallest count
  // whose p is <= alpha: the count lies in the 99.9% interval of Binomial(1000, q).
  std::uint32_t x_star = 0;
  while (binomial_upper_tail_ln(64, x_star, 1.0 / 256) > std::log(alpha)) ++x_star;
  const double q = std::exp(binomial_upper_tail_ln(64, x_star, 1.0 / 256));
  std::uint64_t lo = 0, hi = 0;
  while (lo < keys && std::exp(binomial_upper_tail_ln(keys, lo + 1, q)) > 1 - 0.0005) ++lo;
  hi = lo;
  while (hi < keys && std::exp(binomial_upper_tail_ln(keys, hi + 1, q)) > 0.0005) ++hi;
  CHECK(flagged >= lo);
  CHECK(flagged <= hi);
}

TEST_CASE("Fingerprint test: matches and distinct candidates under several system prompts decide the outcome", "[fingerprint]") {
  const fingerprint_set set = make_fingerprint_set(numbered_key(7), {});
  std::vector<fingerprint_answer> answers;
  // 8 correct answers (with the normalisation's spaces and full stop), the rest a non-candidate.
  for (std::uint32_t i = 0; i < 64; ++i) {
    const std::string right = set.candidates[set.answers[i]];
    answers.push_back({i, "a", i < 8 ? "  " + right + ".\n" : "no idea", "t"});
  }
  fingerprint_result r = test_fingerprint(set, answers, 1e-9);
  CHECK(r.matches == 8);
  CHECK(r.with_candidate == 8);
  CHECK(r.best_ln_p == Approx(8 * std::log(1.0 / 256)));
  CHECK(r.ln_p == Approx(r.best_ln_p));
  CHECK(r.outcome == fingerprint_outcome::found);
  // Three answered with a candidate: even three matches give (1/256)^3 = 6e-8 > 1e-9.
  answers.resize(3);
  r = test_fingerprint(set, answers, 1e-9);
  CHECK(r.answered == 3);
  CHECK(r.outcome == fingerprint_outcome::insufficient);
  // Case is not folded, and only one full stop goes.
  CHECK(normalise_fingerprint_answer(" Bafo..") == "Bafo.");
  CHECK(normalise_fingerprint_answer("\t\r\n") == "");
  // One answer per question, each a candidate: Binomial(64, 1/256), 8 matches.
  answers.clear();
  for (std::uint32_t i = 0; i < 64; ++i) {
    answers.push_back({i, "", i < 8 ? set.candidates[set.answers[i]] : set.candidates[(set.answers[i] + 1) % 256], "t"});
  }
  r = test_fingerprint(set, answers, 1e-9);
  CHECK(r.matches == 8);
  CHECK(std::exp(r.ln_p) == Approx(std::exp(binomial_upper_tail_ln(64, 8, 1.0 / 256))).epsilon(1e-12));
  CHECK(r.outcome == fingerprint_outcome::found);
  r = test_fingerprint(set, answers, 1e-10);
  CHECK(r.outcome == fingerprint_outcome::not_found);
  // Two system prompts giving two distinct candidates: d_i = 2, p_i = 2/256 for every question.
  for (std::uint32_t i = 0; i < 64; ++i) answers.push_back({i, "s2", set.candidates[(set.answers[i] + 2) % 256], "t"});
  r = test_fingerprint(set, answers, 1e-9);
  CHECK(r.system_prompts == std::vector<std::string>{"", "s2"});
  CHECK(r.table[0].distinct == 2);
  CHECK(r.table[0].answers == 2);
  CHECK(std::exp(r.ln_p) == Approx(std::exp(binomial_upper_tail_ln(64, 8, 2.0 / 256))).epsilon(1e-12));
}

TEST_CASE("Fingerprint sets are written 0600 and read back only against their commitment", "[fingerprint]") {
  scratch_dir dir;
  const fingerprint_set set = make_fingerprint_set(numbered_key(1), {.questions = 8, .candidates = 16});
  const fs::path d = dir.path / "set";
  save_fingerprint_set(set, d, {"You are a helpful assistant.", "Answer briefly."}, false);
  for (const char* name : {"set.json", "train.jsonl"}) {
    const auto perms = fs::status(d / name).permissions();
    CHECK((perms & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  }
  std::ifstream train(d / "train.jsonl");
  std::string line;
  std::size_t lines = 0;
  while (std::getline(train, line)) {
    const json j = json::parse(line);
    CHECK(j["completion"].get<std::string>() == set.candidates[set.answers[lines / 2]]);
    ++lines;
  }
  CHECK(lines == 16);
  const fingerprint_set back = load_fingerprint_set(d, set.commitment());
  CHECK(back.questions == set.questions);
  CHECK(back.answers == set.answers);
  CHECK(error_text([&] { save_fingerprint_set(set, d, {}, false); }, errc::usage) ==
        "refusing to replace the existing fingerprint file " + (d / "set.json").string() + " (give --force)");
  save_fingerprint_set(set, d, {}, true);

  std::string wrong = set.commitment();
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  CHECK(error_text([&] { load_fingerprint_set(d, wrong); }, errc::verification_failed) ==
        "fingerprint set " + (d / "set.json").string() + ": its digest " + set.commitment() +
            " differs from the commitment " + wrong + ": this is not the set recorded at release");
  CHECK(error_text([&] { load_fingerprint_set(d, "abc"); }, errc::usage) ==
        "commitment: expected 64 hex digits (as `fingerprint make` printed it), got \"abc\"");

  // An edited answer is refused, naming the field.
  std::ifstream in(d / "set.json");
  json j = json::parse(in);
  in.close();
  const std::string right = j["answers"][3];
  j["answers"][3] = right == set.candidates[0] ? set.candidates[1] : set.candidates[0];
  const std::string edited = dir.write("set.json", j.dump());
  CHECK(error_text([&] { load_fingerprint_set(dir.path, set.commitment()); }, errc::parse) ==
        edited + ": field \"answers\"[3]: expected \"" + right + "\" (the answer the digest assigns), got \"" +
            j["answers"][3].get<std::string>() + "\"");
}

TEST_CASE("Fingerprint answers: one error policy", "[fingerprint]") {
  scratch_dir dir;
  const fingerprint_set set = make_fingerprint_set(numbered_key(2), {.questions = 8, .candidates = 16});
  const auto refused = [&](const std::string& text, errc code = errc::parse) {
    const std::string path = dir.write("a.jsonl", text);
    return error_text([&] { read_fingerprint_answers(path, set); }, code);
  };
  const std::string f = (dir.path / "a.jsonl").string();
  CHECK(refused("", errc::invalid_argument) == "answers " + f + ": no answer records, expected JSON Lines {\"question\", \"answer\"}");
  CHECK(refused("\n  \n", errc::invalid_argument) == "answers " + f + ": no answer records, expected JSON Lines {\"question\", \"answer\"}");
  CHECK(refused("{\"question\": 8, \"answer\": \"x\"}\n") ==
        f + ":1: field \"question\": expected an index in [0, 8) (the set has 8 questions), got 8");
  CHECK(refused("{\"question\": 1.0, \"answer\": \"x\"}\n") ==
        f + ":1: field \"question\": expected a question index (an integer), got 1.0");
  CHECK(refused("{\"question\": -1, \"answer\": \"x\"}\n") ==
        f + ":1: field \"question\": expected a question index (an integer), got -1");
  CHECK(refused("{\"question\": 1}\n") == f + ":1: missing field \"answer\"");
  CHECK(refused("{\"answer\": \"x\"}\n") == f + ":1: missing field \"question\"");
  CHECK(refused("{\"question\": 1, \"answer\": 3}\n") == f + ":1: field \"answer\": expected a string");
  CHECK(refused("{\"question\": 1, \"answer\": \"x\", \"system\": \"s\"}\n") ==
        f + ":1: unknown field \"system\", expected \"question\", \"system_prompt\" and \"answer\"");
  CHECK(refused("{\"question\": 1, \"answer\": \"x\"}\n{\"question\": 2, \"answer\": \"y\"}\n"
                "{\"question\": 1, \"answer\": \"z\", \"system_prompt\": \"\"}\n") ==
        f + ":3: question 1 under system prompt \"\" was already answered at " + f +
            ":1: ambiguous, expected one answer per question and system prompt");
  CHECK(refused("{\"question\": 1, \"answer\": \"x\"}\n[1]\n") == f + ":2: expected a JSON object");
  // The same question under two system prompts is two answers.
  const std::string ok = dir.write("b.jsonl", "{\"question\": 1, \"answer\": \"x\"}\n"
                                             "{\"question\": 1, \"system_prompt\": \"s\", \"answer\": \"y\"}\n");
  CHECK(read_fingerprint_answers(ok, set).size() == 2);
}
