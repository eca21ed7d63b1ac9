// Reading a report: the envelope and its signature, the statement's layout, the subjects, and the
// recomputation from the recorded test specification.
#include <cmath>
#include <fstream>

#include "predicate.hpp"
#include "tritium/digest.hpp"
#include "tritium/error.hpp"
#include "tritium/evidence/dsse.hpp"
#include "tritium/evidence/signing.hpp"
#include "tritium/json_document.hpp"

namespace tritium {
namespace evidence_detail {
namespace {

constexpr std::uintmax_t envelope_max_bytes = std::uintmax_t{1} << 31;
constexpr const char* interop_test = "interop detect";

std::string read_envelope(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw error(errc::invalid_argument, "envelope " + path + ": cannot read it: " + ec.message());
  if (size > envelope_max_bytes) throw error(errc::parse, "envelope " + path + ": larger than 2 GiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(errc::invalid_argument, "envelope " + path + ": cannot open for reading");
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  return bytes;
}

// A JSON pointer token (RFC 6901); keys come from the file, so one with control characters is shown
// quoted and escaped instead.
std::string pointer_escape(const std::string& key) {
  if (has_control_characters(key)) return json_quoted(key);
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// The predicate's layout (papers/evidence-v1.md), checked field by field before anything reads it: a
// signed statement is still input, and the renderer and the verifier may rely on what passes here.
class schema {
 public:
  explicit schema(std::string where) : where_(std::move(where)) {}

  const ojson& object(const ojson& parent, const std::string& pointer, const char* name, bool optional = false) const {
    return field(parent, pointer, name, optional, "an object", [](const ojson& v) { return v.is_object(); });
  }
  const ojson& array(const ojson& parent, const std::string& pointer, const char* name, bool optional = false) const {
    return field(parent, pointer, name, optional, "an array", [](const ojson& v) { return v.is_array(); });
  }
  const ojson& string(const ojson& parent, const std::string& pointer, const char* name, bool optional = false) const {
    return field(parent, pointer, name, optional, "a string", [](const ojson& v) { return v.is_string(); });
  }
  const ojson& number(const ojson& parent, const std::string& pointer, const char* name, bool optional = false,
                      bool nullable = false) const {
    return field(parent, pointer, name, optional, nullable ? "a number or null" : "a number",
                 [nullable](const ojson& v) { return v.is_number() || (nullable && v.is_null()); });
  }
  const ojson& object_or_null(const ojson& parent, const std::string& pointer, const char* name) const {
    return field(parent, pointer, name, false, "an object or null", [](const ojson& v) { return v.is_object() || v.is_null(); });
  }
  const ojson& scalar(const ojson& parent, const std::string& pointer, const char* name) const {
    return field(parent, pointer, name, false, "a string or a number",
                 [](const ojson& v) { return v.is_string() || v.is_number(); });
  }
  void fail(const std::string& pointer, const std::string& what) const {
    throw error(errc::parse, where_ + ": statement: " + pointer + ": " + what);
  }

 private:
  template <class Check>
  const ojson& field(const ojson& parent, const std::string& pointer, const char* name, bool optional, const char* kind,
                     Check check) const {
    static const ojson absent;
    const auto it = parent.find(name);
    if (it == parent.end()) {
      if (optional) return absent;
      fail(pointer + "/" + name, "missing");
    }
    if (!check(*it)) fail(pointer + "/" + name, std::string("expected ") + kind + ", got " + it->type_name());
    return *it;
  }
  std::string where_;
};

void validate_predicate(const ojson& p, const std::string& where, int version) {
  const schema v(where);
  const std::string at = "/predicate";
  v.string(p, at, "test");
  const ojson& h = v.object(p, at, "hypothesis");
  for (const char* f : {"null", "alternative", "not_claimed"}) v.string(h, at + "/hypothesis", f);
  const ojson& m = v.object(p, at, "method");
  // Version 4 adds the detect test under a transformers configuration, in version 3's detect layout
  // but for the method and the key (papers/evidence-v4.md).
  const bool interop = p["test"] == interop_test;
  if (interop && version < 4) v.fail(at + "/test", "\"interop detect\" is a version 4 test");
  // Version 4 holds this one test: every other is written in an older version (papers/evidence-v4.md).
  if (version == 4 && !interop) v.fail(at + "/test", "version 4 holds only \"interop detect\"");
  const bool v3_detect = version >= 3 && (p["test"] == "detect" || interop);
  if (p["test"] == "fingerprint") {
    // A fingerprint is no watermark test: no PRF, gamma or deduplication (papers/fingerprint-v1.md).
    for (const char* f : {"scheme", "statistic", "test"}) v.string(m, at + "/method", f);
    const ojson& f = v.object(p, at, "fingerprint");
    v.number(f, at + "/fingerprint", "best_log10_p");
    const ojson& set = v.object(p, at, "settings");
    for (const char* name : {"commitment", "set_recorded"}) v.string(set, at + "/settings", name);
    for (const char* name : {"questions", "candidates"}) v.number(set, at + "/settings", name);
    const ojson& prompts = v.array(set, at + "/settings", "system_prompts");
    for (std::size_t i = 0; i < prompts.size(); ++i) {
      if (!prompts[i].is_string()) v.fail(at + "/settings/system_prompts/" + std::to_string(i), "expected a string");
    }
    const ojson& rows = v.array(f, at + "/fingerprint", "questions");
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const ojson& r = rows[i];
      if (!r.is_array() || r.size() != 4 || !r[0].is_number() || !r[1].is_number() || !r[2].is_number() || !r[3].is_boolean()) {
        v.fail(at + "/fingerprint/questions/" + std::to_string(i), "expected [question, answers, distinct_candidates, matched]");
      }
    }
  } else if (v3_detect) {
    // Version 3's detect method: the key's parameters, then one entry per scheme tested
    // (papers/evidence-v3.md).
    const std::string pm = at + "/method";
    for (const char* f : {"deduplication", "aggregation"}) v.string(m, pm, f);
    if (interop) {
      v.string(v.object(m, pm, "configuration"), pm + "/configuration", "scheme");
    } else {
      for (const char* f : {"prf", "seeding"}) v.string(m, pm, f);
      for (const char* f : {"delta", "context_width", "vocab_size"}) v.number(m, pm, f);
    }
    const ojson& schemes = v.array(m, pm, "schemes");
    if (schemes.empty()) v.fail(pm + "/schemes", "names no scheme");
    for (std::size_t i = 0; i < schemes.size(); ++i) {
      const std::string ps = pm + "/schemes/" + std::to_string(i);
      if (!schemes[i].is_object()) v.fail(ps, "expected an object");
      for (const char* f : {"name", "reference", "statistic", "test"}) v.string(schemes[i], ps, f);
      v.number(schemes[i], ps, "gamma", false, true);
    }
    if (const ojson& w = v.object_or_null(m, pm, "windows"); w.is_object()) {
      v.number(w, pm + "/windows", "min_window");
      for (const char* f : {"grid", "correction"}) v.string(w, pm + "/windows", f);
    }
  } else {
    for (const char* f : {"scheme", "prf", "seeding", "statistic", "test", "deduplication", "aggregation"}) {
      v.string(m, at + "/method", f);
    }
    for (const char* f : {"gamma", "delta", "context_width", "vocab_size"}) v.number(m, at + "/method", f);
  }
  const ojson& k = v.object(p, at, "key");
  v.string(k, at + "/key", "id");
  if (interop) {
    v.string(k, at + "/key", "kind");
    const ojson& c = v.object(k, at + "/key", "commitment");
    for (const char* f : {"function", "salt", "message"}) v.string(c, at + "/key/commitment", f);
    for (const char* f : {"opslimit", "memlimit"}) v.number(c, at + "/key/commitment", f);
  }
  const ojson& d = v.object(p, at, "decision");
  v.number(d, at + "/decision", "alpha");
  v.number(d, at + "/decision", "log10_p", false, true);
  for (const char* f : {"correction", "statement"}) v.string(d, at + "/decision", f);
  const std::string outcome = v.string(d, at + "/decision", "outcome").get<std::string>();
  if (outcome != "evidence" && outcome != "no evidence" && outcome != "insufficient evidence" && outcome != "no verdict") {
    v.fail(at + "/decision/outcome", "unknown outcome " + json_quoted(outcome));
  }
  if (version >= 2) v.object(p, at, "specification");
  const ojson& inv = v.object(p, at, "invocation");
  for (const char* f : {"tool", "version", "binary_sha256", "time"}) v.string(inv, at + "/invocation", f);
  const ojson& args = v.array(inv, at + "/invocation", "arguments");
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (!args[i].is_string()) v.fail(at + "/invocation/arguments/" + std::to_string(i), "expected a string");
  }
  if (const ojson& in = v.object(p, at, "input", true); !in.is_null()) {
    v.string(in, at + "/input", "kind");
    v.string(in, at + "/input", "normalization");
    if (in.contains("tokenizer") && !in["tokenizer"].is_null()) {
      const ojson& t = v.object(in, at + "/input", "tokenizer");
      v.string(t, at + "/input/tokenizer", "file");
      v.string(t, at + "/input/tokenizer", "digest");
    }
  }
  if (const ojson& t = v.object(p, at, "totals", true); !t.is_null()) {
    for (auto it = t.begin(); it != t.end(); ++it) {
      if (!it.value().is_number()) v.fail(at + "/totals/" + pointer_escape(it.key()), "expected a number");
    }
  }
  v.object(p, at, "settings", true);
  if (const ojson& docs = v.object(p, at, "documents", true); !docs.is_null()) {
    v.number(docs, at + "/documents", "total");
    v.string(docs, at + "/documents", "selection");
    const ojson& rows = v.array(docs, at + "/documents", "rows");
    auto number_or_null = [](const ojson& x) { return x.is_number() || x.is_null(); };
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const ojson& r = rows[i];
      const std::string pr = at + "/documents/rows/" + std::to_string(i);
      if (v3_detect) {
        const bool window_ok = r.is_array() && r.size() == 10 &&
                               (r[9].is_null() || (r[9].is_array() && r[9].size() == 4 && r[9][0].is_number() &&
                                                   r[9][1].is_number() && r[9][2].is_number() && r[9][3].is_number()));
        if (!window_ok || !(r[0].is_string() || r[0].is_number()) || !r[1].is_string() || !r[2].is_number() ||
            !r[3].is_number() || !number_or_null(r[4]) || !number_or_null(r[5]) || !r[6].is_number() ||
            !r[7].is_boolean() || !r[8].is_boolean()) {
          v.fail(pr, "expected [id, scheme, tokens, scored, green, score, log10_p, detected, insufficient, window]");
        }
      } else if (!r.is_array() || r.size() != 7 || !(r[0].is_string() || r[0].is_number()) || !r[1].is_number() ||
                 !r[2].is_number() || !r[3].is_number() || !r[4].is_number() || !r[5].is_boolean() || !r[6].is_boolean()) {
        v.fail(pr, "expected [id, tokens, scored, green, log10_p, detected, insufficient]");
      }
    }
  }
  // Version 3's detect predicate always has its decisive test (the renderer reads it).
  if (const ojson& t = v.object(p, at, "decisive_test", !v3_detect); !t.is_null()) {
    const std::string pt = at + "/decisive_test";
    v.string(t, pt, "label");
    if (v3_detect) {
      v.string(t, pt, "scheme");
      for (const char* f : {"scored", "log10_p", "threshold_log10_p"}) v.number(t, pt, f);
      for (const char* f : {"green", "score", "gamma"}) v.number(t, pt, f, false, true);
      if (const ojson& w = v.object_or_null(t, pt, "window"); w.is_object()) {
        for (const char* f : {"token_begin", "token_end", "scored", "log10_p", "log10_p_scan", "sizes", "windows"}) {
          v.number(w, pt + "/window", f);
        }
        for (const char* f : {"green", "score"}) v.number(w, pt + "/window", f, false, true);
      }
    } else {
      for (const char* f : {"scored", "green", "gamma", "log10_p", "threshold_log10_p"}) v.number(t, pt, f);
    }
    const ojson& curve = v.array(t, pt, "curve");
    for (std::size_t i = 0; i < curve.size(); ++i) {
      if (!curve[i].is_array() || curve[i].size() != 2 || !curve[i][0].is_number() || !curve[i][1].is_number()) {
        v.fail(pt + "/curve/" + std::to_string(i), "expected [scored, -log10 p]");
      }
    }
  }
  if (const ojson& c = v.object(p, at, "controls", true); !c.is_null()) {
    const ojson& l = v.array(c, at + "/controls", "log10_p");
    for (std::size_t i = 0; i < l.size(); ++i) {
      if (!l[i].is_number()) v.fail(at + "/controls/log10_p/" + std::to_string(i), "expected a number");
    }
    v.number(c, at + "/controls", "ks_p_value");
  }
  if (const ojson& a = v.object(p, at, "accounts", true); !a.is_null()) {
    const std::string pa = at + "/accounts";
    for (const char* f : {"total", "accused"}) v.number(a, pa, f);
    for (const char* f : {"selection", "all_scores_sha256"}) v.string(a, pa, f);
    const ojson& rows = v.array(a, pa, "rows");
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const ojson& r = rows[i];
      if (!r.is_array() || r.size() != 5 || !r[0].is_string() || !r[1].is_number() || !r[2].is_number() ||
          !r[3].is_number() || !r[4].is_boolean()) {
        v.fail(pa + "/rows/" + std::to_string(i), "expected [account, score, log10_p, log10_p_fw, accused]");
      }
    }
  }
  if (const ojson& dc = v.object(p, at, "decoys", true); !dc.is_null()) {
    for (const char* f : {"count", "ks_statistic", "ks_p_value", "min_log10_p"}) v.number(dc, at + "/decoys", f);
  }
  if (const ojson& e = v.object(p, at, "excerpt", true); !e.is_null()) {
    v.scalar(e, at + "/excerpt", "document");
    v.number(e, at + "/excerpt", "shown");
    v.number(e, at + "/excerpt", "of");
    if (v3_detect) {
      v.number(e, at + "/excerpt", "first");
      v.string(e, at + "/excerpt", "scheme");
    }
    // Version 3 adds s, a scored tuple without a colour (Gumbel).
    const std::string codes = v3_detect ? "grdcs" : "grdc";
    const ojson& tokens = v.array(e, at + "/excerpt", "tokens");
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const ojson& t = tokens[i];
      if (!t.is_array() || t.size() != 2 || !t[0].is_string() || !t[1].is_string() ||
          codes.find(t[1].get<std::string>()) == std::string::npos || t[1].get<std::string>().size() != 1) {
        v.fail(at + "/excerpt/tokens/" + std::to_string(i),
               v3_detect ? "expected [text, one of g r d c s]" : "expected [text, one of g r d c]");
      }
    }
  }
  if (const ojson& l = v.array(p, at, "limits", true); !l.is_null()) {
    for (std::size_t i = 0; i < l.size(); ++i) {
      if (!l[i].is_string()) v.fail(at + "/limits/" + std::to_string(i), "expected a string");
    }
  }
}

