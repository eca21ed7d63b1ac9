// One self-contained HTML page for a statement: no scripts, no external assets, inline SVG charts,
// print styles. Everything shown comes from the statement, so the page of a verified envelope shows
// exactly what was signed.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "predicate.hpp"
#include "tritium/digest.hpp"

namespace tritium {
namespace {

// Colours used by the charts only (a screenshot test looks for them).
constexpr const char* curve_colour = "#0b5fa5";
constexpr const char* null_fill = "#9ecae1";
constexpr const char* observed_colour = "#d7301f";

std::string esc(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string fmt(double x, int digits) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, x);
  return b;
}

std::string general(double x) {
  char b[64];
  std::snprintf(b, sizeof b, "%g", x);
  return b;
}

// Any value of the statement as HTML text: always escaped, numbers formatted.
std::string show(const ojson& j, int digits = 2) {
  if (j.is_number_float()) return fmt(j.get<double>(), digits);
  if (j.is_number()) return j.dump();
  if (j.is_string()) return esc(j.get<std::string>());
  if (j.is_null()) return "none";
  return esc(j.dump(-1, ' ', false, ojson::error_handler_t::replace));
}

// A statement's field name as words for a reader: "prompt_excluded" -> "prompt excluded".
std::string words(std::string name) {
  for (char& c : name) {
    if (c == '_') c = ' ';
  }
  return esc(name);
}

// An object of settings or counts as "name value · name value"; a nested object in parentheses,
// true/false as yes/no. Never raw JSON.
std::string fields_text(const ojson& j) {
  if (!j.is_object()) return j.is_boolean() ? std::string(j.get<bool>() ? "yes" : "no") : show(j);
  std::string s;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!s.empty()) s += " · ";
    const std::string value = it->is_object() ? "(" + fields_text(*it) + ")" : fields_text(*it);
    s += words(it.key()) + " " + value;
  }
  return s;
}

