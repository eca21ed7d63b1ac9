#include "evidence.hpp"

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <iostream>

#include "tritium/atomic_output.hpp"
#include "tritium/inputs.hpp"
#include "tritium/detect.hpp"
#include "tritium/digest.hpp"
#include "tritium/dsse.hpp"
#include "tritium/error.hpp"
#include "tritium/key.hpp"
#include "tritium/signing.hpp"
#include "tritium/tokenizer.hpp"

namespace tritium::cli {
namespace {

std::vector<std::string> invocation_args;
recompute_capture* active_capture = nullptr;

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

// Options that say where results go, not what was tested. `takes_value` tells whether the next
// argument is the option's value (the "--report FILE" form rather than "--report=FILE" or "-oFILE").
bool is_output_option(const std::string& a, bool& takes_value) {
  takes_value = false;
  for (const std::string name : {"--report", "--signing-key", "--html", "--output"}) {
    if (a == name) {
      takes_value = true;
      return true;
    }
    if (a.rfind(name + "=", 0) == 0) return true;
  }
  if (a == "-o") {
    takes_value = true;
    return true;
  }
  return a.size() > 2 && a.rfind("-o", 0) == 0;  // "-oFILE"
}

// The arguments as given, without the output options, so that a recomputation writes nothing and
// compares like with like.
std::vector<std::string> recorded_arguments() {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < invocation_args.size(); ++i) {
    bool takes_value = false;
    if (is_output_option(invocation_args[i], takes_value)) {
      if (takes_value) ++i;
      continue;
    }
    out.push_back(invocation_args[i]);
  }
  return out;
}

std::string binary_digest() {
  try {
    return sha256_file_digest("/proc/self/exe").substr(7);
  } catch (const error&) {
    return "";
  }
}

}  // namespace

bool has_output_option(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    bool takes_value = false;
    if (is_output_option(a, takes_value)) return true;
  }
  return false;
}

std::string json_quoted(const std::string& untrusted) { return quoted_for_message(untrusted); }

std::string predicate_type() { return std::string(predicate_type_prefix) + std::to_string(predicate_version); }

void add_report_options(CLI::App& app, report_options& options) {
  CLI::Option* key = app.add_option("--signing-key", options.signing_key_path, "Report-signing key (tritium report keygen)");
  app.add_option("--report", options.report_path,
                 "Write a signed evidence report here: an in-toto statement in a DSSE envelope (needs --signing-key)")
      ->needs(key);
  app.add_option("--html", options.html_path, "Write the report as one self-contained HTML page here");
}

void set_invocation(std::vector<std::string> args) { invocation_args = std::move(args); }

std::string report_time() {
  std::time_t t = std::time(nullptr);
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch != nullptr) {
    // Digits only (the reproducible-builds definition): no sign, no spaces, at most year 9999.
    const std::string v = epoch;
    const bool digits = !v.empty() && v.size() <= 12 && v.find_first_not_of("0123456789") == std::string::npos;
    const long long seconds = digits ? std::stoll(v) : -1;
    if (!digits || seconds > 253402300799LL) {
      throw error(errc::invalid_argument, "SOURCE_DATE_EPOCH: expected seconds since 1970 (digits only), got " +
                                              json_quoted(v));
    }
    t = static_cast<std::time_t>(seconds);
  }
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

void set_recompute_capture(recompute_capture* capture) {
  active_capture = capture;
  atomic_output::set_discard(capture != nullptr);
}

evidence_run::evidence_run(const report_options& options) : options_(options) {
  active_ = options.requested() || active_capture != nullptr;
  if (!active_) {
    if (!options.signing_key_path.empty()) {
      throw error(errc::invalid_argument, "--signing-key is only used with --report or --html");
    }
    return;
  }
  // Everything that could stop the report is checked before the work starts.
  time_ = report_time();
  for (const auto& a : recorded_arguments()) {
    if (!valid_utf8(a)) {
      throw error(errc::invalid_argument, "a report records its command line in UTF-8; this argument is not: " + json_quoted(a));
    }
  }
  if (active_capture != nullptr) return;  // a recomputation signs and writes nothing
  if (!options.signing_key_path.empty()) {
    signing_key_ = std::make_unique<report_signing_key>(
        as_input([&] { return report_signing_key::load(options.signing_key_path); }));
    std::error_code ec;
    const auto perms = std::filesystem::status(options.signing_key_path, ec).permissions();
    using std::filesystem::perms;
    if (!ec && (perms & (perms::group_all | perms::others_all)) != perms::none) {
      std::cerr << "tritium: warning: signing key " << options.signing_key_path
                << " is readable by group or others; run: chmod 600 " << options.signing_key_path << "\n";
    }
  }
  // The output files are opened (as temporaries) now, so an unwritable path fails before the run.
  if (!options.report_path.empty()) report_out_ = std::make_unique<atomic_output>(options.report_path);
  if (!options.html_path.empty()) html_out_ = std::make_unique<atomic_output>(options.html_path);
}

