// The test specification of a version 2 predicate (papers/evidence-v2.md, "specification"): every
// setting a test's figures depend on, typed, so that a report can be re-run from it alone.
#include <algorithm>

#include "predicate.hpp"
#include "tritium/error.hpp"

namespace tritium::evidence_detail {
namespace {

ojson scheme_of(const key& k) {
  const auto& p = k.params();
  return {{"name", "kgw"},
          {"prf", "tritium-prf-v1"},
          {"gamma_threshold", p.gamma_threshold},
          {"gamma_bits", p.gamma_bits},
          {"delta", p.delta},
          {"context_width", p.context_width},
          {"seeding", seeding_name(p.seeding_scheme)},
          {"vocab_size", p.vocab_size}};
}

// Specification version 2 (papers/evidence-v3.md): the key's parameters under the names of every
// scheme it names, since the test may read them under any.
ojson schemes_of(const key& k) {
  ojson names = ojson::array();
  for (const scheme_kind s : schemes_in(k.params().schemes)) names.push_back(scheme_name(s));
  ojson out = {{"names", names}};
  const ojson kgw = scheme_of(k);  // a named object: items() does not keep a temporary alive
  for (auto it = kgw.begin(); it != kgw.end(); ++it) {
    if (it.key() != "name") out[it.key()] = it.value();
  }
  return out;
}

ojson tokenizer_of(const std::string& path, const tokenizer* tok) {
  if (tok == nullptr) return nullptr;
  return {{"path", path}, {"digest", tok->digest()}, {"ids", tok->vocab_size()}};
}

// How a detect test reads its documents: the input's path, and text or token ids.
ojson input_spec_of(const std::string& path, const tokenizer* tok, const std::string& format, invalid_utf8 utf8) {
  return {{"path", path},
          {"read_as", tok == nullptr ? "token ids" : "text"},
          {"format", tok == nullptr ? "jsonl" : format},
          {"invalid_utf8", utf8 == invalid_utf8::replace ? "replace" : "error"}};
}

// Reads the fields of one object of the specification, refusing anything missing, mistyped or
// unknown: a recomputation must run exactly the recorded test or none.
class reader {
 public:
  reader(const ojson& object, std::string pointer) : object_(object), pointer_(std::move(pointer)) {
    if (!object_.is_object()) fail("", "expected an object");
  }
  ~reader() = default;

  const ojson& get(const char* name, bool (ojson::*is)() const noexcept, const char* kind) {
    const auto it = object_.find(name);
    if (it == object_.end()) fail(std::string("/") + name, "missing");
    if (!((*it).*is)()) fail(std::string("/") + name, std::string("expected ") + kind + ", got " + it->type_name());
    seen_.push_back(name);
    return *it;
  }
  std::string string(const char* name) { return get(name, &ojson::is_string, "a string").get<std::string>(); }
  double number(const char* name) { return get(name, &ojson::is_number, "a number").get<double>(); }
  bool boolean(const char* name) { return get(name, &ojson::is_boolean, "true or false").get<bool>(); }
  template <class T>
  T unsigned_integer(const char* name) {
    return get(name, &ojson::is_number_unsigned, "a non-negative integer").get<T>();
  }
  const ojson& object_or_null(const char* name) {
    const auto it = object_.find(name);
    if (it == object_.end()) fail(std::string("/") + name, "missing");
    if (!it->is_object() && !it->is_null()) {
      fail(std::string("/") + name, std::string("expected an object or null, got ") + it->type_name());
    }
    seen_.push_back(name);
    return *it;
  }
  /// A file name: a recomputation opens it and may name it in a message, so it is a non-empty
  /// string without control characters.
  std::string path(const char* name) {
    const std::string p = string(name);
    if (p.empty() || p == "-" || has_control_characters(p)) {
      fail(std::string("/") + name, "expected a file name, got " + json_quoted(p));
    }
    return p;
  }
  /// Fields that the reader does not need, but which must be there (they are compared by the
  /// recomputation as part of the predicate).
  void skip(const char* name) {
    if (!object_.contains(name)) fail(std::string("/") + name, "missing");
    seen_.push_back(name);
  }
  void done() const {
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      if (std::find(seen_.begin(), seen_.end(), it.key()) == seen_.end()) {
        fail("/" + it.key(), "unknown field (not in this version of the specification, papers/evidence-v3.md)");
      }
    }
  }
  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw error(errc::parse, "statement: " + pointer_ + field + ": " + what);
  }