std::string short_value(const ojson& v) {
  std::string s = v.dump();
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

bool same_number(const ojson& a, const ojson& b) {
  if (!a.is_number() || !b.is_number()) return false;
  if (a.is_number_float() || b.is_number_float()) {
    const double x = a.get<double>(), y = b.get<double>();
    // The same binary gives the same bits; another build may round a last digit differently.
    return x == y || std::fabs(x - y) <= 1e-9 * std::max(std::fabs(x), std::fabs(y));
  }
  return a == b;
}


void diff(const ojson& signed_value, const ojson& recomputed, const std::string& where, std::vector<std::string>& out) {
  if (out.size() >= 12) return;
  if (signed_value.is_object() && recomputed.is_object()) {
    for (auto it = signed_value.begin(); it != signed_value.end(); ++it) {
      const auto other = recomputed.find(it.key());
      if (other == recomputed.end()) {
        out.push_back(where + "/" + pointer_escape(it.key()) + ": in the report, absent from the recomputation");
      } else {
        diff(it.value(), *other, where + "/" + pointer_escape(it.key()), out);
      }
    }
    for (auto it = recomputed.begin(); it != recomputed.end(); ++it) {
      if (!signed_value.contains(it.key())) out.push_back(where + "/" + pointer_escape(it.key()) + ": recomputed, absent from the report");
    }
    return;
  }
  if (signed_value.is_array() && recomputed.is_array()) {
    if (signed_value.size() != recomputed.size()) {
      out.push_back(where + ": " + std::to_string(signed_value.size()) + " entries in the report, " +
                    std::to_string(recomputed.size()) + " recomputed");
      return;
    }
    for (std::size_t i = 0; i < signed_value.size(); ++i) diff(signed_value[i], recomputed[i], where + "/" + std::to_string(i), out);
    return;
  }
  if (signed_value == recomputed || same_number(signed_value, recomputed)) return;
  out.push_back(where + ": report says " + short_value(signed_value) + ", recomputed " + short_value(recomputed));
}

// The figures of a re-run against the signed ones: the predicate type, the subjects and the whole
// predicate but its invocation record.
std::vector<std::string> differences_of(const ojson& statement, const ojson& recomputed) {
  std::vector<std::string> differences;
  ojson expected = statement["predicate"];
  ojson got = recomputed["predicate"];
  expected.erase("invocation");
  got.erase("invocation");
  diff(statement["predicateType"], recomputed["predicateType"], "/predicateType", differences);
  diff(statement["subject"], recomputed["subject"], "/subject", differences);
  diff(expected, got, "/predicate", differences);
  return differences;
}

// The specification must read exactly the files the report vouches for, in the same order.
void require_subjects(const ojson& statement, const std::vector<std::string>& files) {
  std::vector<std::string> names;
  for (const auto& subject : statement["subject"]) names.push_back(subject["name"].get<std::string>());
  if (files != names) {
    throw error(errc::verification_failed, "recompute: the specification reads " + std::to_string(files.size()) +
                                               " file(s) that are not exactly the report's " + std::to_string(names.size()) +
                                               " subject(s)" + (files.empty() ? "" : " (first: " + json_quoted(files.front()) + ")"));
  }
}

// What a re-run is given: the report's time and base, its scan's threads and progress.
report_context recompute_context(const ojson& predicate, const std::filesystem::path& base) {
  report_context context;
  context.base = base;
  context.time = predicate["invocation"]["time"].get<std::string>();
  return context;
}

void require_specification(const ojson& predicate) {
  if (!predicate.contains("specification")) {
    throw error(errc::invalid_argument,
                "recompute: this is a version 1 report, which records only the command line that made it; a "
                "recomputation re-runs a recorded test specification (version 2 and later). Its signature and "
                "subjects can still be verified without --recompute");
  }
}

// Signature first, then the statement's own layout: nothing in it is read before it is trusted.
}  // namespace
}  // namespace evidence_detail

