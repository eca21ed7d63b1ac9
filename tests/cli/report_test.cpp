// Evidence reports end to end through the command line (in process): determinism under
// SOURCE_DATE_EPOCH, verification, and refusal of every change to the envelope, the statement and
// the subject files, of unknown signers and of recomputations that differ.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <regex>
#include <sstream>

#include "report_options.hpp"
#include "exit_codes.hpp"
#include "tritium/evidence/dsse.hpp"
#include "tritium/evidence/signing.hpp"

using namespace tritium;
using namespace tritium::cli;
namespace fs = std::filesystem;

namespace {

const fs::path fixtures = TRITIUM_FIXTURES_DIR;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// Runs tritium with stdout and stderr captured.
struct run_result {
  int code;
  std::string out, err;
};
run_result tritium_run(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  auto* saved_out = std::cout.rdbuf(out.rdbuf());
  auto* saved_err = std::cerr.rdbuf(err.rdbuf());
  const int code = run_tritium(args);
  std::cout.rdbuf(saved_out);
  std::cerr.rdbuf(saved_err);
  return {code, out.str(), err.str()};
}

// A scratch directory that is also the working directory (reports name their subjects relatively).
struct workspace {
  fs::path dir = fs::temp_directory_path() / ("tritium-report-test-" + std::to_string(::getpid()));
  fs::path saved = fs::current_path();
  workspace() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::current_path(dir);
    fs::copy_file(fixtures / "cli" / "docs.jsonl", dir / "docs.jsonl");
    fs::copy_file(fixtures / "cli" / "test.key", dir / "wm.key");
    fs::permissions(dir / "wm.key", fs::perms::owner_read | fs::perms::owner_write);
    ::setenv("SOURCE_DATE_EPOCH", "1767225600", 1);
    REQUIRE(tritium_run({"report", "keygen", "--out", "signer.key"}).code == 0);
    REQUIRE(tritium_run({"report", "keygen", "--out", "stranger.key"}).code == 0);
    const auto r = tritium_run({"detect", "-k", "wm.key", "-i", "docs.jsonl", "--report", "report.json",
                                "--signing-key", "signer.key", "--html", "report.html"});
    REQUIRE(r.code == exit_evidence);
  }
  ~workspace() {
    ::unsetenv("SOURCE_DATE_EPOCH");
    fs::current_path(saved);
    fs::remove_all(dir);
  }
  /// Signs `statement` with signer.key into the envelope `name` (an edited statement, signed as the
  /// signer would: only the verification of its content can refuse it); returns the name.
  std::string sign(const ojson& statement, const std::string& name) const {
    spit(name, dsse_sign(in_toto_payload_type, statement.dump(), report_signing_key::load("signer.key")));
    return name;
  }
  /// Edits the figure at `pointer` of a statement, signs it and checks that the recomputation (run
  /// with `recompute`, e.g. {"--recompute", "-k", "wm.key"}) finds it, naming the pointer.
  void check_recompute_finds(ojson statement, const std::string& pointer, const ojson& value,
                             const std::vector<std::string>& recompute) const {
    statement[ojson::json_pointer(pointer)] = value;
    const run_result r = verify(sign(statement, "edited.json"), recompute);
    CHECK(r.code == exit_verification_failed);
    CHECK_THAT(r.err, Catch::Contains(pointer));
  }
  run_result verify(const std::string& envelope = "report.json", std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{"report", "verify", envelope, "--public-key", "signer.key.pub"};
    args.insert(args.end(), extra.begin(), extra.end());
    return tritium_run(args);
  }
};

// One document "pasted": `marked` inserted at token 800 of 1,500 ids below 1,000 drawn independently
// of any key (seed 17), as JSON Lines at `path`.
void write_pasted(const ojson& marked, const std::string& path) {
  std::mt19937 rng(17);
  ojson tokens = ojson::array();
  for (int i = 0; i < 1500; ++i) {
    if (i == 800) {
      for (const auto& t : marked) tokens.push_back(t);
    }
    tokens.push_back(static_cast<int>(rng() % 1000));
  }
  spit(path, ojson{{"id", "pasted"}, {"tokens", tokens}}.dump() + "\n");
}

ojson statement_of(const std::string& envelope) {
  return ojson::parse(base64_decode(ojson::parse(envelope)["payload"].get<std::string>(), "payload"));
}

// The envelope with its payload replaced but its signature kept.
std::string with_payload(const std::string& envelope, const std::string& payload) {
  ojson e = ojson::parse(envelope);
  e["payload"] = base64_encode(payload);
  return e.dump(2) + "\n";
}

}  // namespace

TEST_CASE("report: same inputs and SOURCE_DATE_EPOCH give byte-identical reports", "[report]") {
  workspace w;
  const auto first = slurp("report.json"), first_html = slurp("report.html");
  REQUIRE(tritium_run({"detect", "-k", "wm.key", "-i", "docs.jsonl", "--report", "again.json", "--signing-key",
                       "signer.key", "--html", "again.html"}).code == exit_evidence);
  CHECK(slurp("again.json") == first);
  CHECK(slurp("again.html") == first_html);
  const ojson s = statement_of(first);
  CHECK(s["predicate"]["invocation"]["time"] == "2026-01-01T00:00:00Z");
  CHECK(s["subject"][0]["name"] == "docs.jsonl");
  CHECK(s["predicateType"] == "https://tritium.dev/evidence/watermark-test/v2");
  CHECK(s["predicate"]["decision"]["outcome"] == "evidence");
  CHECK(s["predicate"]["specification"]["input"]["path"] == "docs.jsonl");
  // The same test from another working directory, its files named relative to --base (or given
  // there): the same bytes, and no path of this machine in the report.
  fs::create_directories("elsewhere/inner");
  fs::copy_file("docs.jsonl", "elsewhere/inner/docs.jsonl");
  fs::copy_file("wm.key", "elsewhere/wm.key");
  fs::copy_file("signer.key", "elsewhere/signer.key");
  fs::permissions("elsewhere/signer.key", fs::perms::owner_read | fs::perms::owner_write);
  fs::current_path("elsewhere/inner");
  REQUIRE(tritium_run({"detect", "-k", "../wm.key", "-i", "docs.jsonl", "--report", "../moved.json", "--signing-key",
                       "../signer.key", "--html", "../moved.html"}).code == exit_evidence);
  fs::current_path("..");
  REQUIRE(tritium_run({"detect", "-k", (fs::current_path() / "wm.key").string(), "-i",
                       (fs::current_path() / "inner/docs.jsonl").string(), "--base", "inner", "--report", "based.json",
                       "--signing-key", "signer.key"}).code == exit_evidence);
  const ojson moved = statement_of(slurp("moved.json"));
  const ojson based = statement_of(slurp("based.json"));
  fs::current_path("..");
  CHECK(moved["subject"] == s["subject"]);
  CHECK(based["subject"] == s["subject"]);
  CHECK(moved["predicate"]["specification"] == s["predicate"]["specification"]);
  CHECK(based["predicate"]["specification"] == s["predicate"]["specification"]);
  CHECK(slurp("elsewhere/based.json").find(fs::current_path().string()) == std::string::npos);
  CHECK(based["predicate"]["invocation"]["arguments"][2] == "../wm.key");
  // The reports differ only in their recorded arguments (information only) and what follows from them.
  ojson a = s, b = moved;
  a["predicate"].erase("invocation");
  b["predicate"].erase("invocation");
  CHECK(a == b);
  // The key is named by its id only; no secret material appears anywhere in the report.
  const std::string key_file = slurp("wm.key");
  const std::string secret = ojson::parse(key_file)["secret"].get<std::string>();
  CHECK(first.find(secret) == std::string::npos);
  CHECK(s.dump().find(secret) == std::string::npos);
  CHECK(first_html.find(secret) == std::string::npos);
  // Another time gives another report.
  ::setenv("SOURCE_DATE_EPOCH", "1767225601", 1);
  REQUIRE(tritium_run({"detect", "-k", "wm.key", "-i", "docs.jsonl", "--report", "later.json", "--signing-key",
                       "signer.key"}).code == exit_evidence);
  CHECK(slurp("later.json") != first);
  ::setenv("SOURCE_DATE_EPOCH", "yesterday", 1);
  const auto bad = tritium_run({"detect", "-k", "wm.key", "-i", "docs.jsonl", "--report", "x.json", "--signing-key", "signer.key"});
  CHECK(bad.code == exit_input_error);
  CHECK_THAT(bad.err, Catch::Contains("SOURCE_DATE_EPOCH"));
  CHECK_FALSE(fs::exists("x.json"));
}