double get(const ojson& j, const char* field, double fallback = 0.0) {
  const auto it = j.find(field);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

// A plain line chart of (x, y) points with a horizontal threshold.
std::string curve_chart(const ojson& points, double threshold, const std::string& x_label, const std::string& y_label) {
  const double w = 640, h = 300, left = 64, right = 16, top = 16, bottom = 44;
  double max_x = 1, max_y = std::max(1.0, threshold * 1.15);
  for (const auto& p : points) {
    max_x = std::max(max_x, p[0].get<double>());
    max_y = std::max(max_y, p[1].get<double>() * 1.05);
  }
  auto X = [&](double x) { return left + (w - left - right) * x / max_x; };
  auto Y = [&](double y) { return top + (h - top - bottom) * (1 - y / max_y); };
  std::ostringstream s;
  s << "<svg class=\"chart\" viewBox=\"0 0 " << w << " " << h << "\" width=\"" << w << "\" height=\"" << h
    << "\" role=\"img\" aria-label=\"" << esc(y_label) << "\">";
  s << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << w - left - right << "\" height=\"" << h - top - bottom
    << "\" fill=\"#fbfbfb\" stroke=\"#999\"/>";
  for (int k = 0; k <= 4; ++k) {
    const double y = max_y * k / 4, x = max_x * k / 4;
    s << "<text x=\"" << left - 6 << "\" y=\"" << Y(y) + 4 << "\" text-anchor=\"end\">" << fmt(y, y < 10 ? 1 : 0) << "</text>";
    s << "<text x=\"" << X(x) << "\" y=\"" << h - bottom + 16 << "\" text-anchor=\"middle\">" << fmt(x, 0) << "</text>";
  }
  s << "<text x=\"" << (left + w - right) / 2 << "\" y=\"" << h - 6 << "\" text-anchor=\"middle\">" << esc(x_label) << "</text>";
  s << "<text transform=\"translate(14," << (top + h - bottom) / 2 << ") rotate(-90)\" text-anchor=\"middle\">" << esc(y_label)
    << "</text>";
  s << "<line x1=\"" << left << "\" x2=\"" << w - right << "\" y1=\"" << Y(threshold) << "\" y2=\"" << Y(threshold)
    << "\" stroke=\"" << observed_colour << "\" stroke-dasharray=\"6 4\" stroke-width=\"1.5\"/>";
  s << "<text x=\"" << w - right - 4 << "\" y=\"" << Y(threshold) - 5 << "\" text-anchor=\"end\">decision threshold: "
    << fmt(threshold, 2) << "</text>";
  s << "<polyline fill=\"none\" stroke=\"" << curve_colour << "\" stroke-width=\"3\" points=\"" << X(0) << "," << Y(0);
  for (const auto& p : points) s << " " << fmt(X(p[0].get<double>()), 1) << "," << fmt(Y(p[1].get<double>()), 1);
  s << "\"/></svg>";
  return s.str();
}

// The null distribution of the green share for n scored tuples, with the observed share marked.
std::string null_chart(double n, double green, double gamma) {
  const double w = 640, h = 260, left = 64, right = 16, top = 16, bottom = 44;
  if (n <= 0) return "<p>No tuple was scored.</p>";
  const double sd = std::sqrt(gamma * (1 - gamma) / n);
  const double observed = green / n;
  double lo = std::max(0.0, gamma - 5 * sd), hi = std::min(1.0, gamma + 5 * sd);
  lo = std::min(lo, std::max(0.0, observed - sd));
  hi = std::max(hi, std::min(1.0, observed + sd));
  auto ln_pmf = [&](double k) {
    return std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1) + k * std::log(gamma) + (n - k) * std::log1p(-gamma);
  };
  const double k_lo = std::floor(lo * n), k_hi = std::ceil(hi * n);
  const double step = std::max(1.0, std::floor((k_hi - k_lo) / 240));
  std::vector<std::pair<double, double>> pts;
  double peak = 0;
  for (double k = k_lo; k <= k_hi; k += step) {
    const double v = std::exp(ln_pmf(k));
    pts.push_back({k / n, v});
    peak = std::max(peak, v);
  }
  auto X = [&](double x) { return left + (w - left - right) * (x - lo) / std::max(1e-12, hi - lo); };
  auto Y = [&](double y) { return top + (h - top - bottom) * (1 - y / std::max(peak, 1e-300) * 0.95); };
  std::ostringstream s;
  s << "<svg class=\"chart\" viewBox=\"0 0 " << w << " " << h << "\" width=\"" << w << "\" height=\"" << h
    << "\" role=\"img\" aria-label=\"null distribution\">";
  s << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << w - left - right << "\" height=\"" << h - top - bottom
    << "\" fill=\"#fbfbfb\" stroke=\"#999\"/>";
  s << "<polygon fill=\"" << null_fill << "\" stroke=\"#3182bd\" points=\"" << fmt(X(pts.front().first), 1) << "," << Y(0);
  for (const auto& [x, y] : pts) s << " " << fmt(X(x), 1) << "," << fmt(Y(y), 1);
  s << " " << fmt(X(pts.back().first), 1) << "," << Y(0) << "\"/>";
  for (int k = 0; k <= 4; ++k) {
    const double x = lo + (hi - lo) * k / 4;
    s << "<text x=\"" << X(x) << "\" y=\"" << h - bottom + 16 << "\" text-anchor=\"middle\">" << fmt(x, 3) << "</text>";
  }
  s << "<text x=\"" << (left + w - right) / 2 << "\" y=\"" << h - 6
    << "\" text-anchor=\"middle\">share of green tuples (null: Binomial(n, gamma) / n)</text>";
  s << "<line x1=\"" << X(gamma) << "\" x2=\"" << X(gamma) << "\" y1=\"" << top << "\" y2=\"" << h - bottom
    << "\" stroke=\"#555\" stroke-dasharray=\"3 3\"/>";
  s << "<text x=\"" << X(gamma) + 4 << "\" y=\"" << top + 14 << "\">gamma = " << fmt(gamma, 3) << "</text>";
  s << "<line x1=\"" << X(observed) << "\" x2=\"" << X(observed) << "\" y1=\"" << top << "\" y2=\"" << h - bottom
    << "\" stroke=\"" << observed_colour << "\" stroke-width=\"3\"/>";
  s << "<text x=\"" << X(observed) + (observed > (lo + hi) / 2 ? -4 : 4) << "\" y=\"" << top + 32 << "\" text-anchor=\""
    << (observed > (lo + hi) / 2 ? "end" : "start") << "\">observed " << fmt(observed, 4) << " (" << fmt((observed - gamma) / sd, 1)
    << " sd)</text>";
  s << "</svg>";
  return s.str();
}

