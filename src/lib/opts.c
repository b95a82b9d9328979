/*
 * opts.c -- the option parser of the getopt-style front ends (`shelf
 * index`, `shelf export`, shelfd, `shelf launch`), after git's
 * parse-options: each command describes its options in a table of
 * shelf_opt rows and gets their values stored, in the order given.
 *
 * Words: "--name=value", "--name value", a unique prefix of a long name,
 * "-x", "-x value", "-xvalue", clusters of flags "-qk"; "--" ends the
 * options; "-" alone is an argument. The words that are not options are
 * moved, in order, to the front of argv. Nothing is printed: errors come
 * back as SHELF_EUSAGE with a message naming the option.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "shelf-internal.h"

/* SHELF_EUSAGE: "OPTION PROBLEM" ("--output needs a value"), the option
 * named as it was given: long or short. */
static int usage_fail(shelf_error *err, const shelf_opt *opt, int as_long, const char *problem)
{
    if (as_long)
        shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0, "--%s %s", opt->long_name, problem);
    else
        shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0, "-%c %s", opt->short_name, problem);
    return SHELF_EUSAGE;
}

/* Stores value (NULL for an option without one) as opt says. */
static int apply(const shelf_opt *opt, int as_long, const char *value, shelf_error *err)
{
    switch (opt->kind) {
    case SHELF_OPT_FLAG:
        *(int *)opt->ptr = opt->value;
        return SHELF_OK;
    case SHELF_OPT_STRING: {
        const char **slot = opt->ptr;
        if ((opt->flags & SHELF_OPT_ONCE) && *slot)
            return usage_fail(err, opt, as_long, "given twice");
        *slot = value;
        return SHELF_OK;
    }
    case SHELF_OPT_CALLBACK:
        return opt->cb(opt, value, err);
    case SHELF_OPT_STOP:
        return opt->value;
    }
    return SHELF_OK;
}

static int takes_value(const shelf_opt *opt)
{
    return opt->kind == SHELF_OPT_STRING || opt->kind == SHELF_OPT_CALLBACK;
}

/* The row of "--word" (word without the dashes, up to '=' or its end):
 * an exact name, else the one name it is a prefix of. NULL with err set
 * when there is none or more than one. */
static const shelf_opt *find_long(const shelf_opt *opts, const char *word, size_t len,
                                  shelf_error *err)
{
    const shelf_opt *hit = NULL;
    int prefixes = 0;
    for (const shelf_opt *o = opts; o->long_name || o->short_name; o++) {
        if (!o->long_name || strncmp(o->long_name, word, len) != 0)
            continue;
        if (o->long_name[len] == '\0')
            return o;
        hit = o;
        prefixes++;
    }
    if (prefixes == 1)
        return hit;
    if (!prefixes) {
        shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0, "unknown option \"--%.*s\"",
                        (int)len, word);
        return NULL;
    }
    shelf_buf b;
    shelf_buf_init(&b);
    for (const shelf_opt *o = opts; o->long_name || o->short_name; o++)
        if (o->long_name && strncmp(o->long_name, word, len) == 0)
            shelf_buf_addf(&b, "%s--%s", b.len ? ", " : "", o->long_name);
    if (shelf_buf_ok(&b) < 0)
        shelf_oom(err);
    else
        shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0, "ambiguous option \"--%.*s\": %s",
                        (int)len, word, b.data);
    shelf_buf_free(&b);
    return NULL;
}

static const shelf_opt *find_short(const shelf_opt *opts, char c)
{
    for (const shelf_opt *o = opts; o->long_name || o->short_name; o++)
        if (o->short_name == c)
            return o;
    return NULL;
}

/* One "--..." word (and the next, for its value). */
static int parse_long(const shelf_opt *opts, int argc, char **argv, int *i, shelf_error *err)
{
    const char *word = argv[*i] + 2;
    const char *eq = strchr(word, '=');
    size_t len = eq ? (size_t)(eq - word) : strlen(word);
    const shelf_opt *opt = find_long(opts, word, len, err);
    if (!opt)
        return err->code ? err->code : SHELF_EUSAGE;
    const char *value = NULL;
    if (!takes_value(opt) && eq)
        return usage_fail(err, opt, 1, "takes no value");
    if (takes_value(opt) && eq)
        value = eq + 1;
    else if (takes_value(opt) && *i + 1 < argc)
        value = argv[++*i];
    else if (takes_value(opt))
        return usage_fail(err, opt, 1, "needs a value");
    return apply(opt, 1, value, err);
}

/* One "-xyz" word (and the next, for the value of its last letter). */
static int parse_short(const shelf_opt *opts, int argc, char **argv, int *i, shelf_error *err)
{
    const char *word = argv[*i];
    for (const char *p = word + 1; *p; p++) {
        const shelf_opt *opt = find_short(opts, *p);
        if (!opt) {
            shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0, "unknown option \"-%c\"", *p);
            return SHELF_EUSAGE;
        }
        const char *value = NULL;
        if (takes_value(opt)) {
            if (p[1])
                value = p + 1;
            else if (*i + 1 < argc)
                value = argv[++*i];
            else
                return usage_fail(err, opt, 0, "needs a value");
        }
        int rc = apply(opt, 0, value, err);
        if (rc != SHELF_OK || value)
            return rc;
    }
    return SHELF_OK;
}

int shelf_opts_parse(const shelf_opt *opts, int *argc, char **argv, int flags, shelf_error *err)
{
    int n = *argc, kept = 0, i = 0, rc = SHELF_OK;
    for (; i < n; i++) {
        const char *w = argv[i];
        if (strcmp(w, "--") == 0) {
            i++;
            break;
        }
        if (w[0] != '-' || w[1] == '\0') {
            if (flags & SHELF_OPTS_STOP_AT_ARG)
                break;
            argv[kept++] = argv[i];
            continue;
        }
        rc = w[1] == '-' ? parse_long(opts, n, argv, &i, err) : parse_short(opts, n, argv, &i, err);
        if (rc != SHELF_OK)
            break;
    }
    if (rc == SHELF_OK)
        for (; i < n; i++)
            argv[kept++] = argv[i];
    *argc = kept;
    return rc;
}