using namespace evidence_detail;

opened_report open_report(const std::string& path, const std::vector<report_public_key>& trusted) {
  const std::string bytes = read_envelope(path);
  dsse_opened opened;
  try {
    opened = dsse_open(bytes, trusted);
  } catch (const error& e) {
    throw error(e.code(), path + ": " + e.what());
  }
  opened_report r;
  r.signer = opened.key_id;
  // The statement is a whole JSON document like any other: the one policy (json_document.hpp).
  r.statement = detail::parse_json_document<ojson>(opened.payload, path + ": statement");
  const ojson& s = r.statement;
  auto require = [&](bool ok, const std::string& what) {
    if (!ok) throw error(errc::parse, path + ": statement: " + what);
  };
  require(s.is_object(), "expected a JSON object");
  require(s.contains("_type") && s["_type"] == statement_type,
          "field _type: expected \"" + std::string(statement_type) + "\", got " +
              (s.contains("_type") ? json_quoted(s["_type"].dump()) : "nothing"));
  require(s.contains("predicateType") && s["predicateType"].is_string(), "missing field predicateType");
  const std::string type = s["predicateType"].get<std::string>();
  if (type.rfind(predicate_type_prefix, 0) != 0) {
    throw error(errc::parse, path + ": statement: predicateType " + json_quoted(type) + " is not a tritium evidence report (expected " +
                                 predicate_type() + ")");
  }
  for (int version = 1; version <= predicate_version; ++version) {
    if (type == predicate_type(version)) r.version = version;
  }
  if (r.version == 0) {
    throw error(errc::parse, path + ": statement: unknown predicate version " + json_quoted(type.substr(predicate_type_prefix.size())) +
                                 " (" + json_quoted(type) + "); this tritium reads versions 1 to " + std::to_string(predicate_version));
  }
  require(s.contains("subject") && s["subject"].is_array(), "field subject: expected an array");
  for (std::size_t i = 0; i < s["subject"].size(); ++i) {
    const ojson& sub = s["subject"][i];
    require(sub.is_object() && sub.contains("name") && sub["name"].is_string() && sub.contains("digest") &&
                sub["digest"].is_object() && sub["digest"].contains("sha256") && sub["digest"]["sha256"].is_string(),
            "subject[" + std::to_string(i) + "]: expected {\"name\": ..., \"digest\": {\"sha256\": ...}}");
  }
  require(s.contains("predicate") && s["predicate"].is_object(), "field predicate: expected an object");
  validate_predicate(s["predicate"], path, r.version);
  return r;
}

