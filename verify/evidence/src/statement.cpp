#include <sys/stat.h>

#include <cstdlib>
#include <numbers>
#include <ctime>

#include "predicate.hpp"
#include "tritium/atomic_output.hpp"
#include "tritium/digest.hpp"
#include "tritium/error.hpp"
#include "tritium/evidence/dsse.hpp"
#include "tritium/evidence/signing.hpp"
#include "tritium/inputs.hpp"

namespace tritium {
namespace evidence_detail {

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

namespace {

std::string binary_digest() {
  try {
    return sha256_file_digest("/proc/self/exe").substr(7);
  } catch (const error&) {
    return "";
  }
}

}  // namespace

// ---- predicate pieces ----------------------------------------------------------------------------

const char* mark_code(token_mark m) {
  switch (m) {
    case token_mark::green: return "g";
    case token_mark::red: return "r";
    case token_mark::duplicate: return "d";
    case token_mark::no_context: return "c";
    case token_mark::scored: return "s";
  }
  return "c";
}

ojson method_of(const key& k, const std::string& deduplication, const std::string& aggregation) {
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

ojson key_identity_of(const key& k) {
  ojson j;
  j["id"] = k.id();
  j["vocab_size"] = k.params().vocab_size;
  j["tokenizer_digest"] = k.params().tokenizer_digest.empty() ? ojson(nullptr) : ojson(k.params().tokenizer_digest);
  return j;
}

ojson input_of(const tokenizer* tok, const std::string& tokenizer_path, invalid_utf8 policy) {
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
  j["invalid_utf8"] = policy == invalid_utf8::replace ? "replaced by U+FFFD" : "refused";
  return j;
}

ojson windows_method(std::uint64_t min_window) {
  if (min_window == 0) return nullptr;
  return {{"min_window", min_window},
          {"grid", "over a document's T scored tuples in text order: sizes w_min * 2^j below T, each at stride "
                   "ceil(w / 2), and the whole text (J sizes)"},
          {"correction", "weighted Bonferroni: a window of size j among n_j has p_scan = J * n_j * p_window; the "
                         "document's p is the smallest p_scan"},
          {"reference", "papers/window-scan.md"}};
}

ojson window_json(const window_scan_result& w, bool score) {
  ojson j;
  j["token_begin"] = w.token_begin;
  j["token_end"] = w.token_end;
  j["scored"] = w.end - w.begin;
  j["green"] = score ? ojson(nullptr) : ojson(w.window_green);
  j["score"] = score ? ojson(w.window_score) : ojson(nullptr);
  j["log10_p"] = w.window_ln_p / std::numbers::ln10;
  j["log10_p_scan"] = w.ln_p_scan / std::numbers::ln10;
  j["sizes"] = w.sizes;
  j["windows"] = w.windows;
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
                 const tokenizer* tok, std::size_t limit) {
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
        if (marks[i] == token_mark::green || marks[i] == token_mark::red || marks[i] == token_mark::scored) {
          return mark_code(marks[i]);
        }
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

ojson decision_of(double alpha, const std::string& alpha_source, const std::string& correction, const std::string& outcome, double decisive_log10_p,
                  const std::string& words) {
  ojson d;
  d["alpha"] = alpha;
  d["alpha_source"] = alpha_source;
  d["alpha_duty"] = "fixing alpha before seeing the data is the duty of whoever ran the test";

  d["correction"] = correction;
  d["outcome"] = outcome;
  d["log10_p"] = decisive_log10_p;
  d["statement"] = words;
  return d;
}

// ---- subjects and statements ---------------------------------------------------------------------

void subject_list::add(const std::string& name, const std::filesystem::path& path) {
  if (name == "-" || name.empty()) {
    throw error(errc::invalid_argument,
                "a report names its inputs by their SHA-256 digests, so they must be files: standard input cannot be one");
  }
  if (!valid_utf8(name)) {
    throw error(errc::invalid_argument, "a report names its inputs in UTF-8; rename the input " + json_quoted(name));
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw error(errc::invalid_argument, "subject " + json_quoted(name) + ": a report's inputs must be regular files");
  }
  record s;
  s.name = name;
  s.path = path;
  s.size = std::filesystem::file_size(path, ec);
  s.mtime = std::filesystem::last_write_time(path, ec);
  if (ec) throw error(errc::invalid_argument, "subject " + json_quoted(name) + ": cannot read it: " + ec.message());
  s.sha256 = as_input([&] { return sha256_file_digest(path); }).substr(7);
  subjects_.push_back(std::move(s));
}

void subject_list::check_unchanged() const {
  for (const auto& s : subjects_) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(s.path, ec);
    const auto mtime = std::filesystem::last_write_time(s.path, ec);
    if (ec || size != s.size || mtime != s.mtime) {
      throw error(errc::invalid_argument, "subject " + json_quoted(s.name) + " changed while it was being read; no report written");
    }
  }
}

ojson subject_list::to_json() const {
  ojson subjects = ojson::array();
  for (const auto& s : subjects_) subjects.push_back({{"name", s.name}, {"digest", {{"sha256", s.sha256}}}});
  return subjects;
}

ojson statement_of(const subject_list& subjects, ojson predicate, const report_context& context, int version) {
  for (const auto& a : context.invocation.arguments) {
    if (!valid_utf8(a)) {
      throw error(errc::invalid_argument, "a report records its command line in UTF-8; this argument is not: " + json_quoted(a));
    }
  }
  ojson statement;
  statement["_type"] = std::string(statement_type);
  statement["subject"] = subjects.to_json();
  statement["predicateType"] = predicate_type(version);
  ojson invocation;
  invocation["tool"] = context.invocation.tool;
  invocation["version"] = context.invocation.version;
  invocation["binary_sha256"] = binary_digest();
  invocation["arguments"] = context.invocation.arguments;
  invocation["time"] = context.time.empty() ? report_time() : context.time;
  invocation["note"] = "information only: a recomputation re-runs the specification, never these arguments";
  predicate["invocation"] = invocation;
  statement["predicate"] = std::move(predicate);
  return statement;
}

}  // namespace evidence_detail

using namespace evidence_detail;

std::string predicate_type(int version) { return std::string(predicate_type_prefix) + std::to_string(version); }

std::string json_quoted(const std::string& untrusted) { return quoted_for_message(untrusted); }

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

std::string report_path(const std::string& path, const std::filesystem::path& base, bool absolute) {
  if (path.empty() || path == "-") return path;
  const std::filesystem::path full = std::filesystem::absolute(path).lexically_normal();
  if (absolute) return full.string();
  const std::filesystem::path root = std::filesystem::absolute(base.empty() ? std::filesystem::path(".") : base).lexically_normal();
  std::filesystem::path relative = full.lexically_relative(root);
  if (relative.empty()) return full.string();  // no relative form (cannot happen on one POSIX tree)
  std::string name = relative.string();
  // A trailing "." of a folder named as the base itself.
  if (name.size() > 1 && name.ends_with("/.")) name.resize(name.size() - 2);
  return name;
}

std::vector<std::string> recorded_arguments(std::vector<std::string> arguments, const std::filesystem::path& base,
                                            bool absolute) {
  if (absolute) return arguments;
  for (auto& a : arguments) {
    if (a.starts_with("/")) {
      a = report_path(a, base);
    } else if (const auto eq = a.find("=/"); a.starts_with("-") && eq != std::string::npos) {
      a = a.substr(0, eq + 1) + report_path(a.substr(eq + 1), base);
    }
  }
  return arguments;
}

report_writer::report_writer(const report_outputs& outputs) {
  if (!outputs.report_path.empty() && outputs.signing_key_path.empty()) {
    throw error(errc::invalid_argument, "a signed report needs a report-signing key (tritium report keygen)");
  }
  if (!outputs.signing_key_path.empty()) {
    signing_key_ = std::make_unique<report_signing_key>(
        as_input([&] { return report_signing_key::load(outputs.signing_key_path); }));
    std::error_code ec;
    const auto perms = std::filesystem::status(outputs.signing_key_path, ec).permissions();
    using std::filesystem::perms;
    key_exposed_ = !ec && (perms & (perms::group_all | perms::others_all)) != perms::none;
  }
  // The output files are opened (as temporaries) now, so an unwritable path fails before the run.
  if (!outputs.report_path.empty()) report_out_ = std::make_unique<atomic_output>(outputs.report_path);
  if (!outputs.html_path.empty()) html_out_ = std::make_unique<atomic_output>(outputs.html_path);
}

report_writer::~report_writer() = default;

void report_writer::write(const ojson& statement) {
  if (report_out_) {
    report_out_->stream() << dsse_sign(in_toto_payload_type, statement_bytes(statement), *signing_key_);
    report_out_->commit();
  }
  if (html_out_) {
    // The page names the key of the envelope written beside it; the page itself is not signed.
    html_out_->stream() << render_report_html(statement, report_out_ ? signing_key_->key_id() : "");
    html_out_->commit();
  }
}

std::string statement_bytes(const ojson& statement) { return statement.dump(); }

}  // namespace tritium