 private:
  const ojson& object_;
  std::string pointer_;
  std::vector<std::string> seen_;
};

constexpr const char* spec_pointer = "/predicate/specification";

invalid_utf8 utf8_policy(reader& r, const char* name) {
  const std::string v = r.string(name);
  if (v != "error" && v != "replace") r.fail(std::string("/") + name, "expected \"error\" or \"replace\"");
  return v == "replace" ? invalid_utf8::replace : invalid_utf8::error;
}

// The tokenizer's path, or empty for token ids.
std::string read_tokenizer(reader& r) {
  const ojson& tok = r.object_or_null("tokenizer");
  if (tok.is_null()) return {};
  reader t(tok, std::string(spec_pointer) + "/tokenizer");
  std::string path = t.path("path");
  t.skip("digest");
  t.skip("ids");
  t.done();
  return path;
}

// A detect test's input object (input_of): its path, format and UTF-8 policy.
void read_input(reader& r, const std::string& tokenizer_path, std::string& input, std::string& format, invalid_utf8& utf8) {
  reader in(r.get("input", &ojson::is_object, "an object"), std::string(spec_pointer) + "/input");
  input = in.path("path");
  const std::string read_as = in.string("read_as");
  if (read_as != (tokenizer_path.empty() ? "token ids" : "text")) in.fail("/read_as", "does not match the tokenizer");
  format = in.string("format");
  if (format != "auto" && format != "jsonl" && format != "text") in.fail("/format", "unknown format");
  utf8 = utf8_policy(in, "invalid_utf8");
  in.done();
}

void read_common(reader& r, const char* expected_test, std::string& tokenizer_path, unsigned newest_version = 1) {
  const std::uint64_t version = r.unsigned_integer<std::uint64_t>("version");
  if (version < 1 || version > newest_version) r.fail("/version", "unknown specification version");
  if (r.string("test") != expected_test) r.fail("/test", std::string("expected ") + json_quoted(expected_test));
  r.skip("key_id");
  r.skip("scheme");
  tokenizer_path = read_tokenizer(r);
}

// The fields of a radioactivity test's reading (shared by the trace test, which reads the same way).
void read_radioactivity_fields(reader& r, radioactivity_spec& spec) {
  const ojson& inputs = r.get("inputs", &ojson::is_array, "an array");
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string p = inputs[i].is_string() ? inputs[i].get<std::string>() : "";
    if (p.empty() || p == "-" || has_control_characters(p)) {
      r.fail("/inputs/" + std::to_string(i), "expected a file name, got " + json_quoted(inputs[i].dump()));
    }
    spec.inputs.push_back(p);
  }
  const ojson& suspect = r.object_or_null("suspect");
  if (!suspect.is_null()) {
    reader s(suspect, std::string(spec_pointer) + "/suspect");
    if (suspect.contains("model")) {
      spec.model = s.path("model");
      if (spec.mode == radioactivity_mode::closed) {
        spec.prompts = s.path("prompts");
        spec.max_new_tokens = s.unsigned_integer<std::uint32_t>("max_new_tokens");
        spec.seed = s.unsigned_integer<std::uint64_t>("seed");
      }
    } else {
      spec.predictions = s.path("predictions");
    }
    s.done();
  }
  const auto tape = tape_mode_from_name(r.string("tape"));
  if (!tape) r.fail("/tape", "expected window+token, window or none");
  spec.tape = *tape;
  spec.prompt_exclusion = r.boolean("prompt_exclusion") || spec.mode != radioactivity_mode::closed;
  if (const ojson& filter = r.object_or_null("filter"); !filter.is_null()) {
    reader f(filter, std::string(spec_pointer) + "/filter");
    spec.filter = f.path("path");
    f.skip("windows");
    f.done();
  }
  spec.controls = r.unsigned_integer<std::uint32_t>("controls");
  if (spec.controls > 10000) r.fail("/controls", "at most 10000");
  spec.curve_points = r.unsigned_integer<std::size_t>("curve_points");
  if (r.string("aggregation") != "pooled") r.fail("/aggregation", "expected pooled");
  spec.alpha = r.number("alpha");
  if (!(spec.alpha > 0.0 && spec.alpha < 1.0)) r.fail("/alpha", "expected a number in (0, 1)");
  spec.alpha_source = r.string("alpha_source");
}

}  // namespace

bool needs_version_3(const detect_spec& spec) {
  return spec.schemes != scheme_bit(scheme_kind::kgw) || spec.min_window > 0;
}

