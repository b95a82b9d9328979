/*
 * tree-internal.h -- what tree.c (reading modulepath directories) shares
 * with name.c (resolving what the user typed): directories read lazily,
 * the .modulerc/.version data, and the entries of one module.
 *
 * Lmod's model, which both files follow: a directory holding modulefiles
 * and no (non-empty) subdirectory, or holding a default marker (`default`,
 * .modulerc.lua, .modulerc, .version), is a module: its path under the
 * modulepath directory is the short name and everything below it are
 * versions (N/V or N/V/V). A directory with non-empty subdirectories and no
 * marker is only a category: its subdirectories are looked at in turn and
 * its own files are modules without a version ("a/b.lua" is the module
 * "a/b"). A module directory hides a file of the same name beside it.
 */
#ifndef SHELF_TREE_INTERNAL_H
#define SHELF_TREE_INTERNAL_H

#include "shelf.h"

/* Lmod's canonical form of a version (parseVersion): comparing two keys
 * with strcmp orders the versions as Lmod does. NULL on OOM. (version.c) */
char *shelf_version_key(const char *version);

/* What the .modulerc.lua, .modulerc and .version files of one modulepath
 * directory said, in the order the files were read. */
typedef struct tree_rc {
    shelf_strv alias_name, alias_target; /* module_alias(name, target) */
    shelf_strv sym_name, sym_target;     /* module_version("gcc/12.3.0", "12"):
                                            "gcc/12" -> "gcc/12.3.0" */
    shelf_strv hidden;                   /* hide_version / hide_modulefile */
    char *const *env; /* what os.getenv() of .modulerc.lua sees (not owned;
                         NULL: nothing) */
} tree_rc;

void tree_rc_init(tree_rc *rc);
void tree_rc_free(tree_rc *rc);

/* Lmod's MRC:resolve: an alias (first directory that defines it) is
 * replaced by its target, then a symbolic version by its module, and the
 * result resolved again (an alias whose target is another alias is not
 * followed further, as in Lmod). rcs[0..n) in MODULEPATH order. Returns a
 * new string (name itself when nothing applies) or NULL on OOM. */
char *tree_rc_resolve(const tree_rc *rcs, size_t n, const char *name);

/* The hide_version()/hide_modulefile() names of rcs[0..n), each resolved
 * as by tree_rc_resolve (Lmod hides across all modulepath directories).
 * 0 or SHELF_ENOMEM. */
int tree_hidden_list(const tree_rc *rcs, size_t n, shelf_strv *out);

/* A modulefile in a directory. */
typedef struct tree_file {
    char *name; /* entry name without ".lua" */
    char *path;
    unsigned is_lua : 1;
} tree_file;

/* A directory under a modulepath directory, read a piece at a time. */
typedef struct tree_dir {
    char *path; /* absolute (modulepath dir joined with rel) */
    char *rel;  /* "" for the modulepath dir itself, "gcc", "fftw/3.3" */
    char *name; /* last component of rel */
    unsigned markers_read : 1;
    unsigned listed : 1;
    unsigned loaded : 1;        /* listed recursively, empty subdirs dropped */
    unsigned has_marker : 1;    /* holds default/.modulerc.lua/.modulerc/.version */
    int depth;                  /* components in rel; reading stops at TREE_MAX_DEPTH */
    int nonempty;               /* -1 unknown, else 0/1: holds a modulefile somewhere */
    char *default_value;        /* what the first marker names, or NULL */
    tree_file *files;
    size_t nfiles, capfiles;
    struct tree_dir **dirs;     /* subdirectories (not yet read when !listed) */
    size_t ndirs, capdirs;
    shelf_strv absent;          /* names looked up and found not to exist */
} tree_dir;

/* Deeper directories are not read: this ends symbolic-link loops. */
#define TREE_MAX_DEPTH 32

/* A directory not read yet; NULL on OOM. */
tree_dir *tree_dir_new(const char *mpath, const char *rel);
void tree_dir_free(tree_dir *d);
/* Reads the rc files (.modulerc.lua, .modulerc) of d, a MODULEPATH
 * directory, once, adding what they say to rc. */
int tree_dir_markers(const char *mpath, tree_dir *d, tree_rc *rc);
/* 1 if d holds a modulefile at any depth, 0 if not, SHELF_ENOMEM. Reads
 * only until the first modulefile is found. */
int tree_dir_nonempty(const char *mpath, tree_dir *d, tree_rc *rc);
/* Lists d and everything below it, dropping empty subdirectories. */
int tree_dir_load(const char *mpath, tree_dir *d, tree_rc *rc);
/* The readable subdirectory called name, or NULL (also on OOM: then
 * *oom is set). When d is not listed, only that one name is looked at, and
 * *absent says whether nothing at all exists under that name. */
tree_dir *tree_dir_lookup(const char *mpath, tree_dir *d, const char *name,
                          int *oom, int *absent);
/* Looks for the modulefile `name` in d ("name.lua", else "name" with a
 * #%Module header): in d's listing when d is listed, else by looking at
 * those two names only (the second not at all when `plain_absent`, i.e.
 * nothing is called `name`). 1 and *out filled (caller frees the strings),
 * 0 when there is none, SHELF_ENOMEM. */
int tree_dir_find_file(tree_dir *d, const char *name, int plain_absent,
                       tree_file *out);
/* 1 if d (loaded or nonempty-probed children) is a module directory:
 * a marker, or no non-empty subdirectory. <0 on OOM. */
int tree_dir_is_module(const char *mpath, tree_dir *d, tree_rc *rc);
/* 0 for the names Lmod skips: ".git", ".svn", "*~", "#*", "*#", ".#*",
 * "__*", ".*.swp", ".gitignore", ".DS_Store", "." and "..". */
int tree_keep_name(const char *name);

/* One modulefile of one module, with Lmod's sort keys. */
typedef struct tree_entry {
    shelf_modfile mf;
    char *dir;  /* directory of the file relative to the module dir: "", "3.3" */
    char *pv;   /* parsed version ("M.*zfinal" for a module without version) */
    char *wv;   /* pv with "^" as the first character of each marked part */
} tree_entry;

typedef struct tree_entries {
    tree_entry *v;
    size_t n, cap;
} tree_entries;

void tree_entries_free(tree_entries *es);
/* Appends the entries of the module directory `moddir` (loaded) with short
 * name sn; hidden computed against rcs. 0 or SHELF_ENOMEM. */
int tree_module_entries(const char *mpath, const tree_dir *moddir,
                        const shelf_strv *hidden, tree_entries *out);
/* Appends the entry of a file that is a module by itself (no version). */
int tree_meta_entry(const char *mpath, const char *sn, const tree_file *f,
                    const shelf_strv *hidden, tree_entries *out);
/* 1 if some part of wv is marked: the file was chosen through a marker. */
int tree_wv_any_marked(const char *wv);
/* Lmod's find_highest: among es[idx[0..n)] that are visible or marked,
 * the greatest wv (the first one on ties). Returns an index into idx, or -1. */
long tree_highest(const tree_entries *es, const size_t *idx, size_t n);

#endif
