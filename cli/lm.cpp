// `tritium lm train`, `tritium lm eval` and `tritium generate`: the reference n-gram model.
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "tritium/atomic_output.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "option_forms.hpp"
#include "progress_line.hpp"
#include "tritium/sampler.hpp"
#include "tritium/text_source.hpp"
#include "tokenize_support.hpp"
#include "tritium/digest.hpp"
#include "tritium/error.hpp"
#include "tritium/kgw_stream.hpp"
#include "tritium/lm_corpus.hpp"
#include "tritium/ngram_lm.hpp"

namespace tritium::cli {
namespace {

using ojson = nlohmann::ordered_json;
using clock_type = std::chrono::steady_clock;

void require_same_tokenizer(const ngram_lm& model, const tokenizer& tok) {
  if (!model.tokenizer_digest().empty() && model.tokenizer_digest() != tok.digest()) {
    throw error(errc::mismatch, "the model was trained with tokenizer " + model.tokenizer_digest() + ", not " + tok.digest());
  }
}

}  // namespace

void lm_train_command::setup(CLI::App& parent) {
  app = parent.add_subcommand("train", "Train the reference n-gram model (interpolated modified Kneser-Ney)");
  app->add_option("--tokenizer,-t", tokenizer_path, "tokenizer.json or .gguf the ids belong to")->required();
  app->add_option("--corpus,-c", corpus, "Text files, folders, or JSON Lines (\"text\" or \"tokens\")")->required();
  app->add_option("--watermarked", watermarked,
                  "Generated JSON Lines (\"tokens\") to mix in: a student model");
  app->add_option("--fraction", fraction,
                  "With --watermarked: share of watermarked tokens in the training set, in [0, 1]")
      ->check(CLI::Range(0.0, 1.0));
  app->add_option("--order,-n", order, "n-gram order")->capture_default_str()->check(CLI::Range(1u, ngram_max_order));
  app->add_option("--vocab-size,-V", vocab_size,
                  "Distribution width: the model's logits width (default: the tokenizer's number of ids)");
  add_output_option(*app, out, "Model file to write", true);
  app->add_flag("--force", force, "Replace an existing model file (without it: refused, exit 4)");
  app->footer(exit_codes_footer({{exit_evidence, "the model was written"},
                                 {exit_input_error, input_meaning + std::string(", or --vocab-size is narrower than the\n"
                                                                                "      tokenizer's ids")},
                                 {exit_usage, usage_meaning_force},
                                 {exit_io_error, output_meaning},
                                 {exit_internal, internal_meaning}}) +
              "\n" + overwrite_help);
  add_quiet_flag(*app, quiet);
}

int lm_train_command::run() const {
  // Every option given is used or refused, before any work.
  if (watermarked.empty() && fraction >= 0) {
    throw error(errc::usage, "lm train: --fraction is read only with --watermarked (the share of its tokens in the training set)");
  }
  if (!watermarked.empty() && fraction < 0) throw error(errc::usage, "lm train: --watermarked needs --fraction");
  refuse_to_replace(out, "model file", force);
  const tokenizer tok = load_tokenizer(tokenizer_path);
  atomic_output model_file(out);  // opened (as a temporary) before the work: an unwritable path fails first
  tokenizer::session session(tok);
  if (vocab_size != 0 && vocab_size < tok.vocab_size()) {
    throw error(errc::mismatch, "vocabulary size: --vocab-size " + std::to_string(vocab_size) +
                                    " is smaller than the tokenizer's " + std::to_string(tok.vocab_size()) +
                                    " ids (every id needs a logit); give --vocab-size " +
                                    std::to_string(tok.vocab_size()) + " or more, or leave it out");
  }
  const std::uint32_t width = vocab_size != 0 ? vocab_size : tok.vocab_size();
  ngram_trainer trainer(order, width);
  const auto t0 = clock_type::now();
  std::vector<std::vector<token_id>> human, marked;
  {
    progress_line line = stderr_progress("lm train: reading", quiet);
    progress_meter progress(line.callback(), "documents");
    for (const auto& path : corpus) {
      each_corpus_document(path, session, [&](auto& ids) {
        human.push_back(ids);
        progress.advance();
      });
    }
    if (!watermarked.empty()) {
      each_corpus_document(watermarked, session, [&](auto& ids) {
        marked.push_back(ids);
        progress.advance();
      });
    }
    progress.finish();
  }
  const training_mixture used = add_training_mixture(
      trainer, human, marked, watermarked.empty() ? std::nullopt : std::optional<double>(fraction));
  const std::uint64_t used_human = used.human;
  const std::uint64_t used_marked = used.watermarked;
  const double read_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  const auto t1 = clock_type::now();
  const std::uint64_t bytes = [&] {
    try {
      return trainer.write(model_file.stream(), tok.digest());
    } catch (const error& e) {
      throw error(e.code(), out + ": " + e.what());
    }
  }();
  model_file.commit();
  const double train_s = std::chrono::duration<double>(clock_type::now() - t1).count();
  const std::uint64_t n = used_human + used_marked;
  std::cerr << "tritium: trained an order-" << order << " model on " << n << " tokens (" << used_human
            << " human, " << used_marked << " watermarked: "
            << std::fixed << std::setprecision(3) << (n ? static_cast<double>(used_marked) / static_cast<double>(n) : 0.0)
            << ") in " << std::setprecision(2) << train_s << " s (" << std::setprecision(2)
            << static_cast<double>(n) / train_s / 1e6 << " M tokens/s; reading and tokenizing took "
            << read_s << " s); wrote " << out << " (" << static_cast<double>(bytes) / 1e6 << " MB)\n";
  std::cerr << "tritium: the model's logits width is V = " << width << ", from "
            << (vocab_size != 0 ? "--vocab-size" : "the tokenizer's id count")
            << "; make its key with `tritium keygen --model " << out << "`\n";
  return exit_evidence;
}

void lm_eval_command::setup(CLI::App& parent) {
  app = parent.add_subcommand("eval", "Perplexity of held-out text under a model (and its unigram level)");
  app->add_option("--model,-m", model_path, "Model file")->required();
  app->add_option("--tokenizer,-t", tokenizer_path, "The model's tokenizer")->required();
  app->add_option("--input,-i", input, "Held-out text files, folders or JSON Lines")->required();
  app->add_flag("--json", json, "Print JSON");
  app->footer(exit_codes_footer({{exit_evidence, "the perplexity was printed"},
                                 {exit_input_error, input_meaning + std::string(", or the input holds no tokens")},
                                 {exit_usage, usage_meaning},
                                 {exit_io_error, "standard output could not be written"},
                                 {exit_internal, internal_meaning}}));
  add_quiet_flag(*app, quiet);
}

int lm_eval_command::run() const {
  const ngram_lm model = load_model(model_path);
  const tokenizer tok = load_tokenizer(tokenizer_path);
  require_same_tokenizer(model, tok);
  tokenizer::session session(tok);
  perplexity_evaluator evaluator(model);
  progress_line line = stderr_progress("lm eval", quiet);
  progress_meter progress(line.callback(), "documents");
  for (const auto& path : input) {
    each_corpus_document(path, session, [&](std::vector<token_id>& ids) {
      evaluator.add(ids);
      progress.advance();
    });
  }
  progress.finish();
  if (evaluator.tokens() == 0) throw error(errc::invalid_argument, "lm eval: the input holds no tokens");
  const perplexity_result r = evaluator.result();
  const std::uint64_t tokens = r.tokens;
  const double ppl = r.perplexity, ppl_unigram = r.unigram_perplexity;
  if (json) {
    ojson j;
    j["tokens"] = tokens;
    j["perplexity"] = ppl;
    j["unigram_perplexity"] = ppl_unigram;
    j["order"] = model.order();
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "held-out tokens      " << tokens << "\n"
              << "perplexity           " << std::fixed << std::setprecision(2) << ppl << "  (order "
              << model.order() << ")\n"
              << "unigram perplexity   " << ppl_unigram << "  (the model's unigram level alone)\n";
  }
  return exit_evidence;
}

void lm_show_command::setup(CLI::App& parent) {
  app = parent.add_subcommand("show", "Describe a model file: order, logits width V, tokenizer, n-gram counts");
  CLI::Option* positional = app->add_option("model", model_path, "Model file (or give it as --model)");
  CLI::Option* option = app->add_option("--model,-m", model_path, "Model file (or give it as the argument)");
  require_one_form(*app, positional, option, "the model file");
  app->add_flag("--json", json, "Print JSON");
  app->footer(exit_codes_footer({{exit_evidence, "the model was described"},
                                 {exit_input_error, "the model file is missing, unreadable or corrupt"},
                                 {exit_usage, usage_meaning},
                                 {exit_io_error, "standard output could not be written"},
                                 {exit_internal, internal_meaning}}));
}

int lm_show_command::run() const {
  const ngram_lm model = load_model(model_path);
  const std::string file_digest = as_input([&] { return sha256_file_digest(model_path); });
  if (json) {
    ojson j;
    j["format"] = "tritium-ngram";
    j["order"] = model.order();
    j["vocab_size"] = model.vocab_size();
    j["tokenizer_digest"] = model.tokenizer_digest().empty() ? ojson(nullptr) : ojson(model.tokenizer_digest());
    j["training_tokens"] = model.training_tokens();
    ojson counts = ojson::array();
    for (std::uint32_t k = 1; k <= model.order(); ++k) counts.push_back(model.ngram_count(k));
    j["ngram_counts"] = counts;
    j["file_digest"] = file_digest;
    std::cout << j.dump() << "\n";
    return exit_evidence;
  }
  std::cout << "model            " << model_path << "\n"
            << "file digest      " << file_digest << "\n"
            << "order            " << model.order() << "\n"
            << "V                " << model.vocab_size() << " (logits width: a key for this model needs this V)\n"
            << "tokenizer        " << (model.tokenizer_digest().empty() ? "(not recorded)" : model.tokenizer_digest())
            << "\n"
            << "training tokens  " << model.training_tokens() << "\n";
  for (std::uint32_t k = 1; k <= model.order(); ++k) {
    std::cout << "distinct " << k << "-grams " << std::string(k < 10 ? 1 : 0, ' ') << "  " << model.ngram_count(k) << "\n";
  }
  return exit_evidence;
}

void generate_command::setup(CLI::App& parent) {
  app = parent.add_subcommand("generate", "Generate completions with the reference model, watermarked by a key");
  app->add_option("--model,-m", model_path, "Model file")->required();
  app->add_option("--tokenizer,-t", tokenizer_path, "The model's tokenizer")->required();
  CLI::Option* key = app->add_option("--key,-k", key_path,
                                     "Watermark key; its V must equal the model's logits width (`tritium lm show`)");
  app->add_option("--prompts,-p", prompts, "JSON Lines {\"id\": ..., \"prompt\": ...}")->required();
  add_output_option(*app, output, "Write JSON Lines here (atomically, replacing the file) instead of stdout", false);
  app->add_option("--max-new-tokens", max_new_tokens, "Tokens per completion")->capture_default_str();
  app->add_option("--temperature", temperature, "Sampling temperature (> 0)")->capture_default_str()
      ->check(CLI::Range(1e-3, 100.0));
  app->add_option("--top-p", top_p, "Nucleus sampling mass in (0, 1]")->capture_default_str()->check(CLI::Range(1e-6, 1.0));
  app->add_option("--seed", seed, "Sampling seed (with the prompt index)")->capture_default_str();
  CLI::Option* plain =
      app->add_flag("--no-watermark", no_watermark, "Sample without the watermark (instead of --key)")->excludes(key);
  app->add_option("--account", account,
                  "Also mark the completions with this account id (UTF-8, taken as bytes; papers/trace-v1.md); "
                  "needs a key made with `keygen --trace`")
      ->needs(key)
      ->excludes(plain);
  app->add_option("--scheme", scheme,
                  "kgw, gumbel or unigram: the scheme to mark with, which the key must name (default: kgw when the "
                  "key names it, else the one scheme it names). Gumbel chooses each token from the shaped "
                  "distribution, a repeated window sampled plainly; accounts need kgw")
      ->needs(key)
      ->excludes(plain);
  app->footer(exit_codes_footer({{exit_evidence, "the completions were written"},
                                 {exit_input_error, input_meaning},
                                 {exit_usage, usage_meaning + std::string(" (one of --key and --no-watermark is needed;\n"
                                                                          "      --account needs a key made with `keygen --trace`)")},
                                 {exit_io_error, output_meaning},
                                 {exit_internal, internal_meaning}}));
  add_threads_option(*app, threads);
  add_quiet_flag(*app, quiet);
}

int generate_command::run() const {
  // Before any work; both at once is refused by the parser.
  if (key_path.empty() && !no_watermark) throw error(errc::usage, "generate: give --key (watermarked) or --no-watermark (plain)");
  const ngram_lm model = load_model(model_path);
  const tokenizer tok = load_tokenizer(tokenizer_path);
  require_same_tokenizer(model, tok);
  std::unique_ptr<tritium::key> key;
  std::shared_ptr<const kgw> kgw_scheme;
  if (!key_path.empty()) {
    key = std::make_unique<tritium::key>(load_key_warn(key_path));
    // The key's V is the logits width it watermarks; it must be the model's distribution width.
    key->require_logits_width(model.vocab_size(), model_path);
    kgw_scheme = std::make_shared<const kgw>(*key);
  }
  // The account's code word is derived from the key and the id alone; nothing about the account is
  // secret or stored. A key without trace parameters or an invalid id is a usage error.
  // The scheme: as asked (the key must name it), or the key's KGW, or the one scheme it names.
  scheme_kind kind = scheme_kind::kgw;
  if (key) {
    const scheme_set named = key->params().schemes;
    if (!scheme.empty()) {
      const auto asked = scheme_from_name(scheme);
      if (!asked) throw error(errc::usage, "--scheme " + scheme + ": expected kgw, gumbel or unigram");
      kind = *asked;
      key->require_scheme(kind, "generate --scheme " + scheme);
    } else if ((named & scheme_bit(scheme_kind::kgw)) == 0) {
      const std::vector<scheme_kind> only = schemes_in(named);
      if (only.size() != 1) {
        throw error(errc::usage, "generate: the key names " + scheme_list_text(named) + ": choose one with --scheme");
      }
      kind = only.front();
    }
  }
  std::optional<account_code> account_mark;
  if (!account.empty() || app->count("--account") != 0) {
    if (kind != scheme_kind::kgw) {
      throw error(errc::usage, std::string("--account: accounts are marked through kgw, not ") + scheme_name(kind));
    }
    try {
      key->require_trace("generate --account");
    } catch (const error& e) {
      throw error(errc::usage, e.what());
    }
    account_mark = as_usage([&] { return derive_account_code(*key, account, *key->trace()); });
  }
  text_source source(prompts, "jsonl");
  source.read_field(text_field::prompt);
  atomic_output out(output);
  next_token_sampler sampler(model, kgw_scheme, no_watermark, temperature, top_p, tok.vocab_size());
  if (key && kind != scheme_kind::kgw) sampler.use_scheme(std::make_shared<const key_schemes>(*key), kind);
  if (account_mark) sampler.set_account(&*account_mark);
  tokenizer::session session(tok);
  std::size_t index = 0;  // prompts answered before the batch
  std::uint64_t generated = 0;
  const auto t0 = clock_type::now();
  progress_line line = stderr_progress("generate", quiet, output.empty());
  progress_meter progress(line.callback(), "prompts");
  // Prompts are answered a batch at a time on the workers (each with its own seed: the output is the
  // single worker's, byte for byte) and written in prompt order.
  constexpr std::size_t batch = 1024;
  std::vector<text_document> docs;
  std::vector<std::vector<token_id>> prompt_ids;
  auto answer_batch = [&] {
    const std::vector<std::vector<token_id>> completions = generate_completions(
        sampler, prompt_ids, max_new_tokens, seed, index, threads, [&](std::size_t done) { progress.reach(index + done); });
    for (std::size_t i = 0; i < docs.size(); ++i) {
      const std::vector<token_id>& completion = completions[i];
      generated += completion.size();
      ojson j;
      // The record schema (README.md): the answer in "text" and, the same answer, its ids in "tokens";
      // the prompt in its own field, which no test reads as the answer.
      j["prompt"] = docs[i].text;
      j["text"] = tok.decode(completion);
      j["tokens"] = completion;
      j["settings"] = {{"model", model_path}, {"max_new_tokens", max_new_tokens}, {"temperature", temperature},
                       {"top_p", top_p}, {"seed", seed}, {"watermark", !no_watermark}};
      if (key) {
        j["settings"]["key_id"] = key->id();
        j["settings"]["scheme"] = scheme_name(kind);
      }
      if (account_mark) j["settings"]["account"] = account;
      // The id as written in the prompts file (a parsed and printed id can differ), then the rest.
      out.stream() << "{\"id\":" << docs[i].id_json << "," << j.dump().substr(1) << "\n";
    }
    index += docs.size();
    progress.reach(index);
    docs.clear();
    prompt_ids.clear();
  };
  text_document doc;
  while (source.next(doc)) {
    prompt_ids.emplace_back();
    session.encode(doc.text, prompt_ids.back());
    docs.push_back(std::move(doc));
    if (docs.size() == batch) answer_batch();
  }
  progress.set_total(index + docs.size());
  answer_batch();
  progress.finish();
  out.commit();
  const double s = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::cerr << "tritium: generated " << generated << " tokens for " << index << " prompts in " << std::fixed
            << std::setprecision(2) << s << " s (" << std::setprecision(0) << static_cast<double>(generated) / s
            << " tokens/s)\n";
  return exit_evidence;
}

}  // namespace tritium::cli
