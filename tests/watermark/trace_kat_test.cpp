// Known answers for tritium-trace-v1, produced by an independent Python implementation of the
// written specification (fixtures/kat/make_trace_kat.py, papers/trace-v1.md), plus the parameter
// checks and the uniformity of positions and account lanes that the exact null of tracing rests on.
#include <sodium.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bias_kernels.hpp"
#include "tritium/error.hpp"
#include "tritium/key.hpp"
#include "tritium/kgw.hpp"
#include "tritium/kgw_stream.hpp"
#include "tritium/sampling_rng.hpp"
#include "tritium/trace.hpp"
#include "tritium/uniformity.hpp"

using namespace tritium;
using json = nlohmann::json;

namespace {

json load_kat() {
  std::ifstream in(TRITIUM_FIXTURES_DIR "/kat/trace_v1.json");
  REQUIRE(in);
  return json::parse(in);
}

std::string bytes_from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

template <typename Bytes>
std::string hex_of(const Bytes& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  for (auto b : bytes) {
    hex += digits[static_cast<std::uint8_t>(b) >> 4];
    hex += digits[static_cast<std::uint8_t>(b) & 15];
  }
  return hex;
}

std::string sha256_hex(const std::vector<std::uint8_t>& bytes) {
  std::array<std::uint8_t, 32> digest{};
  crypto_hash_sha256(digest.data(), bytes.data(), bytes.size());
  return hex_of(digest);
}

key kat_key(const json& kat) {
  const std::string secret_bytes = bytes_from_hex(kat["secret_hex"]);
  std::array<std::uint8_t, key::secret_size> secret{};
  REQUIRE(secret_bytes.size() == secret.size());
  std::copy(secret_bytes.begin(), secret_bytes.end(), secret.begin());
  kgw_params p;
  p.vocab_size = 151936;
  const key k = key::from_secret(secret, p);
  REQUIRE(k.id() == kat["key_id"].get<std::string>());
  return k;
}

trace_params params_of(std::uint32_t code_length, std::uint32_t symbol_bits, std::uint32_t width) {
  trace_params p;
  p.code_length = code_length;
  p.symbol_bits = symbol_bits;
  p.position_width = width;
  return p;
}

}  // namespace

TEST_CASE("Trace v1 account fields and code words match the known answers", "[kat][trace]") {
  const json kat = load_kat();
  REQUIRE(kat["trace"] == "tritium-trace-v1");
  const key k = kat_key(kat);
  REQUIRE(kat["accounts"].size() == 7);
  std::vector<std::string> fields;
  for (const auto& a : kat["accounts"]) {
    const std::string id = bytes_from_hex(a["id_hex"]);
    INFO("account " << a["description"].get<std::string>());
    REQUIRE(id.size() == a["bytes"].get<std::size_t>());
    const account_field field = derive_account_field(k, id);
    CHECK(hex_of(field) == a["field_hex"].get<std::string>());
    fields.push_back(hex_of(field));

    const account_code code = derive_account_code(k, id, trace_params{});
    CHECK(hex_of(code.field) == a["field_hex"].get<std::string>());
    REQUIRE(code.symbols.size() == 1024);
    const std::vector<std::uint8_t> first(code.symbols.begin(), code.symbols.begin() + 64);
    CHECK(first == a["symbols_b2_first64"].get<std::vector<std::uint8_t>>());
    const std::vector<std::uint8_t> last(code.symbols.begin() + 1000, code.symbols.end());
    CHECK(last == a["symbols_b2_1000_to_1023"].get<std::vector<std::uint8_t>>());
    CHECK(sha256_hex(code.symbols) == a["symbols_b2_sha256"].get<std::string>());

    const account_code short_code = derive_account_code(k, id, params_of(64, 1, 3));
    CHECK(short_code.symbols == a["symbols_b1_l64"].get<std::vector<std::uint8_t>>());
  }
  // NFC and NFD "José" are different byte strings and therefore different accounts, and so are an
  // id and its extension by a NUL: the derivation normalises nothing and its encoding is injective.
  std::sort(fields.begin(), fields.end());
  CHECK(std::adjacent_find(fields.begin(), fields.end()) == fields.end());
}

