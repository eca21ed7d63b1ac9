// Reads the tokenizer metadata of a llama.cpp GGUF file (format: ggml's docs/gguf.md, versions 2
// and 3, little-endian): tokenizer.ggml.{model, pre, tokens, merges, token_type}. Tensors are not
// read. BPE vocabularies ("gpt2") with a known pre-tokenizer are supported; anything else is refused
// with its name.
#include <cstring>
#include <unordered_map>

#include "model.hpp"
#include "tritium/error.hpp"

namespace tritium::detail {
namespace {

enum gguf_type : std::uint32_t {
  t_uint8 = 0, t_int8 = 1, t_uint16 = 2, t_int16 = 3, t_uint32 = 4, t_int32 = 5, t_float32 = 6,
  t_bool = 7, t_string = 8, t_array = 9, t_uint64 = 10, t_int64 = 11, t_float64 = 12,
};

// llama.cpp's token types (llama_token_type).
constexpr std::int64_t token_type_control = 3;
constexpr std::int64_t token_type_user_defined = 4;

class reader {
 public:
  reader(const std::string& bytes, const std::string& source) : b_(bytes), source_(source) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw error(errc::parse, source_ + ": GGUF at byte " + std::to_string(pos_) + ": " + what);
  }

  template <class T>
  T read() {
    if (pos_ + sizeof(T) > b_.size()) fail("truncated file");
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string string() {
    const auto n = read<std::uint64_t>();
    if (n > b_.size() - pos_) fail("string length " + std::to_string(n) + " runs past the end");
    std::string s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }

  std::size_t scalar_size(std::uint32_t type) {
    switch (type) {
      case t_uint8: case t_int8: case t_bool: return 1;
      case t_uint16: case t_int16: return 2;
      case t_uint32: case t_int32: case t_float32: return 4;
      case t_uint64: case t_int64: case t_float64: return 8;
      default: fail("unknown value type " + std::to_string(type));
    }
  }

  std::int64_t integer(std::uint32_t type) {
    switch (type) {
      case t_uint8: return read<std::uint8_t>();
      case t_int8: return read<std::int8_t>();
      case t_uint16: return read<std::uint16_t>();
      case t_int16: return read<std::int16_t>();
      case t_uint32: return read<std::uint32_t>();
      case t_int32: return read<std::int32_t>();
      case t_uint64: return static_cast<std::int64_t>(read<std::uint64_t>());
      case t_int64: return read<std::int64_t>();
      default: fail("expected an integer type, got type " + std::to_string(type));
    }
  }

  void skip(std::uint32_t type, int depth = 0) {
    if (type == t_string) {
      string();
    } else if (type == t_array) {
      // Nesting is bounded so that a crafted file cannot exhaust the stack.
      if (depth >= 8) fail("arrays nested deeper than 8 levels");
      const auto inner = read<std::uint32_t>();
      const auto n = read<std::uint64_t>();
      for (std::uint64_t i = 0; i < n; ++i) skip(inner, depth + 1);
    } else {
      const std::size_t size = scalar_size(type);
      if (pos_ + size > b_.size()) fail("truncated file");
      pos_ += size;
    }
  }

 private:
  const std::string& b_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

}  // namespace

tokenizer_model parse_gguf(const std::string& bytes, const std::string& source) {
  reader r(bytes, source);
  if (r.read<std::uint32_t>() != 0x46554747u) r.fail("bad magic (expected \"GGUF\")");
  const auto version = r.read<std::uint32_t>();
  if (version != 2 && version != 3) r.fail("unsupported GGUF version " + std::to_string(version));
  r.read<std::uint64_t>();  // tensor count
  const auto kv_count = r.read<std::uint64_t>();

  std::string model_name, pre;
  std::vector<std::string> tokens, merges;
  std::vector<std::int64_t> types;
  for (std::uint64_t k = 0; k < kv_count; ++k) {
    const std::string key = r.string();
    const auto type = r.read<std::uint32_t>();
    auto string_array = [&](std::vector<std::string>& out) {
      if (type != t_array) r.fail(key + ": expected an array");
      if (r.read<std::uint32_t>() != t_string) r.fail(key + ": expected an array of strings");
      const auto n = r.read<std::uint64_t>();
      if (n > (1u << 24)) r.fail(key + ": more than 2^24 entries");
      out.reserve(static_cast<std::size_t>(n));
      for (std::uint64_t i = 0; i < n; ++i) out.push_back(r.string());
    };
    if (key == "tokenizer.ggml.model" && type == t_string) {
      model_name = r.string();
    } else if (key == "tokenizer.ggml.pre" && type == t_string) {
      pre = r.string();
    } else if (key == "tokenizer.ggml.tokens") {
      string_array(tokens);
    } else if (key == "tokenizer.ggml.merges") {
      string_array(merges);
    } else if (key == "tokenizer.ggml.token_type") {
      if (type != t_array) r.fail(key + ": expected an array");
      const auto inner = r.read<std::uint32_t>();
      const auto n = r.read<std::uint64_t>();
      for (std::uint64_t i = 0; i < n; ++i) types.push_back(r.integer(inner));
    } else {
      r.skip(type);
    }
  }
  const std::string where = source + ": GGUF tokenizer.ggml.";
  if (model_name.empty()) throw error(errc::parse, where + "model: missing");
  if (model_name != "gpt2") {
    throw error(errc::invalid_argument, where + "model: unsupported tokenizer model '" + model_name +
                                            "' (supported: gpt2, i.e. byte-level BPE)");
  }
  if (tokens.empty()) throw error(errc::parse, where + "tokens: missing or empty");

  tokenizer_model m;
  pre_tokenizer_step split{};
  split.type = pre_tokenizer_step::kind::split;
  split.behavior = split_behavior::isolated;
  pre_tokenizer_step byte_level{};
  byte_level.type = pre_tokenizer_step::kind::byte_level;
  byte_level.add_prefix_space = false;
  byte_level.use_regex = false;
  if (pre == "gpt-2") {
    byte_level.use_regex = true;
    byte_level.re = std::make_shared<regex>(gpt2_pattern_text(), where + "pre");
  } else if (pre == "qwen2") {
    split.re = std::make_shared<regex>(qwen2_pattern_text(), where + "pre");
    m.pre_tokenizers.push_back(split);
  } else if (pre == "llama-bpe" || pre == "llama3") {
    split.re = std::make_shared<regex>(llama3_pattern_text(), where + "pre");
    m.pre_tokenizers.push_back(split);
    m.bpe.ignore_merges = true;  // as llama.cpp does for the Llama 3 pre-tokenizer
  } else {
    throw error(errc::invalid_argument,
                where + "pre: unsupported pre-tokenizer '" + pre + "' (supported: gpt-2, qwen2, llama-bpe)");
  }
  m.pre_tokenizers.push_back(byte_level);
  decoder_step decode{};
  decode.type = decoder_step::kind::byte_level;
  m.decoders.push_back(decode);

  m.bpe.byte_level = true;
  std::unordered_map<std::string, token_id> by_spelling;
  by_spelling.reserve(tokens.size());
  for (std::size_t i = 0; i < tokens.size(); ++i) by_spelling.emplace(tokens[i], static_cast<token_id>(i));
  build_vocabulary(m.bpe, by_spelling, static_cast<token_id>(tokens.size() - 1), source);
  for (std::size_t i = 0; i < tokens.size(); ++i) m.bpe.id_to_token[i] = tokens[i];
  for (std::size_t i = 0; i < merges.size(); ++i) {
    const auto space = merges[i].find(' ');
    if (space == std::string::npos) {
      throw error(errc::parse, where + "merges[" + std::to_string(i) + "]: expected \"left right\"");
    }
    add_merge(m.bpe, by_spelling, merges[i].substr(0, space), merges[i].substr(space + 1),
              static_cast<std::uint32_t>(i), where + "merges[" + std::to_string(i) + "]");
  }
  for (std::size_t i = 0; i < types.size() && i < tokens.size(); ++i) {
    if (types[i] == token_type_control || types[i] == token_type_user_defined) {
      m.added.push_back({static_cast<token_id>(i), tokens[i], types[i] == token_type_control, false, false, false});
    }
  }
  m.description = "GGUF " + model_name + " vocabulary (pre-tokenizer " + pre + "), " +
                  std::to_string(tokens.size()) + " tokens, " + std::to_string(merges.size()) + " merges";
  return m;
}

}  // namespace tritium::detail