TEST_CASE("report verify: a version 1 report keeps verifying its signature and subjects", "[report]") {
  // fixtures/reports/v1: made by the last build that wrote version 1, over fixtures/cli/docs.jsonl.
  const fs::path root = fs::path(TRITIUM_FIXTURES_DIR).parent_path();
  const std::string envelope = (fixtures / "reports/v1/detect.dsse.json").string();
  const std::string pub = (fixtures / "reports/v1/signer.pub").string();
  auto r = tritium_run({"report", "verify", envelope, "-P", pub, "--base", root.string(), "--json"});
  CHECK(r.code == exit_evidence);
  CHECK_THAT(r.out, Catch::Contains("\"predicate_version\":1") && Catch::Contains("\"outcome\":\"evidence\""));
  // It records only a command line, which is never re-run.
  const fs::path scratch = fs::temp_directory_path() / ("tritium-v1-" + std::to_string(::getpid()));
  fs::create_directories(scratch);
  fs::copy_file(fixtures / "cli/test.key", scratch / "wm.key", fs::copy_options::overwrite_existing);
  fs::permissions(scratch / "wm.key", fs::perms::owner_read | fs::perms::owner_write);
  r = tritium_run({"report", "verify", envelope, "-P", pub, "--base", root.string(), "--recompute", "-k",
                   (scratch / "wm.key").string()});
  fs::remove_all(scratch);
  CHECK(r.code == exit_input_error);
  CHECK_THAT(r.err, Catch::Contains("version 1 report") && Catch::Contains("without --recompute"));
  // Its subjects are still checked.
  r = tritium_run({"report", "verify", envelope, "-P", pub, "--base", fixtures.string()});
  CHECK(r.code == exit_verification_failed);
}

TEST_CASE("report verify: a radioactivity report from before specification version 2 recomputes as it was made",
          "[report]") {
  // fixtures/reports/v2/radioactivity.dsse.json: made by the last build whose control-key check read
  // P(S >= s) (98ffb86), over fixtures/cli/docs.jsonl with fixtures/cli/test.key. Its specification is
  // version 1; a recomputation must read the p-values that build read, or its KS figures would differ.
  const fs::path root = fs::path(TRITIUM_FIXTURES_DIR).parent_path();
  const std::string envelope = (fixtures / "reports/v2/radioactivity.dsse.json").string();
  const std::string pub = (fixtures / "reports/v2/signer.pub").string();
  const ojson old = statement_of(slurp(envelope));
  REQUIRE(old["predicate"]["specification"]["version"] == 1);
  const fs::path scratch = fs::temp_directory_path() / ("tritium-rad-v1-" + std::to_string(::getpid()));
  fs::create_directories(scratch);
  fs::copy_file(fixtures / "cli/test.key", scratch / "wm.key", fs::copy_options::overwrite_existing);
  fs::permissions(scratch / "wm.key", fs::perms::owner_read | fs::perms::owner_write);
  const std::string key = (scratch / "wm.key").string();
  auto r = tritium_run({"report", "verify", envelope, "-P", pub, "--base", root.string(), "--recompute", "-k", key});
  CHECK(r.code == exit_evidence);
  CHECK_THAT(r.out, Catch::Contains("recomputed"));
  // The same test today writes version 2: the same counts and control log10 p, the check on randomised
  // p-values, and it recomputes too.
  ::setenv("SOURCE_DATE_EPOCH", "1767225600", 1);
  const std::string fresh = (scratch / "new.json").string();
  r = tritium_run({"report", "keygen", "--out", (scratch / "signer.key").string()});
  REQUIRE(r.code == exit_evidence);
  r = tritium_run({"radioactivity", "corpus", "-k", key, "-i", (fixtures / "cli/docs.jsonl").string(), "--report", fresh,
                   "--signing-key", (scratch / "signer.key").string()});
  ::unsetenv("SOURCE_DATE_EPOCH");
  REQUIRE(r.code == exit_evidence);
  const ojson now = statement_of(slurp(fresh));
  CHECK(now["predicate"]["specification"]["version"] == 2);
  CHECK(now["predicate"]["totals"] == old["predicate"]["totals"]);
  // Another build may round a last digit differently (a recomputation allows 1e-9 relative).
  REQUIRE(now["predicate"]["controls"]["log10_p"].size() == old["predicate"]["controls"]["log10_p"].size());
  for (std::size_t i = 0; i < old["predicate"]["controls"]["log10_p"].size(); ++i) {
    CHECK(now["predicate"]["controls"]["log10_p"][i].get<double>() ==
          Approx(old["predicate"]["controls"]["log10_p"][i].get<double>()).epsilon(1e-9));
  }
  CHECK(now["predicate"]["controls"]["ks_statistic"] != old["predicate"]["controls"]["ks_statistic"]);
  r = tritium_run({"report", "verify", fresh, "-P", (scratch / "signer.key.pub").string(), "--recompute", "-k", key});
  CHECK(r.code == exit_evidence);
  fs::remove_all(scratch);
}

