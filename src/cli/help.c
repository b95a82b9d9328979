/* help.c -- help texts (being written). */
#include "config.h"
#include "cli.h"
void cli_usage(FILE *out) { fprintf(out, "usage: shelf SHELL [OPTIONS] SUBCOMMAND [ARGS...]\n"); }
int cli_command_help(FILE *out, const char *command) { (void)out; (void)command; return 1; }
