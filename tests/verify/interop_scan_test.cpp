// transformers watermark configurations read as a whole-input scan (tritium/interop_scan.hpp). The CLI
// test (tests/cli/hf_config_test.sh) drives the same code through files, goldens and refusals.
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <vector>

#include "support/synthid_text.hpp"
#include "tritium/error.hpp"
#include "tritium/hf_kgw_detect.hpp"
#include "tritium/hf_synthid_detect.hpp"
#include "tritium/interop_scan.hpp"

using namespace tritium;

TEST_CASE("A generation config and its watermarking_config alone read the same", "[interop]") {
  const interop_config a = parse_interop_config(
      R"({"do_sample": true, "watermarking_config": {"greenlist_ratio": 0.5, "hashing_key": 7, "seeding_scheme": "selfhash", "context_width": 3}})",
      "a");
  const interop_config b =
      parse_interop_config(R"({"greenlist_ratio": 0.5, "hashing_key": 7, "seeding_scheme": "selfhash", "context_width": 3})", "b");
  for (const interop_config* c : {&a, &b}) {
    CHECK(c->kind == interop_kind::hf_kgw);
    CHECK(c->kgw.greenlist_ratio == 0.5);
    CHECK(c->kgw.hashing_key == 7);
    CHECK(c->kgw.seeding == hf_seeding::selfhash);
    CHECK(c->kgw.context_width == 3);
    CHECK(c->kgw.bias == 2.0f);  // transformers' default where the file is silent
  }
  const interop_config s = parse_interop_config(R"({"ngram_len": 4, "keys": [-3, 9223372036854775807]})", "s");
  CHECK(s.kind == interop_kind::hf_synthid);
  CHECK(s.synthid.keys == std::vector<std::int64_t>{-3, INT64_MAX});
  CHECK(s.synthid.context_history_size == 1024);
  // The printed line names no key and no table seed.
  CHECK(interop_description(s) ==
        "transformers SynthID-Text: 2 layers, ngram_len 4, context history 1024, sampling table 65536");
  CHECK_THROWS_AS(parse_interop_config(R"({"ngram_len": 4, "keys": [1], "bias": 2})", "m"), error);
}

TEST_CASE("An interop scan's rows are the detectors' own", "[interop]") {
  std::mt19937_64 rng(5);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  interop_config config = parse_interop_config(R"({"ngram_len": 3, "keys": [11, 22, 33, 44]})", "s");
  interop_spec spec;
  spec.input = "-";
  const hf_synthid scheme(config.synthid);
  const std::vector<token_id> text = test::synthid_text(scheme, true, 500, 150, rng, normal);
  const interop_scan scan(spec, config, scan_environment{});
  const interop_detection d = scan.detect(text);
  const hf_synthid_detection direct = hf_synthid_detect(scheme, text);
  CHECK(d.scored == direct.scored);
  CHECK(d.count == direct.ones);
  CHECK(d.ln_p == direct.ln_p);
  CHECK(d.detected);

  // A history longer than the text answers as one just longer than its positions.
  config.synthid.context_history_size = 1u << 24;
  const interop_detection long_history = interop_scan(spec, config, scan_environment{}).detect(text);
  CHECK(long_history.scored == d.scored);
  CHECK(long_history.ln_p == d.ln_p);

  interop_config kgw = parse_interop_config(R"({"greenlist_ratio": 0.25})", "k");
  CHECK_THROWS_AS(interop_scan(spec, kgw, scan_environment{}), error);  // no vocabulary size
  kgw.kgw.vocab_size = 500;
  spec.bos = 0;
  const interop_scan kgw_scan(spec, kgw, scan_environment{});
  hf_kgw_detect_options o;
  o.bos = 0;
  const detection direct_kgw = hf_kgw_detect(hf_kgw(kgw.kgw), text, o);
  const interop_detection k = kgw_scan.detect(text);
  CHECK(k.scored == direct_kgw.scored);
  CHECK(k.count == direct_kgw.green);
  CHECK(k.ln_p == direct_kgw.ln_p);
  CHECK(k.p_is_bound);
  CHECK_FALSE(k.detected);  // SynthID text is no KGW evidence
}