ojson specification_of(const detect_spec& spec, const key& k, const tokenizer* tok) {
  // Version 1 of the layout records a KGW test of whole documents; anything else is version 2, which
  // names the schemes tested and the scan's smallest window (papers/evidence-v3.md).
  const bool v2 = needs_version_3(spec);
  ojson s;
  s["version"] = v2 ? 2 : 1;
  s["test"] = "detect";
  s["key_id"] = k.id();
  s["scheme"] = v2 ? schemes_of(k) : scheme_of(k);
  if (v2) {
    ojson tested = ojson::array();
    for (const scheme_kind kind : schemes_in(spec.schemes)) tested.push_back(scheme_name(kind));
    s["schemes"] = tested;
    s["min_window"] = spec.min_window;
  }
  s["tokenizer"] = tokenizer_of(spec.tokenizer, tok);
  s["input"] = input_spec_of(spec.input, tok, spec.format, spec.utf8);
  s["deduplication"] = dedup_mode_name(spec.dedup);
  s["aggregation"] = spec.pooled ? "pooled" : "bonferroni";
  s["alpha"] = spec.alpha;
  s["alpha_source"] = spec.alpha_source;
  return s;
}

ojson specification_of(const radioactivity_spec& spec, const key& k, const tokenizer* tok, std::size_t filter_windows) {
  ojson s;
  // Version 2: the control-key check reads randomised p-values; version 1, P(S >= s)
  // (papers/evidence-v2.md, "Specification version 2").
  s["version"] = spec.randomised_controls ? 2 : 1;
  s["test"] = std::string("radioactivity ") + radioactivity_mode_name(spec.mode);
  s["key_id"] = k.id();
  s["scheme"] = scheme_of(k);
  s["tokenizer"] = tokenizer_of(spec.tokenizer, tok);
  s["inputs"] = spec.inputs;
  ojson suspect = nullptr;
  if (!spec.model.empty()) {
    suspect = {{"model", spec.model}};
    if (spec.mode == radioactivity_mode::closed) {
      suspect["prompts"] = spec.prompts;
      suspect["max_new_tokens"] = spec.max_new_tokens;
      suspect["seed"] = spec.seed;
    }
  } else if (!spec.predictions.empty()) {
    suspect = {{"predictions", spec.predictions}};
  }
  s["suspect"] = suspect;
  s["tape"] = tape_mode_name(spec.tape);
  s["prompt_exclusion"] = spec.mode == radioactivity_mode::closed ? spec.prompt_exclusion : false;
  s["filter"] = spec.filter.empty() ? ojson(nullptr) : ojson{{"path", spec.filter}, {"windows", filter_windows}};
  s["controls"] = spec.controls;
  s["curve_points"] = spec.curve_points;
  s["aggregation"] = "pooled";
  s["alpha"] = spec.alpha;
  s["alpha_source"] = spec.alpha_source;
  return s;
}

ojson specification_of(const trace_spec& spec, const trace_params& params, const key& k, const tokenizer* tok,
                       std::size_t filter_windows) {
  ojson s = specification_of(spec.scan, k, tok, filter_windows);
  s["test"] = std::string("trace ") + radioactivity_mode_name(spec.scan.mode);
  s["trace"] = {{"prf", trace_v1::name},
                {"code_length", params.code_length},
                {"symbol_bits", params.symbol_bits},
                {"position_width", params.position_width},
                {"account_delta", params.account_delta}};
  s["registry"] = spec.registry;
  s["accusation_alpha"] = spec.alpha;
  s["accusation_alpha_source"] = spec.alpha_source;
  s["decoys"] = spec.decoys;
  s["listed"] = spec.listed;
  return s;
}

