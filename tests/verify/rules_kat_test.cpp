// Known answers for the rules an independent implementation needs beyond the PRF (papers/key-file-v1.md,
// papers/kgw.md "Detection rules"), from fixtures/kat/rules_v1.json, which make_rules_kat.py computes
// from those texts alone: gamma's integer threshold, delta's range, which positions are scored under
// each deduplication mode, and the key files that load or are refused.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "tritium/detect.hpp"
#include "tritium/error.hpp"
#include "tritium/key.hpp"

using namespace tritium;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const json& rules_kat() {
  static const json kat = [] {
    std::ifstream in(TRITIUM_FIXTURES_DIR "/kat/rules_v1.json");
    REQUIRE(in);
    return json::parse(in);
  }();
  return kat;
}

std::array<std::uint8_t, key::secret_size> secret_of(const std::string& hex) {
  REQUIRE(hex.size() == 2 * key::secret_size);
  std::array<std::uint8_t, key::secret_size> secret{};
  for (std::size_t i = 0; i < secret.size(); ++i) {
    secret[i] = static_cast<std::uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  }
  return secret;
}

double number_or_special(const json& v) {
  if (v.is_number()) return v.get<double>();
  const std::string s = v.get<std::string>();
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  REQUIRE(s == "nan");
  return std::numeric_limits<double>::quiet_NaN();
}

const char* mark_name(token_mark m) {
  switch (m) {
    case token_mark::no_context: return "unscored";
    case token_mark::duplicate: return "duplicate";
    case token_mark::green: return "green";
    case token_mark::red: return "red";
    case token_mark::scored: return "scored";
  }
  return "?";
}

}  // namespace

TEST_CASE("Rules KAT: gamma becomes T / 2^b with the fewest bits or else T rounded at 16 bits with ties away from zero",
          "[kat][rules]") {
  for (const auto& c : rules_kat()["gamma"]) {
    const std::string text = c["gamma"];
    INFO("gamma " << text);
    kgw_params p;
    if (c["accept"].get<bool>()) {
      p.set_gamma(std::stod(text));
      CHECK(p.gamma_bits == c["gamma_bits"].get<std::uint32_t>());
      CHECK(p.gamma_threshold == c["gamma_threshold"].get<std::uint32_t>());
      p.vocab_size = 1000;
      CHECK_NOTHROW(p.validate());
    } else {
      try {
        p.set_gamma(std::stod(text));
        FAIL("accepted");
      } catch (const error& e) {
        CHECK(e.code() == errc::invalid_argument);
        CHECK_THAT(e.what(), Catch::Contains("gamma"));
      }
    }
  }
}

TEST_CASE("Rules KAT: delta is accepted from 0 to 64 and refused elsewhere", "[kat][rules]") {
  for (const auto& c : rules_kat()["delta"]) {
    INFO("delta " << c["delta"].dump());
    kgw_params p;
    p.vocab_size = 1000;
    p.delta = number_or_special(c["delta"]);
    if (c["accept"].get<bool>()) {
      CHECK_NOTHROW(p.validate());
    } else {
      try {
        p.validate();
        FAIL("accepted");
      } catch (const error& e) {
        CHECK(e.code() == errc::invalid_argument);
        CHECK_THAT(e.what(), Catch::StartsWith("delta: expected a finite value in [0, 64]"));
      }
    }
  }
}

TEST_CASE("Rules KAT: the first h tokens are never scored and deduplication keys on the documented tuple",
          "[kat][rules]") {
  for (const auto& c : rules_kat()["detection"]) {
    kgw_params p;
    p.gamma_bits = c["gamma_bits"];
    p.gamma_threshold = c["gamma_threshold"];
    p.context_width = c["context_width"];
    p.seeding_scheme = *seeding_from_name(c["seeding"]);
    p.vocab_size = c["vocab_size"];
    const key k = key::from_secret(secret_of(c["secret_hex"]), p);
    const kgw_detector detector(k);
    for (const auto& [mode, expected] : c["dedup"].items()) {
      INFO(c["name"].get<std::string>() << ", dedup " << mode);
      detect_options options;
      options.dedup = *dedup_mode_from_name(mode);
      options.want_marks = true;
      // One pooled test over the documents: a tuple scored in an earlier document is a duplicate.
      kgw_detector::corpus pooled(detector, options);
      const auto& documents = c["documents"];
      for (std::size_t i = 0; i < documents.size(); ++i) {
        const std::vector<token_id> tokens = documents[i];
        const detection part = pooled.add(tokens);
        std::vector<std::string> marks;
        for (token_mark m : part.marks) marks.push_back(mark_name(m));
        CHECK(marks == expected["marks"][i].get<std::vector<std::string>>());
      }
      const detection total = pooled.result();
      CHECK(total.tokens == expected["pooled"]["tokens"].get<std::uint64_t>());
      CHECK(total.scored == expected["pooled"]["scored"].get<std::uint64_t>());
      CHECK(total.green == expected["pooled"]["green"].get<std::uint64_t>());
      if (documents.size() == 1) {
        // A single document detected alone gives the same marks as the pooled test.
        const detection alone = detector.detect(documents[0].get<std::vector<token_id>>(), options);
        CHECK(alone.scored == total.scored);
        CHECK(alone.green == total.green);
      }
    }
  }
}

TEST_CASE("Rules KAT: key files written from the layout load and every documented refusal is made",
          "[kat][rules]") {
  const fs::path dir = fs::temp_directory_path() / ("tritium-rules-kat-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path path = dir / "case.key";
  for (const auto& c : rules_kat()["key_files"]) {
    INFO("key file: " << c["name"].get<std::string>());
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << c["text"].get<std::string>();
    }
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
    if (c["accept"].get<bool>()) {
      const key k = key::load(path);
      const auto& e = c["expect"];
      CHECK(k.id() == c["key_id"].get<std::string>());
      CHECK(k.params().gamma_bits == e["gamma_bits"].get<std::uint32_t>());
      CHECK(k.params().gamma_threshold == e["gamma_threshold"].get<std::uint32_t>());
      CHECK(k.params().delta == e["delta"].get<double>());
      CHECK(k.params().context_width == e["context_width"].get<std::uint32_t>());
      CHECK(seeding_name(k.params().seeding_scheme) == e["seeding"].get<std::string>());
      CHECK(k.params().vocab_size == e["vocab_size"].get<std::uint32_t>());
      CHECK(k.params().tokenizer_digest == e["tokenizer_digest"].get<std::string>());
      CHECK(k.params().tokenizer_vocab_size == e["tokenizer_vocab_size"].get<std::uint32_t>());
      std::vector<std::string> schemes;
      for (const scheme_kind s : schemes_in(k.params().schemes)) schemes.emplace_back(scheme_name(s));
      CHECK(schemes == e["schemes"].get<std::vector<std::string>>());
    } else {
      try {
        (void)key::load(path);
        FAIL("accepted");
      } catch (const error& e) {
        CHECK(errc_name(e.code()) == c["error"].get<std::string>());
        CHECK_THAT(e.what(), Catch::Contains(c["message_has"].get<std::string>()));
      }
    }
  }
  fs::remove_all(dir);
}