// Histogram of per-document p-values (uniform, or piled at 1, under the null); `column` holds a row's
// log10 p (version 3 rows: one per document and scheme).
std::string p_histogram(const ojson& rows, std::size_t column) {
  const double w = 640, h = 220, left = 64, right = 16, top = 16, bottom = 44;
  constexpr std::size_t bins = 20;
  std::vector<double> count(bins, 0.0);
  for (const auto& r : rows) {
    const double p = std::pow(10.0, std::min(0.0, r[column].get<double>()));
    count[std::min(bins - 1, static_cast<std::size_t>(p * static_cast<double>(bins)))] += 1;
  }
  const double expected = static_cast<double>(rows.size()) / static_cast<double>(bins);
  const double peak = std::max(*std::max_element(count.begin(), count.end()), expected) * 1.1;
  auto X = [&](double x) { return left + (w - left - right) * x; };
  auto Y = [&](double y) { return top + (h - top - bottom) * (1 - y / peak); };
  std::ostringstream s;
  s << "<svg class=\"chart\" viewBox=\"0 0 " << w << " " << h << "\" width=\"" << w << "\" height=\"" << h
    << "\" role=\"img\" aria-label=\"p-value histogram\">";
  s << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << w - left - right << "\" height=\"" << h - top - bottom
    << "\" fill=\"#fbfbfb\" stroke=\"#999\"/>";
  for (std::size_t b = 0; b < bins; ++b) {
    s << "<rect x=\"" << fmt(X(static_cast<double>(b) / static_cast<double>(bins)) + 1, 1) << "\" y=\"" << fmt(Y(count[b]), 1) << "\" width=\""
      << fmt((w - left - right) / static_cast<double>(bins) - 2, 1) << "\" height=\"" << fmt(Y(0) - Y(count[b]), 1) << "\" fill=\"" << null_fill
      << "\" stroke=\"#3182bd\"/>";
  }
  s << "<line x1=\"" << left << "\" x2=\"" << w - right << "\" y1=\"" << Y(expected) << "\" y2=\"" << Y(expected)
    << "\" stroke=\"#555\" stroke-dasharray=\"3 3\"/>";
  s << "<text x=\"" << w - right - 4 << "\" y=\"" << Y(expected) - 4 << "\" text-anchor=\"end\">uniform (the null)</text>";
  for (int k = 0; k <= 4; ++k) {
    s << "<text x=\"" << X(k / 4.0) << "\" y=\"" << h - bottom + 16 << "\" text-anchor=\"middle\">" << fmt(k / 4.0, 2) << "</text>";
  }
  s << "<text x=\"" << (left + w - right) / 2 << "\" y=\"" << h - 6 << "\" text-anchor=\"middle\">"
    << (column == 4 ? "per-document p-value (" : "per-row p-value, whole text (") << rows.size()
    << (column == 4 ? " documents)" : " rows)") << "</text></svg>";
  return s.str();
}

// Control keys against the real key: -log10 p of each, on a log10(1 + x) axis so that controls near
// zero stay visible beside a real key far out.
std::string controls_chart(const ojson& controls, double real) {
  const double w = 640, h = 140, left = 64, right = 16, top = 16, bottom = 44;
  auto scale = [](double v) { return std::log10(1 + std::max(0.0, v)); };
  double max_v = std::max(1.0, real);
  for (const auto& c : controls) max_v = std::max(max_v, -c.get<double>());
  const double max_s = scale(max_v) * 1.08;
  auto X = [&](double v) { return left + (w - left - right) * scale(v) / max_s; };
  std::ostringstream s;
  s << "<svg class=\"chart\" viewBox=\"0 0 " << w << " " << h << "\" width=\"" << w << "\" height=\"" << h
    << "\" role=\"img\" aria-label=\"control keys\">";
  s << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << w - left - right << "\" height=\"" << h - top - bottom
    << "\" fill=\"#fbfbfb\" stroke=\"#999\"/>";
  std::size_t i = 0;
  for (const auto& c : controls) {
    s << "<circle cx=\"" << fmt(X(-c.get<double>()), 1) << "\" cy=\"" << top + 20 + static_cast<double>(i++ % 5) * 10
      << "\" r=\"4\" fill=\"" << null_fill << "\" stroke=\"#3182bd\"/>";
  }
  s << "<line x1=\"" << X(real) << "\" x2=\"" << X(real) << "\" y1=\"" << top << "\" y2=\"" << h - bottom << "\" stroke=\""
    << observed_colour << "\" stroke-width=\"3\"/>";
  for (double tick : {0.0, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0}) {
    if (tick > max_v) break;
    s << "<text x=\"" << X(tick) << "\" y=\"" << h - bottom + 16 << "\" text-anchor=\"middle\">" << fmt(tick, 0) << "</text>";
  }
  s << "<text x=\"" << (left + w - right) / 2 << "\" y=\"" << h - 6
    << "\" text-anchor=\"middle\">-log10 p (log scale): control keys (dots) and the real key (line)</text></svg>";
  return s.str();
}

