// A program that knows tritium only as an installed package (find_package(tritium)) and does, through
// the libraries alone, what a provider and an analyst do with the command line: generate watermarked
// tokens, detect them, build and sign an evidence report, verify it and recompute it from the files.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tritium/evidence/report.hpp"
#include "tritium/evidence/signing.hpp"
#include "tritium/inputs.hpp"
#include "tritium/kgw_stream.hpp"
#include "tritium/scan.hpp"
#include "tritium/synthetic_lm.hpp"

namespace fs = std::filesystem;

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok) ++failures;
}

}  // namespace

int main() {
  const fs::path dir = fs::temp_directory_path() / ("tritium-consumer-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  try {
    // The provider: a key, and watermarked completions from a model (a synthetic one here).
    tritium::kgw_params params;
    params.set_gamma(0.25);
    params.delta = 2.0;
    params.vocab_size = 1000;
    const tritium::key wm = tritium::key::generate(params);
    const tritium::synthetic_lm model(params.vocab_size, 7);
    tritium::kgw_stream stream(std::make_shared<const tritium::kgw>(wm), {.mask_repeated_contexts = false, .seed = 11});
    std::vector<float> logits(params.vocab_size);
    {
      std::ofstream out(dir / "texts.jsonl");
      for (int doc = 0; doc < 4; ++doc) {
        const tritium::token_id first = doc + 1;
        stream.begin(std::span<const tritium::token_id>(&first, 1));
        std::vector<tritium::token_id> tokens;
        tritium::token_id previous = first;
        for (int i = 0; i < 150; ++i) {
          model.logits(previous, logits);
          previous = stream.sample(logits);
          stream.accept(previous);
          tokens.push_back(previous);
        }
        std::string line = "{\"id\": \"doc-" + std::to_string(doc) + "\", \"tokens\": ";
        tritium::append_token_array(line, tokens);
        out << line << "}\n";
      }
    }

    // The analyst: detect, with a signed report whose paths are relative to the base directory.
    tritium::detect_spec spec;
    spec.input = "texts.jsonl";
    tritium::scan_environment env;
    env.base = dir;
    tritium::detect_scan scan(spec, wm, env);
    const tritium::report_signing_key signer = tritium::report_signing_key::generate();
    signer.save(dir / "signer.key");
    signer.public_key().save(dir / "signer.pub");
    tritium::report_context context;
    context.base = dir;
    context.invocation.tool = "tritium-consumer";
    std::size_t documents = 0;
    const tritium::detect_report run =
        tritium::run_detect_test(scan, context, [&](const std::string&, auto, const tritium::detection&) { ++documents; });
    check(documents == 4, "the scan handed out every document");
    check(run.verdict.outcome == "evidence", "watermarked tokens are detected");
    check(run.verdict.decisive_log10_p < -10, "with a small p-value");
    tritium::report_writer writer({.report_path = (dir / "report.json").string(),
                                   .signing_key_path = (dir / "signer.key").string(),
                                   .html_path = (dir / "report.html").string()});
    writer.write(run.statement);

    // Anyone with the public key: open, check the subjects, recompute.
    const auto trusted = tritium::report_public_key::load(dir / "signer.pub");
    const tritium::opened_report opened = tritium::open_report((dir / "report.json").string(), {trusted});
    check(opened.signer == signer.key_id(), "the report is signed by the signer");
    // A KGW test of whole documents is written in version 2, the oldest that holds it.
    check(opened.version == 2, "in predicate version 2");
    check(opened.statement["subject"][0]["name"] == "texts.jsonl", "its subject is named relative to the base");
    tritium::check_subjects(opened.statement, dir);
    check(tritium::recompute(opened.statement, wm, dir).empty(), "a recomputation matches every figure");

    // A changed input is caught by the subjects; another key by the recomputation.
    const tritium::key other = tritium::key::generate(params);
    bool refused = false;
    try {
      (void)tritium::recompute(opened.statement, other, dir);
    } catch (const tritium::error& e) {
      refused = e.code() == tritium::errc::verification_failed;
    }
    check(refused, "another key is refused");
    { std::ofstream(dir / "texts.jsonl", std::ios::app) << "\n"; }
    refused = false;
    try {
      tritium::check_subjects(opened.statement, dir);
    } catch (const tritium::error& e) {
      refused = e.code() == tritium::errc::verification_failed;
    }
    check(refused, "a changed subject is refused");
  } catch (const std::exception& e) {
    std::printf("FAIL exception: %s\n", e.what());
    ++failures;
  }
  fs::remove_all(dir);
  return failures == 0 ? 0 : 1;
}
