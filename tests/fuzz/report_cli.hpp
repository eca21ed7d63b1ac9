// The report targets' shared part: the input is an in-toto statement (the payload of a DSSE envelope),
// signed here with the seed signer's key so that it passes the signature check, written to a scratch
// directory, and given to `tritium report verify` or `tritium report html` exactly as on the command
// line. Exit 70 (internal error) is a finding; the command's messages are kept and shown with it.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "report_options.hpp"
#include "exit_codes.hpp"
#include "fuzz_support.hpp"
#include "tritium/evidence/dsse.hpp"
#include "tritium/evidence/signing.hpp"

namespace tritium::fuzz {

class report_cli {
 public:
  report_cli() : signer_(report_signing_key::load(TRITIUM_FUZZ_DIR "/signer.key")) {
    char dir[] = "/tmp/tritium-fuzz-XXXXXX";
    if (::mkdtemp(dir) == nullptr) finding("setup", "mkdtemp failed");
    dir_ = dir;
    envelope_ = (dir_ / "report.json").string();
  }
  ~report_cli() { std::filesystem::remove_all(dir_); }

  const std::filesystem::path& dir() const noexcept { return dir_; }

  /// Signs `statement`, writes the envelope and runs `tritium report <command> ENVELOPE
  /// --public-key PUB <extra...>`; returns the exit code.
  int run(std::string_view statement, const std::string& command, const std::vector<std::string>& extra) {
    {
      std::ofstream out(envelope_, std::ios::binary | std::ios::trunc);
      out << dsse_sign(in_toto_payload_type, statement, signer_);
      if (!out) finding("setup", "cannot write the envelope");
    }
    std::vector<std::string> args = {"report", command, envelope_, "--public-key", TRITIUM_FUZZ_DIR "/signer.key.pub"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::ostringstream messages;
    std::streambuf* const err = std::cerr.rdbuf(messages.rdbuf());
    std::streambuf* const out = std::cout.rdbuf(messages.rdbuf());
    const int code = cli::run_tritium(args);
    std::cerr.rdbuf(err);
    std::cout.rdbuf(out);
    if (code == cli::exit_internal) finding("exit 70 (internal error)", messages.str());
    return code;
  }

 private:
  report_signing_key signer_;
  std::filesystem::path dir_;
  std::string envelope_;
};

}  // namespace tritium::fuzz
