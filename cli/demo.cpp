// `tritium demo`: the main job on embedded defaults. A demo key; the reference n-gram model (trained
// at build time on public-domain State of the Union addresses and Moby-Dick, Qwen3 tokenizer)
// answers held-out prompts with and without the watermark; tritium re-tokenizes each completion's
// text, detects, and prints a verdict table; then shows why deduplication is on.
#include <array>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <vector>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "option_forms.hpp"
#include "tritium/sampler.hpp"
#include "tritium/text_source.hpp"
#include "tokenize_support.hpp"
#include "tritium/detect.hpp"
#include "tritium/error.hpp"
#include "tritium/ngram_lm.hpp"

namespace tritium::cli {
namespace {

// A fixed, public demonstration key: anyone can recompute it, so it proves nothing. Never deploy it.
tritium::key demo_key(std::uint32_t vocab, const std::string& tokenizer_digest, std::uint32_t tokenizer_ids) {
  std::array<std::uint8_t, tritium::key::secret_size> secret{};
  const char* phrase = "tritium demo key: public, never deploy";
  for (std::size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<std::uint8_t>(phrase[i]);
  kgw_params p;
  p.set_gamma(kgw_default_gamma);
  p.delta = kgw_default_delta;
  p.context_width = 1;
  p.vocab_size = vocab;
  p.tokenizer_digest = tokenizer_digest;
  p.tokenizer_vocab_size = tokenizer_ids;
  return tritium::key::from_secret(secret, p);
}

std::string fmt(double x, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << x;
  return s.str();
}

std::string excerpt(std::string text, std::size_t width) {
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (text.size() <= width) return text;
  std::size_t cut = width - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // whole characters
  return text.substr(0, cut) + "...";
}

std::string default_path(const std::string& given, const char* built_in) { return given.empty() ? built_in : given; }

}  // namespace

void demo_command::setup(CLI::App& parent) {
  app = parent.add_subcommand("demo", "Watermark the reference model's answers, detect them, print a verdict table");
  app->add_option("--sequences", sequences, "Prompts to answer (each with and without the watermark)")
      ->capture_default_str()->check(CLI::Range(1u, 1000u));
  CLI::Option* max_new = app->add_option("--max-new-tokens", max_new_tokens, "Tokens per completion")
                            ->capture_default_str()
                            ->check(CLI::Range(2u, 100000u));
  add_hidden_alias(*app, max_new, "--length", max_new_tokens, CLI::Range(2u, 100000u));
  app->add_option("--seed", seed, "Sampling seed")->capture_default_str();
  app->add_option("--model", model_path, "Model file (default: the one built with tritium)");
  app->add_option("--tokenizer", tokenizer_path, "The model's tokenizer (default: Qwen3 from fixtures/)");
  app->add_option("--prompts", prompts_path, "JSON Lines {\"id\", \"prompt\"} (default: fixtures/corpus/prompts.jsonl)");
  app->footer(exit_codes_footer({{exit_evidence, "the demo ran (whatever its table shows)"},
                                 {exit_input_error, "the model, tokenizer or prompts file is missing, unreadable or malformed"},
                                 {exit_usage, usage_meaning},
                                 {exit_io_error, "standard output could not be written"},
                                 {exit_internal, internal_meaning}}));
}

int demo_command::run() const {
  const std::string model_file = default_path(model_path, TRITIUM_REFERENCE_MODEL);
  if (!std::filesystem::exists(model_file)) {
    throw error(errc::invalid_argument, "no reference model at " + model_file +
                                            ": build it with cmake --build (target reference_model) or pass --model");
  }
  const ngram_lm model = load_model(model_file);
  const tokenizer tok = load_tokenizer(default_path(tokenizer_path, TRITIUM_REFERENCE_TOKENIZER));
  const tritium::key k = demo_key(model.vocab_size(), tok.digest(), tok.vocab_size());
  auto scheme = std::make_shared<const kgw>(k);
  const kgw_detector detector(k);
  detect_options options;

  // Name what was loaded: the built-in defaults are described, a file given on the command line by
  // its name and what it holds.
  const std::string model_line =
      "reference " + std::to_string(model.order()) + "-gram model (Kneser-Ney), trained on " +
      std::to_string(model.training_tokens()) + " tokens" +
      (model_path.empty() ? " of public-domain prose (built with tritium)" : ", " + model_file);
  const std::string tokenizer_line =
      (tokenizer_path.empty() ? std::string("Qwen3 (fixtures/)") : tokenizer_path) + ": " + tok.description();
  std::cout << "tritium demo: watermark a language model's answers, then find the watermark in the text.\n\n"
            << "Model      " << model_line << "\n"
            << "Tokenizer  " << tokenizer_line << "\n"
            << "Watermark  KGW, gamma = " << k.params().gamma() << ", delta = " << k.params().delta
            << ", context width 1; demo key " << k.id().substr(0, 16) << " (public: never deploy it)\n"
            << "Test       H0 = \"this text was produced independently of the key\"; exact binomial test on\n"
            << "           the re-tokenized text, repeated (context, token) pairs counted once, alpha = "
            << options.alpha << "\n\n";

  text_source prompts(default_path(prompts_path, TRITIUM_REFERENCE_PROMPTS), "jsonl");
  prompts.read_field(text_field::prompt);
  tokenizer::session session(tok);
  next_token_sampler marked(model, scheme, false, 1.0, 1.0, tok.vocab_size());
  next_token_sampler plain(model, scheme, true, 1.0, 1.0, tok.vocab_size());
  std::cout << "  #  prompt                          watermark  tokens  scored  green%   log10 p   verdict\n";
  std::size_t true_positives = 0, false_positives = 0;
  std::uint64_t n = 0;
  std::string sample_marked, sample_plain;
  text_document doc;
  while (n < sequences && prompts.next(doc)) {
    std::vector<token_id> prompt_ids;
    session.encode(doc.text, prompt_ids);
    for (int watermarked = 1; watermarked >= 0; --watermarked) {
      const std::uint64_t salt = watermarked ? 1 : 0;
      const std::uint64_t s = seed * std::uint64_t{1000003} + std::uint64_t{2} * n + salt;
      const auto completion = (watermarked ? marked : plain).generate(prompt_ids, max_new_tokens, s);
      const std::string text = tok.decode(completion);
      std::vector<token_id> retokenized;
      session.encode(text, retokenized);
      const detection d = detector.detect(retokenized, options);
      (watermarked ? true_positives : false_positives) += d.detected ? 1 : 0;
      if (n == 0) (watermarked ? sample_marked : sample_plain) = text;
      std::cout << std::setw(3) << n + 1 << "  " << std::left << std::setw(32) << excerpt(doc.text, 30)
                << std::setw(9) << (watermarked ? "yes" : "no") << std::right << std::setw(8) << d.tokens
                << std::setw(8) << d.scored << std::setw(8)
                << fmt(100.0 * static_cast<double>(d.green) / static_cast<double>(d.scored ? d.scored : 1), 1)
                << std::setw(10) << fmt(d.log10_p, 2) << "   "
                << (d.detected ? "WATERMARKED" : d.insufficient ? "insufficient tokens" : "no evidence") << "\n";
    }
    ++n;
  }
  std::cout << "\nWatermarked answers detected: " << true_positives << " of " << n
            << ". Unwatermarked answers flagged (false positives): " << false_positives << " of " << n << ".\n"
            << "(Each row is its own test at alpha; green% is near " << 100 * k.params().gamma()
            << "% for text made without the key.)\n\n"
            << "Example, watermarked: \"" << excerpt(sample_marked, 160) << "\"\n"
            << "Example, plain:       \"" << excerpt(sample_plain, 160) << "\"\n";

  // Why deduplication: one plain sentence repeated 50 times. A sentence whose green share is above
  // gamma by chance is common; repetition multiplies that excess into a spurious "detection".
  std::vector<token_id> sentence;
  detect_options no_dedup = options;
  no_dedup.dedup = dedup_mode::none;
  for (std::uint64_t attempt = 0; attempt < 1000; ++attempt) {
    const std::vector<token_id> start = {static_cast<token_id>(attempt % model.vocab_size())};
    sentence = plain.generate(start, 16, seed + attempt);
    const detection once = detector.detect(sentence, options);
    if (static_cast<double>(once.green) >= 0.4 * static_cast<double>(once.scored)) break;
  }
  std::vector<token_id> repeated;
  for (int r = 0; r < 50; ++r) repeated.insert(repeated.end(), sentence.begin(), sentence.end());
  const detection with = detector.detect(repeated, options);
  const detection without = detector.detect(repeated, no_dedup);
  std::cout << "\nWhy deduplication is on: one plain 16-token passage repeated 50 times (" << repeated.size()
            << " tokens).\n"
            << "  counting repeats once: scored " << with.scored << ", green " << with.green << ", log10 p "
            << fmt(with.log10_p, 2) << " -> " << (with.detected ? "WATERMARKED" : "no evidence") << "\n"
            << "  counting every token:  scored " << without.scored << ", green " << without.green << ", log10 p "
            << fmt(without.log10_p, 2) << " -> "
            << (without.detected ? "WATERMARKED (a false positive: repeats are not independent)" : "no evidence")
            << "\n";
  return exit_evidence;
}

}  // namespace tritium::cli