TEST_CASE("Trace v1 refuses empty oversized and invalid UTF-8 account ids with pinned messages",
          "[kat][trace]") {
  const json kat = load_kat();
  const key k = kat_key(kat);
  const std::vector<std::string> expected = {
      "account id: expected 1 to 1024 bytes of UTF-8, got 0 bytes",
      "account id: expected 1 to 1024 bytes of UTF-8, got 1025 bytes",
      "account id: expected valid UTF-8, got byte 0x80 at byte offset 0",
      "account id: expected valid UTF-8, got byte 0xc0 at byte offset 2",
  };
  REQUIRE(kat["refusals"].size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const json& r = kat["refusals"][i];
    const std::string id = bytes_from_hex(r["id_hex"]);
    INFO("refusal " << r["description"].get<std::string>());
    REQUIRE(id.size() == r["bytes"].get<std::size_t>());
    if (!r["invalid_utf8_offset"].is_null()) {
      // The offset the independent decoder reports is the one the message names.
      CHECK_THAT(expected[i],
                 Catch::Matchers::EndsWith("at byte offset " +
                                           std::to_string(r["invalid_utf8_offset"].get<int>())));
    }
    CHECK_THROWS_WITH(derive_account_field(k, id), expected[i]);
    CHECK_THROWS_WITH(derive_account_code(k, id, trace_params{}), expected[i]);
    try {
      derive_account_field(k, id);
    } catch (const error& e) {
      CHECK(e.code() == errc::invalid_argument);
    }
  }
}

TEST_CASE("Trace v1 positions match the known answers at L 64 and 1024", "[kat][trace]") {
  const json kat = load_kat();
  const key k = kat_key(kat);
  std::size_t siphash_windows = 0;
  for (const auto& p : kat["positions"]) {
    const std::vector<token_id> window = p["window"];
    INFO("window of " << window.size() << " tokens starting " << window[0]);
    const auto width = static_cast<std::uint32_t>(window.size());
    const trace_prf short_code(k, params_of(64, 2, width));
    const trace_prf long_code(k, params_of(1024, 2, width));
    CHECK(hex_of(short_code.context(window).bytes) == p["context_hex"].get<std::string>());
    CHECK(short_code.position(window) == p["position_l64"].get<std::uint32_t>());
    CHECK(long_code.position(window) == p["position_l1024"].get<std::uint32_t>());
    CHECK(long_code.position(long_code.context(window)) ==
          p["position_l1024"].get<std::uint32_t>());
    if (window.size() > 3) ++siphash_windows;
  }
  CHECK(siphash_windows >= 6);
}

TEST_CASE("Trace v1 account lanes match the known answers", "[kat][trace]") {
  const json kat = load_kat();
  const key k = kat_key(kat);
  REQUIRE(kat["lanes"].size() == 2);
  for (const auto& l : kat["lanes"]) {
    const std::vector<token_id> window = l["window"];
    const std::vector<token_id> candidates = l["candidates"];
    REQUIRE(candidates.size() == 16);
    const auto width = static_cast<std::uint32_t>(window.size());
    const trace_prf two_bits(k, params_of(1024, 2, width));
    const trace_prf one_bit(k, params_of(1024, 1, width));
    std::vector<std::uint32_t> lanes_b2;
    std::vector<std::uint32_t> lanes_b1;
    for (const token_id v : candidates) {
      lanes_b2.push_back(two_bits.account_lane(window, v));
      lanes_b1.push_back(one_bit.account_lane(one_bit.context(window), v));
    }
    CHECK(lanes_b2 == l["lanes_b2"].get<std::vector<std::uint32_t>>());
    CHECK(lanes_b1 == l["lanes_b1"].get<std::vector<std::uint32_t>>());
  }
  const json& dense = kat["dense_row"];
  const std::vector<token_id> window = dense["window"];
  const trace_prf prf(
      k, params_of(1024, dense["symbol_bits"], static_cast<std::uint32_t>(window.size())));
  const prf_context g = prf.context(window);
  std::vector<std::uint8_t> row(dense["vocab_size"].get<std::size_t>());
  for (std::size_t v = 0; v < row.size(); ++v) {
    row[v] = static_cast<std::uint8_t>(prf.account_lane(g, static_cast<token_id>(v)));
  }
  CHECK(sha256_hex(row) == dense["sha256"].get<std::string>());
}

