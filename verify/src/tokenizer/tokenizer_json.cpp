// Loads Hugging Face tokenizer.json files (the format written by the `tokenizers` library).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "tritium/json_document.hpp"
#include "model.hpp"
#include "tritium/error.hpp"

namespace tritium::detail {
namespace {

using json = nlohmann::json;

struct context {
  std::string source;
  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw error(errc::parse, source + ": " + where + ": " + what);
  }
  [[noreturn]] void unsupported(const std::string& where, const std::string& what) const {
    throw error(errc::invalid_argument, source + ": " + where + ": " + what);
  }
};

const json& member(const context& c, const json& j, const char* name, const std::string& where) {
  const auto it = j.find(name);
  if (it == j.end()) c.fail(where, std::string("missing field '") + name + "'");
  return *it;
}

template <class T>
T get_or(const context& c, const json& j, const char* name, T fallback, const std::string& where) {
  const auto it = j.find(name);
  if (it == j.end() || it->is_null()) return fallback;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // nlohmann would convert 1.5 to 1, -1 to a huge count and 1e30 with undefined behaviour.
    static_assert(std::is_unsigned_v<T>, "counts only");
    if (!it->is_number_unsigned()) c.fail(where + "." + name, "expected a non-negative integer");
  }
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    c.fail(where + "." + name, std::string("wrong type (") + it->type_name() + ")");
  }
}

// A token id: a JSON integer in [0, 2^24), never a float converted.
token_id id_of(const context& c, const json& v, const std::string& where) {
  if (!v.is_number_unsigned() || v.get<std::uint64_t>() >= (std::uint64_t{1} << 24)) {
    c.fail(where, "expected an integer id in [0, 2^24)");
  }
  return static_cast<token_id>(v.get<std::uint64_t>());
}

std::string type_of(const context& c, const json& j, const std::string& where) {
  if (!j.is_object()) c.fail(where, "expected an object");
  const auto& t = member(c, j, "type", where);
  if (!t.is_string()) c.fail(where + ".type", "expected a string");
  return t.get<std::string>();
}

// A `pattern` field: {"String": "..."} or {"Regex": "..."}.
void read_pattern(const context& c, const json& j, const std::string& where, std::string& literal,
                  std::shared_ptr<regex>& re) {
  const auto& p = member(c, j, "pattern", where);
  if (p.contains("String")) {
    literal = p["String"].get<std::string>();
  } else if (p.contains("Regex")) {
    re = std::make_shared<regex>(p["Regex"].get<std::string>(), c.source + ": " + where + ".pattern");
  } else {
    c.fail(where + ".pattern", "expected {\"String\": ...} or {\"Regex\": ...}");
  }
}

split_behavior behavior_of(const context& c, const std::string& name, const std::string& where) {
  if (name == "Removed") return split_behavior::removed;
  if (name == "Isolated") return split_behavior::isolated;
  if (name == "MergedWithPrevious") return split_behavior::merged_with_previous;
  if (name == "MergedWithNext") return split_behavior::merged_with_next;
  if (name == "Contiguous") return split_behavior::contiguous;
  c.fail(where, "unknown split behavior " + quoted_for_message(name));
}

void read_normalizer(const context& c, const json& j, const std::string& where,
                     std::vector<normalizer_step>& out) {
  if (j.is_null()) return;
  const std::string type = type_of(c, j, where);
  normalizer_step s{};
  if (type == "Sequence") {
    const auto& list = member(c, j, "normalizers", where);
    for (std::size_t i = 0; i < list.size(); ++i) {
      read_normalizer(c, list[i], where + ".normalizers[" + std::to_string(i) + "]", out);
    }
    return;
  }
  if (type == "NFC") s.type = normalizer_step::kind::nfc;
  else if (type == "NFD") s.type = normalizer_step::kind::nfd;
  else if (type == "NFKC") s.type = normalizer_step::kind::nfkc;
  else if (type == "NFKD") s.type = normalizer_step::kind::nfkd;
  else if (type == "Lowercase") s.type = normalizer_step::kind::lowercase;
  else if (type == "Prepend") {
    s.type = normalizer_step::kind::prepend;
    s.pattern = member(c, j, "prepend", where).get<std::string>();
  } else if (type == "Strip") {
    s.type = normalizer_step::kind::strip;
    s.strip_left = get_or(c, j, "strip_left", true, where);
    s.strip_right = get_or(c, j, "strip_right", true, where);
  } else if (type == "Replace") {
    s.type = normalizer_step::kind::replace;
    read_pattern(c, j, where, s.pattern, s.re);
    s.content = member(c, j, "content", where).get<std::string>();
  } else {
    c.unsupported(where, "unsupported normalizer type " + quoted_for_message(type));
  }
  out.push_back(std::move(s));
}

