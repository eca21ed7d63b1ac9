// The C ABI's transformers schemes (tritium_hf_scheme, tritium_hf_stream; tritium.h): a stream driven
// step by step changes each row exactly as the library's processors do on the whole sequence (which
// the torch known answers pin down), apply changes no state, and the candidate path biases or
// reweights what the full row would.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "tritium/hf_kgw.hpp"
#include "tritium/hf_synthid.hpp"
#include "tritium/tritium.h"

using namespace tritium;

namespace {

struct scheme_handle {
  tritium_hf_scheme* p = nullptr;
  ~scheme_handle() { tritium_hf_scheme_free(p); }
};
struct stream_handle {
  tritium_hf_stream* p = nullptr;
  ~stream_handle() { tritium_hf_stream_free(p); }
};

tritium_status parse(const std::string& json, std::uint32_t vocab, scheme_handle& out) {
  return tritium_hf_scheme_parse(json.data(), json.size(), vocab, &out.p);
}

std::vector<float> random_row(std::mt19937_64& rng, std::size_t vocab) {
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> row(vocab);
  for (auto& x : row) x = normal(rng);
  return row;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("C ABI transformers KGW: a stream biases each row as the processor does on the whole sequence", "[hf_kgw][c_abi]") {
  const std::uint32_t vocab = 5003;
  for (const char* seeding : {"lefthash", "selfhash"}) {
    INFO(seeding);
    const std::string width = std::string(seeding) == "selfhash" ? "3" : "1";
    const std::string config = std::string(R"({"watermarking_config": {"greenlist_ratio": 0.3, "bias": 1.5, "hashing_key": 99991, "seeding_scheme": ")") +
                               seeding + R"(", "context_width": )" + width + "}}";
    scheme_handle scheme;
    REQUIRE(parse(config, vocab, scheme) == TRITIUM_OK);
    std::uint32_t kind = 9;
    REQUIRE(tritium_hf_scheme_kind(scheme.p, &kind) == TRITIUM_OK);
    CHECK(kind == TRITIUM_HF_KGW);
    hf_kgw_params p;
    p.vocab_size = vocab;
    p.greenlist_ratio = 0.3;
    p.bias = 1.5f;
    p.hashing_key = 99991;
    p.seeding = std::string(seeding) == "selfhash" ? hf_seeding::selfhash : hf_seeding::lefthash;
    p.context_width = static_cast<std::uint32_t>(std::stoul(width));
    const hf_kgw reference(p);
    std::vector<std::int32_t> scratch(vocab);

    stream_handle stream;
    REQUIRE(tritium_hf_stream_create(scheme.p, &stream.p) == TRITIUM_OK);
    tritium_hf_scheme_free(scheme.p);  // the stream keeps the scheme
    scheme.p = nullptr;
    std::mt19937_64 rng(17);
    std::vector<token_id> sequence{};  // an empty prompt: the first steps are too short for selfhash
    REQUIRE(tritium_hf_stream_begin(stream.p, nullptr, 0) == TRITIUM_OK);
    std::size_t biased_rows = 0;
    for (int step = 0; step < 40; ++step) {
      const auto logits = random_row(rng, vocab);
      auto expected = logits;
      const bool marks = reference.bias_dense(sequence, expected, scratch);
      CHECK(tritium_hf_stream_active(stream.p) == (marks ? 1 : 0));
      auto got = logits, again = logits;
      REQUIRE(tritium_hf_stream_apply(stream.p, got.data(), got.size()) == TRITIUM_OK);
      REQUIRE(tritium_hf_stream_apply(stream.p, again.data(), again.size()) == TRITIUM_OK);
      CHECK(same_bits(got, expected));
      CHECK(same_bits(again, expected));  // apply changes no state
      biased_rows += marks ? 1 : 0;
      // The 200 highest candidates, in a shuffled order: what a chain leaves after top-k.
      std::vector<std::int32_t> order(vocab);
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + 200, order.end(),
                        [&](std::int32_t a, std::int32_t b) { return logits[static_cast<std::size_t>(a)] > logits[static_cast<std::size_t>(b)]; });
      std::vector<std::int32_t> ids(order.begin(), order.begin() + 200);
      std::shuffle(ids.begin(), ids.end(), rng);
      std::vector<float> values(ids.size());
      for (std::size_t i = 0; i < ids.size(); ++i) values[i] = logits[static_cast<std::size_t>(ids[i])];
      REQUIRE(tritium_hf_stream_apply_candidates(stream.p, ids.data(), values.data(), ids.size()) == TRITIUM_OK);
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (values[i] != expected[static_cast<std::size_t>(ids[i])]) FAIL("candidate " << ids[i] << " differs at step " << step);
      }
      const auto next = static_cast<token_id>(rng() % vocab);
      REQUIRE(tritium_hf_stream_accept(stream.p, next) == TRITIUM_OK);
      sequence.push_back(next);
    }
    CHECK(biased_rows == (std::string(seeding) == "selfhash" ? 37u : 39u));  // from the width-th step on

    // A clone carries the sequence; begin starts another one.
    stream_handle copy;
    REQUIRE(tritium_hf_stream_clone(stream.p, &copy.p) == TRITIUM_OK);
    const auto logits = random_row(rng, vocab);
    auto expected = logits, got = logits;
    REQUIRE(reference.bias_dense(sequence, expected, scratch));
    REQUIRE(tritium_hf_stream_apply(copy.p, got.data(), got.size()) == TRITIUM_OK);
    CHECK(same_bits(got, expected));
    const std::vector<token_id> prompt{5, 6, 7, 8};
    REQUIRE(tritium_hf_stream_begin(copy.p, prompt.data(), prompt.size()) == TRITIUM_OK);
    expected = logits;
    got = logits;
    REQUIRE(reference.bias_dense(prompt, expected, scratch));
    REQUIRE(tritium_hf_stream_apply(copy.p, got.data(), got.size()) == TRITIUM_OK);
    CHECK(same_bits(got, expected));
  }
}

