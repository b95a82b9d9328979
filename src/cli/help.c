/*
 * help.c -- the help texts of the `shelf` command: the overview printed by
 * `module help` / `shelf --help` (laid out like Lmod's), and the focused
 * help of each subcommand (`module load --help`).
 *
 * The texts are static tables: one entry per canonical subcommand name
 * (the names shelf.c dispatches on), each with a usage line, what it does,
 * its options and an example.
 */
#include "config.h"

#include <string.h>

#include "cli.h"

static const char OVERVIEW[] =
    "Usage: module [options] sub-command [args ...]\n"
    "       shelf SHELL [options] sub-command [args ...]\n"
    "\n"
    "Options:\n"
    "  -h -? --help                      This help message (after a sub-command:\n"
    "                                    the help of that sub-command)\n"
    "  -t --terse                        Write out in machine readable format for\n"
    "                                    commands: list, avail, spider, keyword\n"
    "  -d --default                      List default modules only when used with\n"
    "                                    avail\n"
    "  -f --force                        Force removal of a sticky module\n"
    "  -q --quiet                        Do not print out informational messages\n"
    "  --json                            Print avail, list, spider and keyword as\n"
    "                                    JSON on standard output\n"
    "  --show-hidden --show_hidden       Avail and spider will report hidden\n"
    "                                    modules\n"
    "  -v --version                      Print version info and quit\n"
    "\n"
    "Help sub-commands:\n"
    "------------------\n"
    "  help                              prints this message\n"
    "  help                module [...]  print help message from module(s)\n"
    "  SUB-COMMAND --help                print the help of one sub-command\n"
    "\n"
    "Loading/Unloading sub-commands:\n"
    "-------------------------------\n"
    "  load | add          module [...]  load module(s)\n"
    "  try-load | try-add  module [...]  load module(s), do not complain if not\n"
    "                                    found\n"
    "  del | unload | rm   module [...]  remove module(s), do not complain if\n"
    "                                    not found\n"
    "  swap | sw | switch  m1 m2         unload m1 and load m2\n"
    "  purge                             unload all modules\n"
    "  refresh                           reload aliases and shell functions of\n"
    "                                    the loaded modules\n"
    "  reload                            unload and reload all loaded modules\n"
    "  reset                             unload all (sticky too), then load\n"
    "                                    $SHELF_SYSTEM_DEFAULT_MODULES\n"
    "\n"
    "Listing / Searching sub-commands:\n"
    "---------------------------------\n"
    "  list                              list loaded modules\n"
    "  list                s1 s2 ...     list loaded modules that match the\n"
    "                                    pattern(s)\n"
    "  avail | av                        list available modules\n"
    "  avail | av          string        list available modules that contain\n"
    "                                    \"string\"\n"
    "  spider                            list all possible modules\n"
    "  spider              module        list all possible versions of that\n"
    "                                    module\n"
    "  spider              string        list all modules that contain \"string\"\n"
    "  spider              name/version  detailed information about that version\n"
    "                                    of the module, and what to load first\n"
    "  whatis              module        print whatis information about module\n"
    "  keyword | search    string        search all name and whatis that contain\n"
    "                                    \"string\"\n"
    "  show | display      module        show the commands in the module file\n"
    "  is-loaded           modulefile    exit 0 if the module is loaded, else 1\n"
    "  is-avail            modulefile    exit 0 if the module can be loaded,\n"
    "                                    else 1\n"
    "\n"
    "Searching:\n"
    "----------\n"
    "  All searching (spider, list, avail, keyword) is case independent.\n"
    "\n"
    "Indexing module trees (run by admins or cron, not through module):\n"
    "--------------------------------------------------------------------\n"
    "  shelf index [--output FILE] [--timestamp FILE] [--quiet] [--check]\n"
    "              [--full] DIR...\n"
    "                                    write the index of DIR and the levels\n"
    "                                    its modules open; avail, spider and\n"
    "                                    keyword read it while it is fresh\n"
    "                                    (--timestamp FILE: trusted until FILE\n"
    "                                    is touched; see `shelf index --help`)\n"
    "\n"
    "Exporting an environment (for batch jobs and containers, no shelf needed):\n"
    "----------------------------------------------------------------------------\n"
    "  shelf export [--collection NAME] --format FORMAT [-o FILE]\n"
    "                                    print a script that recreates what the\n"
    "                                    loaded modules (or collection NAME) do:\n"
    "                                    sh bash zsh ksh csh tcsh fish python json\n"
    "                                    preamble-python (see `shelf export --help`)\n"
    "\n"
    "Handling a collection of modules:\n"
    "--------------------------------\n"
    "  save                [name]        save the loaded modules, pinned, as a\n"
    "                                    collection (\"default\" when unnamed)\n"
    "  restore [--allow-changes] [name]  unload everything, load the collection\n"
    "                                    back (stops when a modulefile changed)\n"
    "  savelist                          list the saved collections\n"
    "  describe | mcc      [name]        what a collection holds, and what\n"
    "                                    changed since it was saved\n"
    "  disable             name          delete a collection\n"
    "\n"
    "Deprecated commands / Other commands:\n"
    "-------------------------------------\n"
    "  use [-a]            path          prepend or append path to MODULEPATH\n"
    "  unuse               path          remove path from MODULEPATH\n"
    "  ml                  [words]       shorthand: no words = list; a\n"
    "                                    sub-command name = that sub-command;\n"
    "                                    else load each word, unload each -word\n"
    "\n"
    "Environment:\n"
    "------------\n"
    "  MODULEPATH                        the directories searched for modulefiles\n"
    "  LOADEDMODULES, _LMFILES_          the loaded modules and their files\n"
    "\n"
    "See `man shelf` for the whole story.\n";