void read_pre_tokenizer(const context& c, const json& j, const std::string& where,
                        std::vector<pre_tokenizer_step>& out) {
  if (j.is_null()) return;
  const std::string type = type_of(c, j, where);
  pre_tokenizer_step s{};
  if (type == "Sequence") {
    const auto& list = member(c, j, "pretokenizers", where);
    for (std::size_t i = 0; i < list.size(); ++i) {
      read_pre_tokenizer(c, list[i], where + ".pretokenizers[" + std::to_string(i) + "]", out);
    }
    return;
  }
  if (type == "ByteLevel") {
    s.type = pre_tokenizer_step::kind::byte_level;
    s.add_prefix_space = get_or(c, j, "add_prefix_space", true, where);
    s.use_regex = get_or(c, j, "use_regex", true, where);
    if (s.use_regex) s.re = std::make_shared<regex>(gpt2_pattern_text(), c.source + ": " + where);
  } else if (type == "Split") {
    s.type = pre_tokenizer_step::kind::split;
    read_pattern(c, j, where, s.literal, s.re);
    s.behavior = behavior_of(c, member(c, j, "behavior", where).get<std::string>(), where + ".behavior");
    s.invert = get_or(c, j, "invert", false, where);
  } else if (type == "Metaspace") {
    s.type = pre_tokenizer_step::kind::metaspace;
    s.replacement = get_or<std::string>(c, j, "replacement", "\xE2\x96\x81", where);
    s.split_on_replacement = get_or(c, j, "split", true, where);
    const auto scheme = j.find("prepend_scheme");
    if (scheme != j.end() && scheme->is_string()) {
      const auto name = scheme->get<std::string>();
      if (name == "always") s.prepend_scheme = pre_tokenizer_step::prepend::always;
      else if (name == "first") s.prepend_scheme = pre_tokenizer_step::prepend::first;
      else if (name == "never") s.prepend_scheme = pre_tokenizer_step::prepend::never;
      else c.fail(where + ".prepend_scheme", "unknown value " + quoted_for_message(name));
    } else {
      // Files written before prepend_scheme existed say add_prefix_space instead.
      s.prepend_scheme = get_or(c, j, "add_prefix_space", true, where) ? pre_tokenizer_step::prepend::always
                                                                          : pre_tokenizer_step::prepend::never;
    }
  } else if (type == "Digits") {
    s.type = pre_tokenizer_step::kind::digits;
    s.individual_digits = get_or(c, j, "individual_digits", false, where);
  } else if (type == "Whitespace") {
    s.type = pre_tokenizer_step::kind::whitespace;
    // \w as the tokenizers library's engine has it (letters, marks, decimal digits, connector
    // punctuation), spelled out because PCRE2's \w differs.
    s.re = std::make_shared<regex>(R"([\p{L}\p{M}\p{Nd}\p{Pc}]+|[^\p{L}\p{M}\p{Nd}\p{Pc}\s]+)", c.source + ": " + where);
  } else if (type == "WhitespaceSplit") {
    s.type = pre_tokenizer_step::kind::whitespace_split;
  } else if (type == "Punctuation") {
    s.type = pre_tokenizer_step::kind::punctuation;
    s.behavior = behavior_of(c, get_or<std::string>(c, j, "behavior", "Isolated", where), where + ".behavior");
  } else {
    c.unsupported(where, "unsupported pre-tokenizer type " + quoted_for_message(type));
  }
  out.push_back(std::move(s));
}