evidence_run::~evidence_run() = default;

void evidence_run::subject(const std::string& path, const std::vector<std::filesystem::path>& folder_files) {
  if (!active_) return;
  if (path == "-" || path.empty()) {
    throw error(errc::invalid_argument,
                "a report names its inputs by their SHA-256 digests, so they must be files: standard input cannot be one");
  }
  auto add = [&](const std::string& name, const std::filesystem::path& p) {
    if (!valid_utf8(name)) {
      throw error(errc::invalid_argument, "a report names its inputs in UTF-8; rename the input " + json_quoted(name));
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec)) {
      throw error(errc::invalid_argument, "subject " + json_quoted(name) + ": a report's inputs must be regular files");
    }
    subject_record s;
    s.name = name;
    s.path = p;
    s.size = std::filesystem::file_size(p, ec);
    s.mtime = std::filesystem::last_write_time(p, ec);
    if (ec) throw error(errc::invalid_argument, "subject " + json_quoted(name) + ": cannot read it: " + ec.message());
    s.sha256 = as_input([&] { return sha256_file_digest(p); }).substr(7);
    subjects_.push_back(std::move(s));
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    for (const auto& f : folder_files) add(f.string(), f);  // every file the folder contributes (maybe none)
  } else {
    add(path, path);
  }
}

void evidence_run::finish(ojson predicate) {
  if (!active_) return;
  for (const auto& s : subjects_) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(s.path, ec);
    const auto mtime = std::filesystem::last_write_time(s.path, ec);
    if (ec || size != s.size || mtime != s.mtime) {
      throw error(errc::invalid_argument, "subject " + json_quoted(s.name) + " changed while it was being read; no report written");
    }
  }
  ojson statement;
  statement["_type"] = std::string(statement_type);
  ojson subjects = ojson::array();
  for (const auto& s : subjects_) subjects.push_back({{"name", s.name}, {"digest", {{"sha256", s.sha256}}}});
  statement["subject"] = subjects;
  statement["predicateType"] = predicate_type();
  ojson invocation;
  invocation["tool"] = "tritium";
  invocation["version"] = "0.1.0";
  invocation["binary_sha256"] = binary_digest();
  invocation["arguments"] = recorded_arguments();
  invocation["time"] = time_;
  predicate["invocation"] = invocation;
  statement["predicate"] = std::move(predicate);

  if (active_capture != nullptr) {
    active_capture->statement = std::move(statement);
    return;
  }
  const std::string payload = statement_bytes(statement);
  if (report_out_) {
    report_out_->stream() << dsse_sign(in_toto_payload_type, payload, *signing_key_);
    report_out_->commit();
  }
  if (html_out_) {
    // The page names the key of the envelope written beside it; the page itself is not signed.
    html_out_->stream() << render_report_html(statement, report_out_ ? signing_key_->key_id() : "");
    html_out_->commit();
  }
}

std::string statement_bytes(const ojson& statement) { return statement.dump(); }

}  // namespace tritium::cli

// ---- predicate pieces ----------------------------------------------------------------------------

