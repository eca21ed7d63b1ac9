// Acceptance tests of the reference language model (tritium/ngram_lm.hpp): the smoothing against an
// independent implementation, distributions on a real tokenizer's vocabulary, held-out perplexity,
// reproducible generation, watermark power and calibration on the model's own text, a first sign of
// radioactivity (a student trained on watermarked text carries the watermark), and the file format's
// failure modes.
//
// Every statistical test uses fixed seeds; its threshold comes from the distribution it tests (the
// comments give the arithmetic), so a pass is not luck and a real defect makes it fail.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include "support/binomial_interval.hpp"
#include "support/test_keys.hpp"
#include "tritium/sampler.hpp"
#include "tritium/binomial_tail.hpp"
#include "tritium/detect.hpp"
#include "tritium/error.hpp"
#include "tritium/gumbel_detect.hpp"
#include "tritium/key.hpp"
#include "tritium/unigram_detect.hpp"
#include "tritium/kgw.hpp"
#include "tritium/lm_corpus.hpp"
#include "tritium/ngram_lm.hpp"
#include "tritium/tokenizer.hpp"

using namespace tritium;
namespace fs = std::filesystem;

namespace {

using clock_type = std::chrono::steady_clock;
using documents = std::vector<std::vector<token_id>>;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// A fresh path in the temporary directory (unique per process and call).
fs::path temp_path(const std::string& stem) {
  static std::atomic<unsigned> counter{0};
  return fs::temp_directory_path() /
         ("tritium-ngram-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + stem);
}

// Trains, writes, loads. The file is unlinked right after loading: the mapping stays valid.
ngram_lm train_and_load(std::uint32_t order, std::uint32_t vocab, const documents& docs,
                        const std::string& digest = "") {
  ngram_trainer trainer(order, vocab);
  for (const auto& d : docs) trainer.add(d);
  const fs::path path = temp_path("model.tlm");
  {
    std::ofstream file(path, std::ios::binary);
    trainer.write(file, digest);
  }
  ngram_lm lm = ngram_lm::load(path);
  fs::remove(path);
  return lm;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out);
}

// One string field of every line of a JSON Lines fixture.
std::vector<std::string> read_field(const std::string& name, const char* field) {
  std::istringstream in(slurp(fs::path(TRITIUM_FIXTURES_DIR) / "corpus" / name));
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line).at(field).get<std::string>());
  }
  return out;
}

unsigned workers() { return std::clamp(std::thread::hardware_concurrency(), 1u, 4u); }