TEST_CASE("report verify: signature, subjects and recomputation", "[report]") {
  workspace w;
  auto ok = w.verify();
  CHECK(ok.code == exit_evidence);
  CHECK_THAT(ok.out, Catch::Contains("verified"));
  ok = w.verify("report.json", {"--recompute", "--key", "wm.key"});
  CHECK(ok.code == exit_evidence);
  CHECK_THAT(ok.out, Catch::Contains("every figure matches"));

  SECTION("a report signed by an unknown key is refused") {
    REQUIRE(tritium_run({"detect", "-k", "wm.key", "-i", "docs.jsonl", "--report", "s.json", "--signing-key",
                         "stranger.key"}).code == exit_evidence);
    const auto r = w.verify("s.json");
    CHECK(r.code == exit_verification_failed);
    CHECK_THAT(r.err, Catch::Contains("is by an unknown key"));
  }
  SECTION("recomputing with another watermark key names the figures that differ") {
    REQUIRE(tritium_run({"keygen", "--out", "other.key", "--vocab-size", "1000"}).code == 0);
    const auto r = w.verify("report.json", {"--recompute", "--key", "other.key"});
    CHECK(r.code == exit_verification_failed);
    CHECK_THAT(r.err, Catch::Contains("not the key the report was made with"));
  }
  SECTION("--recompute without a key is a usage error, not a silent pass") {
    CHECK(w.verify("report.json", {"--recompute"}).code == exit_usage);
  }
  SECTION("the joined short form -kFILE is recomputed too") {
    REQUIRE(tritium_run({"detect", "-kwm.key", "-i", "docs.jsonl", "--report", "k.json", "--signing-key", "signer.key"}).code ==
            exit_evidence);
    CHECK(w.verify("k.json", {"--recompute", "-k", "wm.key"}).code == exit_evidence);
  }
  SECTION("a recomputation writes no file, whatever the report recorded") {
    // An honest run's output option is not recorded...
    REQUIRE(tritium_run({"detect", "-k", "wm.key", "-i", "docs.jsonl", "-oresults.txt", "--report", "o.json",
                         "--signing-key", "signer.key"}).code == exit_evidence);
    CHECK(statement_of(slurp("o.json"))["predicate"]["invocation"]["arguments"].dump().find("results") == std::string::npos);
    fs::remove("results.txt");
    CHECK(w.verify("o.json", {"--recompute", "-k", "wm.key"}).code == exit_evidence);
    CHECK_FALSE(fs::exists("results.txt"));
    // ...and a signed statement that records one is recomputed from its specification, the
    // arguments untouched.
    const auto signer = report_signing_key::load("signer.key");
    for (const std::vector<std::string>& extra : {std::vector<std::string>{"--output", "x.txt"}, {"-ox.txt"}, {"--html=x.txt"}}) {
      ojson s = statement_of(slurp("report.json"));
      for (const auto& a : extra) s["predicate"]["invocation"]["arguments"].push_back(a);
      spit("out.json", dsse_sign(in_toto_payload_type, s.dump(), signer));
      CHECK(w.verify("out.json", {"--recompute", "-k", "wm.key"}).code == exit_evidence);
      CHECK_FALSE(fs::exists("x.txt"));
    }
  }
}

TEST_CASE("report verify: every changed byte of envelope, statement or subject is refused", "[report]") {
  workspace w;
  const std::string envelope = slurp("report.json");
  const std::string payload = base64_decode(ojson::parse(envelope)["payload"].get<std::string>(), "payload");
  const std::string subject = slurp("docs.jsonl");

  std::size_t checked = 0;
  // The envelope: every byte (payload bytes in steps, since each is one base64 character).
  for (std::size_t i = 0; i < envelope.size(); i += (i > 60 && i + 200 < envelope.size() ? 7u : 1u)) {
    std::string changed = envelope;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    spit("changed.json", changed);
    const auto r = w.verify("changed.json");
    INFO("envelope byte " << i << ": " << r.err);
    REQUIRE((r.code == exit_verification_failed || r.code == exit_input_error));
    REQUIRE(r.err.find("changed.json") != std::string::npos);
    ++checked;
  }
  // The statement: every byte, re-encoded so that only the signature can notice.
  for (std::size_t i = 0; i < payload.size(); i += 3) {
    std::string changed = payload;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    spit("changed.json", with_payload(envelope, changed));
    const auto r = w.verify("changed.json");
    INFO("statement byte " << i);
    REQUIRE(r.code == exit_verification_failed);
    REQUIRE_THAT(r.err, Catch::Contains("changed after signing"));
    ++checked;
  }
  // The subject file: every byte.
  for (std::size_t i = 0; i < subject.size(); i += 5) {
    std::string changed = subject;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    spit("docs.jsonl", changed);
    const auto r = w.verify();
    INFO("subject byte " << i);
    REQUIRE(r.code == exit_verification_failed);
    REQUIRE_THAT(r.err, Catch::Contains("subject \"docs.jsonl\" changed since the report was signed"));
    ++checked;
  }
  spit("docs.jsonl", subject);
  CHECK(w.verify().code == exit_evidence);
  CHECK(checked > 1000);
}