namespace tritium::cli {
namespace {

const char* mark_code(token_mark m) {
  switch (m) {
    case token_mark::green: return "g";
    case token_mark::red: return "r";
    case token_mark::duplicate: return "d";
    case token_mark::no_context: return "c";
  }
  return "c";
}

}  // namespace

ojson method_of(const tritium::key& k, const std::string& deduplication, const std::string& aggregation) {
  const auto& p = k.params();
  ojson m;
  m["scheme"] = "kgw";
  m["scheme_reference"] = "Kirchenbauer et al., A Watermark for Large Language Models, ICML 2023";
  m["prf"] = "tritium-prf-v1";
  m["gamma"] = p.gamma();
  m["delta"] = p.delta;
  m["context_width"] = p.context_width;
  m["seeding"] = seeding_name(p.seeding_scheme);
  m["vocab_size"] = p.vocab_size;
  m["statistic"] = "number of green tuples among the scored (deduplicated) tuples";
  m["test"] = "exact one-sided binomial upper tail P(Bin(scored, gamma) >= green), computed in log space";
  m["deduplication"] = deduplication;
  m["aggregation"] = aggregation;
  return m;
}

ojson key_identity_of(const tritium::key& k) {
  ojson j;
  j["id"] = k.id();
  j["vocab_size"] = k.params().vocab_size;
  j["tokenizer_digest"] = k.params().tokenizer_digest.empty() ? ojson(nullptr) : ojson(k.params().tokenizer_digest);
  return j;
}

ojson input_of(const tritium::tokenizer* tok, const std::string& tokenizer_path, const std::string& invalid_utf8) {
  ojson j;
  if (tok == nullptr) {
    j["kind"] = "token ids";
    j["tokenizer"] = nullptr;
    j["normalization"] = "none: token ids are scored as given";
    return j;
  }
  j["kind"] = "text, tokenized by tritium";
  j["tokenizer"] = {{"file", tokenizer_path}, {"digest", tok->digest()}, {"vocab_size", tok->vocab_size()}};
  j["normalization"] = "only the tokenizer's own normalizer; no other change to the text";
  j["invalid_utf8"] = invalid_utf8 == "replace" ? "replaced by U+FFFD" : "refused";
  return j;
}

ojson curve_of(const std::vector<curve_point>& curve) {
  ojson c = ojson::array();
  for (const auto& p : curve) c.push_back(ojson::array({p.scored, p.minus_log10_p}));
  return c;
}

ojson report_id(const std::string& id_json) {
  ojson id;
  try {
    id = ojson::parse(id_json);
  } catch (const nlohmann::json::exception&) {
    id = nullptr;
  }
  if (id.is_null() && id_json != "null") {
    throw error(errc::parse, "id " + quoted_for_message(id_json) + ": a report holds ids as JSON values, and this "
                             "one cannot be read as one; write the id as a string");
  }
  if (id.is_number() && id.dump() != id_json) {
    throw error(errc::parse, "id " + id_json + ": a report holds ids as JSON values, and this number reads back as " +
                                 id.dump() + "; write the id as a string");
  }
  return id;
}

ojson excerpt_of(const std::string& id_json, std::span<const std::int32_t> tokens, std::span<const token_mark> marks,
                 const tritium::tokenizer* tok, std::size_t limit) {
  ojson e;
  e["document"] = report_id(id_json);
  const std::size_t n = std::min(limit, tokens.size());
  e["shown"] = n;
  e["of"] = tokens.size();
  ojson pieces = ojson::array();
  if (tok == nullptr) {
    for (std::size_t i = 0; i < n; ++i) {
      pieces.push_back(ojson::array({"#" + std::to_string(tokens[i]) + " ", mark_code(marks[i])}));
    }
  } else {
    // A token may end inside a UTF-8 character: tokens are grouped until the decoded text is stable
    // (the next prefix extends it) and the group is shown with the mark of its first scored token.
    std::string committed;
    std::size_t group_start = 0;
    auto mark_of_group = [&](std::size_t from, std::size_t to) {
      for (std::size_t i = from; i < to; ++i) {
        if (marks[i] == token_mark::green || marks[i] == token_mark::red) return mark_code(marks[i]);
      }
      return mark_code(marks[from]);
    };
    std::string current = tok->decode(tokens.subspan(0, n > 0 ? 1 : 0));
    for (std::size_t i = 0; i < n; ++i) {
      const std::string next = i + 1 < n ? tok->decode(tokens.subspan(0, i + 2)) : std::string();
      const bool last = i + 1 == n;
      if (last || (next.rfind(current, 0) == 0 && current.rfind(committed, 0) == 0)) {
        std::string piece = current.rfind(committed, 0) == 0 ? current.substr(committed.size()) : current;
        if (!valid_utf8(piece)) piece = "\xEF\xBF\xBD";
        pieces.push_back(ojson::array({piece, mark_of_group(group_start, i + 1)}));
        committed = current;
        group_start = i + 1;
      }
      current = next;
    }
  }
  e["tokens"] = pieces;
  return e;
}

ojson decision_of(double alpha, const std::string& correction, const std::string& outcome, double decisive_log10_p,
                  const std::string& words) {
  ojson d;
  d["alpha"] = alpha;
  d["alpha_source"] = "--alpha on the command line (default 0.001); fixing it before seeing the data is the operator's duty";
  d["correction"] = correction;
  d["outcome"] = outcome;
  d["log10_p"] = decisive_log10_p;
  d["statement"] = words;
  return d;
}

}  // namespace tritium::cli
