// tesseractl: a small CLI over tesserad's API socket (status, metrics, mounts).
#include <iostream>

#include "commands.h"
#include "options.h"
#include "pull.h"

int main(int argc, char** argv) {
  namespace cli = tessera::nydusd::client::cli;
  if (cli::IsPullCommand(argc, argv)) return cli::RunPull(argc, argv, std::cout, std::cerr);
  auto options = cli::ParseCtlOptions(argc, argv);
  if (!options) {
    std::cerr << "tesseractl: " << options.error().context << "\n"
              << "Run 'tesseractl --help' for usage.\n";
    return 2;
  }
  if (options->help) {
    std::cout << options->help_text;
    return 0;
  }
  return cli::RunCtl(*options, std::cout, std::cerr);
}
