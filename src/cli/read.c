/* read.c -- the read-only subcommands (being written). */
#include "config.h"
#include "cli.h"
#define STUB(fn) int fn(shelf_engine *e, const cli_opts *o, char **a, int n) \
    { (void)e; (void)a; (void)n; fprintf(o->out, "shelf: not available yet\n"); return 1; }
STUB(cli_list) STUB(cli_avail) STUB(cli_spider) STUB(cli_keyword) STUB(cli_whatis)
STUB(cli_help_module) STUB(cli_show) STUB(cli_is_loaded) STUB(cli_is_avail)