TEST_CASE("Trace parameters outside their ranges are refused naming field and value", "[trace]") {
  CHECK_NOTHROW(trace_params{}.validate());
  CHECK(trace_params{}.code_length == 1024);
  CHECK(trace_params{}.symbol_bits == 2);
  CHECK(trace_params{}.position_width == 3);
  CHECK(trace_params{}.account_delta == 0.75);
  CHECK_NOTHROW(params_of(64, 1, 1).validate());
  CHECK_NOTHROW(params_of(4096, 2, 16).validate());
  const std::string length_error = "trace code_length: expected a power of two in [64, 4096], got ";
  CHECK_THROWS_WITH(params_of(32, 2, 3).validate(), length_error + "32");
  CHECK_THROWS_WITH(params_of(8192, 2, 3).validate(), length_error + "8192");
  CHECK_THROWS_WITH(params_of(1000, 2, 3).validate(), length_error + "1000");
  CHECK_THROWS_WITH(params_of(0, 2, 3).validate(), length_error + "0");
  CHECK_THROWS_WITH(params_of(1024, 0, 3).validate(), "trace symbol_bits: expected 1 or 2, got 0");
  CHECK_THROWS_WITH(params_of(1024, 3, 3).validate(), "trace symbol_bits: expected 1 or 2, got 3");
  CHECK_THROWS_WITH(params_of(1024, 2, 0).validate(),
                    "trace position_width: expected 1 <= h_p <= 16, got 0");
  CHECK_THROWS_WITH(params_of(1024, 2, 17).validate(),
                    "trace position_width: expected 1 <= h_p <= 16, got 17");
  const std::string delta_error = "trace account_delta: expected a value in (0, 8], got ";
  for (const double bad : {0.0, -1.0, 8.5, std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity()}) {
    trace_params p;
    p.account_delta = bad;
    CHECK_THROWS_WITH(p.validate(), delta_error + std::to_string(bad));
    try {
      p.validate();
    } catch (const error& e) {
      CHECK(e.code() == errc::invalid_argument);
    }
  }
  trace_params top;
  top.account_delta = 8.0;
  CHECK_NOTHROW(top.validate());

  // Every entry point validates: the PRF and the code-word derivation refuse the same parameters.
  std::array<std::uint8_t, key::secret_size> secret{};
  kgw_params kp;
  kp.vocab_size = 1000;
  const key k = key::from_secret(secret, kp);
  CHECK_THROWS_WITH(trace_prf(k, params_of(100, 2, 3)), length_error + "100");
  CHECK_THROWS_WITH(derive_account_code(k, "a", params_of(1024, 3, 3)),
                    "trace symbol_bits: expected 1 or 2, got 3");
  const trace_prf prf(k, trace_params{});
  const std::vector<token_id> two = {1, 2};
  CHECK_THROWS_WITH(prf.position(two),
                    "trace position window: expected position_width = 3 tokens, got 2");
  CHECK_THROWS_WITH(prf.account_lane(two, 5),
                    "trace position window: expected position_width = 3 tokens, got 2");
}

