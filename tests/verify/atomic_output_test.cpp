#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tritium/atomic_output.hpp"
#include "tritium/error.hpp"

using namespace tritium;
namespace fs = std::filesystem;

namespace {

struct scratch_dir {
  fs::path path;
  scratch_dir() {
    path = fs::temp_directory_path() / ("tritium-atomic-" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A process id that certainly ran and certainly no longer does: a child that exited and was reaped.
long dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return static_cast<long>(child);
}

void touch(const fs::path& p) { std::ofstream(p) << "partial"; }

}  // namespace

TEST_CASE("atomic_output: a committed file appears whole, an uncommitted one leaves nothing", "[atomic_output]") {
  scratch_dir dir;
  const fs::path target = dir.path / "out.jsonl";
  {
    atomic_output o(target.string());
    o.stream() << "first\n";
    // Until commit only the hidden temporary exists, named after the target and this process.
    const auto names = dir.names();
    REQUIRE(names.size() == 1);
    CHECK(atomic_output::temporary_owner(names[0], "out.jsonl") == static_cast<long>(::getpid()));
    o.commit();
  }
  CHECK(slurp(target) == "first\n");
  CHECK(dir.names() == std::vector<std::string>{"out.jsonl"});
  {
    atomic_output o(target.string());
    o.stream() << "second, never committed\n";
  }
  CHECK(slurp(target) == "first\n");
  CHECK(dir.names() == std::vector<std::string>{"out.jsonl"});
}

TEST_CASE("atomic_output: a directory target is an output error and leaves no temporary", "[atomic_output]") {
  scratch_dir dir;
  fs::create_directory(dir.path / "sub");
  try {
    atomic_output o((dir.path / "sub").string());
    FAIL("a directory was accepted as an output");
  } catch (const error& e) {
    CHECK(e.code() == errc::io);
    CHECK(std::string(e.what()) == "cannot write " + (dir.path / "sub").string() + ": it is a directory");
  }
  CHECK(dir.names() == std::vector<std::string>{"sub"});
}

TEST_CASE("atomic_output: a full device is written directly, never replaced, and its error reaches commit",
          "[atomic_output]") {
  if (!fs::is_character_file("/dev/full")) {
    WARN("no /dev/full here: not tested");
    return;
  }
  scratch_dir dir;
  // Through a symbolic link, as a user might name it: the link is followed, never replaced.
  const fs::path link = dir.path / "full";
  fs::create_symlink("/dev/full", link);
  atomic_output o(link.string());
  o.stream() << std::string(200000, 'x');  // more than the buffer: some writes already fail
  try {
    o.commit();
    FAIL("a write to /dev/full was committed");
  } catch (const error& e) {
    CHECK(e.code() == errc::io);
    CHECK(std::string(e.what()) == "cannot write " + link.string() + ": No space left on device");
  }
  CHECK(fs::is_symlink(link));
  CHECK(fs::is_character_file("/dev/full"));
  CHECK(dir.names() == std::vector<std::string>{"full"});
}

TEST_CASE("atomic_output: temporaries are recognised by their exact name only", "[atomic_output]") {
  CHECK(atomic_output::temporary_owner(".a.json.tritium-tmp.1234.Ab9xYz", "a.json") == 1234);
  CHECK(atomic_output::temporary_owner(".a.json.tritium-tmp.1234.Ab9xY", "a.json") == 0);     // 5 letters
  CHECK(atomic_output::temporary_owner(".a.json.tritium-tmp.1234.Ab9xYzz", "a.json") == 0);   // 7 letters
  CHECK(atomic_output::temporary_owner(".a.json.tritium-tmp..Ab9xYz", "a.json") == 0);        // no pid
  CHECK(atomic_output::temporary_owner(".a.json.tritium-tmp.12a4.Ab9xYz", "a.json") == 0);
  CHECK(atomic_output::temporary_owner(".a.json.tritium-tmp.1234.Ab-xYz", "a.json") == 0);
  CHECK(atomic_output::temporary_owner(".b.json.tritium-tmp.1234.Ab9xYz", "a.json") == 0);    // another target
  CHECK(atomic_output::temporary_owner(".a.json.tritium-tmp.1234.Ab9xYz", "a") == 0);
  CHECK(atomic_output::temporary_owner("a.json.tritium-tmp.1234.Ab9xYz", "a.json") == 0);     // not hidden
  CHECK(atomic_output::temporary_owner(".a.json.tmpAb9xYz", "a.json") == 0);
}

TEST_CASE("atomic_output: a run removes the temporaries of its target left by dead processes only",
          "[atomic_output]") {
  scratch_dir dir;
  const std::string dead = std::to_string(dead_pid());
  const std::string alive = std::to_string(::getppid());  // our parent runs as long as we do
  const std::vector<std::string> kept = {
      ".out.jsonl.tritium-tmp." + alive + ".abcdef",      // a live run's temporary
      ".out.jsonl.tritium-tmp." + dead + ".abcde",        // not exactly our pattern
      ".other.jsonl.tritium-tmp." + dead + ".abcdef",     // another target
      ".out.jsonl.tmp" + dead,                            // the old naming: not ours to judge
      "out.jsonl.tritium-tmp." + dead + ".abcdef",        // not hidden
  };
  for (const auto& name : kept) touch(dir.path / name);
  touch(dir.path / (".out.jsonl.tritium-tmp." + dead + ".abcdef"));
  touch(dir.path / (".out.jsonl.tritium-tmp." + dead + ".XYZ123"));
  fs::create_directory(dir.path / (".out.jsonl.tritium-tmp." + dead + ".dir000"));  // not a file: kept
  {
    atomic_output o((dir.path / "out.jsonl").string());
    o.stream() << "done\n";
    o.commit();
  }
  std::vector<std::string> expected = kept;
  expected.push_back(".out.jsonl.tritium-tmp." + dead + ".dir000");
  expected.push_back("out.jsonl");
  std::sort(expected.begin(), expected.end());
  CHECK(dir.names() == expected);
}