TEST_CASE("C ABI transformers SynthID: a stream reweights as the processor's state does and apply changes no state", "[hf_synthid][c_abi]") {
  const std::uint32_t vocab = 3001;
  const std::string config = R"({"ngram_len": 3, "keys": [654, 400, 836, 123, 340, 443], "context_history_size": 8})";
  scheme_handle scheme;
  REQUIRE(parse(config, vocab, scheme) == TRITIUM_OK);
  std::uint32_t kind = 9;
  REQUIRE(tritium_hf_scheme_kind(scheme.p, &kind) == TRITIUM_OK);
  CHECK(kind == TRITIUM_HF_SYNTHID);
  hf_synthid_params p;
  p.ngram_len = 3;
  p.keys = {654, 400, 836, 123, 340, 443};
  p.context_history_size = 8;
  const hf_synthid reference(p);
  hf_synthid_state state(reference), candidates_state(reference);

  stream_handle stream;
  REQUIRE(tritium_hf_stream_create(scheme.p, &stream.p) == TRITIUM_OK);
  const std::vector<token_id> prompt{101, 2023, 7};
  REQUIRE(tritium_hf_stream_begin(stream.p, prompt.data(), prompt.size()) == TRITIUM_OK);
  // A sequence that repeats its contexts (the FIFO leaves those rows alone) and then leaves them.
  const std::vector<token_id> sequence{5, 6, 7, 5, 6, 7, 5, 6, 8, 9, 5, 6, 11, 12, 13, 14};
  std::mt19937_64 rng(5);
  token_id last = prompt.back();
  std::size_t reweighted = 0, left = 0;
  for (const token_id next : sequence) {
    const auto logits = random_row(rng, vocab);
    auto expected = logits;
    const bool marks = state.apply(last, expected);
    CHECK(tritium_hf_stream_active(stream.p) == (marks ? 1 : 0));
    auto got = logits, again = logits;
    REQUIRE(tritium_hf_stream_apply(stream.p, got.data(), got.size()) == TRITIUM_OK);
    REQUIRE(tritium_hf_stream_apply(stream.p, again.data(), again.size()) == TRITIUM_OK);
    CHECK(same_bits(got, expected));
    CHECK(same_bits(again, expected));
    (marks ? reweighted : left) += 1;
    // Candidates: the tournament over them under the same context, as the library computes it.
    const bool candidate_marks = candidates_state.advance(last);
    REQUIRE(candidate_marks == marks);
    std::vector<std::int32_t> ids{0, 17, 2999, 5, 6, 7, 8, 9, 11, 1000};
    std::vector<float> values(ids.size()), want(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) want[i] = values[i] = logits[static_cast<std::size_t>(ids[i])];
    if (marks) reference.reweight_candidates(candidates_state.context(), ids, want);
    REQUIRE(tritium_hf_stream_apply_candidates(stream.p, ids.data(), values.data(), ids.size()) == TRITIUM_OK);
    CHECK(same_bits(values, want));
    REQUIRE(tritium_hf_stream_accept(stream.p, next) == TRITIUM_OK);
    last = next;
  }
  // Contexts (0,0) (0,5) (5,6) (6,7) (7,5), then (5,6) (6,7) (7,5) (5,6) again, (6,8) (8,9) (9,5), (5,6)
  // still among the last eight, then (6,11) (11,12) (12,13).
  CHECK(reweighted == 11);
  CHECK(left == 5);

  // Errors name what is wrong and leave the stream usable.
  std::vector<float> row(vocab, 0.0f);
  CHECK(tritium_hf_stream_apply(stream.p, row.data(), vocab - 1) == TRITIUM_ERR_INVALID_ARGUMENT);
  CHECK(std::string(tritium_last_error()).find("3000 logits") != std::string::npos);
  row[42] = std::numeric_limits<float>::quiet_NaN();
  CHECK(tritium_hf_stream_apply(stream.p, row.data(), vocab) == TRITIUM_ERR_INVALID_ARGUMENT);
  CHECK(std::string(tritium_last_error()).find("scores[42] is NaN") != std::string::npos);
  std::vector<std::int32_t> twice{3, 4, 3};
  std::vector<float> three(3, 0.0f);
  CHECK(tritium_hf_stream_apply_candidates(stream.p, twice.data(), three.data(), 3) == TRITIUM_ERR_INVALID_ARGUMENT);
  CHECK(std::string(tritium_last_error()).find("ids[2] = 3 repeats") != std::string::npos);
  std::vector<std::int32_t> outside{3, 3001, 4};
  CHECK(tritium_hf_stream_apply_candidates(stream.p, outside.data(), three.data(), 3) == TRITIUM_ERR_INVALID_ARGUMENT);
  CHECK(std::string(tritium_last_error()).find("ids[1] = 3001 is outside [0, 3001)") != std::string::npos);
  std::vector<std::int32_t> fine{3, 4, 5};
  CHECK(tritium_hf_stream_apply_candidates(stream.p, fine.data(), three.data(), 3) == TRITIUM_OK);  // the check left no mark
  CHECK(tritium_hf_stream_accept(stream.p, -1) == TRITIUM_ERR_INVALID_ARGUMENT);
  CHECK(std::string(tritium_last_error()).find("token = -1 is outside") != std::string::npos);
}

