// etcd-defragd: hands over to the command line at once.
#include "cli/app.h"

int main(int argc, char** argv) { return edd::cli::run_app(argc, argv); }