detect_spec detect_spec_from(const ojson& specification) {
  reader r(specification, spec_pointer);
  detect_spec spec;
  read_common(r, "detect", spec.tokenizer, 2);
  if (specification["version"] == 2) {
    const ojson& tested = r.get("schemes", &ojson::is_array, "an array");
    spec.schemes = 0;
    for (std::size_t i = 0; i < tested.size(); ++i) {
      const auto kind = tested[i].is_string() ? scheme_from_name(tested[i].get<std::string>()) : std::nullopt;
      if (!kind) r.fail("/schemes/" + std::to_string(i), "expected kgw, gumbel or unigram, got " + json_quoted(tested[i].dump()));
      if (spec.schemes & scheme_bit(*kind)) r.fail("/schemes/" + std::to_string(i), "names a scheme twice");
      spec.schemes = static_cast<scheme_set>(spec.schemes | scheme_bit(*kind));
    }
    if (spec.schemes == 0) r.fail("/schemes", "names no scheme");
    spec.min_window = r.unsigned_integer<std::uint64_t>("min_window");
  }
  read_input(r, spec.tokenizer, spec.input, spec.format, spec.utf8);
  const auto dedup = dedup_mode_from_name(r.string("deduplication"));
  if (!dedup) r.fail("/deduplication", "expected context+token, context or none");
  spec.dedup = *dedup;
  const std::string aggregation = r.string("aggregation");
  if (aggregation != "pooled" && aggregation != "bonferroni") r.fail("/aggregation", "expected pooled or bonferroni");
  spec.pooled = aggregation == "pooled";
  spec.alpha = r.number("alpha");
  if (!(spec.alpha > 0.0 && spec.alpha < 1.0)) r.fail("/alpha", "expected a number in (0, 1)");
  spec.alpha_source = r.string("alpha_source");
  r.done();
  return spec;
}

radioactivity_spec radioactivity_spec_from(const ojson& specification) {
  reader r(specification, spec_pointer);
  radioactivity_spec spec;
  const ojson& test = specification.contains("test") ? specification["test"] : ojson();
  const std::string name = test.is_string() ? test.get<std::string>() : "";
  const auto mode = radioactivity_mode_from_name(name.starts_with("radioactivity ") ? name.substr(14) : "");
  if (!mode) r.fail("/test", "expected radioactivity corpus, closed or read");
  spec.mode = *mode;
  read_common(r, name.c_str(), spec.tokenizer, 2);
  spec.randomised_controls = specification["version"] == 2;
  read_radioactivity_fields(r, spec);
  r.done();
  return spec;
}

traced_spec trace_spec_from(const ojson& specification) {
  reader r(specification, spec_pointer);
  traced_spec out;
  radioactivity_spec& spec = out.spec.scan;
  const ojson& test = specification.contains("test") ? specification["test"] : ojson();
  const std::string name = test.is_string() ? test.get<std::string>() : "";
  const auto mode = radioactivity_mode_from_name(name.starts_with("trace ") ? name.substr(6) : "");
  if (!mode) r.fail("/test", "expected trace corpus, closed or read");
  spec.mode = *mode;
  read_common(r, name.c_str(), spec.tokenizer, 2);
  spec.randomised_controls = specification["version"] == 2;
  read_radioactivity_fields(r, spec);
  reader t(r.get("trace", &ojson::is_object, "an object"), std::string(spec_pointer) + "/trace");
  if (t.string("prf") != trace_v1::name) t.fail("/prf", std::string("expected ") + trace_v1::name);
  out.params.code_length = t.unsigned_integer<std::uint32_t>("code_length");
  out.params.symbol_bits = t.unsigned_integer<std::uint32_t>("symbol_bits");
  out.params.position_width = t.unsigned_integer<std::uint32_t>("position_width");
  out.params.account_delta = t.number("account_delta");
  t.done();
  try {
    out.params.validate();
  } catch (const error& e) {
    r.fail("/trace", e.what());
  }
  out.spec.registry = r.path("registry");
  out.spec.alpha = r.number("accusation_alpha");
  if (!(out.spec.alpha > 0.0 && out.spec.alpha < 1.0)) r.fail("/accusation_alpha", "expected a number in (0, 1)");
  out.spec.alpha_source = r.string("accusation_alpha_source");
  out.spec.decoys = r.unsigned_integer<std::uint32_t>("decoys");
  if (out.spec.decoys > 1000000) r.fail("/decoys", "at most 1000000");
  out.spec.listed = r.unsigned_integer<std::size_t>("listed");
  r.done();
  return out;
}


// The detect test under a transformers configuration (papers/evidence-v4.md): layout version 3.

ojson public_configuration(const interop_config& config) {
  if (config.kind == interop_kind::hf_kgw) {
    const hf_kgw_params& p = config.kgw;
    return {{"scheme", "hf-kgw"},
            {"greenlist_ratio", p.greenlist_ratio},
            {"bias", static_cast<double>(p.bias)},
            {"seeding_scheme", p.seeding == hf_seeding::selfhash ? "selfhash" : "lefthash"},
            {"context_width", p.context_width},
            {"vocab_size", p.vocab_size}};
  }
  const hf_synthid_params& p = config.synthid;
  return {{"scheme", "hf-synthid"},
          {"ngram_len", p.ngram_len},
          {"layers", p.keys.size()},
          {"context_history_size", p.context_history_size},
          {"sampling_table_size", p.sampling_table_size},
          {"skip_first_ngram_calls", p.skip_first_ngram_calls}};
}

