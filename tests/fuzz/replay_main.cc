// A main() for the fuzz targets outside libFuzzer: runs LLVMFuzzerTestOneInput
// once over every file named on the command line, or found (not recursively,
// in name order, dot files skipped) in every directory named. This is how the
// corpora and the regression inputs guard the normal build: one ctest per
// target runs its replay binary over tests/fuzz/corpus/<target> and
// tests/fuzz/regressions/<target>. An invariant broken aborts (FUZZ_CHECK);
// a path that does not exist is an error, so a renamed directory is noticed.
//
//   wxgate_fuzz_page_url_replay tests/fuzz/corpus/page_url crash-1234
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "tests/fuzz/fuzz_check.h"

namespace {

namespace fs = std::filesystem;

bool CollectInputs(const fs::path& path, std::vector<fs::path>& out) {
  std::error_code error;
  if (fs::is_directory(path, error)) {
    std::vector<fs::path> files;
    for (const fs::directory_entry& entry : fs::directory_iterator(path, error)) {
      if (!entry.is_regular_file() || entry.path().filename().string().starts_with(".")) continue;
      files.push_back(entry.path());
    }
    if (error) {
      std::fprintf(stderr, "cannot list %s: %s\n", path.c_str(), error.message().c_str());
      return false;
    }
    std::sort(files.begin(), files.end());
    out.insert(out.end(), files.begin(), files.end());
    return true;
  }
  if (fs::is_regular_file(path, error)) {
    out.push_back(path);
    return true;
  }
  std::fprintf(stderr, "no such file or directory: %s\n", path.c_str());
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
    return 2;
  }
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    if (!CollectInputs(argv[i], inputs)) return 2;
  }
  for (const fs::path& input : inputs) {
    std::ifstream in(input, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) {
      std::fprintf(stderr, "cannot read %s\n", input.c_str());
      return 2;
    }
    // Named first, so the input that breaks an invariant is the last one shown.
    std::fprintf(stderr, "%s (%zu bytes)\n", input.c_str(), bytes.size());
    // An exact-size heap copy: under ASan a read past the end is caught.
    std::unique_ptr<uint8_t[]> copy(new uint8_t[bytes.size()]);
    std::copy(bytes.begin(), bytes.end(), copy.get());
    LLVMFuzzerTestOneInput(copy.get(), bytes.size());
  }
  std::printf("replayed %zu inputs\n", inputs.size());
  return 0;
}
