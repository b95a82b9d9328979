/*
 * yaml.c -- a cJSON tree printed as one YAML document (block style), for
 * `shelf launch --dry-run -o yaml`.
 *
 * A string is written plain only when no YAML 1.1 or 1.2 reader can take
 * it for anything else: it starts with a letter, '_' or '/', holds only
 * letters, digits and "_./-", and is not a boolean or null word (yes, No,
 * on, y, null, ...). A multi-line string without control characters is a
 * literal block (|, |- or |+ kept exact); everything else is double-quoted
 * with escapes. So every string reads back byte for byte.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "launch.h"

static int plain_ok(const char *s)
{
    static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "y", "n",
                                        "null", NULL};
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' || *s == '/'))
        return 0;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '.' || *c == '/' || *c == '-'))
            return 0;
    for (int i = 0; words[i]; i++)
        if (strcasecmp(s, words[i]) == 0)
            return 0;
    return 1;
}

static void indent(shelf_buf *out, int n)
{
    for (int i = 0; i < n; i++)
        shelf_buf_addc(out, ' ');
}

static void quoted(shelf_buf *out, const char *s)
{
    shelf_buf_addc(out, '"');
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '"': shelf_buf_adds(out, "\\\""); break;
        case '\\': shelf_buf_adds(out, "\\\\"); break;
        case '\n': shelf_buf_adds(out, "\\n"); break;
        case '\t': shelf_buf_adds(out, "\\t"); break;
        case '\r': shelf_buf_adds(out, "\\r"); break;
        default:
            if (*c < 0x20 || *c == 0x7f)
                shelf_buf_addf(out, "\\x%02x", *c);
            else
                shelf_buf_addc(out, (char)*c);
        }
    }
    shelf_buf_addc(out, '"');
}

/* A literal block fits: has a newline, no control character but '\n',
 * and its first line does not start with a space (no indentation
 * indicator needed). */
static int block_ok(const char *s)
{
    if (!strchr(s, '\n') || s[0] == ' ' || s[0] == '\n')
        return 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if ((*c < 0x20 && *c != '\n') || *c == 0x7f)
            return 0;
    return 1;
}

/* Writes a scalar after "key:" or "- " (the caller wrote no space yet). */
static void scalar(shelf_buf *out, const cJSON *j, int ind)
{
    if (cJSON_IsString(j)) {
        const char *s = j->valuestring;
        if (plain_ok(s)) {
            shelf_buf_addc(out, ' ');
            shelf_buf_adds(out, s);
        } else if (block_ok(s)) {
            size_t len = strlen(s), nl = 0;
            while (nl < len && s[len - 1 - nl] == '\n')
                nl++;
            shelf_buf_adds(out, nl == 0 ? " |-" : nl == 1 ? " |" : " |+");
            shelf_buf_addc(out, '\n');
            const char *line = s;
            while (*line) {
                const char *end = strchr(line, '\n');
                size_t n = end ? (size_t)(end - line) : strlen(line);
                if (n)
                    indent(out, ind + 2);
                shelf_buf_add(out, line, n);
                shelf_buf_addc(out, '\n');
                if (!end)
                    break;
                line = end + 1;
            }
            return;
        } else {
            shelf_buf_addc(out, ' ');
            quoted(out, s);
        }
    } else if (cJSON_IsBool(j)) {
        shelf_buf_adds(out, cJSON_IsTrue(j) ? " true" : " false");
    } else if (cJSON_IsNumber(j)) {
        double d = j->valuedouble;
        if (d == floor(d) && fabs(d) < 1e15)
            shelf_buf_addf(out, " %.0f", d);
        else
            shelf_buf_addf(out, " %.17g", d);
    } else if (cJSON_IsArray(j)) {
        shelf_buf_adds(out, " []");
    } else if (cJSON_IsObject(j)) {
        shelf_buf_adds(out, " {}");
    } else {
        shelf_buf_adds(out, " null");
    }
    shelf_buf_addc(out, '\n');
}

static void key(shelf_buf *out, const char *k)
{
    if (plain_ok(k))
        shelf_buf_adds(out, k);
    else
        quoted(out, k);
    shelf_buf_addc(out, ':');
}

static void sequence(shelf_buf *out, const cJSON *arr, int ind);

/* first_inline: the first key goes on the current line (after "- "). */
static void mapping(shelf_buf *out, const cJSON *obj, int ind, int first_inline)
{
    int first = 1;
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (!(first && first_inline))
            indent(out, ind);
        first = 0;
        key(out, c->string);
        if (cJSON_IsObject(c) && c->child) {
            shelf_buf_addc(out, '\n');
            mapping(out, c, ind + 2, 0);
        } else if (cJSON_IsArray(c) && c->child) {
            shelf_buf_addc(out, '\n');
            sequence(out, c, ind);
        } else {
            scalar(out, c, ind);
        }
    }
}

static void sequence(shelf_buf *out, const cJSON *arr, int ind)
{
    for (const cJSON *c = arr->child; c; c = c->next) {
        indent(out, ind);
        shelf_buf_addc(out, '-');
        if (cJSON_IsObject(c) && c->child) {
            shelf_buf_addc(out, ' ');
            mapping(out, c, ind + 2, 1);
        } else if (cJSON_IsArray(c) && c->child) {
            shelf_buf_addc(out, '\n');
            sequence(out, c, ind + 2);
        } else {
            scalar(out, c, ind);
        }
    }
}

void launch_yaml(const cJSON *j, shelf_buf *out)
{
    if (cJSON_IsObject(j) && j->child)
        mapping(out, j, 0, 0);
    else if (cJSON_IsArray(j) && j->child)
        sequence(out, j, 0);
    else
        scalar(out, j, 0);
}