TEST_CASE("report verify: malformed envelopes get clear errors", "[report]") {
  workspace w;
  const std::string envelope = slurp("report.json");

  spit("cut.json", envelope.substr(0, envelope.size() / 3));
  auto r = w.verify("cut.json");
  CHECK(r.code == exit_input_error);
  CHECK_THAT(r.err, Catch::Contains("cut.json: envelope: not valid JSON at byte") && Catch::Contains("truncated"));

  ojson e = ojson::parse(envelope);
  e["payloadType"] = "application/json";
  spit("type.json", e.dump(2) + "\n");
  r = w.verify("type.json");
  CHECK(r.code == exit_input_error);
  CHECK_THAT(r.err, Catch::Contains("payloadType: expected \"application/vnd.in-toto+json\", got \"application/json\""));

  // A correctly signed statement of a predicate version this build does not know.
  ojson s = statement_of(envelope);
  s["predicateType"] = "https://tritium.dev/evidence/watermark-test/v5";
  const auto signer = report_signing_key::load("signer.key");
  spit("v5.json", dsse_sign(in_toto_payload_type, s.dump(), signer));
  r = w.verify("v5.json");
  CHECK(r.code == exit_input_error);
  CHECK_THAT(r.err, Catch::Contains("unknown predicate version \"5\"") && Catch::Contains("reads versions 1 to 4"));

  s["predicateType"] = "https://example.org/provenance/v1";
  spit("other.json", dsse_sign(in_toto_payload_type, s.dump(), signer));
  r = w.verify("other.json");
  CHECK(r.code == exit_input_error);
  CHECK_THAT(r.err, Catch::Contains("is not a tritium evidence report"));

  // A recorded command line is information only: a recomputation re-runs the specification and
  // never the arguments, whatever they say.
  s = statement_of(envelope);
  s["predicate"]["invocation"]["arguments"] = ojson::array({"report", "keygen", "--out", "pwned.key"});
  spit("cmd.json", dsse_sign(in_toto_payload_type, s.dump(), signer));
  r = w.verify("cmd.json", {"--recompute", "--key", "wm.key"});
  CHECK(r.code == exit_evidence);
  CHECK_FALSE(fs::exists("pwned.key"));
  // The specification is input too: an unknown field, a mistyped one or an unreadable path is
  // refused by its JSON pointer before anything runs.
  s = statement_of(envelope);
  s["predicate"]["specification"]["threads"] = 4;
  spit("spec.json", dsse_sign(in_toto_payload_type, s.dump(), signer));
  r = w.verify("spec.json", {"--recompute", "--key", "wm.key"});
  CHECK(r.code == exit_input_error);
  CHECK_THAT(r.err, Catch::Contains("/predicate/specification/threads: unknown field"));
  s = statement_of(envelope);
  s["predicate"]["specification"]["alpha"] = "0.001";
  spit("spec.json", dsse_sign(in_toto_payload_type, s.dump(), signer));
  CHECK_THAT(w.verify("spec.json", {"--recompute", "--key", "wm.key"}).err,
             Catch::Contains("/predicate/specification/alpha: expected a number, got string"));
  s = statement_of(envelope);
  s["predicate"]["specification"]["input"]["path"] = "missing.jsonl";
  spit("spec.json", dsse_sign(in_toto_payload_type, s.dump(), signer));
  r = w.verify("spec.json", {"--recompute", "--key", "wm.key"});
  CHECK(r.code == exit_verification_failed);
  CHECK_THAT(r.err, Catch::Contains("subject") && Catch::Contains("missing.jsonl"));

  CHECK(w.verify("missing.json").code == exit_input_error);
  CHECK(tritium_run({"detect", "-k", "wm.key", "-i", "-", "--report", "r.json", "--signing-key", "signer.key"}).code ==
        exit_input_error);
  CHECK(tritium_run({"detect", "-k", "wm.key", "-i", "docs.jsonl", "--report", "r.json"}).code == exit_usage);

  // A correctly signed statement that does not follow the predicate's layout is refused by name, by
  // verify and by the HTML renderer alike.
  s = statement_of(envelope);
  s["predicate"]["documents"]["rows"][0][1] = "<script>alert(1)</script>";
  spit("bad.json", dsse_sign(in_toto_payload_type, s.dump(), signer));
  r = w.verify("bad.json");
  CHECK(r.code == exit_input_error);
  CHECK_THAT(r.err, Catch::Contains("/predicate/documents/rows/0: expected [id, tokens"));
  CHECK(tritium_run({"report", "html", "bad.json", "-P", "signer.key.pub", "-o", "bad.html"}).code == exit_input_error);
  CHECK_FALSE(fs::exists("bad.html"));
  s = statement_of(envelope);
  s["predicate"].erase("decision");
  spit("bad.json", dsse_sign(in_toto_payload_type, s.dump(), signer));
  CHECK_THAT(w.verify("bad.json").err, Catch::Contains("/predicate/decision: missing"));
  s = statement_of(envelope);
  s["predicate"]["documents"].erase("selection");
  spit("bad.json", dsse_sign(in_toto_payload_type, s.dump(), signer));
  CHECK(tritium_run({"report", "html", "bad.json", "-P", "signer.key.pub", "-o", "bad.html"}).code == exit_input_error);
  // Keys and arguments from the file never reach the terminal raw.
  s = statement_of(envelope);
  s["predicate"]["totals"]["\x1b]0;owned\x07"] = "x";
  spit("bad.json", dsse_sign(in_toto_payload_type, s.dump(), signer));
  r = w.verify("bad.json");
  CHECK(r.code == exit_input_error);
  CHECK(r.err.find('\x1b') == std::string::npos);
  s = statement_of(envelope);
  s["predicate"]["specification"]["input"]["path"] = "docs\x1b[31m.jsonl";
  spit("bad.json", dsse_sign(in_toto_payload_type, s.dump(), signer));
  r = w.verify("bad.json", {"--recompute", "-k", "wm.key"});
  CHECK(r.code == exit_input_error);
  CHECK_THAT(r.err, Catch::Contains("/predicate/specification/input/path: expected a file name"));
  CHECK(r.err.find('\x1b') == std::string::npos);
  // A number out of range is malformed input, not an internal error, signed or not.
  spit("big.json", "{\"payloadType\":1e400}");
  CHECK(w.verify("big.json").code == exit_input_error);
  // A signed statement follows the one policy for whole JSON documents: a key given twice (the
  // reader would otherwise keep the last) is refused, naming it.
  std::string twice = statement_of(envelope).dump();
  twice.insert(1, "\"_type\":\"https://example.org/other\",");
  spit("twice.json", dsse_sign(in_toto_payload_type, twice, signer));
  r = w.verify("twice.json");
  CHECK(r.code == exit_input_error);
  CHECK_THAT(r.err, Catch::Contains("twice.json: statement") && Catch::Contains("_type"));
}

TEST_CASE("report: what the page and the statement say is what the run can support", "[report]") {
  workspace w;
  SECTION("ids are escaped in the HTML") {
    spit("ids.jsonl", "{\"id\": \"<script>alert(1)</script>\", \"tokens\": [1, 2, 3, 4]}\n");
    REQUIRE(tritium_run({"detect", "-k", "wm.key", "-i", "ids.jsonl", "--html", "ids.html"}).code == exit_insufficient);
    const std::string html = slurp("ids.html");
    CHECK(html.find("<script>") == std::string::npos);
    CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
    CHECK(html.find("Signature</th><td>none") != std::string::npos);  // no envelope: nothing signed
  }
  SECTION("without deduplication nothing is detected and no p-value is decisive") {
    REQUIRE(tritium_run({"detect", "-k", "wm.key", "-i", "docs.jsonl", "--dedup", "none", "--report", "n.json",
                         "--signing-key", "signer.key"}).code == exit_no_verdict);
    const ojson p = statement_of(slurp("n.json"))["predicate"];
    CHECK(p["decision"]["outcome"] == "no verdict");
    CHECK(p["decision"]["log10_p"].is_null());
    CHECK(p["documents"]["p_values_valid"] == false);
    for (const auto& row : p["documents"]["rows"]) CHECK(row[5] == false);
  }
  SECTION("the chart of the best of N documents uses the corrected threshold") {
    const ojson p = statement_of(slurp("report.json"))["predicate"];
    CHECK(p["decisive_test"]["threshold_log10_p"].get<double>() == Approx(std::log10(1e-3 / 6.0)));
    CHECK(p["documents"]["total"] == 6);
    CHECK(p["documents"]["rows"].size() == 6);
  }
  SECTION("radioactivity tests write reports that verify and recompute, with their control keys") {
    REQUIRE(tritium_run({"radioactivity", "filter", "-k", "wm.key", "-i", "docs.jsonl", "-o", "docs.filter"}).code == 0);
    const auto r = tritium_run({"radioactivity", "corpus", "-k", "wm.key", "-i", "docs.jsonl", "--filter", "docs.filter",
                                "--report", "rad.json", "--signing-key", "signer.key", "--html", "rad.html"});
    REQUIRE(r.code == exit_evidence);
    const ojson s = statement_of(slurp("rad.json"));
    CHECK(s["subject"].size() == 2);  // the corpus and the filter
    CHECK(s["predicate"]["test"] == "radioactivity corpus");
    CHECK(s["predicate"]["controls"]["log10_p"].size() == 20);
    CHECK(s["predicate"]["settings"]["filter"]["file"] == "docs.filter");
    CHECK(w.verify("rad.json", {"--recompute", "-k", "wm.key"}).code == exit_evidence);
    CHECK(tritium_run({"report", "html", "rad.json", "-P", "signer.key.pub", "-o", "rad2.html"}).code == exit_evidence);
    CHECK(slurp("rad2.html") == slurp("rad.html"));
    CHECK(slurp("rad.html").find("Control keys") != std::string::npos);
  }
  SECTION("a radioactivity test without its safeguards decides nothing and records no decisive p-value") {
    REQUIRE(tritium_run({"radioactivity", "corpus", "-k", "wm.key", "-i", "docs.jsonl", "--tape", "none", "--report",
                         "nv.json", "--signing-key", "signer.key"}).code == exit_no_verdict);
    const ojson p = statement_of(slurp("nv.json"))["predicate"];
    CHECK(p["decision"]["outcome"] == "no verdict");
    CHECK(p["decision"]["log10_p"].is_null());
    CHECK(w.verify("nv.json", {"--recompute", "-k", "wm.key"}).code == exit_evidence);
  }
  SECTION("an output that is not a regular file is written in place, never replaced") {
    REQUIRE(tritium_run({"detect", "-k", "wm.key", "-i", "docs.jsonl", "-o", "/dev/null"}).code == exit_evidence);
    CHECK(fs::is_character_file("/dev/null"));
  }
}