ojson specification_of(const interop_spec& spec, const interop_config& config, const tokenizer* tok) {
  ojson s;
  s["version"] = 3;
  s["test"] = "interop detect";
  s["configuration"] = public_configuration(config);
  s["tokenizer"] = tokenizer_of(spec.tokenizer, tok);
  s["input"] = input_spec_of(spec.input, tok, spec.format, spec.utf8);
  s["bos"] = spec.bos ? ojson(*spec.bos) : ojson(nullptr);
  s["eos"] = spec.eos ? ojson(*spec.eos) : ojson(nullptr);
  s["repetition_mask"] = spec.repetition_mask;
  s["min_window"] = spec.min_window;
  s["alpha"] = spec.alpha;
  s["alpha_source"] = spec.alpha_source;
  return s;
}

interop_recorded interop_spec_from(const ojson& specification) {
  reader r(specification, spec_pointer);
  interop_recorded out;
  interop_spec& spec = out.spec;
  if (r.unsigned_integer<std::uint64_t>("version") != 3) r.fail("/version", "expected 3 (the only layout of this test)");
  if (r.string("test") != "interop detect") r.fail("/test", "expected \"interop detect\"");
  out.configuration = r.get("configuration", &ojson::is_object, "an object");
  {
    // Each public field, typed; which ones a configuration has depends on its scheme.
    reader c(out.configuration, std::string(spec_pointer) + "/configuration");
    const std::string scheme = c.string("scheme");
    if (scheme == "hf-kgw") {
      c.number("greenlist_ratio");
      c.number("bias");
      const std::string seeding = c.string("seeding_scheme");
      if (seeding != "lefthash" && seeding != "selfhash") c.fail("/seeding_scheme", "expected lefthash or selfhash");
      c.unsigned_integer<std::uint32_t>("context_width");
      c.unsigned_integer<std::uint32_t>("vocab_size");
    } else if (scheme == "hf-synthid") {
      for (const char* f : {"ngram_len", "layers", "context_history_size", "sampling_table_size"}) {
        c.unsigned_integer<std::uint64_t>(f);
      }
      c.boolean("skip_first_ngram_calls");
    } else {
      c.fail("/scheme", "expected hf-kgw or hf-synthid, got " + json_quoted(scheme));
    }
    c.done();
  }
  spec.tokenizer = read_tokenizer(r);
  read_input(r, spec.tokenizer, spec.input, spec.format, spec.utf8);
  for (const char* name : {"bos", "eos"}) {
    const auto it = specification.find(name);
    if (it == specification.end()) r.fail(std::string("/") + name, "missing");
    std::optional<token_id> id;
    if (!it->is_null()) {
      if (!it->is_number_unsigned() || it->get<std::uint64_t>() > static_cast<std::uint64_t>(INT32_MAX)) {
        r.fail(std::string("/") + name, "expected null or a token id");
      }
      id = static_cast<token_id>(it->get<std::uint64_t>());
    }
    r.skip(name);
    (std::string(name) == "bos" ? spec.bos : spec.eos) = id;
  }
  spec.repetition_mask = r.boolean("repetition_mask");
  // What the scheme does not read is refused here, by its pointer, not by the scan's usage errors.
  if (out.configuration["scheme"] == "hf-kgw") {
    if (spec.eos) r.fail("/eos", "expected null: KGW does not stop at EOS");
    if (!spec.repetition_mask) r.fail("/repetition_mask", "expected true: the mask is SynthID's");
  } else if (spec.bos) {
    r.fail("/bos", "expected null: SynthID drops no BOS");
  }
  spec.min_window = r.unsigned_integer<std::uint64_t>("min_window");
  if (spec.min_window > 0 && spec.min_window < 10) r.fail("/min_window", "expected 0 (whole documents) or at least 10");
  spec.alpha = r.number("alpha");
  if (!(spec.alpha > 0.0 && spec.alpha < 1.0)) r.fail("/alpha", "expected a number in (0, 1)");
  spec.alpha_source = r.string("alpha_source");
  r.done();
  return out;
}

}  // namespace tritium::evidence_detail