void table_row(std::ostringstream& h, const std::string& k, const std::string& v) {
  h << "<tr><th>" << esc(k) << "</th><td>" << v << "</td></tr>";
}

// The body of a model-fingerprint report (predicate test "fingerprint", papers/evidence-v2.md): the
// set by its commitment, the answers' counts and one row per question; no question text exists in it.
std::string fingerprint_sections(const ojson& p) {
  std::ostringstream h;
  const ojson& method = p["method"];
  h << "<h2>What was tested</h2><table>";
  table_row(h, "Null hypothesis", show(p["hypothesis"]["null"]));
  table_row(h, "Alternative", show(p["hypothesis"]["alternative"]));
  table_row(h, "Not claimed", show(p["hypothesis"]["not_claimed"]));
  table_row(h, "Key id (commitment)", "<code>" + show(p["key"]["id"]) + "</code>");
  table_row(h, "Scheme", show(method["scheme"]));
  table_row(h, "Statistic", show(method["statistic"]));
  table_row(h, "Test", show(method["test"]));
  if (p.contains("input")) {
    table_row(h, "Answers", show(p["input"]["kind"]) + "; normalization: " + show(p["input"]["normalization"]));
  }
  const ojson& set = p["settings"];
  table_row(h, "Fingerprint set", "commitment <code>" + show(set["commitment"]) + "</code> · questions " +
                                      show(set["questions"]) + " · candidates " + show(set["candidates"]) +
                                      " · recorded: " + show(set["set_recorded"]));
  std::string prompts;
  for (const auto& s : set["system_prompts"]) prompts += (prompts.empty() ? "" : "<br>") + (s == "" ? std::string("(none)") : show(s));
  table_row(h, "System prompts", prompts);
  if (p.contains("totals")) table_row(h, "Counts", fields_text(p["totals"]));
  table_row(h, "Smallest p these answers allow", "log10 p = " + show(p["fingerprint"]["best_log10_p"]));
  h << "</table>\n";
  h << "<h2>Questions</h2><p class=\"small\">One row per question of the set (the questions themselves stay out of "
       "the report). Under the null, a question with d distinct candidates among its answers matches with probability "
       "d / M.</p><table><tr><th>question</th><th>answers</th><th>distinct candidates</th><th>matched</th></tr>";
  for (const auto& r : p["fingerprint"]["questions"]) {
    h << "<tr><td class=\"n\">" << show(r[0]) << "</td><td class=\"n\">" << show(r[1]) << "</td><td class=\"n\">"
      << show(r[2]) << "</td><td>" << (r[3].get<bool>() ? "<b>yes</b>" : "no") << "</td></tr>";
  }
  h << "</table>\n";
  return h.str();
}

// The excerpt's legend: the marks a scheme's excerpt can hold ("s" is a scored Gumbel tuple, a
// transformers KGW tuple whose colour is not shown, or a counted SynthID position).
std::string excerpt_legend(const std::string& scheme) {
  if (scheme == "hf-synthid") {
    return "<span class=\"s\">counted position (its g-values are the evidence)</span><span class=\"d\">repeated "
           "context (not counted)</span><span class=\"c\">no full context, or from the first EOS on</span>";
  }
  std::string legend = scheme == "gumbel" ? "<span class=\"s\">scored tuple (its score is the evidence)</span>"
                       : scheme == "hf-kgw"
                           ? "<span class=\"s\">scored tuple (its colour is the key's verdict, which a report does not "
                             "show for a transformers configuration)</span>"
                           : "<span class=\"g\">green tuple</span><span class=\"r\">red tuple</span>";
  return legend + "<span class=\"d\">repeated tuple (scored once)</span><span class=\"c\">no full context</span>";
}

}  // namespace