TEST_CASE("report: Gumbel, Unigram and windowed scans are written in version 3 and recomputed", "[report]") {
  workspace w;
  fs::copy_file(fixtures / "cli" / "test-schemes.key", "schemes.key");
  fs::permissions("schemes.key", fs::perms::owner_read | fs::perms::owner_write);
  fs::copy_file(fixtures / "cli" / "docs_gumbel.jsonl", "gumbel.jsonl");
  REQUIRE(tritium_run({"detect", "-k", "schemes.key", "-i", "gumbel.jsonl", "--report", "v3.json", "--signing-key",
                       "signer.key", "--html", "v3.html"}).code == exit_evidence);
  const std::string envelope = slurp("v3.json");
  const ojson s = statement_of(envelope);
  const ojson& p = s["predicate"];
  CHECK(s["predicateType"] == "https://tritium.dev/evidence/watermark-test/v3");
  CHECK(p["specification"]["version"] == 2);
  CHECK(p["specification"]["schemes"] == ojson::array({"kgw", "gumbel", "unigram"}));
  CHECK(p["specification"]["min_window"] == 0);
  CHECK(p["method"]["schemes"].size() == 3);
  CHECK(p["method"]["windows"].is_null());
  // One row per document and scheme; a Gumbel row has a score and no green count.
  REQUIRE(p["documents"]["rows"].size() == 15);
  const ojson& gumbel_row = p["documents"]["rows"][1];
  CHECK(gumbel_row[1] == "gumbel");
  CHECK(gumbel_row[4].is_null());
  CHECK(gumbel_row[5].get<double>() > 100.0);
  CHECK(gumbel_row[7] == true);
  // The decision: the best of 5 documents x 3 schemes is a Gumbel document, its threshold alpha / 15.
  CHECK(p["decisive_test"]["scheme"] == "gumbel");
  CHECK(p["decisive_test"]["threshold_log10_p"].get<double>() == Approx(std::log10(1e-3 / 15.0)));
  CHECK(p["decision"]["log10_p"].get<double>() ==
        Approx(p["decisive_test"]["log10_p"].get<double>() + std::log10(15.0)));
  CHECK(p["decisive_test"]["curve"].size() > 10);
  CHECK(p["excerpt"]["scheme"] == "gumbel");
  CHECK(p["excerpt"]["tokens"][1][1] == "s");
  CHECK(slurp("v3.html").find("Schemes tested") != std::string::npos);
  CHECK(w.verify("v3.json", {"--recompute", "-k", "schemes.key"}).code == exit_evidence);
  // Byte for byte again.
  REQUIRE(tritium_run({"detect", "-k", "schemes.key", "-i", "gumbel.jsonl", "--report", "again.json",
                       "--signing-key", "signer.key"}).code == exit_evidence);
  CHECK(slurp("again.json") == envelope);

  auto signed_as = [&w](const ojson& statement, const std::string& name) { return w.sign(statement, name); };
  SECTION("a changed Gumbel score is found by the recomputation") {
    w.check_recompute_finds(s, "/predicate/documents/rows/1/5", 200.0, {"--recompute", "-k", "schemes.key"});
  }
  SECTION("a specification naming other schemes re-runs them and differs") {
    ojson t = s;
    t["predicate"]["specification"]["schemes"] = ojson::array({"gumbel"});
    const auto r = w.verify(signed_as(t, "fewer.json"), {"--recompute", "-k", "schemes.key"});
    CHECK(r.code == exit_verification_failed);
    // The specification is re-run as signed: Gumbel alone, whose figures are not the report's.
    CHECK_THAT(r.err, Catch::Contains("/predicate/hypothesis/alternative") && Catch::Contains("figure(s) differ"));
  }
  SECTION("a malformed version 2 specification is refused by its pointer") {
    ojson t = s;
    t["predicate"]["specification"]["schemes"] = ojson::array({"gumbel", "gumbel"});
    auto r = w.verify(signed_as(t, "twice.json"), {"--recompute", "-k", "schemes.key"});
    CHECK(r.code == exit_input_error);
    CHECK_THAT(r.err, Catch::Contains("/predicate/specification/schemes/1: names a scheme twice"));
    t = s;
    t["predicate"]["specification"]["schemes"] = ojson::array({"aaronson"});
    r = w.verify(signed_as(t, "unknown.json"), {"--recompute", "-k", "schemes.key"});
    CHECK(r.code == exit_input_error);
    CHECK_THAT(r.err, Catch::Contains("/predicate/specification/schemes/0: expected kgw, gumbel or unigram"));
    t = s;
    t["predicate"]["specification"].erase("min_window");
    r = w.verify(signed_as(t, "nowindow.json"), {"--recompute", "-k", "schemes.key"});
    CHECK(r.code == exit_input_error);
    CHECK_THAT(r.err, Catch::Contains("/predicate/specification/min_window: missing"));
    t = s;
    for (const std::uint64_t version : {std::uint64_t{3}, std::uint64_t{4294967297}}) {
      t["predicate"]["specification"]["version"] = version;
      r = w.verify(signed_as(t, "future.json"), {"--recompute", "-k", "schemes.key"});
      CHECK(r.code == exit_input_error);
      CHECK_THAT(r.err, Catch::Contains("/predicate/specification/version: unknown specification version"));
    }
  }
  SECTION("a version 3 row or decisive test out of layout is refused by verify and by the renderer") {
    ojson t = s;
    t["predicate"]["documents"]["rows"][0].erase(9);
    auto r = w.verify(signed_as(t, "row.json"));
    CHECK(r.code == exit_input_error);
    CHECK_THAT(r.err, Catch::Contains("/predicate/documents/rows/0: expected [id, scheme, tokens"));
    CHECK(tritium_run({"report", "html", "row.json", "-P", "signer.key.pub", "-o", "row.html"}).code == exit_input_error);
    CHECK_FALSE(fs::exists("row.html"));
    t = s;
    t["predicate"].erase("decisive_test");
    r = w.verify(signed_as(t, "nodecisive.json"));
    CHECK(r.code == exit_input_error);
    CHECK_THAT(r.err, Catch::Contains("/predicate/decisive_test: missing"));
    CHECK(tritium_run({"report", "html", "nodecisive.json", "-P", "signer.key.pub", "-o", "nd.html"}).code == exit_input_error);
    t = s;
    t["predicate"]["decisive_test"]["score"] = "173.9";
    r = w.verify(signed_as(t, "decisive.json"));
    CHECK(r.code == exit_input_error);
    CHECK_THAT(r.err, Catch::Contains("/predicate/decisive_test/score: expected a number or null"));
    t = s;
    t["predicate"]["excerpt"]["tokens"][0][1] = "x";
    CHECK_THAT(w.verify(signed_as(t, "mark.json")).err, Catch::Contains("expected [text, one of g r d c s]"));
    // A version 2 statement does not take version 3's mark for a Gumbel tuple.
    t = statement_of(slurp("report.json"));
    t["predicate"]["excerpt"]["tokens"][0][1] = "s";
    CHECK_THAT(w.verify(signed_as(t, "v2mark.json")).err, Catch::Contains("expected [text, one of g r d c]"));
  }
  SECTION("a windowed scan records its window, decides on the scan-corrected p and recomputes") {
    // marked-1 (KGW, 120 tokens) pasted at token 800 of 1,500 tokens drawn independently of the key.
    ojson marked;
    std::ifstream docs("docs.jsonl");
    for (std::string line; std::getline(docs, line);) {
      const ojson record = ojson::parse(line);
      if (record["id"] == "marked-1") marked = record["tokens"];
    }
    REQUIRE(marked.size() == 120);
    write_pasted(marked, "pasted.jsonl");
    REQUIRE(tritium_run({"detect", "-k", "wm.key", "-i", "pasted.jsonl", "--windows", "--report", "w.json",
                         "--signing-key", "signer.key", "--html", "w.html"}).code == exit_evidence);
    const ojson q = statement_of(slurp("w.json"))["predicate"];
    CHECK(q["specification"]["min_window"] == 50);
    CHECK(q["specification"]["schemes"] == ojson::array({"kgw"}));
    CHECK(q["method"]["windows"]["min_window"] == 50);
    const ojson& window = q["decisive_test"]["window"];
    REQUIRE(window.is_object());
    CHECK(window["token_begin"].get<int>() >= 800);
    CHECK(window["token_end"].get<int>() <= 921);
    // The corrected window is stronger evidence than the whole text, and the decision reads it.
    CHECK(window["log10_p_scan"].get<double>() < q["decisive_test"]["log10_p"].get<double>() - 5.0);
    CHECK(q["decision"]["log10_p"].get<double>() == Approx(window["log10_p_scan"].get<double>()));
    CHECK(window["log10_p"].get<double>() < window["log10_p_scan"].get<double>());
    CHECK(q["documents"]["rows"][0][9][0] == window["token_begin"]);
    CHECK(q["excerpt"]["first"] == window["token_begin"]);
    CHECK(slurp("w.html").find("The best window") != std::string::npos);
    CHECK(w.verify("w.json", {"--recompute", "-k", "wm.key"}).code == exit_evidence);
  }
}