TEST_CASE("SynthID over every candidate in id order is the tournament written out", "[hf_synthid]") {
  // The tournament as the paper and transformers state it, computed here token by token from the
  // n-grams' g-values (the public API): both library paths must give it. A table whose size is not a
  // power of two runs the dense path entry by entry, as the candidate path does, so those two agree
  // bit for bit; a power-of-two table sums by buckets, equal to float32 rounding.
  for (const std::uint32_t table_size : {65521u, 65536u}) {
    INFO("table size " << table_size);
    hf_synthid_params p;
    p.ngram_len = 4;
    p.keys = {11, 22, 33, 44, 55, 66, 77, 88};
    p.sampling_table_size = table_size;
    const hf_synthid scheme(p);
    std::mt19937_64 rng(table_size);
    const auto logits = random_row(rng, 4099);
    const std::vector<token_id> context{9, 8, 7};
    const float top = *std::max_element(logits.begin(), logits.end());
    std::vector<double> probs(logits.size());
    double total = 0.0;
    for (std::size_t v = 0; v < probs.size(); ++v) total += probs[v] = std::exp(static_cast<double>(logits[v] - top));
    for (auto& q : probs) q /= total;
    std::vector<std::vector<std::uint8_t>> g(logits.size(), std::vector<std::uint8_t>(p.keys.size()));
    for (std::size_t v = 0; v < g.size(); ++v) {
      const std::vector<token_id> ngram{9, 8, 7, static_cast<token_id>(v)};
      scheme.g_values(ngram, g[v]);
    }
    for (std::size_t l = 0; l < p.keys.size(); ++l) {
      double mass = 0.0;
      for (std::size_t v = 0; v < probs.size(); ++v) mass += g[v][l] * probs[v];
      for (std::size_t v = 0; v < probs.size(); ++v) probs[v] *= 1.0 + g[v][l] - mass;
    }
    std::vector<token_id> ids(logits.size());
    std::iota(ids.begin(), ids.end(), 0);
    auto dense = logits, candidates = logits;
    scheme.reweight_dense(context, dense);
    scheme.reweight_candidates(context, ids, candidates);
    double worst_dense = 0.0, worst_candidates = 0.0;
    for (std::size_t v = 0; v < dense.size(); ++v) {
      const double want = std::log(probs[v]);
      worst_dense = std::max(worst_dense, std::fabs(dense[v] - want));
      worst_candidates = std::max(worst_candidates, std::fabs(candidates[v] - want));
    }
    CHECK(worst_dense < 1e-5);  // log-probabilities of order 10: a few float32 ulps
    CHECK(worst_candidates < 1e-5);
    if (table_size == 65521u) CHECK(same_bits(dense, candidates));
  }
}