void read_decoder(const context& c, const json& j, const std::string& where, std::vector<decoder_step>& out) {
  if (j.is_null()) return;
  const std::string type = type_of(c, j, where);
  decoder_step s{};
  if (type == "Sequence") {
    const auto& list = member(c, j, "decoders", where);
    for (std::size_t i = 0; i < list.size(); ++i) {
      read_decoder(c, list[i], where + ".decoders[" + std::to_string(i) + "]", out);
    }
    return;
  }
  if (type == "ByteLevel") {
    s.type = decoder_step::kind::byte_level;
  } else if (type == "ByteFallback") {
    s.type = decoder_step::kind::byte_fallback;
  } else if (type == "Fuse") {
    s.type = decoder_step::kind::fuse;
  } else if (type == "Strip") {
    s.type = decoder_step::kind::strip;
    s.content = member(c, j, "content", where).get<std::string>();
    s.strip_start = get_or<std::size_t>(c, j, "start", 0, where);
    s.strip_stop = get_or<std::size_t>(c, j, "stop", 0, where);
  } else if (type == "Replace") {
    s.type = decoder_step::kind::replace;
    std::shared_ptr<regex> re;
    read_pattern(c, j, where, s.pattern, re);
    if (re) c.unsupported(where, "unsupported decoder: Replace with a Regex pattern");
    s.content = member(c, j, "content", where).get<std::string>();
  } else if (type == "Metaspace") {
    s.type = decoder_step::kind::metaspace;
    s.pattern = get_or<std::string>(c, j, "replacement", "\xE2\x96\x81", where);
    const auto scheme = j.find("prepend_scheme");
    if (scheme != j.end() && scheme->is_string()) {
      s.prepend_first = scheme->get<std::string>() != "never";
    } else {
      s.prepend_first = get_or(c, j, "add_prefix_space", true, where);
    }
  } else {
    c.unsupported(where, "unsupported decoder type " + quoted_for_message(type));
  }
  out.push_back(std::move(s));
}

}  // namespace

namespace {
tokenizer_model parse_checked(std::string_view text, const std::string& source);
}  // namespace

tokenizer_model parse_tokenizer_json(std::string_view text, const std::string& source) {
  try {
    return parse_checked(text, source);
  } catch (const nlohmann::json::exception& e) {
    // A field of the wrong type deep inside a component: still a parse error, naming the file.
    throw error(errc::parse, source + ": malformed tokenizer.json: " + e.what());
  }
}

namespace {

tokenizer_model parse_checked(std::string_view text, const std::string& source) {
  const context c{source};
  // The nesting limit of parse_json_document also bounds the recursion of the component readers
  // (a Sequence inside a Sequence).
  const json root = parse_json_document<json>(text, source);
  if (!root.is_object()) c.fail("(top level)", "expected a JSON object");
  tokenizer_model m;

  static const json absent;
  auto component = [&](const char* name) -> const json& {
    const auto it = root.find(name);
    return it == root.end() ? absent : *it;
  };
  read_normalizer(c, component("normalizer"), "normalizer", m.normalizers);
  read_pre_tokenizer(c, component("pre_tokenizer"), "pre_tokenizer", m.pre_tokenizers);
  read_decoder(c, component("decoder"), "decoder", m.decoders);

  const json& model = member(c, root, "model", "(top level)");
  const std::string model_type = model.value("type", std::string("BPE"));
  if (model_type != "BPE") c.unsupported("model.type", "unsupported model type " + quoted_for_message(model_type));
  if (model.contains("dropout") && !model["dropout"].is_null() && model["dropout"].get<double>() != 0.0) {
    c.unsupported("model.dropout", "BPE dropout makes encoding random; expected null");
  }
  for (const char* field : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(field) && !model[field].is_null() && !model[field].get<std::string>().empty()) {
      c.unsupported(std::string("model.") + field, "unsupported BPE option (expected null)");
    }
  }

