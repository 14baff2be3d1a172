// stepca: the command-line client of nginx-stepca, speaking step's flags.
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  return stepca::cli::RunCli(argc, argv, std::cout, std::cerr);
}
