/* trosyn-client: the command-line front of libtrosyn (CLI.md). */
#ifndef TROSYN_CLI_H
#define TROSYN_CLI_H

/*
 * Run trosyn-client with ARGC/ARGV.  Returns the exit status: 0 on
 * success, 1 on a runtime failure, 2 on a usage error.
 */
int cli_main(int argc, char **argv);

#endif /* TROSYN_CLI_H */