// Runs body(t, w) on w threads (t = 0..w−1); callers stride their work by w, and every item's result
// depends on its index alone, never on w. Rethrows the first exception in the caller.
template <class F>
void on_threads(F body) {
  const unsigned w = workers();
  std::vector<std::exception_ptr> errors(w);
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < w; ++t) {
    threads.emplace_back([&, t] {
      try {
        body(t, w);
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

documents encode_all(const tokenizer& tok, const std::vector<std::string>& texts) {
  documents out(texts.size());
  on_threads([&](unsigned t, unsigned w) {
    tokenizer::session session(tok);
    for (std::size_t i = t; i < texts.size(); i += w) session.encode(texts[i], out[i]);
  });
  return out;
}

std::uint64_t token_count(const documents& docs) {
  std::uint64_t n = 0;
  for (const auto& d : docs) n += d.size();
  return n;
}

// Shared test artefacts (tests/CMakeLists.txt): ctest runs each test case in a process of its own,
// so the tokenized corpora and the trained models are built once by the hidden "[.lm-artefacts]"
// case into $TRITIUM_TEST_ARTEFACTS and loaded from there. Without that variable (a test run by
// hand) every process builds them itself; the figures are the same either way.
const char* artefacts_dir() {
  const char* dir = std::getenv("TRITIUM_TEST_ARTEFACTS");
  return dir != nullptr && *dir != '\0' ? dir : nullptr;
}

// Documents as u64 count, then per document u64 length and its ids (int32, native order).
void write_documents(const fs::path& path, const documents& docs) {
  std::string bytes;
  auto put = [&](std::uint64_t v) { bytes.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(docs.size());
  for (const auto& d : docs) {
    put(d.size());
    bytes.append(reinterpret_cast<const char*>(d.data()), d.size() * sizeof(token_id));
  }
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    REQUIRE(out);
  }
  fs::rename(tmp, path);
}

documents read_documents(const fs::path& path) {
  const std::string bytes = slurp(path);
  std::size_t at = 0;
  auto get = [&] {
    REQUIRE(at + 8 <= bytes.size());
    std::uint64_t v = 0;
    std::memcpy(&v, bytes.data() + at, 8);
    at += 8;
    return v;
  };
  documents docs(get());
  for (auto& d : docs) {
    d.resize(get());
    REQUIRE(at + d.size() * sizeof(token_id) <= bytes.size());
    std::memcpy(d.data(), bytes.data() + at, d.size() * sizeof(token_id));
    at += d.size() * sizeof(token_id);
  }
  REQUIRE(at == bytes.size());
  return docs;
}

// The corpora, tokenized with the Qwen3 tokenizer and shared by the tests below.
struct corpora {
  std::uint32_t vocab_size = 0;  // the tokenizer's, with its digest: all the tests need of it
  std::string digest;
  documents moby;        // Moby-Dick, one document per chapter
  documents sotu_part;   // the last `sotu_speeches` speeches of sotu_train (1970–2009)
  documents heldout;     // sotu_heldout (2010–2021)
  documents prompts;     // prompts.jsonl (sentences from the held-out speeches)
  double seconds = 0.0;  // time spent tokenizing
};

constexpr std::size_t sotu_speeches = 40;
constexpr std::array<const char*, 4> corpus_names = {"moby", "sotu_part", "heldout", "prompts"};

const corpora& data() {
  static const corpora c = [] {
    const auto t0 = clock_type::now();
    corpora x;
    documents* parts[] = {&x.moby, &x.sotu_part, &x.heldout, &x.prompts};
    if (const char* dir = artefacts_dir(); dir != nullptr && fs::exists(fs::path(dir) / "tokenizer.txt")) {
      std::istringstream about(slurp(fs::path(dir) / "tokenizer.txt"));
      about >> x.vocab_size >> x.digest;
      REQUIRE(x.vocab_size > 0);
      for (std::size_t i = 0; i < corpus_names.size(); ++i) {
        *parts[i] = read_documents(fs::path(dir) / (std::string(corpus_names[i]) + ".tokens"));
      }
      return x;
    }
    const tokenizer tok = tokenizer::load(fs::path(TRITIUM_FIXTURES_DIR) / "tokenizers" / "qwen3" / "tokenizer.json");
    x.vocab_size = tok.vocab_size();
    x.digest = tok.digest();
    x.moby = encode_all(tok, read_field("moby_dick.jsonl", "text"));
    auto sotu = read_field("sotu_train.jsonl", "text");
    sotu.erase(sotu.begin(), sotu.end() - static_cast<std::ptrdiff_t>(std::min(sotu_speeches, sotu.size())));
    x.sotu_part = encode_all(tok, sotu);
    x.heldout = encode_all(tok, read_field("sotu_heldout.jsonl", "text"));
    x.prompts = encode_all(tok, read_field("prompts.jsonl", "prompt"));
    x.seconds = seconds_since(t0);
    return x;
  }();
  return c;
}

// A model trained once: loaded from the artefacts folder when it is there.
ngram_lm shared_model(const char* name, std::uint32_t order, const std::function<documents()>& docs) {
  if (const char* dir = artefacts_dir(); dir != nullptr && fs::exists(fs::path(dir) / name)) {
    return ngram_lm::load(fs::path(dir) / name);
  }
  return train_and_load(order, data().vocab_size, docs(), data().digest);
}

// Order 4 on Moby-Dick alone.
documents moby_documents() { return data().moby; }
const ngram_lm& moby_model() {
  static const ngram_lm lm = shared_model("moby-4gram.tlm", 4, moby_documents);
  return lm;
}

// The "real" model of the watermark tests: order 4 on Moby-Dick and recent State of the Union
// speeches, like the demo's reference model (which is trained on all of sotu_train).
documents teacher_documents() {
  documents docs = data().moby;
  docs.insert(docs.end(), data().sotu_part.begin(), data().sotu_part.end());
  return docs;
}
const ngram_lm& teacher_model() {
  static const ngram_lm lm = shared_model("teacher-4gram.tlm", 4, teacher_documents);
  return lm;
}

// A KGW key with γ = 0.25, δ = 2, h = 1 (left hash) and a secret drawn from `seed`.
key make_key(std::uint32_t vocab, std::uint64_t seed) { return test::seeded_key(vocab, seed); }

// `count` completions of `length` tokens at temperature 1 and top-p 1: completion i continues
// prompts[i mod |prompts|] with seed seed0 + i. Watermarked when `scheme` is given.
documents generate_many(const language_model& lm, const std::shared_ptr<const kgw>& scheme,
                        const documents& prompts, std::size_t count, std::uint32_t length, std::uint64_t seed0) {
  documents out(count);
  on_threads([&](unsigned t, unsigned w) {
    next_token_sampler sampler(lm, scheme, scheme == nullptr, 1.0, 1.0);
    for (std::size_t i = t; i < count; i += w) {
      out[i] = sampler.generate(prompts[i % prompts.size()], length, seed0 + i);
    }
  });
  return out;
}

using test::binomial_interval;

// ---------------------------------------------------------------------------------------------
// Reference values for the hand-computed smoothing test. Regenerate with
//   python3 tests/verify/make_kn_reference.py
// (an independent exact-rational implementation of the rules in tritium/ngram_lm.hpp) and paste its
// output here. Rows follow `kn_contexts`; columns are the ids 0..7. The script asserts that every row
// sums to exactly 1. Checked by hand: the unigram level of both models has the 17 distinct bigram
// types as its total and continuation counts 6, 1, 4, 2, 2, 2 for the ids 0..5 (n3 = 0: fallback
// discounts), so N1 = 1, N2 = 3, N3+ = 2 and γ = (0.5·1 + 1·3 + 1.5·2)/17 = 13/34; an unseen id gets
// (13/34)/8 = 13/272 ≈ 0.0477941 and id 0 gets (6 − 1.5)/17 + 13/272 = 85/272 = 0.3125.
// Generated by tests/verify/make_kn_reference.py — do not edit by hand.
constexpr std::uint32_t kn_vocab = 8;
const std::vector<std::vector<token_id>> kn_documents = {
    {0, 4, 5, 2, 0, 0, 0, 0, 4, 0, 2, 1, 2, 4, 0, 0, 0, 0, 2, 4, 0, 0},
    {0, 2, 0, 3, 3, 3, 0, 2, 0, 3, 3},
    {0, 0, 2, 2, 4, 0, 5, 0},
};
const std::vector<std::vector<token_id>> kn_contexts = {
    {},
    {0},
    {2},
    {5},
    {7},
    {0, 0},
    {2, 4},
    {3, 3},
    {7, 0},
    {0, 7},
    {6, 7},
    {1, 2, 4, 0},
};
// order 2:
//   level 1: 6 grams, n1..n4 = [1, 3, 0, 1], D = ['1/2', '1', '3/2']
//   level 2: 17 grams, n1..n4 = [8, 2, 4, 1], D = ['2/3', '1/20', '7/3']
const std::vector<std::array<double, 3>> kn_discounts_order2 = {
    {0.5, 1.0, 1.5},
    {0.6666666666666666, 0.05, 2.3333333333333335},
};
const std::vector<std::array<double, 8>> kn_expected_order2 = {
    {0.4652777777777778, 0.06004901960784314, 0.15155228758169934, 0.08292483660130719, 0.08292483660130719, 0.08292483660130719, 0.037173202614379085, 0.037173202614379085},  // []
    {0.40914351851851855, 0.023304738562091504, 0.20696486928104574, 0.14051606753812637, 0.14051606753812637, 0.050701252723311545, 0.014426742919389978, 0.014426742919389978},  // [0]
    {0.3177083333333333, 0.09957107843137254, 0.1878063725490196, 0.07996323529411764, 0.16329656862745098, 0.07996323529411764, 0.035845588235294115, 0.035845588235294115},  // [2]
    {0.375, 0.051470588235294115, 0.2965686274509804, 0.07107843137254902, 0.07107843137254902, 0.07107843137254902, 0.031862745098039214, 0.031862745098039214},  // [5]
    {0.3125, 0.07720588235294118, 0.1948529411764706, 0.10661764705882353, 0.10661764705882353, 0.10661764705882353, 0.04779411764705882, 0.04779411764705882},  // [7]
    {0.40914351851851855, 0.023304738562091504, 0.20696486928104574, 0.14051606753812637, 0.14051606753812637, 0.050701252723311545, 0.014426742919389978, 0.014426742919389978},  // [0, 0]
    {0.5208333333333334, 0.04632352941176471, 0.11691176470588235, 0.06397058823529411, 0.06397058823529411, 0.1306372549019608, 0.028676470588235293, 0.028676470588235293},  // [2, 4]
    {0.3177083333333333, 0.057904411764705885, 0.14613970588235295, 0.24662990196078433, 0.07996323529411764, 0.07996323529411764, 0.035845588235294115, 0.035845588235294115},  // [3, 3]
    {0.40914351851851855, 0.023304738562091504, 0.20696486928104574, 0.14051606753812637, 0.14051606753812637, 0.050701252723311545, 0.014426742919389978, 0.014426742919389978},  // [7, 0]
    {0.3125, 0.07720588235294118, 0.1948529411764706, 0.10661764705882353, 0.10661764705882353, 0.10661764705882353, 0.04779411764705882, 0.04779411764705882},  // [0, 7]
    {0.3125, 0.07720588235294118, 0.1948529411764706, 0.10661764705882353, 0.10661764705882353, 0.10661764705882353, 0.04779411764705882, 0.04779411764705882},  // [6, 7]
    {0.40914351851851855, 0.023304738562091504, 0.20696486928104574, 0.14051606753812637, 0.14051606753812637, 0.050701252723311545, 0.014426742919389978, 0.014426742919389978},  // [1, 2, 4, 0]
};
const std::array<double, 8> kn_unigram_order2 = {0.3125, 0.07720588235294118, 0.1948529411764706, 0.10661764705882353, 0.10661764705882353, 0.10661764705882353, 0.04779411764705882, 0.04779411764705882};
// order 3:
//   level 1: 6 grams, n1..n4 = [1, 3, 0, 1], D = ['1/2', '1', '3/2']
//   level 2: 17 grams, n1..n4 = [10, 4, 1, 2], D = ['5/9', '19/12', '1/20']
//   level 3: 29 grams, n1..n4 = [21, 5, 2, 1], D = ['21/31', '184/155', '51/31']
const std::vector<std::array<double, 3>> kn_discounts_order3 = {
    {0.5, 1.0, 1.5},
    {0.5555555555555556, 1.5833333333333333, 0.05},
    {0.6774193548387096, 1.1870967741935483, 1.6451612903225807},
};
const std::vector<std::array<double, 8>> kn_expected_order3 = {
    {0.7905465949820788, 0.023521505376344086, 0.05936379928315412, 0.032482078853046596, 0.032482078853046596, 0.032482078853046596, 0.014560931899641577, 0.014560931899641577},  // []
    {0.3798079077060932, 0.012179297122074636, 0.3612489787581699, 0.04190863509382248, 0.14786741645582965, 0.04190863509382248, 0.007539564885093822, 0.007539564885093822},  // [0]
    {0.18204365079365079, 0.09376167133520075, 0.13988678804855276, 0.041800887021475254, 0.4632294584500467, 0.041800887021475254, 0.018738328664799252, 0.018738328664799252},  // [2]
    {0.3958333333333333, 0.0428921568627451, 0.3304738562091503, 0.05923202614379085, 0.05923202614379085, 0.05923202614379085, 0.026552287581699346, 0.026552287581699346},  // [5]
    {0.3125, 0.07720588235294118, 0.1948529411764706, 0.10661764705882353, 0.10661764705882353, 0.10661764705882353, 0.04779411764705882, 0.04779411764705882},  // [7]
    {0.5379305342208568, 0.009014336917562723, 0.3039179040791944, 0.031018091824543438, 0.07594043352107868, 0.031018091824543438, 0.0055803038061102575, 0.0055803038061102575},  // [0, 0]
    {0.6499589307048984, 0.030185931899641576, 0.07618354241338113, 0.04168533452807646, 0.04168533452807646, 0.12292786738351255, 0.01868652927120669, 0.01868652927120669},  // [2, 4]
    {0.41257840501792115, 0.037288504111321945, 0.09410908180476492, 0.3068699926207042, 0.05149364853468269, 0.05149364853468269, 0.023083359687961207, 0.023083359687961207},  // [3, 3]
    {0.4019386574074074, 0.017978962418300652, 0.37454214324618734, 0.0618651279956427, 0.05955031318082789, 0.0618651279956427, 0.011129833877995642, 0.011129833877995642},  // [7, 0]
    {0.3125, 0.07720588235294118, 0.1948529411764706, 0.10661764705882353, 0.10661764705882353, 0.10661764705882353, 0.04779411764705882, 0.04779411764705882},  // [0, 7]
    {0.3125, 0.07720588235294118, 0.1948529411764706, 0.10661764705882353, 0.10661764705882353, 0.10661764705882353, 0.04779411764705882, 0.04779411764705882},  // [6, 7]
    {0.4586513403524492, 0.011425340633565255, 0.31866065232096424, 0.039314291016585845, 0.03784326353749385, 0.11995945230690842, 0.007072829916016586, 0.007072829916016586},  // [1, 2, 4, 0]
};
const std::array<double, 8> kn_unigram_order3 = {0.3125, 0.07720588235294118, 0.1948529411764706, 0.10661764705882353, 0.10661764705882353, 0.10661764705882353, 0.04779411764705882, 0.04779411764705882};
// probability_up_to(context, w, 2) of the order-3 model
const std::vector<std::array<double, 8>> kn_up_to_2_order3 = {
    {0.6180555555555556, 0.0428921568627451, 0.10825163398692811, 0.05923202614379085, 0.05923202614379085, 0.05923202614379085, 0.026552287581699346, 0.026552287581699346},  // []
    {0.4019386574074074, 0.017978962418300652, 0.37454214324618734, 0.0618651279956427, 0.05955031318082789, 0.0618651279956427, 0.011129833877995642, 0.011129833877995642},  // [0]
    {0.18204365079365079, 0.09376167133520075, 0.13988678804855276, 0.041800887021475254, 0.4632294584500467, 0.041800887021475254, 0.018738328664799252, 0.018738328664799252},  // [2]
    {0.3958333333333333, 0.0428921568627451, 0.3304738562091503, 0.05923202614379085, 0.05923202614379085, 0.05923202614379085, 0.026552287581699346, 0.026552287581699346},  // [5]
    {0.3125, 0.07720588235294118, 0.1948529411764706, 0.10661764705882353, 0.10661764705882353, 0.10661764705882353, 0.04779411764705882, 0.04779411764705882},  // [7]
    {0.4019386574074074, 0.017978962418300652, 0.37454214324618734, 0.0618651279956427, 0.05955031318082789, 0.0618651279956427, 0.011129833877995642, 0.011129833877995642},  // [0, 0]
    {0.3616898148148148, 0.055044934640522875, 0.1389229302832244, 0.07601443355119826, 0.07601443355119826, 0.2241625816993464, 0.034075435729847496, 0.034075435729847496},  // [2, 4]
    {0.37094907407407407, 0.055044934640522875, 0.1389229302832244, 0.21490332244008714, 0.07601443355119826, 0.07601443355119826, 0.034075435729847496, 0.034075435729847496},  // [3, 3]
    {0.4019386574074074, 0.017978962418300652, 0.37454214324618734, 0.0618651279956427, 0.05955031318082789, 0.0618651279956427, 0.011129833877995642, 0.011129833877995642},  // [7, 0]
    {0.3125, 0.07720588235294118, 0.1948529411764706, 0.10661764705882353, 0.10661764705882353, 0.10661764705882353, 0.04779411764705882, 0.04779411764705882},  // [0, 7]
    {0.3125, 0.07720588235294118, 0.1948529411764706, 0.10661764705882353, 0.10661764705882353, 0.10661764705882353, 0.04779411764705882, 0.04779411764705882},  // [6, 7]
    {0.4019386574074074, 0.017978962418300652, 0.37454214324618734, 0.0618651279956427, 0.05955031318082789, 0.0618651279956427, 0.011129833877995642, 0.011129833877995642},  // [1, 2, 4, 0]
};

void check_against_reference(const ngram_lm& lm, const std::vector<std::array<double, 3>>& discounts,
                             const std::vector<std::array<double, kn_vocab>>& expected,
                             const std::array<double, kn_vocab>& unigram) {
  REQUIRE(lm.order() == discounts.size());
  for (std::uint32_t k = 1; k <= lm.order(); ++k) {
    const auto d = lm.discounts(k);
    for (std::size_t c = 0; c < 3; ++c) {
      INFO("order " << k << ", D" << c + 1 << ": " << d[c] << " vs " << discounts[k - 1][c]);
      CHECK(std::abs(d[c] - discounts[k - 1][c]) <= 1e-12);
    }
  }
  REQUIRE(expected.size() == kn_contexts.size());
  std::vector<double> dist(kn_vocab);
  for (std::size_t i = 0; i < kn_contexts.size(); ++i) {
    const auto& context = kn_contexts[i];
    lm.distribution(context, dist);
    for (token_id w = 0; w < static_cast<token_id>(kn_vocab); ++w) {
      const auto u = static_cast<std::size_t>(w);
      const double p = lm.probability(context, w);
      INFO("context #" << i << " (" << context.size() << " ids), token " << w << ": probability " << p
                       << ", distribution " << dist[u] << ", expected " << expected[i][u]);
      CHECK(std::abs(p - expected[i][u]) <= 1e-12);
      CHECK(std::abs(dist[u] - expected[i][u]) <= 1e-12);
      CHECK(std::abs(lm.probability_up_to(context, w, 1) - unigram[u]) <= 1e-12);
    }
  }
}

}  // namespace

// Not a test: the setup step of the shared artefacts (tests/CMakeLists.txt, fixture lm_artefacts).
TEST_CASE("ngram_lm: build the shared test artefacts", "[.lm-artefacts]") {
  const char* dir = artefacts_dir();
  REQUIRE(dir != nullptr);
  fs::remove_all(dir);  // built afresh from this build's code, never reused from an earlier one
  fs::create_directories(dir);
  const corpora& c = data();
  const documents* parts[] = {&c.moby, &c.sotu_part, &c.heldout, &c.prompts};
  for (std::size_t i = 0; i < corpus_names.size(); ++i) {
    write_documents(fs::path(dir) / (std::string(corpus_names[i]) + ".tokens"), *parts[i]);
  }
  {
    std::ofstream about(fs::path(dir) / "tokenizer.txt");
    about << c.vocab_size << "\n" << c.digest << "\n";
    about.close();
    REQUIRE(about);
  }
  for (const auto& [name, docs] : {std::pair{"moby-4gram.tlm", moby_documents()}, std::pair{"teacher-4gram.tlm", teacher_documents()}}) {
    ngram_trainer trainer(4, c.vocab_size);
    for (const auto& d : docs) trainer.add(d);
    const fs::path tmp = fs::path(dir) / (std::string(name) + ".tmp");
    std::ofstream file(tmp, std::ios::binary);
    trainer.write(file, c.digest);
    file.close();
    REQUIRE(file);
    fs::rename(tmp, fs::path(dir) / name);
  }
}

TEST_CASE("ngram_lm: interpolated modified Kneser-Ney matches an independent implementation", "[lm]") {
  SECTION("order 2") {
    const ngram_lm lm = train_and_load(2, kn_vocab, kn_documents, "sha256:test");
    CHECK(lm.vocab_size() == kn_vocab);
    CHECK(lm.context_length() == 1);
    CHECK(lm.training_tokens() == 41);
    CHECK(lm.tokenizer_digest() == "sha256:test");
    check_against_reference(lm, kn_discounts_order2, kn_expected_order2, kn_unigram_order2);
  }
  SECTION("order 3") {
    const ngram_lm lm = train_and_load(3, kn_vocab, kn_documents);
    CHECK(lm.context_length() == 2);
    CHECK(lm.tokenizer_digest().empty());
    check_against_reference(lm, kn_discounts_order3, kn_expected_order3, kn_unigram_order3);
    for (std::size_t i = 0; i < kn_contexts.size(); ++i) {
      for (token_id w = 0; w < static_cast<token_id>(kn_vocab); ++w) {
        const double p = lm.probability_up_to(kn_contexts[i], w, 2);
        INFO("context #" << i << ", token " << w << ": levels 1..2 give " << p);
        CHECK(std::abs(p - kn_up_to_2_order3[i][static_cast<std::size_t>(w)]) <= 1e-12);
      }
    }
    CHECK_THROWS_AS(lm.discounts(0), tritium::error);
    CHECK_THROWS_AS(lm.discounts(4), tritium::error);
  }
}

TEST_CASE("ngram_lm: model files written by an earlier build load and give the same probabilities",
          "[lm]") {
  // fixtures/lm holds the two models above as written on 2026-12-03 (format of that day): a change to
  // the file layout or to how a model reads it must keep them loading with every probability intact.
  SECTION("order 2") {
    const ngram_lm lm = ngram_lm::load(TRITIUM_FIXTURES_DIR "/lm/kn-order2.tlm");
    CHECK(lm.tokenizer_digest() == "sha256:test");
    CHECK(lm.training_tokens() == 41);
    check_against_reference(lm, kn_discounts_order2, kn_expected_order2, kn_unigram_order2);
  }
  SECTION("order 3") {
    const ngram_lm lm = ngram_lm::load(TRITIUM_FIXTURES_DIR "/lm/kn-order3.tlm");
    CHECK(lm.tokenizer_digest().empty());
    check_against_reference(lm, kn_discounts_order3, kn_expected_order3, kn_unigram_order3);
  }
}

// Not a test: rewrites fixtures/lm (fixtures/README.md). Hidden, so neither ctest nor a plain run
// of the test binary executes it.
TEST_CASE("ngram_lm: write the model-file fixtures", "[.write-lm-fixtures]") {
  const char* dir = std::getenv("TRITIUM_LM_FIXTURES_OUT");
  REQUIRE(dir != nullptr);
  for (const std::uint32_t order : {2u, 3u}) {
    ngram_trainer trainer(order, kn_vocab);
    for (const auto& d : kn_documents) trainer.add(d);
    std::ofstream file(fs::path(dir) / ("kn-order" + std::to_string(order) + ".tlm"), std::ios::binary);
    trainer.write(file, order == 2 ? "sha256:test" : "");
    file.close();
    REQUIRE(file);
  }
}

TEST_CASE("ngram_lm: distributions over the Qwen3 vocabulary are proper and agree with probability",
          "[lm]") {
  const ngram_lm& lm = moby_model();
  const std::uint32_t vocab = lm.vocab_size();
  REQUIRE(vocab == data().vocab_size);
  REQUIRE(lm.order() == 4);
  // 200 contexts of 0 to 6 ids. Uniform random ids almost never form a context seen in training,
  // so a third of the contexts are random ids, a third slices of the training text, and a third such
  // slices with their last id replaced by a random one: together they reach every level of the
  // back-off chain, from a full 3-id context seen in training down to the uniform base.
  std::mt19937_64 rng(20240611);
  std::uniform_int_distribution<token_id> any_id(0, static_cast<token_id>(vocab - 1));
  std::uniform_int_distribution<std::size_t> any_length(0, 6);
  const documents& moby = data().moby;
  std::vector<double> probs(vocab);
  std::vector<token_id> context;
  std::array<std::size_t, 3> kinds{};
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t length = any_length(rng);
    context.clear();
    const int kind = static_cast<int>(rng() % 3);
    ++kinds[static_cast<std::size_t>(kind)];
    token_id next_in_text = any_id(rng);
    if (kind == 0) {
      for (std::size_t j = 0; j < length; ++j) context.push_back(any_id(rng));
    } else {
      const auto& doc = moby[rng() % moby.size()];
      const std::size_t end = length + rng() % (doc.size() - length);
      const auto stop = doc.begin() + static_cast<std::ptrdiff_t>(end);
      context.assign(stop - static_cast<std::ptrdiff_t>(length), stop);
      next_in_text = doc[end];
      if (kind == 2 && !context.empty()) context.back() = any_id(rng);
    }
    lm.distribution(context, probs);
    // Summing 151,669 positive terms in double: the rounding error is at most V·2^-53 ≈ 2e-11.
    double sum = 0.0;
    for (double p : probs) sum += p;
    const double smallest = *std::min_element(probs.begin(), probs.end());
    const auto argmax = static_cast<token_id>(std::max_element(probs.begin(), probs.end()) - probs.begin());
    INFO("trial " << trial << ", kind " << kind << ", context length " << context.size() << ": sum " << sum
                  << ", smallest entry " << smallest);
    CHECK(std::abs(sum - 1.0) <= 1e-9);
    CHECK(smallest > 0.0);
    for (const token_id t : {any_id(rng), any_id(rng), any_id(rng), argmax, next_in_text}) {
      const double p = lm.probability(context, t);
      const double d = probs[static_cast<std::size_t>(t)];
      INFO("token " << t << ": probability " << p << ", distribution " << d);
      CHECK(std::abs(p - d) <= 1e-12 * d);
    }
  }
  INFO("contexts by kind (random, text, text with a random last id): " << kinds[0] << ", " << kinds[1] << ", "
                                                                      << kinds[2]);
  CHECK(kinds[0] > 40);
  CHECK(kinds[1] > 40);
  CHECK(kinds[2] > 40);
  // An id outside the vocabulary is refused, in the context as well as as the token.
  const std::vector<token_id> bad_context = {0, static_cast<token_id>(vocab)};
  CHECK_THROWS_AS(lm.probability(bad_context, 0), tritium::error);
  CHECK_THROWS_AS(lm.probability({}, static_cast<token_id>(vocab)), tritium::error);
}

TEST_CASE("ngram_lm: held-out perplexity is well below the unigram level's", "[lm][statistics]") {
  const ngram_lm& lm = teacher_model();
  const auto t0 = clock_type::now();
  perplexity_evaluator evaluator(lm);
  for (const auto& doc : data().heldout) evaluator.add(doc);
  const perplexity_result r = evaluator.result();
  const std::uint64_t tokens = r.tokens;
  REQUIRE(tokens > 50000);
  const double ppl = r.perplexity;
  const double ppl_unigram = r.unigram_perplexity;
  INFO("trained on " << lm.training_tokens() << " tokens (Moby-Dick " << token_count(data().moby)
                     << ", SOTU " << token_count(data().sotu_part) << "); held out " << tokens
                     << " tokens; perplexity " << ppl << ", unigram perplexity " << ppl_unigram << " ("
                     << seconds_since(t0) << " s to score; tokenizing took " << data().seconds << " s)");
  CHECK(std::isfinite(ppl));
  CHECK(ppl > 1.0);
  CHECK(ppl < ppl_unigram / 2);
}

TEST_CASE("ngram_lm: generation is reproducible from its seed", "[lm]") {
  const ngram_lm& lm = moby_model();
  const auto scheme = std::make_shared<const kgw>(make_key(lm.vocab_size(), 11));
  const std::vector<token_id>& prompt = data().prompts.at(0);
  for (const bool watermark : {true, false}) {
    INFO("watermark " << watermark);
    next_token_sampler sampler(lm, scheme, !watermark, 1.0, 1.0);
    const auto a = sampler.generate(prompt, 60, 1234);
    const auto b = sampler.generate(prompt, 60, 1234);  // the same sampler, used again
    next_token_sampler fresh(lm, scheme, !watermark, 1.0, 1.0);
    const auto c = fresh.generate(prompt, 60, 1234);
    const auto d = fresh.generate(prompt, 60, 1235);
    REQUIRE(a.size() == 60);
    CHECK(a == b);
    CHECK(a == c);
    // Another seed: the first 60 tokens coincide only if every draw does; the model's next-token
    // distribution after a 4-gram context is far from deterministic (its back-off mass alone is
    // spread over the whole vocabulary), so this happens with negligible probability.
    CHECK(a != d);
  }
}

TEST_CASE("ngram_lm: the watermark is detected on the model's completions and not on plain ones",
          "[lm][statistics]") {
  const auto t0 = clock_type::now();
  const ngram_lm& lm = teacher_model();
  const double train_s = seconds_since(t0);
  const key key_a = make_key(lm.vocab_size(), 0xA11CE);
  const auto scheme = std::make_shared<const kgw>(key_a);
  const kgw_detector detector(key_a);
  const auto t1 = clock_type::now();

  // Power. 60 completions of 200 tokens (prompts cycled, seed 1000 + i), scored on their own ids.
  // With δ = 2, γ = 0.25, a step of entropy high enough is green with probability up to
  // 0.25e²/(0.25e² + 0.75) ≈ 0.71; even at a green rate of 0.45 over 199 scored tuples the p-value
  // is P(Bin(199, 0.25) ≥ 90) ≈ 5e-10, far below α = 1e-3. A detection rate below 95% (56 or fewer
  // of 60) would mean the bias does not reach the sampled tokens.
  const documents marked = generate_many(lm, scheme, data().prompts, 60, 200, 1000);
  detect_options strict;
  strict.alpha = 1e-3;
  std::size_t detected = 0;
  std::vector<double> log10_p, green_rate;
  for (const auto& doc : marked) {
    REQUIRE(doc.size() == 200);
    const detection d = detector.detect(doc, strict);
    detected += d.detected;
    log10_p.push_back(d.log10_p);
    green_rate.push_back(static_cast<double>(d.green) / static_cast<double>(d.scored));
  }
  std::sort(log10_p.begin(), log10_p.end());
  std::sort(green_rate.begin(), green_rate.end());
  const double marked_s = seconds_since(t1);

  // Calibration. 200 plain completions of 100 tokens (seed 5000 + i), flagged at α = 0.01. Each is
  // scored under its own key, drawn independently of the text, so the 200 decisions are independent
  // and each is a false positive with probability ≤ 0.01 (exactly 0.01 but for the binomial's
  // discreteness): the count is stochastically below Bin(200, 0.01). Its 99.9% interval from the
  // exact tails is [0, 8] (P(X ≥ 9) ≈ 2.1e-4 ≤ 0.0005 < P(X ≥ 8) ≈ 1.0e-3). For information, the
  // count under key A alone: one key shared by all documents makes their decisions dependent (common
  // bigrams are green or red for all of them at once). Measured over 2,000 keys on these very
  // completions, that count had mean 1.53, variance 1.85 (binomial: 1.51) and never exceeded 8, so
  // it is held to the same bound.
  const auto t2 = clock_type::now();
  const documents plain = generate_many(lm, nullptr, data().prompts, 200, 100, 5000);
  detect_options loose;
  loose.alpha = 0.01;
  std::uint64_t flagged = 0, flagged_key_a = 0;
  double smallest_p = 1.0;
  for (std::size_t i = 0; i < plain.size(); ++i) {
    REQUIRE(plain[i].size() == 100);
    const detection own = kgw_detector(make_key(lm.vocab_size(), 0xB0B0000 + i)).detect(plain[i], loose);
    flagged += own.detected;
    smallest_p = std::min(smallest_p, own.p_value);
    flagged_key_a += detector.detect(plain[i], loose).detected;
  }
  const auto [lo, hi] = binomial_interval(200, 0.01);
  const double plain_s = seconds_since(t2);

  INFO("teacher: " << lm.training_tokens() << " training tokens (" << train_s
                    << " s to tokenize and train; about 0 when an earlier test case did)");
  INFO("watermarked: " << detected << " of 60 detected at 1e-3; log10 p min/median/max " << log10_p.front() << " / "
                       << log10_p[30] << " / " << log10_p.back() << "; green rate min/median " << green_rate.front()
                       << " / " << green_rate[30] << " (" << marked_s << " s)");
  INFO("plain: " << flagged << " of 200 flagged at 0.01 with their own keys (99.9% interval [" << lo << ", " << hi
                 << "]), " << flagged_key_a << " with key A; smallest p " << smallest_p << " (" << plain_s << " s)");
  CHECK(lo == 0);
  CHECK(hi == 8);
  CHECK(detected >= 57);
  CHECK(flagged >= lo);
  CHECK(flagged <= hi);
  CHECK(flagged_key_a <= hi);
}

TEST_CASE("ngram_lm: a student trained on watermarked completions carries the watermark (radioactivity)",
          "[lm][statistics]") {
  const auto t0 = clock_type::now();
  const ngram_lm& teacher = teacher_model();
  const double teacher_s = seconds_since(t0);
  const key key_a = make_key(teacher.vocab_size(), 0xA11CE);
  const auto scheme = std::make_shared<const kgw>(key_a);
  const kgw_detector detector(key_a);

  // 300 watermarked completions of 200 tokens (key A, prompts cycled, seed 20000 + i) are the whole
  // training set of an order-3 student.
  const auto t1 = clock_type::now();
  const documents marked = generate_many(teacher, scheme, data().prompts, 300, 200, 20000);
  const double generate_s = seconds_since(t1);
  const auto t2 = clock_type::now();
  const ngram_lm student = train_and_load(3, teacher.vocab_size(), marked);
  const ngram_lm human = train_and_load(3, teacher.vocab_size(), data().moby);
  const double train_s = seconds_since(t2);

  // Each student writes 20 completions of 200 tokens without any watermark (seed 30000 + i); the
  // 20 are pooled into one test under key A, each (previous token, token) tuple scored once.
  // Under H0 (text independent of key A: the human student) the pooled green count is exactly
  // Binomial(T, 0.25) and p is uniform up to discreteness: P(p ≤ 1e-3) ≤ 1e-3. The student of
  // watermarked text reproduces the teacher's green-biased transitions wherever its contexts were
  // seen in training.
  auto pooled = [&](const ngram_lm& lm) {
    const documents out = generate_many(lm, nullptr, data().prompts, 20, 200, 30000);
    detect_options o;
    o.dedup = dedup_mode::context_token;
    o.alpha = 1e-3;
    kgw_detector::corpus pool(detector, o);
    for (const auto& doc : out) pool.add(doc);
    return pool.result();
  };
  const auto t3 = clock_type::now();
  const detection from_marked = pooled(student);
  const detection from_human = pooled(human);
  const double score_s = seconds_since(t3);
  INFO("teacher ready in " << teacher_s << " s (about 0 when an earlier test case built it); 300 watermarked "
                           << "completions in " << generate_s << " s; students trained in " << train_s
                           << " s; students' completions and scoring in " << score_s << " s; total "
                           << seconds_since(t0) << " s");
  INFO("student of watermarked text: " << from_marked.green << " green of " << from_marked.scored
                                       << " scored, log10 p = " << from_marked.log10_p << ", z = " << from_marked.z);
  INFO("student of Moby-Dick: " << from_human.green << " green of " << from_human.scored
                                << " scored, log10 p = " << from_human.log10_p << ", z = " << from_human.z);
  CHECK(from_marked.scored > 2000);
  CHECK(from_human.scored > 2000);
  CHECK(from_marked.log10_p < -3.0);
  CHECK(from_marked.detected);
  CHECK(from_human.log10_p > -3.0);
  CHECK_FALSE(from_human.detected);
}

namespace {

// Loading `path` throws tritium::error with `code` and a message containing `needle`.
void expect_load_error(const fs::path& path, errc code, const std::string& needle) {
  try {
    (void)ngram_lm::load(path);
    FAIL("loaded " << path << " without an error");
  } catch (const tritium::error& e) {
    INFO("message: " << e.what());
    CHECK(e.code() == code);
    CHECK_THAT(e.what(), Catch::Contains(needle));
  }
}

}  // namespace

TEST_CASE("ngram_lm: a model records its width V and counts its distinct n-grams (issue 13)", "[ngram_lm]") {
  // Documents are padded on the left with order-1 begin ids, so the bigrams of {0 1 2} and {0 1} are
  // (B 0) (0 1) (1 2) and (B 0) (0 1): three distinct; the unigram level holds the three ids seen.
  const ngram_lm lm = train_and_load(2, 7, {{0, 1, 2}, {0, 1}}, "sha256:" + std::string(64, 'a'));
  CHECK(lm.vocab_size() == 7);
  CHECK(lm.tokenizer_digest() == "sha256:" + std::string(64, 'a'));
  CHECK(lm.ngram_count(1) == 3);
  CHECK(lm.ngram_count(2) == 3);
  CHECK_THROWS_WITH(lm.ngram_count(3), "n-gram order: expected 1 to 2, got 3");
  CHECK_THROWS_WITH(lm.ngram_count(0), "n-gram order: expected 1 to 2, got 0");
}

TEST_CASE("ngram_lm: held-out perplexity of a tiny model matches its closed form (issue 13)", "[ngram_lm]") {
  // Trained on one document holding each of the V = 8 ids once: padded on the left, its bigrams
  // (B 0) (0 1) ... (6 7) give every id exactly one left extension, so the unigram level (continuation
  // counts interpolated with the uniform distribution) gives every id the same probability whatever
  // the discounts: 1/8, and the unigram perplexity of any text is exactly 8.
  const ngram_lm lm = train_and_load(2, 8, {{0, 1, 2, 3, 4, 5, 6, 7}});
  const documents held_out = {{3, 4, 5}, {}, {6, 0}};
  perplexity_evaluator evaluator(lm);
  for (const auto& d : held_out) evaluator.add(d);
  const perplexity_result r = evaluator.result();
  CHECK(r.tokens == 5);
  CHECK(r.unigram_perplexity == Approx(8.0).epsilon(1e-12));
  // The perplexity is the geometric mean of 1/P over the five tokens, each predicted from its own
  // document's prefix (the 6 of {6 0} from the begin padding, not from the 5 before it): computed
  // here as a product of probabilities, not as a sum of logarithms.
  double product = 1.0;
  for (const auto& d : held_out) {
    for (std::size_t i = 0; i < d.size(); ++i) product *= lm.probability(std::span<const token_id>(d).first(i), d[i]);
  }
  CHECK(r.perplexity == Approx(std::pow(product, -1.0 / 5.0)).epsilon(1e-12));
  // Pooling the documents into one would predict 6 after 5, a bigram seen in training: another figure.
  perplexity_evaluator pooled(lm);
  pooled.add(std::vector<token_id>{3, 4, 5, 6, 0});
  CHECK(pooled.result().perplexity != Approx(r.perplexity).epsilon(1e-9));
  // The training text itself is predicted better than uniformly; the unigram level stays at 8.
  perplexity_evaluator seen(lm);
  seen.add(std::vector<token_id>{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(seen.result().perplexity < 8.0);
  CHECK(seen.result().unigram_perplexity == Approx(8.0).epsilon(1e-12));
  // No token, no perplexity; an id outside V is refused.
  perplexity_evaluator empty(lm);
  empty.add(std::vector<token_id>{});
  CHECK(empty.tokens() == 0);
  CHECK_THROWS_WITH(empty.result(), "perplexity: expected at least one token, got none");
  CHECK_THROWS_AS(empty.add(std::vector<token_id>{8}), tritium::error);
}

TEST_CASE("lm_corpus: a training mixture takes the watermarked share asked for (issue 13)", "[ngram_lm]") {
  // H = 10 human tokens in two documents, W = 4 watermarked in two; every id distinct, so the model's
  // distinct unigrams count the tokens taken and show which.
  const documents human = {{1, 2, 3, 4}, {5, 6, 7, 8, 9, 10}};
  const documents marked = {{11, 12}, {13, 14}};
  struct mixed {
    training_mixture used;
    std::uint64_t trained;
    ngram_lm lm;
  };
  auto mix = [&](std::optional<double> fraction) {
    ngram_trainer trainer(1, 16);
    const training_mixture used = add_training_mixture(trainer, human, marked, fraction);
    const fs::path path = temp_path("mix.tlm");
    {
      std::ofstream file(path, std::ios::binary);
      trainer.write(file, "");
    }
    ngram_lm lm = ngram_lm::load(path);
    fs::remove(path);
    return mixed{used, trainer.tokens(), std::move(lm)};
  };
  // f = 1/2: T = min(W / f, H / (1 - f)) = min(8, 20) = 8, so 4 of each: the first human document
  // whole and the second not at all.
  const mixed half = mix(0.5);
  CHECK(half.used.human == 4);
  CHECK(half.used.watermarked == 4);
  CHECK(half.trained == 8);
  CHECK(half.lm.ngram_count(1) == 8);
  // f = 1/4: T = min(16, 40/3) = 40/3: floor(10/3) = 3 watermarked tokens (the first document and
  // the first token of the second) and floor(10) = 10 human ones.
  const mixed quarter = mix(0.25);
  CHECK(quarter.used.human == 10);
  CHECK(quarter.used.watermarked == 3);
  CHECK(quarter.lm.ngram_count(1) == 13);
  CHECK(quarter.lm.probability({}, 13) > quarter.lm.probability({}, 14));  // 14 was left out
  // The ends and no fraction at all.
  CHECK(mix(1.0).used.human == 0);
  CHECK(mix(1.0).used.watermarked == 4);
  CHECK(mix(0.0).used.human == 10);
  CHECK(mix(0.0).used.watermarked == 0);
  CHECK(mix(std::nullopt).used.human == 10);
  CHECK(mix(std::nullopt).used.watermarked == 4);
  ngram_trainer trainer(1, 16);
  CHECK_THROWS_WITH(add_training_mixture(trainer, human, marked, 1.5),
                    "watermarked fraction: expected a share in [0, 1], got 1.500000");
  CHECK_THROWS_AS(add_training_mixture(trainer, human, marked, std::nan("")), tritium::error);
  CHECK(trainer.tokens() == 0);
}

TEST_CASE("lm_corpus: corpus documents come from token ids or text and a bad record names its line",
          "[ngram_lm]") {
  const tokenizer tok = tokenizer::load(fs::path(TRITIUM_FIXTURES_DIR) / "tokenizers" / "gpt2" / "tokenizer.json");
  tokenizer::session session(tok);
  std::vector<token_id> hello;
  session.encode("Hello, world", hello);
  REQUIRE(!hello.empty());
  const fs::path jsonl = temp_path("corpus.jsonl"), txt = temp_path("corpus.txt"), bad = temp_path("bad.jsonl");
  std::ofstream(jsonl) << "{\"tokens\": [7, 8, 9]}\n\n{\"text\": \"Hello, world\"}\n";
  std::ofstream(txt) << "Hello, world";
  std::ofstream(bad) << "{\"tokens\": [1]}\n{\"ids\": [1]}\n";
  documents read;
  auto collect = [&](std::vector<token_id>& ids) { read.push_back(ids); };
  each_corpus_document(jsonl.string(), session, collect);
  each_corpus_document(txt.string(), session, collect);
  CHECK(read == documents{{7, 8, 9}, hello, hello});
  CHECK_THROWS_WITH(each_corpus_document(bad.string(), session, collect),
                    bad.string() + ":2: expected a field \"tokens\" or \"text\"");
  for (const auto& p : {jsonl, txt, bad}) fs::remove(p);
}

TEST_CASE("ngram_lm: damaged, foreign and missing model files are refused with their reason", "[lm]") {
  const fs::path good = temp_path("good.tlm");
  const fs::path bad = temp_path("bad.tlm");
  struct cleanup {
    fs::path a, b;
    ~cleanup() {
      std::error_code ec;
      fs::remove(a, ec);
      fs::remove(b, ec);
    }
  } files{good, bad};
  {
    ngram_trainer trainer(3, kn_vocab);
    for (const auto& d : kn_documents) trainer.add(d);
    std::ofstream file(good, std::ios::binary);
    trainer.write(file, "sha256:test");
  }
  const std::string bytes = slurp(good);
  constexpr std::size_t header = 1024;  // the format's fixed header size (ngram_lm.cpp)
  REQUIRE(bytes.size() > header + 64);
  // The untouched file loads: the refusals below are caused by the damage alone.
  CHECK(ngram_lm::load(good).order() == 3);
  CHECK(ngram_lm::load(good).probability({}, 0) == Approx(kn_expected_order3[0][0]).epsilon(1e-12));

  SECTION("truncated") {
    for (const std::size_t size : {bytes.size() - 1, bytes.size() - 8, header + 8, header, header - 1, std::size_t{100},
                                   std::size_t{0}}) {
      INFO("truncated to " << size << " of " << bytes.size() << " bytes");
      spit(bad, bytes.substr(0, size));
      expect_load_error(bad, errc::parse, "truncated");
    }
  }
  SECTION("padded") {
    spit(bad, bytes + std::string(8, '\0'));
    expect_load_error(bad, errc::parse, "padded");
  }
  SECTION("a flipped byte in the payload") {
    for (const std::size_t at : {header, header + 37, (header + bytes.size()) / 2, bytes.size() - 1}) {
      INFO("byte " << at);
      std::string damaged = bytes;
      damaged[at] = static_cast<char>(damaged[at] ^ 0x10);
      spit(bad, damaged);
      expect_load_error(bad, errc::parse, "checksum");
    }
  }
  SECTION("a flipped byte in the header") {
    // Offsets inside the header's fields: the vocabulary size (16), the training token count (24),
    // the tokenizer digest (40), the per-order table (200) and the payload checksum near its end.
    for (const std::size_t at : std::array<std::size_t, 5>{16, 24, 40, 200, 505}) {
      INFO("byte " << at);
      std::string damaged = bytes;
      damaged[at] = static_cast<char>(damaged[at] ^ 0x01);
      spit(bad, damaged);
      expect_load_error(bad, errc::parse, "checksum");
    }
    std::string damaged = bytes;
    damaged[0] = 'X';  // the magic
    spit(bad, damaged);
    expect_load_error(bad, errc::parse, "not a tritium n-gram model");
    damaged = bytes;
    damaged[8] = static_cast<char>(damaged[8] ^ 0x02);  // the format version
    spit(bad, damaged);
    expect_load_error(bad, errc::parse, "version");
  }
  SECTION("not a model file") {
    expect_load_error(fs::path(TRITIUM_FIXTURES_DIR) / "corpus" / "prompts.jsonl", errc::parse,
                      "not a tritium n-gram model");
    expect_load_error(fs::path(TRITIUM_FIXTURES_DIR) / "tokenizers" / "qwen3" / "tokenizer.json", errc::parse,
                      "not a tritium n-gram model");
  }
  SECTION("missing") {
    expect_load_error(temp_path("missing.tlm"), errc::io, "missing.tlm");
    expect_load_error(fs::temp_directory_path() / "no-such-directory-tritium" / "m.tlm", errc::io, "m.tlm");
  }
}

TEST_CASE("ngram_lm: the sampler marks with Gumbel or Unigram when asked and refuses what it cannot mark", "[lm]") {
  const ngram_lm& lm = moby_model();
  kgw_params p = make_key(lm.vocab_size(), 17).params();
  p.schemes = static_cast<scheme_set>(scheme_bit(scheme_kind::gumbel) | scheme_bit(scheme_kind::unigram));
  std::array<std::uint8_t, key::secret_size> secret{};
  secret.fill(0x5a);
  const key k = key::from_secret(secret, p);
  const auto schemes = std::make_shared<const key_schemes>(k);
  const auto kgw_scheme = std::make_shared<const kgw>(k);
  const std::vector<token_id>& prompt = data().prompts.at(0);

  // Gumbel: 150 tokens at temperature 1 carry its mark, and none of Unigram's; the same seed gives
  // the same answer. The null is Gamma(N, 1) exactly (papers/gumbel-v1.md), so -10 is far beyond chance.
  next_token_sampler gumbel_sampler(lm, kgw_scheme, false, 1.0, 1.0);
  gumbel_sampler.use_scheme(schemes, scheme_kind::gumbel);
  const auto g = gumbel_sampler.generate(prompt, 150, 7);
  CHECK(g == gumbel_sampler.generate(prompt, 150, 7));
  CHECK(gumbel_detect(*schemes->gumbel_scheme, g).log10_p < -10.0);
  CHECK(unigram_detect(*schemes->unigram_scheme, g).log10_p > -3.0);
  next_token_sampler unigram_sampler(lm, kgw_scheme, false, 1.0, 1.0);
  unigram_sampler.use_scheme(schemes, scheme_kind::unigram);
  const auto u = unigram_sampler.generate(prompt, 150, 7);
  CHECK(unigram_detect(*schemes->unigram_scheme, u).log10_p < -3.0);
  CHECK(gumbel_detect(*schemes->gumbel_scheme, u).log10_p > -3.0);

  // Refusals: a scheme the key does not name, an unwatermarked sampler (accounts outside KGW: the
  // CLI test generate-scheme-account).
  next_token_sampler any(lm, kgw_scheme, false, 1.0, 1.0);
  CHECK_THROWS_AS(any.use_scheme(schemes, scheme_kind::kgw), error);
  next_token_sampler plain(lm, kgw_scheme, true, 1.0, 1.0);
  CHECK_THROWS_AS(plain.use_scheme(schemes, scheme_kind::gumbel), error);
}
