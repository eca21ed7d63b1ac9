// Reads the tokenizer metadata of a llama.cpp GGUF file (format: ggml's docs/gguf.md, versions 2
// and 3, little-endian): tokenizer.ggml.{model, pre, tokens, merges, token_type}. Tensor data is
// never kept: it only streams through the file's digest. BPE vocabularies ("gpt2") with a known pre-tokenizer are supported; anything else is refused
// with its name.
#include <algorithm>
#include <cstring>
#include <istream>
#include <limits>
#include <streambuf>
#include <unordered_map>
#include <vector>

#include "model.hpp"
#include "tritium/digest.hpp"
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

// Reads a GGUF file front to back through a fixed buffer: only the header and the metadata are kept,
// so that a vocabulary followed by gigabytes of tensors costs no more memory than the vocabulary.
// Every byte taken from the stream is also given to `digest` when there is one.
class reader {
 public:
  reader(std::istream& in, const std::string& source, sha256_stream* digest)
      : in_(in), source_(source), digest_(digest), buffer_(std::size_t{1} << 16) {}

  [[noreturn]] void fail(const std::string& what) const { fail_at(pos_, what); }

  [[noreturn]] void fail_at(std::uint64_t offset, const std::string& what) const {
    throw error(errc::parse, source_ + ": GGUF at byte " + std::to_string(offset) + ": " + what);
  }

  // Copies the next n bytes to `out`, or drops them when `out` is null.
  void take(char* out, std::uint64_t n) {
    const std::uint64_t start = pos_;
    while (n > 0) {
      if (next_ == end_ && !fill()) fail_at(start, "truncated file");
      const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(n, end_ - next_));
      if (out != nullptr) {
        std::memcpy(out, buffer_.data() + next_, k);
        out += k;
      }
      next_ += k;
      pos_ += k;
      n -= k;
    }
  }

  template <class T>
  T read() {
    T v;
    take(reinterpret_cast<char*>(&v), sizeof(T));
    return v;
  }

  // A string of at most `limit` bytes. It grows only as its bytes arrive, so that a length field
  // claiming more than the file holds fails at the end of the file instead of allocating it.
  std::string string(std::uint64_t limit = std::numeric_limits<std::uint64_t>::max()) {
    const std::uint64_t start = pos_;
    const auto n = read<std::uint64_t>();
    if (n > limit) fail_at(start, "string length " + std::to_string(n) + ": expected at most " + std::to_string(limit));
    std::string s;
    while (s.size() < n) {
      const std::size_t old = s.size();
      s.resize(old + static_cast<std::size_t>(std::min<std::uint64_t>(n - old, buffer_.size())));
      take(s.data() + old, s.size() - old);
    }
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
      take(nullptr, read<std::uint64_t>());
    } else if (type == t_array) {
      // Nesting is bounded so that a crafted file cannot exhaust the stack.
      if (depth >= 8) fail("arrays nested deeper than 8 levels");
      const auto inner = read<std::uint32_t>();
      const auto n = read<std::uint64_t>();
      if (inner != t_string && inner != t_array) {
        const std::size_t size = scalar_size(inner);
        if (n > std::numeric_limits<std::uint64_t>::max() / size) fail("array of " + std::to_string(n) + " values runs past the end");
        take(nullptr, n * size);
        return;
      }
      for (std::uint64_t i = 0; i < n; ++i) skip(inner, depth + 1);
    } else {
      take(nullptr, scalar_size(type));
    }
  }

  // Reads the rest of the stream (the tensors) into the digest only.
  void finish() {
    if (digest_ == nullptr) return;
    next_ = end_;
    while (fill()) next_ = end_;
  }

 private:
  bool fill() {
    in_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    if (in_.bad()) throw error(errc::io, source_ + ": read error at byte " + std::to_string(pos_));
    next_ = 0;
    end_ = static_cast<std::size_t>(in_.gcount());
    if (digest_ != nullptr && end_ > 0) digest_->update(std::string_view(buffer_.data(), end_));
    return end_ > 0;
  }

  std::istream& in_;
  const std::string& source_;
  sha256_stream* digest_;
  std::vector<char> buffer_;
  std::size_t next_ = 0, end_ = 0;  // the unread part of buffer_
  std::uint64_t pos_ = 0;           // file offset of buffer_[next_]
};

// An istream over bytes already in memory, without copying them.
class memory_buffer : public std::streambuf {
 public:
  explicit memory_buffer(const std::string& bytes) {
    char* begin = const_cast<char*>(bytes.data());  // read only: no put area is set
    setg(begin, begin, begin + bytes.size());
  }
};

// GGUF limits a key to 65535 bytes (ggml docs/gguf.md); a vocabulary to what token ids can hold.
constexpr std::uint64_t gguf_max_key_bytes = 65535;
constexpr std::uint64_t gguf_max_tokens = std::uint64_t{1} << 24;

}  // namespace

tokenizer_model parse_gguf(const std::string& bytes, const std::string& source) {
  memory_buffer buffer(bytes);
  std::istream in(&buffer);
  return parse_gguf(in, source, nullptr);
}

tokenizer_model parse_gguf(std::istream& in, const std::string& source, sha256_stream* digest) {
  reader r(in, source, digest);
  if (r.read<std::uint32_t>() != 0x46554747u) r.fail("bad magic (expected \"GGUF\")");
  const auto version = r.read<std::uint32_t>();
  if (version != 2 && version != 3) r.fail("unsupported GGUF version " + std::to_string(version));
  r.read<std::uint64_t>();  // tensor count
  const auto kv_count = r.read<std::uint64_t>();

  std::string model_name, pre;
  std::vector<std::string> tokens, merges;
  std::vector<std::int64_t> types;
  for (std::uint64_t k = 0; k < kv_count; ++k) {
    const std::string key = r.string(gguf_max_key_bytes);
    const auto type = r.read<std::uint32_t>();
    auto string_array = [&](std::vector<std::string>& out) {
      if (type != t_array) r.fail(quoted_for_message(key) + ": expected an array");
      if (r.read<std::uint32_t>() != t_string) r.fail(quoted_for_message(key) + ": expected an array of strings");
      const auto n = r.read<std::uint64_t>();
      if (n > gguf_max_tokens) r.fail(quoted_for_message(key) + ": more than 2^24 entries");
      // Reserved only up to a real vocabulary's size: the count is not yet backed by bytes.
      out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(n, 1u << 18)));
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
      if (type != t_array) r.fail(quoted_for_message(key) + ": expected an array");
      const auto inner = r.read<std::uint32_t>();
      const auto n = r.read<std::uint64_t>();
      if (n > gguf_max_tokens) r.fail(quoted_for_message(key) + ": more than 2^24 entries");
      types.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(n, 1u << 18)));
      for (std::uint64_t i = 0; i < n; ++i) types.push_back(r.integer(inner));
    } else {
      r.skip(type);
    }
  }
  r.finish();
  const std::string where = source + ": GGUF tokenizer.ggml.";
  if (model_name.empty()) throw error(errc::parse, where + "model: missing");
  if (model_name != "gpt2") {
    throw error(errc::invalid_argument, where + "model: unsupported tokenizer model " + quoted_for_message(model_name) +
                                            " (supported: gpt2, i.e. byte-level BPE)");
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
                where + "pre: unsupported pre-tokenizer " + quoted_for_message(pre) + " (supported: gpt-2, qwen2, llama-bpe)");
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