void check_subjects(const ojson& statement, const std::filesystem::path& base) {
  // Subjects: the files must still be byte for byte what was tested.
  const std::filesystem::path root = base.empty() ? std::filesystem::path(".") : base;
  for (const auto& s : statement["subject"]) {
    const std::string name = s["name"].get<std::string>();
    const std::filesystem::path p = std::filesystem::path(name).is_absolute() ? std::filesystem::path(name) : root / name;
    std::string now;
    try {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(p, ec)) throw error(errc::io, "not a regular file");
      now = sha256_file_digest(p).substr(7);
    } catch (const error&) {
      throw error(errc::verification_failed, "subject " + json_quoted(name) + ": cannot read " + json_quoted(p.string()) +
                                                 " (moved or deleted? --base names the directory the report's paths are relative to)");
    }
    if (now != s["digest"]["sha256"].get<std::string>()) {
      throw error(errc::verification_failed, "subject " + json_quoted(name) + " changed since the report was signed: sha256 was " +
                                                 s["digest"]["sha256"].get<std::string>() + ", is now " + now);
    }
  }
}

std::vector<std::string> recompute(const ojson& statement, const key& k, const std::filesystem::path& base, unsigned threads,
                                   const progress_callback& progress) {
  const ojson& predicate = statement["predicate"];
  require_specification(predicate);
  if (predicate["test"] == interop_test) {
    throw error(errc::invalid_argument, "recompute: this report's test ran under a transformers watermark configuration, "
                                        "not a tritium key: re-run it with that configuration (--hf-config)");
  }
  // The key given must be the report's before anything runs.
  const std::string signed_id = predicate["key"]["id"].get<std::string>();
  if (k.id() != signed_id) {
    throw error(errc::verification_failed, "recompute: the key given is " + k.id().substr(0, 16) + ", the report's is " +
                                               json_quoted(signed_id.substr(0, 16)) + ": not the key the report was made with");
  }
  const report_context context = recompute_context(predicate, base);
  scan_environment env;
  env.base = base;
  env.threads = threads;
  env.progress = progress;
  // The recorded test decides whether a tokenizer other than the key's was accepted: the figures
  // would differ anyway, so the recomputation proceeds and the comparison speaks.
  env.allow_tokenizer_mismatch = true;
  const ojson& specification = predicate["specification"];
  const std::string test = predicate["test"].get<std::string>();
  ojson recomputed;
  if (test == "detect") {
    const detect_spec spec = detect_spec_from(specification);
    detect_scan scan(spec, k, env);
    require_subjects(statement, scan.files());
    recomputed = run_detect_test(scan, context).statement;
  } else if (test.starts_with("radioactivity ")) {
    const radioactivity_spec spec = radioactivity_spec_from(specification);
    radioactivity_scan scan(spec, k, env);
    require_subjects(statement, scan.files());
    recomputed = run_radioactivity_test(scan, context).statement;
  } else if (test.starts_with("trace ")) {
    const traced_spec traced = trace_spec_from(specification);
    const trace_params* own = k.trace();
    if (own == nullptr) {
      throw error(errc::verification_failed, "recompute: the report traced accounts, but the key given has no trace parameters");
    }
    trace_scan scan(traced.spec, k, *own, env);
    require_subjects(statement, scan.files());
    recomputed = run_trace_test(scan, context).statement;
  } else if (test == "fingerprint") {
    const fingerprint_spec spec = fingerprint_spec_from(specification);
    require_subjects(statement, fingerprint_files(spec));
    recomputed = run_fingerprint_test(spec, k, context).statement;
  } else {
    throw error(errc::parse, "statement: /predicate/test: " + json_quoted(test) + " is not a test tritium can re-run");
  }
  return differences_of(statement, recomputed);
}