TEST_CASE("report: tests under a transformers configuration are written in version 4 and recomputed", "[report]") {
  workspace w;
  fs::copy_file(fixtures / "cli" / "hf_kgw_generation_config.json", "kgw.json");
  fs::copy_file(fixtures / "cli" / "hf_synthid_config.json", "synthid.json");
  fs::copy_file(fixtures / "cli" / "docs_hf_kgw.jsonl", "kgw_docs.jsonl");
  fs::copy_file(fixtures / "cli" / "docs_hf_synthid.jsonl", "synthid_docs.jsonl");
  REQUIRE(tritium_run({"detect", "--hf-config", "kgw.json", "--vocab-size", "1000", "-i", "kgw_docs.jsonl", "--report",
                       "v4.json", "--signing-key", "signer.key", "--html", "v4.html"}).code == exit_evidence);
  const std::string envelope = slurp("v4.json");
  const ojson s = statement_of(envelope);
  const ojson& p = s["predicate"];
  CHECK(s["predicateType"] == "https://tritium.dev/evidence/watermark-test/v4");
  CHECK(p["test"] == "interop detect");
  CHECK(p["specification"]["version"] == 3);
  CHECK(p["specification"]["configuration"] == p["method"]["configuration"]);
  CHECK(p["specification"]["configuration"]["vocab_size"] == 1000);
  CHECK_FALSE(p["specification"]["configuration"].contains("hashing_key"));
  CHECK(p["key"]["id"].get<std::string>().size() == 64);
  CHECK(p["key"]["commitment"]["function"] == "argon2id13");
  // Five rows, one per document; three marked ones detected; the best's threshold is alpha / 5.
  REQUIRE(p["documents"]["rows"].size() == 5);
  CHECK(p["documents"]["rows"][0][1] == "hf-kgw");
  CHECK(p["documents"]["rows"][0][5].is_null());
  CHECK(p["documents"]["rows"][3][7] == false);
  CHECK(p["decisive_test"]["threshold_log10_p"].get<double>() == Approx(std::log10(1e-3 / 5.0)));
  CHECK(p["decision"]["log10_p"].get<double>() == Approx(p["decisive_test"]["log10_p"].get<double>() + std::log10(5.0)));
  // The curve ends at the decisive document's figures; the excerpt colours its tuples.
  const ojson& curve = p["decisive_test"]["curve"];
  REQUIRE(curve.size() == 64);
  CHECK(curve.back()[0] == p["decisive_test"]["scored"]);
  CHECK(curve.back()[1].get<double>() == Approx(-p["decisive_test"]["log10_p"].get<double>()));
  // The excerpt shows which tuples were scored, never their colour (the key's verdict).
  CHECK(p["excerpt"]["tokens"][0][1] == "c");
  CHECK(p["excerpt"]["tokens"][1][1] == "s");
  for (const auto& t : p["excerpt"]["tokens"]) CHECK((t[1] == "c" || t[1] == "s" || t[1] == "d"));
  const std::string html = slurp("v4.html");
  CHECK(html.find("Configuration id (Argon2id commitment)") != std::string::npos);
  CHECK(html.find("--recompute --hf-config CONFIG") != std::string::npos);
  CHECK(w.verify("v4.json", {"--recompute", "--hf-config", "kgw.json"}).code == exit_evidence);
  // Byte for byte again: the salt is the subjects' digest, not drawn.
  REQUIRE(tritium_run({"detect", "--hf-config", "kgw.json", "--vocab-size", "1000", "-i", "kgw_docs.jsonl", "--report",
                       "again.json", "--signing-key", "signer.key"}).code == exit_evidence);
  CHECK(slurp("again.json") == envelope);

  auto signed_as = [&w](const ojson& statement, const std::string& name) { return w.sign(statement, name); };
  SECTION("a changed green count is found by the recomputation") {
    w.check_recompute_finds(s, "/predicate/documents/rows/1/4", 190, {"--recompute", "--hf-config", "kgw.json"});
  }
  SECTION("the configuration must be the one committed to, and show the recorded public fields") {
    // Another hashing key: the commitment differs, and nothing is re-run.
    spit("other.json", std::regex_replace(slurp("kgw.json"), std::regex("15485863"), "15485867"));
    auto r = w.verify("v4.json", {"--recompute", "--hf-config", "other.json"});
    CHECK(r.code == exit_verification_failed);
    CHECK_THAT(r.err, Catch::Contains("the configuration given is not the report's: its commitment differs"));
    // Another salt: the same configuration no longer matches the id.
    ojson t = s;
    t["predicate"]["key"]["commitment"]["salt"] = std::string(32, '0');
    r = w.verify(signed_as(t, "salt.json"), {"--recompute", "--hf-config", "kgw.json"});
    CHECK(r.code == exit_verification_failed);
    // Public fields edited in the specification: refused before the run.
    t = s;
    t["predicate"]["specification"]["configuration"]["greenlist_ratio"] = 0.5;
    r = w.verify(signed_as(t, "ratio.json"), {"--recompute", "--hf-config", "kgw.json"});
    CHECK(r.code == exit_verification_failed);
    CHECK_THAT(r.err, Catch::Contains("does not have the public fields the report records"));
    // A SynthID configuration for a KGW report.
    r = w.verify("v4.json", {"--recompute", "--hf-config", "synthid.json"});
    CHECK(r.code == exit_verification_failed);
    // A tritium key for this report, a configuration for a key's report.
    r = w.verify("v4.json", {"--recompute", "-k", "wm.key"});
    CHECK(r.code == exit_input_error);
    CHECK_THAT(r.err, Catch::Contains("not a tritium key: re-run it with that configuration (--hf-config)"));
    r = w.verify("report.json", {"--recompute", "--hf-config", "kgw.json"});
    CHECK(r.code == exit_input_error);
    CHECK_THAT(r.err, Catch::Contains("ran under a tritium key: re-run it with that key (--key)"));
  }
  SECTION("a malformed version 4 statement is refused by its pointer") {
    ojson t = s;
    t["predicate"]["key"].erase("commitment");
    auto r = w.verify(signed_as(t, "nocommit.json"));
    CHECK(r.code == exit_input_error);
    CHECK_THAT(r.err, Catch::Contains("/predicate/key/commitment: missing"));
    t = s;
    t["predicate"]["key"]["commitment"]["memlimit"] = std::uint64_t{1} << 40;
    r = w.verify(signed_as(t, "memlimit.json"), {"--recompute", "--hf-config", "kgw.json"});
    CHECK(r.code == exit_input_error);
    CHECK_THAT(r.err, Catch::Contains("/predicate/key/commitment/memlimit: expected 67108864"));
    t = s;
    t["predicate"]["specification"]["configuration"]["scheme"] = "hf-unigram";
    r = w.verify(signed_as(t, "scheme.json"), {"--recompute", "--hf-config", "kgw.json"});
    CHECK(r.code == exit_input_error);
    CHECK_THAT(r.err, Catch::Contains("/predicate/specification/configuration/scheme: expected hf-kgw or hf-synthid"));
    t = s;
    t["predicate"]["specification"]["bos"] = -1;
    r = w.verify(signed_as(t, "bos.json"), {"--recompute", "--hf-config", "kgw.json"});
    CHECK(r.code == exit_input_error);
    CHECK_THAT(r.err, Catch::Contains("/predicate/specification/bos: expected null or a token id"));
    t = s;
    t["predicate"]["method"].erase("configuration");
    r = w.verify(signed_as(t, "method.json"));
    CHECK(r.code == exit_input_error);
    CHECK_THAT(r.err, Catch::Contains("/predicate/method/configuration: missing"));
    CHECK(tritium_run({"report", "html", "method.json", "-P", "signer.key.pub", "-o", "m.html"}).code == exit_input_error);
    CHECK_FALSE(fs::exists("m.html"));
    // A KGW configuration's report whose specification records a SynthID one: refused before the run.
    t = s;
    t["predicate"]["specification"]["configuration"] = {{"scheme", "hf-synthid"}, {"ngram_len", 5}, {"layers", 20},
                                                        {"context_history_size", 1024}, {"sampling_table_size", 65536},
                                                        {"skip_first_ngram_calls", false}};
    r = w.verify(signed_as(t, "synthid_spec.json"), {"--recompute", "--hf-config", "kgw.json"});
    CHECK(r.code == exit_verification_failed);
    CHECK_THAT(r.err, Catch::Contains("not of the scheme the report records"));
    // What KGW does not read is refused by its pointer.
    t = s;
    t["predicate"]["specification"]["eos"] = 2;
    r = w.verify(signed_as(t, "eos.json"), {"--recompute", "--hf-config", "kgw.json"});
    CHECK(r.code == exit_input_error);
    CHECK_THAT(r.err, Catch::Contains("/predicate/specification/eos: expected null: KGW does not stop at EOS"));
    // Version 4 holds this test only: another test signed as version 4 is refused, never rendered.
    t = statement_of(slurp("report.json"));
    t["predicateType"] = "https://tritium.dev/evidence/watermark-test/v4";
    r = w.verify(signed_as(t, "v4detect.json"));
    CHECK(r.code == exit_input_error);
    CHECK_THAT(r.err, Catch::Contains("/predicate/test: version 4 holds only \"interop detect\""));
    CHECK(tritium_run({"report", "html", "v4detect.json", "-P", "signer.key.pub", "-o", "d.html"}).code == exit_input_error);
    // The test exists from version 4 on.
    t = s;
    t["predicateType"] = "https://tritium.dev/evidence/watermark-test/v3";
    r = w.verify(signed_as(t, "v3.json"));
    CHECK(r.code == exit_input_error);
    CHECK_THAT(r.err, Catch::Contains("/predicate/test: \"interop detect\" is a version 4 test"));
  }
  SECTION("SynthID over a folder of text: the tokenizer and each file are subjects, and counted positions are marked") {
    // Each document re-tokenized with GPT-2's tokenizer: a SynthID configuration does not depend on V.
    fs::create_directories("texts");
    spit("texts/a.txt", "The quick brown fox jumps over the lazy dog, and then it runs far away into the woods.\n");
    spit("texts/b.txt", "A second short text, which is plainly not watermarked by anyone at all.\n");
    fs::copy_file(fixtures / "tokenizers" / "gpt2" / "tokenizer.json", "gpt2.json");
    const auto r = tritium_run({"detect", "--hf-config", "synthid.json", "-i", "texts", "--tokenizer", "gpt2.json",
                                "--report", "text.json", "--signing-key", "signer.key", "--html", "text.html"});
    REQUIRE(r.code == exit_no_evidence);
    const ojson q = statement_of(slurp("text.json"));
    REQUIRE(q["subject"].size() == 3);
    CHECK(q["subject"][0]["name"] == "gpt2.json");
    CHECK(q["subject"][1]["name"] == "texts/a.txt");
    CHECK(q["predicate"]["documents"]["rows"][0][1] == "hf-synthid");
    CHECK(q["predicate"]["documents"]["rows"][0][5].is_number());  // transformers' mean score
    bool counted = false;
    for (const auto& t : q["predicate"]["excerpt"]["tokens"]) counted = counted || t[1] == "s";
    CHECK(counted);
    CHECK(q["predicate"]["excerpt"]["tokens"][0][1] == "c");
    // The curve ends at the decisive document's own figures.
    const ojson& d = q["predicate"]["decisive_test"];
    REQUIRE_FALSE(d["curve"].empty());
    CHECK(d["curve"].back()[0] == d["scored"]);
    CHECK(d["curve"].back()[1].get<double>() == Approx(-d["log10_p"].get<double>()));
    const std::string page = slurp("text.html");
    CHECK(page.find("counted position") != std::string::npos);
    CHECK(page.find("ones, mean") != std::string::npos);
    CHECK(page.find("against its exact key-shift null") != std::string::npos);
    CHECK(w.verify("text.json", {"--recompute", "--hf-config", "synthid.json"}).code == exit_evidence);
    spit("texts/b.txt", "Edited.\n");
    const auto changed = w.verify("text.json");
    CHECK(changed.code == exit_verification_failed);
    CHECK_THAT(changed.err, Catch::Contains("texts/b.txt"));
  }
  SECTION("a dropped BOS is recorded, left out of the excerpt and recomputed") {
    std::ifstream in("kgw_docs.jsonl");
    std::string lines;
    for (std::string line; std::getline(in, line);) {
      ojson record = ojson::parse(line);
      record["tokens"].insert(record["tokens"].begin(), 0);
      lines += record.dump() + "\n";
    }
    spit("bos.jsonl", lines);
    REQUIRE(tritium_run({"detect", "--hf-config", "kgw.json", "--vocab-size", "1000", "--bos", "0", "-i", "bos.jsonl",
                         "--report", "bos.json", "--signing-key", "signer.key"}).code == exit_evidence);
    const ojson q = statement_of(slurp("bos.json"))["predicate"];
    CHECK(q["specification"]["bos"] == 0);
    CHECK(q["documents"]["rows"] == p["documents"]["rows"]);  // the same figures as without the BOS
    // The excerpt is in the input's own places: the dropped BOS is shown, without context.
    CHECK(q["excerpt"]["of"] == 201);
    CHECK(q["excerpt"]["tokens"][0][1] == "c");
    CHECK(q["excerpt"]["tokens"][1][1] == "c");
    CHECK(q["excerpt"]["tokens"][2][1] == "s");
    CHECK(w.verify("bos.json", {"--recompute", "--hf-config", "kgw.json"}).code == exit_evidence);
    ojson t = statement_of(slurp("bos.json"));
    t["predicate"]["specification"]["bos"] = nullptr;
    const auto r = w.verify(signed_as(t, "nobos.json"), {"--recompute", "--hf-config", "kgw.json"});
    CHECK(r.code == exit_verification_failed);
    CHECK_THAT(r.err, Catch::Contains("figure(s) differ"));
  }
  SECTION("an empty input is reported as insufficient evidence") {
    spit("empty.jsonl", "");
    const auto r = tritium_run({"detect", "--hf-config", "kgw.json", "--vocab-size", "1000", "-i", "empty.jsonl",
                                "--report", "empty.json", "--signing-key", "signer.key", "--html", "empty.html"});
    CHECK(r.code == exit_insufficient);
    CHECK_THAT(r.err, Catch::Contains("the input holds no documents"));
    const ojson q = statement_of(slurp("empty.json"))["predicate"];
    CHECK(q["decision"]["outcome"] == "insufficient evidence");
    CHECK(q["documents"]["total"] == 0);
    CHECK(q["decisive_test"]["label"] == "no document");
    CHECK(w.verify("empty.json", {"--recompute", "--hf-config", "kgw.json"}).code == exit_evidence);
  }
  SECTION("a windowed scan records its window, decides on the scan-corrected p and recomputes") {
    // marked-0 pasted at token 800 of 1,500 tokens drawn independently of the configuration's key.
    const ojson marked = ojson::parse(slurp("kgw_docs.jsonl").substr(0, slurp("kgw_docs.jsonl").find('\n')))["tokens"];
    write_pasted(marked, "pasted.jsonl");
    REQUIRE(tritium_run({"detect", "--hf-config", "kgw.json", "--vocab-size", "1000", "-i", "pasted.jsonl", "--windows",
                         "--report", "w.json", "--signing-key", "signer.key", "--html", "w.html"}).code == exit_evidence);
    const ojson q = statement_of(slurp("w.json"))["predicate"];
    CHECK(q["specification"]["min_window"] == 50);
    CHECK(q["method"]["windows"]["min_window"] == 50);
    const ojson& window = q["decisive_test"]["window"];
    REQUIRE(window.is_object());
    CHECK(window["token_begin"].get<int>() >= 795);
    CHECK(window["token_end"].get<int>() <= 1025);
    CHECK(window["log10_p_scan"].get<double>() < q["decisive_test"]["log10_p"].get<double>() - 5.0);
    CHECK(q["decision"]["log10_p"].get<double>() == Approx(window["log10_p_scan"].get<double>()));
    CHECK(q["documents"]["rows"][0][9][0] == window["token_begin"]);
    CHECK(q["excerpt"]["first"] == window["token_begin"]);
    CHECK(slurp("w.html").find("The best window") != std::string::npos);
    CHECK(w.verify("w.json", {"--recompute", "--hf-config", "kgw.json"}).code == exit_evidence);
    ojson t = statement_of(slurp("w.json"));
    t["predicate"]["specification"]["min_window"] = 5;
    auto r = w.verify(signed_as(t, "small.json"), {"--recompute", "--hf-config", "kgw.json"});
    CHECK(r.code == exit_input_error);
    CHECK_THAT(r.err, Catch::Contains("/predicate/specification/min_window: expected 0 (whole documents) or at least 10"));
    t["predicate"]["specification"]["min_window"] = 0;
    r = w.verify(signed_as(t, "whole.json"), {"--recompute", "--hf-config", "kgw.json"});
    CHECK(r.code == exit_verification_failed);
  }
}