// Positions must be uniform over [0, L) and lanes over [0, 2^b_a): the exact null of an innocent
// account's score (papers/attribution.md §4.3) assumes it. The threshold is the 1e-6 upper quantile
// of the chi-square law with L − 1 (or 2^b_a − 1) degrees of freedom, so a correct PRF fails this
// test with probability 1e-6, while a bias of a few percent on one position fails it surely.
TEST_CASE("Trace positions and account lanes are uniform under a fixed seed", "[trace]") {
  std::array<std::uint8_t, key::secret_size> secret{};
  for (std::size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<std::uint8_t>(0xa5 ^ i);
  kgw_params kp;
  kp.vocab_size = 151936;
  const key k = key::from_secret(secret, kp);
  sampling_rng rng(20261203);
  const auto random_token = [&] { return static_cast<token_id>(rng.next() % kp.vocab_size); };
  constexpr double alpha = 1e-6;

  for (const std::uint32_t width : {3u, 4u}) {
    const trace_prf prf(k, params_of(1024, 2, width));
    constexpr std::size_t n = 1024 * 200;
    std::vector<double> counts(1024, 0.0);
    std::vector<token_id> window(width);
    for (std::size_t i = 0; i < n; ++i) {
      for (auto& t : window) t = random_token();
      counts[prf.position(window)] += 1;
    }
    const double expected = static_cast<double>(n) / 1024;
    double chi2 = 0;
    for (const double c : counts) chi2 += (c - expected) * (c - expected) / expected;
    INFO("position window " << width << " chi-square " << chi2 << " on 1023 degrees of freedom");
    CHECK(chi_square_upper_tail(chi2, 1023) > alpha);
  }

  for (const std::uint32_t bits : {1u, 2u}) {
    const trace_prf prf(k, params_of(1024, bits, 3));
    const std::size_t r = std::size_t{1} << bits;
    constexpr std::size_t windows = 2000;
    constexpr std::size_t per_window = 50;
    std::vector<double> counts(r, 0.0);
    std::vector<token_id> window(3);
    for (std::size_t i = 0; i < windows; ++i) {
      for (auto& t : window) t = random_token();
      const prf_context g = prf.context(window);
      for (std::size_t j = 0; j < per_window; ++j) counts[prf.account_lane(g, random_token())] += 1;
    }
    const double expected = static_cast<double>(windows * per_window) / static_cast<double>(r);
    double chi2 = 0;
    for (const double c : counts) chi2 += (c - expected) * (c - expected) / expected;
    INFO("lanes of " << bits << " bits: chi-square " << chi2);
    CHECK(chi_square_upper_tail(chi2, static_cast<double>(r - 1)) > alpha);
  }

  // Code-word symbols over many accounts: uniform over 2^b_a symbols as well.
  std::vector<double> counts(4, 0.0);
  for (int a = 0; a < 200; ++a) {
    for (const std::uint8_t s :
         derive_account_code(k, "acct-" + std::to_string(a), trace_params{}).symbols) {
      counts[s] += 1;
    }
  }
  const double expected = 200.0 * 1024 / 4;
  double chi2 = 0;
  for (const double c : counts) chi2 += (c - expected) * (c - expected) / expected;
  INFO("code-word symbols: chi-square " << chi2);
  CHECK(chi_square_upper_tail(chi2, 3) > alpha);
}

namespace {

// The class of each candidate in a row biased from zeros: 0 none, 1 green, 2 account match, 3 both,
// read off the floats the kernels wrote (papers/trace-v1.md §5 item 4).
std::vector<std::uint8_t> classes_of(const std::vector<float>& row, const std::vector<float>& values) {
  std::vector<std::uint8_t> classes(row.size(), 255);
  for (std::size_t v = 0; v < row.size(); ++v) {
    for (std::uint8_t c = 0; c < 4; ++c) {
      if (row[v] == values[c]) classes[v] = c;
    }
  }
  return classes;
}

std::vector<std::uint8_t> class_counts_hold(const std::vector<std::uint8_t>& classes,
                                            const json& row) {
  std::vector<std::uint64_t> counts(4, 0);
  for (std::uint8_t c : classes) {
    if (c < 4) ++counts[c];
  }
  CHECK(counts == row["class_counts"].get<std::vector<std::uint64_t>>());
  return {classes.begin(), classes.begin() + 64};
}

key biased_row_key(const json& kat, const json& row) {
  const std::string secret_bytes = bytes_from_hex(kat["secret_hex"]);
  std::array<std::uint8_t, key::secret_size> secret{};
  std::copy(secret_bytes.begin(), secret_bytes.end(), secret.begin());
  kgw_params p;
  p.gamma_bits = row["gamma_bits"];
  p.gamma_threshold = row["gamma_threshold"];
  p.delta = row["delta"];
  p.context_width = row["context_width"];
  p.vocab_size = row["vocab_size"];
  trace_params t;
  t.code_length = row["code_length"];
  t.symbol_bits = row["symbol_bits"];
  t.position_width = row["position_width"];
  t.account_delta = row["account_delta"];
  return key::from_secret(secret, p, t);
}

}  // namespace

TEST_CASE("Trace v1 biased rows with an account match the known answers", "[kat][trace]") {
  const json kat = load_kat();
  REQUIRE(kat["biased_rows"].size() == 2);
  for (const json& row : kat["biased_rows"]) {
    INFO(row["description"].get<std::string>());
    const key k = biased_row_key(kat, row);
    const auto scheme = std::make_shared<const kgw>(k);
    const account_code code = derive_account_code(k, bytes_from_hex(row["account_hex"]), *k.trace());
    const std::vector<token_id> history = row["history"];
    const std::vector<float> values = row["bias_values"];
    const std::size_t vocab = row["vocab_size"];

    // The step's position and symbol, from the position window alone.
    const std::vector<token_id> position_window = row["position_window"];
    const account_step step = scheme->account_step_at(position_window, code);
    CHECK(k.trace() != nullptr);
    CHECK(scheme->trace()->position(step.g) == row["position"].get<std::uint32_t>());
    CHECK(step.symbol == row["symbol"].get<std::uint32_t>());

    // Through a stream that saw the whole history (it cuts the KGW and position windows itself),
    // with every dense kernel this CPU has.
    kgw_stream stream(scheme);
    stream.set_account(&code);
    stream.begin(history);
    REQUIRE(stream.account_active());
    std::vector<float> dense(vocab, 0.0f);
    stream.bias_dense(dense);
    const std::vector<std::uint8_t> classes = classes_of(dense, values);
    CHECK(sha256_hex(classes) == row["classes_sha256"].get<std::string>());
    CHECK(class_counts_hold(classes, row) == row["classes_first64"].get<std::vector<std::uint8_t>>());

    // The sparse path gives the same floats for any candidate list.
    const std::vector<token_id> ids = {0, 1, 2, 63, 64, 100, 1000, 65535, 65536,
                                       static_cast<token_id>(vocab - 2), static_cast<token_id>(vocab - 1)};
    std::vector<float> sparse(ids.size(), 0.0f);
    stream.bias_sparse(ids, sparse);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      CHECK(sparse[i] == dense[static_cast<std::size_t>(ids[i])]);
    }

    // Without the account the same stream adds δ to the green candidates only.
    stream.set_account(nullptr);
    std::vector<float> plain(vocab, 0.0f);
    stream.bias_dense(plain);
    for (std::size_t v = 0; v < vocab; ++v) {
      const float expected = (classes[v] & 1) != 0 ? values[1] : 0.0f;
      if (plain[v] != expected) FAIL("candidate " << v << ": " << plain[v] << " != " << expected);
    }
  }
}