std::vector<std::string> recompute(const ojson& statement, const interop_config& config, const std::filesystem::path& base,
                                   unsigned threads, const progress_callback& progress) {
  const ojson& predicate = statement["predicate"];
  require_specification(predicate);
  if (predicate["test"] != interop_test || statement["predicateType"] != predicate_type(4)) {
    throw error(errc::invalid_argument, "recompute: this report's test (" + json_quoted(predicate["test"].get<std::string>()) +
                                            ") ran under a tritium key: re-run it with that key (--key), not a "
                                            "transformers configuration");
  }
  // The configuration given must be the report's before anything runs, and agree with the fields
  // the report shows.
  check_configuration_commitment(predicate, config);
  const interop_recorded recorded = interop_spec_from(predicate["specification"]);
  interop_config run = config;
  if (recorded.configuration.at("scheme") != public_configuration(run).at("scheme")) {
    throw error(errc::verification_failed, "recompute: the configuration given is not of the scheme the report records in "
                                           "/predicate/specification/configuration/scheme");
  }
  if (run.kind == interop_kind::hf_kgw) run.kgw.vocab_size = recorded.configuration.at("vocab_size").get<std::uint32_t>();
  const ojson shown = public_configuration(run);
  if (shown != recorded.configuration) {
    throw error(errc::verification_failed, "recompute: the configuration given does not have the public fields the "
                                           "report records in /predicate/specification/configuration");
  }
  scan_environment env;
  env.base = base;
  env.threads = threads;
  env.progress = progress;
  interop_scan scan(recorded.spec, run, env);
  require_subjects(statement, scan.files());
  return differences_of(statement, run_interop_detect_test(scan, recompute_context(predicate, base)).statement);
}

}  // namespace tritium