void cli_usage(FILE *out)
{
    fputs(OVERVIEW, out);
}

struct command_help {
    const char *name;
    const char *usage;   /* after "module " */
    const char *what;    /* what it does, wrapped by hand */
    const char *options; /* "" when none */
    const char *example;
};

#define COLL_WHERE "Collections are JSON files in $XDG_CONFIG_HOME/shelf/collections/\n" \
                   "(~/.config/shelf/collections/ when XDG_CONFIG_HOME is unset).\n"

static const struct command_help HELP[] = {
    {"load", "load | add MODULE...",
     "Loads each module, in order. A name without a version loads the default\n"
     "version; a partial version (gcc/12) loads the highest matching one. If any\n"
     "module is unknown, nothing is loaded at all. Loading another version of a\n"
     "loaded module replaces it; a module of the same family replaces the loaded\n"
     "member of that family.\n",
     "  -q, --quiet    do not print informational messages\n",
     "module load gcc/12.3.0 openmpi"},
    {"try-load", "try-load | try-add MODULE...",
     "Loads the modules that exist and silently skips the others.\n", "",
     "module try-load gcc cuda"},
    {"unload", "unload | del | rm MODULE...",
     "Unloads each module. A module that is not loaded is not an error.\n"
     "Dependencies loaded by depends_on() go too, unless something else needs\n"
     "them or you loaded them yourself.\n",
     "", "module unload openmpi"},
    {"swap", "swap | switch | sw OLD NEW   or   swap NEW",
     "Unloads OLD and loads NEW. With one name, the loaded module of the same\n"
     "short name is replaced. Modules built for the old one (the levels of the\n"
     "hierarchy it opened) are reloaded from the new one's level.\n",
     "", "module swap gcc gcc/13.2.0"},
    {"purge", "purge",
     "Unloads every loaded module, in reverse load order. Sticky modules stay\n"
     "unless --force is given.\n",
     "  -f, --force    unload sticky modules too\n", "module purge"},
    {"reload", "reload",
     "Unloads and loads again every loaded module (after a modulefile changed).\n",
     "", "module reload"},
    {"refresh", "refresh",
     "Defines again the aliases and shell functions of the loaded modules (for a\n"
     "new subshell that lost them); nothing else changes.\n",
     "", "module refresh"},
    {"use", "use [-a|--append] [-p|--prepend] DIRECTORY...",
     "Adds directories to MODULEPATH, at the front (default) or at the end.\n"
     "Loaded modules that now resolve to another modulefile are reloaded.\n",
     "  -a, --append   add at the end of MODULEPATH\n"
     "  -p, --prepend  add at the front (the default)\n",
     "module use $HOME/modulefiles"},
    {"unuse", "unuse DIRECTORY...",
     "Removes directories from MODULEPATH. Loaded modules that cannot be found\n"
     "any more become inactive (see `module list`); they come back when the\n"
     "directory does.\n",
     "", "module unuse $HOME/modulefiles"},
    {"reset", "reset",
     "Unloads every module, sticky ones too (as Lmod does), then loads the\n"
     "modules listed (colon separated) in $SHELF_SYSTEM_DEFAULT_MODULES.\n",
     "", "module reset"},
    {"list", "list [PATTERN...]",
     "Lists the loaded modules, numbered in load order, with their property\n"
     "markers, then the inactive ones. With patterns, only the modules whose\n"
     "full name contains one of them (case independent).\n",
     "  -t, --terse    one full name a line (active modules only)\n"
     "  --json         a JSON array on standard output\n",
     "module list gcc"},
    {"avail", "avail | av [STRING...]",
     "Lists the modules that can be loaded now, one block per MODULEPATH\n"
     "directory, in columns. Markers: (D) default, (L) loaded, (H) hidden,\n"
     "(S) sticky, (g) built for GPU; a \"Where:\" legend explains those shown.\n"
     "With strings, only modules whose name contains one of them (case\n"
     "independent).\n",
     "  -t, --terse    one entry a line: \"DIR:\" headers, \"name/\" lines\n"
     "  -d, --default  default versions only\n"
     "  --show-hidden  include hidden modules\n"
     "  --json         a JSON array on standard output\n",
     "module -d avail python"},
    {"spider", "spider [NAME | NAME/VERSION | STRING]",
     "Searches every module of the tree, including those that become available\n"
     "only after loading others (a compiler, an MPI). Without arguments: every\n"
     "name, its versions and description. With a name: its versions. With a full\n"
     "name: its description, help, and the modules to load first.\n",
     "  -t, --terse    one entry a line\n"
     "  --show-hidden  include hidden modules\n"
     "  --json         a JSON array on standard output (with \"requires\")\n",
     "module spider hdf5/1.14.3"},
    {"whatis", "whatis MODULE...",
     "Prints the whatis() lines of each module, prefixed by its full name.\n",
     "", "module whatis gcc"},
    {"help", "help [MODULE...]",
     "Prints the help() text of each module, or this command's overview when no\n"
     "module is named.\n",
     "", "module help gcc"},
    {"show", "show | display MODULE...",
     "Prints the path of each modulefile and the commands it would run, one a\n"
     "line, without changing anything.\n",
     "", "module show gcc/12.3.0"},
    {"keyword", "keyword | search WORD...",
     "Lists the modules whose name, whatis text or properties contain one of the\n"
     "words (case independent), across the whole tree as spider does.\n",
     "  -t, --terse    one entry a line\n"
     "  --json         a JSON array on standard output\n",
     "module keyword fortran"},
    {"is-loaded", "is-loaded MODULE...",
     "Exits 0 when every module named (short or full name) is loaded, else 1.\n"
     "Prints nothing.\n",
     "", "module is-loaded gcc && echo gcc is loaded"},
    {"is-avail", "is-avail MODULE...",
     "Exits 0 when every module named can be loaded now, else 1. Prints nothing.\n",
     "", "module is-avail cuda/12 || echo no CUDA 12 here"},
    {"save", "save [NAME]",
     "Saves the loaded modules as collection NAME (\"default\" without a name):\n"
     "the MODULEPATH they started from, each module's full version, modulefile\n"
     "and SHA-256, and which ones you asked for (the others came as\n"
     "dependencies). A collection saved again is replaced whole; a failed save\n"
     "leaves the old one intact. A name holds letters, digits and _ - . + @ ,\n"
     "and does not start with '.' or '-'.\n" COLL_WHERE,
     "  -q, --quiet    no message\n", "module save train"},
    {"restore", "restore [--allow-changes] [NAME]",
     "Unloads every module (sticky ones too), sets MODULEPATH as saved and loads\n"
     "the collection's modules at the versions saved, even where the default\n"
     "has moved on since. Without a name: \"default\", or, when there is no such\n"
     "collection, the system's default set (SHELF_SYSTEM_DEFAULT_MODULES).\n"
     "When a modulefile vanished, changed (another SHA-256) or now comes from\n"
     "another file, restore lists every such module and changes nothing.\n",
     "  --allow-changes  go ahead anyway: leave out what vanished, load what\n"
     "                   changed, and report each difference\n",
     "module restore train"},
    {"savelist", "savelist",
     "Lists the saved collections by name.\n" COLL_WHERE,
     "  -t, --terse    one name a line\n"
     "  --json         a JSON array of names on standard output\n",
     "module savelist"},
    {"describe", "describe | mcc [NAME]",
     "Shows what collection NAME (\"default\" without a name) holds: when and by\n"
     "which shelf it was saved, its MODULEPATH, each module with its version,\n"
     "whether you asked for it or it came as a dependency, its modulefile and\n"
     "SHA-256; then what changed since the save.\n",
     "  -t, --terse    the full names only, one a line\n"
     "  --json         the collection and its \"drift\" as JSON on standard output\n",
     "module describe train"},
    {"disable", "disable NAME",
     "Deletes collection NAME.\n" COLL_WHERE, "", "module disable train"},
};

int cli_command_help(FILE *out, const char *command)
{
    for (size_t i = 0; i < sizeof HELP / sizeof HELP[0]; i++) {
        const struct command_help *h = &HELP[i];
        if (strcmp(h->name, command) != 0)
            continue;
        fprintf(out, "Usage: module %s\n\n%s", h->usage, h->what);
        if (h->options[0])
            fprintf(out, "\nOptions:\n%s", h->options);
        fprintf(out, "\nExample:\n  $ %s\n", h->example);
        return 0;
    }
    return 1;
}