std::string render_report_html(const ojson& statement, const std::string& signer) {
  const ojson& p = statement["predicate"];
  const ojson& decision = p["decision"];
  const std::string outcome = decision.value("outcome", std::string("?"));
  const double alpha = get(decision, "alpha", 1e-3);
  const ojson& method = p["method"];
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    << "<title>tritium evidence report — " << show(p["test"]) << "</title><style>"
    << "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:60rem;margin:1.5rem auto;padding:0 1rem;color:#222;line-height:1.45}"
    << "h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:1.8rem;border-bottom:1px solid #ccc}"
    << ".verdict{border:2px solid #666;border-radius:6px;padding:1rem 1.2rem;margin:1rem 0}"
    << ".verdict .big{font-size:1.5rem;font-weight:bold}"
    << ".evidence{border-color:#8c2d04;background:#fff5eb}.none{border-color:#555;background:#f4f4f4}"
    << ".insufficient{border-color:#8c6d04;background:#fffbe6}"
    << "table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}"
    << "td.n{text-align:right;font-variant-numeric:tabular-nums}code,.mono{font-family:'DejaVu Sans Mono',monospace;font-size:.85rem;word-break:break-all}"
    << "svg.chart{max-width:100%;height:auto;font-size:11px;font-family:'DejaVu Sans',sans-serif}"
    << ".excerpt{white-space:pre-wrap;border:1px solid #ccc;padding:.6rem;font-family:'DejaVu Sans Mono',monospace;font-size:.85rem;line-height:1.7}"
    << ".g{background:#c7e9c0}.r{background:#fcbba1}.d{background:#e0e0e0;color:#666}.c{color:#888}.s{background:#dbe9f6}"
    << ".legend span{padding:0 .4rem;margin-right:.6rem}.small{font-size:.85rem;color:#555}"
    << "@media print{body{margin:0;max-width:none}h2{break-after:avoid}svg.chart,table,.verdict{break-inside:avoid}}"
    << "</style></head><body>\n";
  h << "<h1>Watermark evidence report</h1><div class=\"small\">tritium " << show(p["invocation"]["version"]) << " · test: "
    << show(p["test"]) << " · " << show(p["invocation"]["time"]) << "</div>\n";

  const char* box = outcome == "evidence" ? "evidence" : outcome == "insufficient evidence" ? "insufficient" : "none";
  const bool trace = p["test"].is_string() && p["test"].get<std::string>().rfind("trace ", 0) == 0;
  const bool fingerprint = p["test"] == "fingerprint";
  // Version 3's detect layout, as validated by its predicate type (never by the fields present).
  // Version 4's test under a transformers configuration has the same layout but for its key.
  const bool interop = statement["predicateType"] == predicate_type(4) && p["test"] == "interop detect";
  const bool v3 = (statement["predicateType"] == predicate_type(3) && p["test"] == "detect") || interop;
  std::string headline = trace ? (outcome == "evidence"      ? "Accounts accused"
                                  : outcome == "no evidence" ? "No account accused"
                                  : outcome == "insufficient evidence" ? "Insufficient evidence: no conclusion"
                                                                       : "No verdict")
                         : outcome == "evidence" ? (fingerprint ? "Fingerprint found" : "Evidence of the watermark")
                         : outcome == "no evidence" ? (fingerprint ? "No evidence of the fingerprint" : "No evidence of the watermark")
                         : outcome == "insufficient evidence" ? "Insufficient evidence: no conclusion"
                                                             : "No verdict";
  h << "<div class=\"verdict " << box << "\"><div class=\"big\">" << esc(headline) << "</div><p>"
    << show(decision["statement"]) << "</p><div class=\"small\">Decisive log10 p = " << show(decision["log10_p"])
    << " · alpha = " << general(alpha) << " · " << show(decision["correction"])
    << "</div></div>\n";

  if (fingerprint) h << fingerprint_sections(p);
  if (!fingerprint) {  // the watermark tests: detect and radioactivity
  h << "<h2>What was tested</h2><table>";
  auto row = [&](const std::string& k, const std::string& v) { h << "<tr><th>" << esc(k) << "</th><td>" << v << "</td></tr>"; };
  row("Null hypothesis", show(p["hypothesis"]["null"]));
  row("Alternative", show(p["hypothesis"]["alternative"]));
  row("Not claimed", show(p["hypothesis"]["not_claimed"]));
  row(interop ? "Configuration id (Argon2id commitment)" : "Key id (commitment)", "<code>" + show(p["key"]["id"]) + "</code>");
  if (v3) {
    // Version 3: one line per scheme tested (papers/evidence-v3.md).
    std::string schemes;
    for (const auto& sc : method["schemes"]) {
      schemes += (schemes.empty() ? "" : "<br>") + std::string("<b>") + show(sc["name"]) + "</b>" +
                 (sc["gamma"].is_number() ? ", gamma " + show(sc["gamma"], 4) : std::string()) + ": " +
                 show(sc["statistic"]) + "; " + show(sc["test"]) + " <span class=\"small\">(" + show(sc["reference"]) +
                 ")</span>";
    }
    row("Schemes tested", schemes);
    if (interop) {
      row("Configuration (its public fields; the keys are not shown)", fields_text(method["configuration"]));
    } else {
      row("Key parameters", "PRF " + show(method["prf"]) + ", delta " + show(method["delta"]) + ", context width " +
                                show(method["context_width"]) + ", " + show(method["seeding"]) + ", V " +
                                show(method["vocab_size"]));
    }
    if (method["windows"].is_object()) {
      const ojson& w = method["windows"];
      row("Window scan", "smallest window " + show(w["min_window"]) + " scored tuples; " + show(w["grid"]) + "; " +
                             show(w["correction"]));
    }
  } else {
    row("Scheme", show(method["scheme"]) + ", PRF " + show(method["prf"]) + ", gamma " + show(method["gamma"], 4) +
                      ", delta " + show(method["delta"]) + ", context width " + show(method["context_width"]) + ", " +
                      show(method["seeding"]));
    row("Test", show(method["test"]));
  }
  row("Deduplication", show(method["deduplication"]));
  row("Aggregation", show(method["aggregation"]));
  if (p.contains("input")) {
    const ojson& in = p["input"];
    row("Input", show(in["kind"]) + "; normalization: " + show(in["normalization"]));
    if (in.contains("tokenizer") && in["tokenizer"].is_object()) {
      row("Tokenizer", show(in["tokenizer"]["file"]) + " <code>" + show(in["tokenizer"]["digest"]) + "</code>");
    }
  }
  if (p.contains("settings")) row("Settings", fields_text(p["settings"]));
  if (p.contains("totals")) row("Counts", fields_text(p["totals"]));
  h << "</table>\n";

  const ojson& d = p.contains("decisive_test") ? p["decisive_test"] : ojson::object();
  if (trace) {
    const ojson& g = p["global"];
    h << "<h2>The global test</h2><p>Was the suspect's text derived from our watermarked outputs at all, over all accounts "
         "together: " << show(g["outcome"]) << " at alpha = " << general(get(g, "alpha")) << " (log10 p = " << show(g["log10_p"], 2)
      << ").</p>";
    const ojson& a = p["accounts"];
    const ojson& n = p["null"];
    h << "<h2>Accounts</h2><p class=\"small\">" << show(a["total"]) << " registered accounts were ranked (registry <code>"
      << show(p["registry"]["sha256"]) << "</code>); listed: " << show(a["selection"]) << ". Given the counts, an innocent "
      << "account's score has an exact law with mean " << show(n["mean"], 1) << " and standard deviation " << show(n["sd"], 1)
      << "; the family-wise p-value corrects for the number of accounts.</p>";
    h << "<table><tr><th>rank</th><th>account</th><th>score</th><th>log10 p</th><th>log10 p (family-wise)</th><th></th></tr>";
    std::size_t rank = 0;
    for (const auto& r : a["rows"]) {
      h << "<tr><td class=\"n\">" << ++rank << "</td><td>" << show(r[0]) << "</td><td class=\"n\">" << show(r[1])
        << "</td><td class=\"n\">" << show(r[2], 4) << "</td><td class=\"n\">" << show(r[3], 4) << "</td><td>"
        << (r[4].get<bool>() ? "<b>ACCUSED</b>" : "") << "</td></tr>";
      if (rank == 200) break;
    }
    h << "</table>\n";
    const ojson& dc = p["decoys"];
    h << "<h2>Decoy accounts</h2><p class=\"small\">" << show(dc["count"]) << " accounts derived from the key but never issued "
      << "were ranked the same way. Their p-values should look uniform: KS p = " << show(dc["ks_p_value"], 3)
      << " (smallest log10 p " << show(dc["min_log10_p"], 4) << "). A failure here gives no verdict.</p>";
  } else {
    h << "<h2>Evidence as tokens accumulate</h2><p class=\"small\">Curve: " << esc(d.value("label", std::string("")))
      << ". The curve is for reading only: stopping where it peaks would be a multiple test; the decision uses the final "
         "value.</p>";
    // With a window scan the curve is the whole text's, which enters the scan with weight 1/J: the bar
    // it must clear is the threshold divided by J.
    const bool scanned = v3 && d.contains("window") && d["window"].is_object();
    const double scan_factor = scanned ? std::log10(std::max(1.0, get(d["window"], "sizes", 1.0))) : 0.0;
    h << curve_chart(d.contains("curve") ? d["curve"] : ojson::array(),
                     -get(d, "threshold_log10_p", std::log10(alpha)) + scan_factor, "scored tuples", "-log10 p");
    if (v3 && d.contains("window") && d["window"].is_object()) {
      const ojson& w = d["window"];
      h << "<h2>The best window</h2><p>Tokens [" << show(w["token_begin"]) << ", " << show(w["token_end"]) << ") of the "
        << "decisive document, " << show(w["scored"]) << " scored tuples: its own log10 p = " << show(w["log10_p"])
        << " (for reading only: it was chosen after looking), corrected for the scan's " << show(w["windows"])
        << " windows of " << show(w["sizes"]) << " sizes: log10 p = " << show(w["log10_p_scan"])
        << ". The decision rests on the corrected value.</p>";
    }
    h << "<h2>Score against the null</h2>";
    if (!v3 || d["scheme"] == "kgw" || d["scheme"] == "hf-kgw") {
      h << null_chart(get(d, "scored"), get(d, "green"), get(d, "gamma", get(method, "gamma", 0.25)));
    } else {
      h << "<p class=\"small\">The decisive test is " << show(d["scheme"]) << "'s: "
        << (d["scheme"] == "gumbel"       ? "score " + show(d["score"]) + " over " + show(d["scored"]) +
                                                " scored tuples, against its exact Gamma(" + show(d["scored"]) + ", 1) null"
            : d["scheme"] == "hf-synthid" ? show(d["green"]) + " g-values equal to 1 over " + show(d["scored"]) +
                                                " counted positions and the configuration's layers (transformers' mean "
                                                "score " + show(d["score"], 4) + "), against its exact key-shift null"
                                          : show(d["green"]) + " green among " + show(d["scored"]) +
                                                " distinct ids, against its exact hypergeometric null")
        << "; log10 p = " << show(d["log10_p"]) << ".</p>";
    }
    if (p.contains("documents") && p["documents"]["rows"].size() >= 2) h << p_histogram(p["documents"]["rows"], v3 ? 6 : 4);
  }
  if (p.contains("controls") && p["controls"].contains("log10_p") && !p["controls"]["log10_p"].empty()) {
    h << "<h2>Control keys</h2><p class=\"small\">The same test under " << p["controls"]["log10_p"].size()
      << " keys that were never used (derived from the real key). Their p-values should look uniform; KS p = "
      << show(p["controls"]["ks_p_value"], 3)
      << (p.contains("specification") && p["specification"].contains("version") && p["specification"]["version"] == 2
              ? " (over their randomised p-values, P(S &gt; s) + U·P(S = s) with U from a fixed seed; the chart "
                "shows P(S &ge; s))"
              : "")
      << ".</p>";
    h << controls_chart(p["controls"]["log10_p"], trace ? -get(p["global"], "log10_p") : -get(d, "log10_p"));
  }

  if (p.contains("documents") && !p["documents"]["rows"].empty()) {
    const ojson& rows = p["documents"]["rows"];
    std::vector<std::size_t> order(rows.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    // Version 3 rows are ordered by the p the decision reads: the window scan's when there is one.
    auto decision_p = [&](const ojson& r) {
      return v3 ? (r[9].is_array() ? r[9][3].get<double>() : r[6].get<double>()) : r[4].get<double>();
    };
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return decision_p(rows[a]) < decision_p(rows[b]); });
    const std::size_t shown = std::min<std::size_t>(order.size(), 200);
    h << "<h2>Documents</h2><p class=\"small\">" << show(p["documents"]["total"]) << " document(s); the statement lists "
      << show(p["documents"]["selection"]) << (shown < rows.size() ? "; the " + std::to_string(shown) + " with the smallest p-values are shown here" : "")
      << ". Each row tests its document alone; the decision above corrects for their number.</p>";
    if (v3) {
      h << "<table><tr><th>id</th><th>scheme</th><th>tokens</th><th>scored</th><th>green or score</th><th>log10 p</th>"
        << "<th>best window (tokens)</th><th>window log10 p</th><th>log10 p, scan-corrected</th></tr>";
      for (std::size_t i = 0; i < shown; ++i) {
        const ojson& r = rows[order[i]];
        const bool windowed = r[9].is_array();
        h << "<tr><td>" << show(r[0]) << "</td><td>" << show(r[1]) << "</td><td class=\"n\">" << show(r[2])
          << "</td><td class=\"n\">" << show(r[3]) << "</td><td class=\"n\">"
          << (r[1] == "hf-synthid" ? show(r[4]) + " ones, mean " + show(r[5], 4)
              : r[4].is_number()   ? show(r[4]) + " green"
                                   : "score " + show(r[5]))
          << "</td><td class=\"n\">" << show(r[6])
          << "</td><td class=\"n\">" << (windowed ? "[" + show(r[9][0]) + ", " + show(r[9][1]) + ")" : "–")
          << "</td><td class=\"n\">" << (windowed ? show(r[9][2]) : "–") << "</td><td class=\"n\">"
          << (windowed ? show(r[9][3]) : "–") << "</td></tr>";
      }
    } else {
    h << "<table><tr><th>id</th><th>tokens</th><th>scored</th><th>green</th><th>green share</th><th>log10 p</th></tr>";
    for (std::size_t i = 0; i < shown; ++i) {
      const ojson& r = rows[order[i]];
      const double scored = r[2].get<double>();
      h << "<tr><td>" << show(r[0]) << "</td><td class=\"n\">" << show(r[1]) << "</td><td class=\"n\">" << show(r[2])
        << "</td><td class=\"n\">" << show(r[3]) << "</td><td class=\"n\">"
        << (scored > 0 ? fmt(r[3].get<double>() / scored, 3) : "–") << "</td><td class=\"n\">" << show(r[4]) << "</td></tr>";
    }
    }
    h << "</table>\n";
  }

  if (p.contains("excerpt")) {
    const ojson& e = p["excerpt"];
    const bool from_window = v3 && get(e, "first") > 0;
    h << "<h2>Excerpt</h2><p class=\"small\">Document " << show(e["document"]) << (v3 ? " under " + show(e["scheme"]) : "")
      << ", " << show(e["shown"]) << " of its " << show(e["of"]) << " tokens, "
      << (from_window ? "from token " + show(e["first"]) + ", where the best window begins" : std::string("from the first"))
      << ".</p><p class=\"legend small\">" << excerpt_legend(v3 ? e["scheme"].get<std::string>() : "kgw") << "</p>"
      << "<div class=\"excerpt\">";
    for (const auto& t : e["tokens"]) {
      h << "<span class=\"" << esc(t[1].get<std::string>()) << "\">" << esc(t[0].get<std::string>()) << "</span>";
    }
    h << "</div>\n";
  }
  }  // the watermark tests

  if (p.contains("limits")) {
    h << "<h2>Limits</h2><ul>";
    for (const auto& l : p["limits"]) h << "<li>" << show(l) << "</li>";
    h << "</ul>";
  }

  h << "<h2>Provenance</h2><table>";
  auto row = [&](const std::string& k, const std::string& v) { table_row(h, k, v); };
  for (const auto& s : statement["subject"]) {
    row("Subject", show(s["name"]) + "<br><code>sha256:" + show(s["digest"]["sha256"]) + "</code>");
  }
  row("Statement digest", "<code>" + esc(sha256_digest(statement_bytes(statement))) + "</code>");
  row("Signature", signer.empty() ? std::string("none: this page was written without a signed envelope")
                                  : "the envelope rendered here is signed by <code>" + esc(signer) +
                                        "</code> (the page itself is not signed; verify the envelope)");
  std::string args;
  for (const auto& a : p["invocation"]["arguments"]) args += show(a) + " ";
  row("Command", "<code>tritium " + args + "</code>");
  row("Tool binary", "<code>sha256:" + show(p["invocation"]["binary_sha256"]) + "</code>");
  h << "</table><p class=\"small\">To check this report: <code>tritium report verify REPORT.json --public-key SIGNER.pub "
       "--recompute "
    << (interop ? "--hf-config CONFIG" : "--key KEY")
    << "</code> re-hashes the subjects, checks the signature and re-runs the test.</p>";
  h << "</body></html>\n";
  return h.str();
}

}  // namespace tritium
