#include "report.hpp"

#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

#include "atomic_output.hpp"
#include "evidence.hpp"
#include "exit_codes.hpp"
#include "tritium/digest.hpp"
#include "tritium/dsse.hpp"
#include "tritium/error.hpp"
#include "tritium/signing.hpp"

namespace tritium::cli {
namespace {

constexpr std::uintmax_t envelope_max_bytes = std::uintmax_t{1} << 31;

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

struct opened_report {
  std::string signer;
  ojson statement;
};

// Signature first, then the statement's own layout: nothing in it is read before it is trusted.
opened_report open_report(const std::string& path, const std::vector<std::string>& public_key_paths) {
  std::vector<report_public_key> trusted;
  for (const auto& p : public_key_paths) {
    try {
      trusted.push_back(report_public_key::load(p));
    } catch (const error& e) {
      // A key that cannot be read is an input error (exit 3), not an output one.
      if (e.code() == errc::io) throw error(errc::invalid_argument, e.what());
      throw;
    }
  }
  const std::string bytes = read_envelope(path);
  dsse_opened opened;
  try {
    opened = dsse_open(bytes, trusted);
  } catch (const error& e) {
    throw error(e.code(), path + ": " + e.what());
  }
  opened_report r;
  r.signer = opened.key_id;
  try {
    r.statement = ojson::parse(opened.payload);
  } catch (const ojson::parse_error& e) {
    throw error(errc::parse, path + ": statement: not valid JSON at byte " + std::to_string(e.byte));
  }
  const ojson& s = r.statement;
  auto require = [&](bool ok, const std::string& what) {
    if (!ok) throw error(errc::parse, path + ": statement: " + what);
  };
  require(s.is_object(), "expected a JSON object");
  require(s.contains("_type") && s["_type"] == statement_type,
          "field _type: expected \"" + std::string(statement_type) + "\", got " + (s.contains("_type") ? s["_type"].dump() : "nothing"));
  require(s.contains("predicateType") && s["predicateType"].is_string(), "missing field predicateType");
  const std::string type = s["predicateType"].get<std::string>();
  if (type.rfind(predicate_type_prefix, 0) != 0) {
    throw error(errc::parse, path + ": statement: predicateType \"" + type + "\" is not a tritium evidence report (expected " +
                                 predicate_type() + ")");
  }
  if (type != predicate_type()) {
    throw error(errc::parse, path + ": statement: unknown predicate version \"" + type.substr(predicate_type_prefix.size()) +
                                 "\" (" + type + "); this tritium reads version " + std::to_string(predicate_version));
  }
  require(s.contains("subject") && s["subject"].is_array(), "field subject: expected an array");
  for (std::size_t i = 0; i < s["subject"].size(); ++i) {
    const ojson& sub = s["subject"][i];
    require(sub.is_object() && sub.contains("name") && sub["name"].is_string() && sub.contains("digest") &&
                sub["digest"].is_object() && sub["digest"].contains("sha256") && sub["digest"]["sha256"].is_string(),
            "subject[" + std::to_string(i) + "]: expected {\"name\": ..., \"digest\": {\"sha256\": ...}}");
  }
  require(s.contains("predicate") && s["predicate"].is_object(), "field predicate: expected an object");
  for (const char* field : {"test", "hypothesis", "method", "key", "decision", "invocation"}) {
    require(s["predicate"].contains(field), std::string("predicate: missing field \"") + field + "\"");
  }
  return r;
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

std::string pointer_escape(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
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

// Only the verification commands may be re-run from a statement: the recorded arguments are data
// from a file, and must not be able to start anything else.
bool recomputable(const std::vector<std::string>& args) {
  if (args.empty()) return false;
  if (args[0] == "detect") return true;
  return args.size() >= 2 && args[0] == "radioactivity" && (args[1] == "corpus" || args[1] == "closed" || args[1] == "read");
}

class cout_silencer {
 public:
  cout_silencer() : saved_(std::cout.rdbuf(sink_.rdbuf())) {}
  ~cout_silencer() { std::cout.rdbuf(saved_); }
  cout_silencer(const cout_silencer&) = delete;
  cout_silencer& operator=(const cout_silencer&) = delete;

 private:
  std::ostringstream sink_;
  std::streambuf* saved_;
};

class working_directory {
 public:
  explicit working_directory(const std::string& dir) {
    if (dir.empty()) return;
    saved_ = std::filesystem::current_path();
    std::filesystem::current_path(dir);
  }
  ~working_directory() {
    if (!saved_.empty()) {
      std::error_code ec;
      std::filesystem::current_path(saved_, ec);
    }
  }
  working_directory(const working_directory&) = delete;
  working_directory& operator=(const working_directory&) = delete;

 private:
  std::filesystem::path saved_;
};

}  // namespace

void report_commands::setup(CLI::App& parent) {
  CLI::App* group = parent.add_subcommand("report", "Signed evidence reports: signing keys, verification, HTML");
  group->require_subcommand(1);
  keygen = group->add_subcommand("keygen", "Create an Ed25519 report-signing key (FILE, mode 0600) and its public key (FILE.pub)");
  keygen->add_option("--out,-o", out, "Signing key file to create")->required();
  keygen->add_flag("--force", force, "Replace existing files");
  verify = group->add_subcommand("verify", "Check a report: its signature, its subject files, and with --recompute every figure");
  verify->add_option("envelope", envelope, "The report (DSSE envelope)")->required();
  verify->add_option("--public-key,-P", public_keys, "Trusted report public key(s) (.pub)")->required();
  verify->add_option("--base", base, "Directory the subject names are relative to (default: the current one)");
  verify->add_flag("--recompute", recompute, "Re-run the recorded test from the subject files and the key; compare every figure");
  verify->add_option("--key,-k", key_path, "With --recompute: the watermark key (its id must be the report's)");
  verify->add_flag("--json", json, "Print one JSON object");
  html = group->add_subcommand("html", "Render a verified report as one self-contained HTML page");
  html->add_option("envelope", envelope, "The report (DSSE envelope)")->required();
  html->add_option("--public-key,-P", public_keys, "Trusted report public key(s) (.pub)")->required();
  html->add_option("--out,-o", html_out, "HTML file to write")->required();
}

int report_commands::run() const {
  if (keygen->parsed()) return run_keygen();
  if (verify->parsed()) return run_verify();
  if (html->parsed()) return run_html();
  return -1;
}

int report_commands::run_keygen() const {
  const report_signing_key k = report_signing_key::generate();
  k.public_key().save(out + ".pub", force);
  try {
    k.save(out, force);
  } catch (...) {
    if (!force) std::filesystem::remove(out + ".pub");
    throw;
  }
  std::cout << "report-signing key " << k.key_id() << "\n  secret: " << out << " (mode 0600; keep it private)\n"
            << "  public: " << out << ".pub (give it to whoever checks your reports)\n";
  return exit_evidence;
}

int report_commands::run_verify() const {
  if (recompute && key_path.empty()) throw error(errc::invalid_argument, "--recompute needs the watermark key (--key)");
  const opened_report r = open_report(envelope, public_keys);
  const ojson& statement = r.statement;
  const ojson& predicate = statement["predicate"];

  // Subjects: the files must still be byte for byte what was tested.
  const std::filesystem::path root = base.empty() ? std::filesystem::path(".") : std::filesystem::path(base);
  for (const auto& s : statement["subject"]) {
    const std::string name = s["name"].get<std::string>();
    const std::filesystem::path p = std::filesystem::path(name).is_absolute() ? std::filesystem::path(name) : root / name;
    std::string now;
    try {
      now = sha256_file_digest(p).substr(7);
    } catch (const error&) {
      throw error(errc::verification_failed, "subject " + name + ": cannot read " + p.string() +
                                                 " (moved or deleted? --base names the directory the report's paths are relative to)");
    }
    if (now != s["digest"]["sha256"].get<std::string>()) {
      throw error(errc::verification_failed, "subject " + name + " changed since the report was signed: sha256 was " +
                                                 s["digest"]["sha256"].get<std::string>() + ", is now " + now);
    }
  }

  std::vector<std::string> differences;
  if (recompute) {
    const ojson& recorded = predicate["invocation"]["arguments"];
    if (!recorded.is_array()) throw error(errc::parse, envelope + ": predicate.invocation.arguments: expected an array");
    std::vector<std::string> args;
    for (const auto& a : recorded) {
      if (!a.is_string()) throw error(errc::parse, envelope + ": predicate.invocation.arguments: expected strings");
      args.push_back(a.get<std::string>());
    }
    if (!recomputable(args)) {
      throw error(errc::parse, envelope + ": predicate.invocation.arguments: not a verification command that can be re-run");
    }
    // The recorded key path is replaced by the one given here; the key id inside the predicate
    // proves it is the same key.
    bool replaced = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
      if ((args[i] == "--key" || args[i] == "-k") && i + 1 < args.size()) {
        args[i + 1] = std::filesystem::absolute(key_path).string();
        replaced = true;
      } else if (args[i].rfind("--key=", 0) == 0) {
        args[i] = "--key=" + std::filesystem::absolute(key_path).string();
        replaced = true;
      }
    }
    if (!replaced) throw error(errc::parse, envelope + ": predicate.invocation.arguments: no --key recorded");
    recompute_capture capture;
    int code = 0;
    {
      working_directory cd(base);
      cout_silencer quiet;
      set_recompute_capture(&capture);
      code = run_tritium(args);
      set_recompute_capture(nullptr);
    }
    if (!capture.statement) {
      throw error(errc::verification_failed, "recompute: the recorded command stopped with exit code " + std::to_string(code) +
                                                 " before producing a result (its message is above)");
    }
    ojson expected = predicate;
    ojson got = (*capture.statement)["predicate"];
    expected.erase("invocation");
    got.erase("invocation");
    diff(statement["subject"], (*capture.statement)["subject"], "/subject", differences);
    diff(expected, got, "/predicate", differences);
    if (!differences.empty()) {
      std::string message = "recompute: " + std::to_string(differences.size()) + (differences.size() >= 12 ? "+" : "") +
                            " figure(s) differ from the report:";
      for (const auto& d : differences) message += "\n  " + d;
      throw error(errc::verification_failed, message);
    }
  }

  const std::string outcome = predicate["decision"].value("outcome", std::string("?"));
  if (json) {
    ojson j;
    j["verified"] = true;
    j["signer"] = r.signer;
    j["predicate_type"] = statement["predicateType"];
    j["test"] = predicate["test"];
    j["subjects"] = statement["subject"].size();
    j["recomputed"] = recompute;
    j["outcome"] = outcome;
    j["time"] = predicate["invocation"].value("time", std::string());
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "Report " << envelope << ": signature by " << r.signer << " verified; "
              << statement["subject"].size() << " subject file(s) unchanged";
    if (recompute) std::cout << "; recomputed from the inputs and the key: every figure matches";
    std::cout << ".\n  test: " << predicate["test"].get<std::string>() << ", outcome: " << outcome << ", signed "
              << predicate["invocation"].value("time", std::string("?")) << "\n";
  }
  return exit_evidence;
}

int report_commands::run_html() const {
  const opened_report r = open_report(envelope, public_keys);
  atomic_output o(html_out);
  o.stream() << render_report_html(r.statement, r.signer);
  o.commit();
  std::cerr << "tritium: wrote " << html_out << "\n";
  return exit_evidence;
}

}  // namespace tritium::cli