  bpe_model& bpe = m.bpe;
  bpe.byte_fallback = get_or(c, model, "byte_fallback", false, "model");
  bpe.ignore_merges = get_or(c, model, "ignore_merges", false, "model");
  bpe.fuse_unk = get_or(c, model, "fuse_unk", false, "model");
  for (const auto& s : m.pre_tokenizers) bpe.byte_level = bpe.byte_level || s.type == pre_tokenizer_step::kind::byte_level;

  const json& vocab = member(c, model, "vocab", "model");
  if (!vocab.is_object()) c.fail("model.vocab", "expected an object of token -> id");
  std::unordered_map<std::string, token_id> by_spelling;
  by_spelling.reserve(vocab.size());
  token_id max_id = -1;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const token_id id = id_of(c, it.value(), "model.vocab[" + quoted_for_message(it.key()) + "]");
    by_spelling.emplace(it.key(), id);
    max_id = std::max(max_id, id);
  }
  build_vocabulary(bpe, by_spelling, max_id, source);
  const auto unk = model.find("unk_token");
  if (unk != model.end() && unk->is_string()) {
    const auto it = by_spelling.find(unk->get<std::string>());
    if (it == by_spelling.end()) c.fail("model.unk_token", "not in the vocabulary");
    bpe.unk = it->second;
  }

  const json& merges = member(c, model, "merges", "model");
  if (!merges.is_array()) c.fail("model.merges", "expected an array");
  bpe.merges.reserve(merges.size());
  for (std::size_t i = 0; i < merges.size(); ++i) {
    const std::string where = "model.merges[" + std::to_string(i) + "]";
    std::string left, right;
    if (merges[i].is_string()) {
      const std::string line = merges[i].get<std::string>();
      const auto space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
        c.fail(where, "expected \"left right\", got " + quoted_for_message(line));
      }
      left = line.substr(0, space);
      right = line.substr(space + 1);
    } else if (merges[i].is_array() && merges[i].size() == 2) {
      left = merges[i][0].get<std::string>();
      right = merges[i][1].get<std::string>();
    } else {
      c.fail(where, "expected a string or a pair of strings");
    }
    add_merge(bpe, by_spelling, left, right, static_cast<std::uint32_t>(i), source + ": " + where);
  }

  const auto added = root.find("added_tokens");
  if (added != root.end() && added->is_array()) {
    for (std::size_t i = 0; i < added->size(); ++i) {
      const std::string where = "added_tokens[" + std::to_string(i) + "]";
      const json& a = (*added)[i];
      added_token t;
      t.id = id_of(c, member(c, a, "id", where), where + ".id");
      t.content = member(c, a, "content", where).get<std::string>();
      t.special = get_or(c, a, "special", false, where);
      t.lstrip = get_or(c, a, "lstrip", false, where);
      t.rstrip = get_or(c, a, "rstrip", false, where);
      t.single_word = get_or(c, a, "single_word", false, where);
      const bool normalized = get_or(c, a, "normalized", !t.special, where);
      if (normalized && !m.normalizers.empty()) {
        // The tokenizers library matches such tokens in the normalized text; tritium matches added
        // tokens in the raw text only, so it refuses rather than risk different tokens.
        c.unsupported(where, "unsupported: added token " + quoted_for_message(t.content) +
                                 " is matched after normalization (\"normalized\": true with a normalizer)");
      }
      m.added.push_back(std::move(t));
    }
  }

  std::string kind = bpe.byte_level ? "byte-level BPE" : (bpe.byte_fallback ? "BPE with byte fallback" : "BPE");
  m.description = "tokenizer.json " + kind + ", " + std::to_string(bpe.vocab.size()) + " tokens, " +
                  std::to_string(bpe.merges.size()) + " merges, " + std::to_string(m.added.size()) +
                  " added tokens";
  return m;
}

}  // namespace

}  // namespace tritium::detail