TEST_CASE("Every fused dense kernel gives the portable kernel's floats", "[trace]") {
  const json kat = load_kat();
  const json& row = kat["biased_rows"][0];
  const std::vector<float> values = row["bias_values"];
  sampling_rng rng(20261203);
  for (std::uint32_t bits : {1u, 2u, 4u, 8u, 16u}) {
    for (std::uint32_t account_bits : {1u, 2u}) {
      for (std::uint32_t threshold : {1u, 2u, 3u}) {
        if (threshold >= (1u << bits)) continue;
        // Over two 8192-token slices and not a multiple of any vector width; T = 1 and 2 take the
        // AVX-512 fast path at b <= 2, T = 3 the general one.
        const std::size_t n = 17000 + bits;
        std::vector<std::uint8_t> keystream(n * 2 + 64), account_stream(n / 4 + 64);
        for (auto& b : keystream) b = static_cast<std::uint8_t>(rng.next() >> 56);
        for (auto& b : account_stream) b = static_cast<std::uint8_t>(rng.next() >> 56);
        const std::uint32_t symbol = threshold % (1u << account_bits);
        const detail::account_lanes lanes{account_stream.data(), account_bits, symbol, values[2]};
        std::vector<float> reference(n);
        for (auto& x : reference) x = static_cast<float>(rng.uniform()) * 8.0f - 4.0f;
        const std::vector<float> start = reference;
        const auto kernels = detail::available_fused_bias_kernels();
        kernels.front().kernel(reference.data(), keystream.data(), n, bits, threshold, values[1], lanes);
        for (const auto& kernel : kernels) {
          INFO(kernel.name << " b = " << bits << " T = " << threshold << " b_a = " << account_bits);
          std::vector<float> out = start;
          kernel.kernel(out.data(), keystream.data(), n, bits, threshold, values[1], lanes);
          CHECK(out == reference);
        }
      }
    }
  }
}

TEST_CASE("The Python-written trace key file loads with its trace parameters", "[kat][trace][key]") {
  // fixtures/kat/trace_v1.key is written by make_trace_kat.py --key-file: its MAC, computed from
  // papers/key-file-v1.md §5 alone, covers params.trace.
  const json kat = load_kat();
  const json& row = kat["biased_rows"][0];
  const key k = key::load(TRITIUM_FIXTURES_DIR "/kat/trace_v1.key");
  CHECK(k.id() == kat["key_id"].get<std::string>());
  REQUIRE(k.trace() != nullptr);
  CHECK(k.trace()->code_length == row["code_length"].get<std::uint32_t>());
  CHECK(k.trace()->symbol_bits == row["symbol_bits"].get<std::uint32_t>());
  CHECK(k.trace()->position_width == row["position_width"].get<std::uint32_t>());
  CHECK(k.trace()->account_delta == row["account_delta"].get<double>());
  CHECK(k.params().delta == row["delta"].get<double>());
  CHECK(k.params().context_width == row["context_width"].get<std::uint32_t>());
}