TEST_CASE("C ABI transformers SynthID: skip_first_ngram_calls and begin in mid-sequence", "[hf_synthid][c_abi]") {
  const std::uint32_t vocab = 2003;
  const std::string config = R"({"ngram_len": 3, "keys": [5, 6, 7, 8], "skip_first_ngram_calls": true})";
  scheme_handle scheme;
  REQUIRE(parse(config, vocab, scheme) == TRITIUM_OK);
  hf_synthid_params p;
  p.ngram_len = 3;
  p.keys = {5, 6, 7, 8};
  p.skip_first_ngram_calls = true;
  const hf_synthid reference(p);
  stream_handle stream;
  REQUIRE(tritium_hf_stream_create(scheme.p, &stream.p) == TRITIUM_OK);
  std::mt19937_64 rng(9);
  for (int turn = 0; turn < 2; ++turn) {  // the second begin starts a new sequence in mid-stream
    const std::vector<token_id> prompt{static_cast<token_id>(100 + turn), 7};
    REQUIRE(tritium_hf_stream_begin(stream.p, prompt.data(), prompt.size()) == TRITIUM_OK);
    hf_synthid_state state(reference);
    token_id last = prompt.back();
    std::vector<int> reweighted;
    for (int step = 0; step < 6; ++step) {
      const auto logits = random_row(rng, vocab);
      auto expected = logits, got = logits;
      const bool marks = state.apply(last, expected);
      CHECK(tritium_hf_stream_active(stream.p) == (marks ? 1 : 0));
      REQUIRE(tritium_hf_stream_apply(stream.p, got.data(), got.size()) == TRITIUM_OK);
      CHECK(same_bits(got, expected));
      reweighted.push_back(marks ? 1 : 0);
      last = static_cast<token_id>(rng() % vocab);
      REQUIRE(tritium_hf_stream_accept(stream.p, last) == TRITIUM_OK);
    }
    CHECK(reweighted == std::vector<int>{0, 0, 1, 1, 1, 1});  // calls 1 and 2 of ngram_len 3 are skipped
  }
}

TEST_CASE("C ABI transformers schemes refuse a configuration they cannot read exactly", "[c_abi]") {
  scheme_handle scheme;
  CHECK(parse(R"({"greenlist_ratio": 0.25, "hashing_ky": 3})", 1000, scheme) == TRITIUM_ERR_INVALID_ARGUMENT);
  CHECK(std::string(tritium_last_error()).find("\"hashing_ky\"") != std::string::npos);
  CHECK(scheme.p == nullptr);
  CHECK(parse(R"({"greenlist_ratio": 0.25, "ngram_len": 3})", 1000, scheme) == TRITIUM_ERR_INVALID_ARGUMENT);
  CHECK(std::string(tritium_last_error()).find("ambiguous") != std::string::npos);
  CHECK(parse(R"({"greenlist_ratio": 0.25)", 1000, scheme) == TRITIUM_ERR_PARSE);
  CHECK(parse(R"({"greenlist_ratio": 0.25})", 1, scheme) == TRITIUM_ERR_INVALID_ARGUMENT);
  CHECK(std::string(tritium_last_error()).find("n_vocab") != std::string::npos);
  CHECK(parse(R"({"ngram_len": 3, "keys": [1], "context_width": 2})", 1000, scheme) == TRITIUM_ERR_INVALID_ARGUMENT);
  CHECK(tritium_hf_scheme_load("/nonexistent/generation_config.json", 1000, &scheme.p) == TRITIUM_ERR_INVALID_ARGUMENT);
  CHECK(std::string(tritium_last_error()).find("/nonexistent/generation_config.json") != std::string::npos);
  CHECK(parse(R"({"ngram_len": 3, "keys": [1], "debug_mode": true})", 1000, scheme) == TRITIUM_ERR_INVALID_ARGUMENT);
  CHECK(std::string(tritium_last_error()).find("\"debug_mode\" is true") != std::string::npos);
  CHECK(parse(R"({"ngram_len": 3, "keys": [1], "debug_mode": false})", 1000, scheme) == TRITIUM_OK);
  tritium_hf_scheme_free(scheme.p);
  scheme.p = nullptr;
  CHECK(tritium_hf_stream_create(nullptr, nullptr) == TRITIUM_ERR_INVALID_ARGUMENT);
  CHECK(tritium_hf_stream_active(nullptr) < 0);
}
