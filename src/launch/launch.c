/*
 * launch.c -- `shelf launch`: options, the help text, the profile list,
 * and the request: which profile, for whom, under which name, with what
 * the user chose within what the site allows, and which collection is
 * restored (the user's saved one, else the site's). Then it hands the
 * request to a backend: Kubernetes (render.c + kube.c) or local (local.c).
 *
 * Every check that can refuse a launch (unknown profile, an override
 * beyond the profile's `allow`, an image off the list, a name with nothing
 * DNS-safe in it, a collection that exists nowhere, a broken config)
 * happens here, before anything is created anywhere.
 * Exit status: 0 success; 1 failure; 2 bad usage.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shelf.h"
#include "launch.h"

/* ---- helpers shared by the launcher's files ------------------------------ */

void launch_oom(void)
{
    fprintf(stderr, "shelf launch: error: out of memory\n");
    exit(1);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        launch_oom();
    return p;
}

char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        launch_oom();
    return p;
}

char *xfmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        launch_oom();
    return s;
}

void xpush(shelf_strv *sv, const char *s)
{
    if (shelf_strv_push(sv, s) < 0)
        launch_oom();
}

cJSON *xjson(cJSON *j)
{
    if (!j)
        launch_oom();
    return j;
}

void launch_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("shelf launch: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- options ---------------------------------------------------------------- */

#define USAGE                                                                            \
    "usage: shelf launch [--kube] [--profile NAME] [OPTIONS]     start a notebook server\n" \
    "       shelf launch --list [--json]                          the site's profiles\n"   \
    "       shelf launch [--kube] status [NAME] | logs NAME | stop NAME\n"

static void help(FILE *out)
{
    fputs(USAGE
          "\n"
          "Starts a notebook server from a profile of the site configuration: an image,\n"
          "resources, and a collection of modules restored at start, over the module\n"
          "tree mounted read-only. One image, many environments.\n"
          "\n"
          "Backends:\n"
          "  local (default)   the server runs here as a child process of yours, on a\n"
          "                    free 127.0.0.1 port with a random token; the tree is shown\n"
          "                    read-only at the profile's mount path with bubblewrap\n"
          "                    (/usr/bin/bwrap), else a plain environment (said so).\n"
          "                    Prints the URL with the token.\n"
          "  kubernetes        (--kube, or SHELF_LAUNCH_BACKEND=kubernetes) a Secret, Pod\n"
          "                    and ClusterIP Service, or a Kubeflow Notebook (the profile's\n"
          "                    kind), applied with one `kubectl apply -f -`; nothing is\n"
          "                    left half-created.\n"
          "\n"
          "Options:\n"
          "  -p, --profile NAME     the profile (see --list); needed to start\n"
          "  -u, --user USER        whose server (Kubernetes; default: you). The local\n"
          "                         backend always runs as you.\n"
          "  -N, --name NAME        the server's name (default USER-PROFILE on Kubernetes,\n"
          "                         PROFILE locally); made a DNS-1123 label (lowercase\n"
          "                         a-z, 0-9, '-', at most 63), refused if nothing remains\n"
          "  -c, --collection NAME  restore this collection instead of the profile's\n"
          "                         (if the profile allows it)\n"
          "      --cpu QTY          CPU limit (\"2\", \"1500m\"), up to the profile's cpu_max\n"
          "      --memory QTY       memory limit (\"8Gi\"), up to the profile's memory_max\n"
          "      --gpus N           GPUs, up to the profile's gpus_max\n"
          "      --image IMAGE      another image from the profile's allow-list\n"
          "  -k, --kube             use the Kubernetes backend\n"
          "      --backend NAME     local or kubernetes\n"
          "      --dry-run          print the Kubernetes objects (a List) instead of\n"
          "                         applying them; nothing is contacted\n"
          "  -o, --output FORMAT    yaml (default) or json, with --dry-run\n"
          "      --context NAME     kubectl context\n"
          "  -n, --namespace NS     Kubernetes namespace (a Kubeflow Notebook needs one)\n"
          "      --kubeconfig FILE  kubectl configuration (default: $KUBECONFIG, ~/.kube)\n"
          "      --kubectl PATH     the kubectl program (default: kubectl on PATH)\n"
          "      --no-sandbox       local: do not use bubblewrap\n"
          "      --timeout SECONDS  local: how long to wait for the server (default 60)\n"
          "      --config FILE      the site configuration (default: $SHELF_LAUNCH_CONFIG,\n"
          "                         else " SHELF_SYSCONFDIR "/shelf/launch.lua)\n"
          "      --list             list the profiles\n"
          "      --json             JSON output for --list, status and a local start\n"
          "  -h, --help             this text\n"
          "\n"
          "Collections: a profile names one. At start the server restores your saved\n"
          "collection of that name (`module save NAME`) if you have one, else the site's\n"
          "(`collections` in the configuration), which is loaded and then saved for you.\n"
          "A collection that exists in neither place is an error before anything starts.\n"
          "\n"
          "Commands: status [NAME] shows your servers; logs NAME prints a server's output;\n"
          "stop NAME stops it (locally: SIGTERM, then SIGKILL after 10 s; Kubernetes:\n"
          "deletes its objects). Local state lives in $XDG_RUNTIME_DIR/shelf/launch (else\n"
          "$TMPDIR/shelf-launch-UID).\n"
          "\n"
          "Examples:\n"
          "  shelf launch --list\n"
          "  shelf launch --profile prep                 # local Jupyter, prints its URL\n"
          "  shelf launch status; shelf launch stop prep\n"
          "  shelf launch --profile train --user alice --dry-run -o json\n"
          "  shelf launch --kube -n team-a --profile infer --cpu 4\n"
          "  shelf launch --kube stop alice-infer\n"
          "\n"
          "See docs/launch.md for the configuration reference.\n",
          out);
}

typedef struct opts {
    const char *profile, *user, *name, *collection, *cpu, *memory, *image, *gpus;
    const char *output, *config;
    int kube, dry_run, list, json;
    kube_opts ko;
    local_opts lo;
} opts;

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("shelf launch: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n" USAGE "see `shelf launch --help`\n", stderr);
    return 2;
}

static int set_backend(opts *o, const char *name)
{
    if (strcmp(name, "kubernetes") == 0 || strcmp(name, "kube") == 0)
        o->kube = 1;
    else if (strcmp(name, "local") == 0)
        o->kube = 0;
    else
        return -1;
    return 0;
}

static int backend_opt(const shelf_opt *opt, const char *value, shelf_error *err)
{
    if (set_backend(opt->ptr, value) == 0)
        return 0;
    shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0, "--backend %s: local or kubernetes", value);
    return SHELF_EUSAGE;
}

static int timeout_opt(const shelf_opt *opt, const char *value, shelf_error *err)
{
    char *end;
    double t = strtod(value, &end);
    if (*end || end == value || !(t > 0 && t < 86400)) {
        shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0, "--timeout %s: a number of seconds",
                        value);
        return SHELF_EUSAGE;
    }
    *(double *)opt->ptr = t;
    return 0;
}

/* ---- the profile list ---------------------------------------------------- */

static int list_profiles(const launch_config *cfg, int json)
{
    if (json) {
        cJSON *arr = xjson(cJSON_CreateArray());
        for (size_t i = 0; i < cfg->n; i++) {
            const launch_profile *p = &cfg->profiles[i];
            cJSON *o = xjson(cJSON_CreateObject());
            cJSON_AddItemToArray(arr, o);
            xjson(cJSON_AddStringToObject(o, "name", p->name));
            xjson(cJSON_AddStringToObject(o, "description", p->description ? p->description : ""));
            xjson(cJSON_AddStringToObject(o, "kind", p->kind));
            xjson(cJSON_AddStringToObject(o, "image", p->image));
            if (p->cpu_limit)
                xjson(cJSON_AddStringToObject(o, "cpu", p->cpu_limit));
            if (p->memory_limit)
                xjson(cJSON_AddStringToObject(o, "memory", p->memory_limit));
            xjson(cJSON_AddNumberToObject(o, "gpus", (double)p->gpus));
            if (p->collection) {
                xjson(cJSON_AddStringToObject(o, "collection", p->collection));
                const shelf_strv *mods = launch_config_collection(cfg, p->collection);
                if (mods) {
                    cJSON *m = xjson(cJSON_AddArrayToObject(o, "modules"));
                    for (size_t j = 0; j < mods->n; j++)
                        cJSON_AddItemToArray(m, xjson(cJSON_CreateString(mods->v[j])));
                }
            }
        }
        char *text = shelf_json_text(arr, 1);
        cJSON_Delete(arr);
        if (!text)
            launch_oom();
        printf("%s\n", text);
        free(text);
        return 0;
    }
    printf("Profiles in %s:\n", cfg->file);
    for (size_t i = 0; i < cfg->n; i++) {
        const launch_profile *p = &cfg->profiles[i];
        printf("  %-12s %s\n", p->name, p->description ? p->description : "");
        printf("  %-12s image %s, cpu %s, memory %s, %ld GPU%s%s%s\n", "", p->image,
               p->cpu_limit ? p->cpu_limit : "-", p->memory_limit ? p->memory_limit : "-",
               p->gpus, p->gpus == 1 ? "" : "s", p->collection ? ", collection " : "",
               p->collection ? p->collection : "");
        const shelf_strv *mods = p->collection ? launch_config_collection(cfg, p->collection)
                                               : NULL;
        if (mods) {
            char *m = shelf_strv_join(mods, " ");
            if (!m)
                launch_oom();
            printf("  %-12s modules %s\n", "", m);
            free(m);
        }
    }
    return 0;
}

/* ---- the request ---------------------------------------------------------- */

static char *current_user(void)
{
    struct passwd *pw = getpwuid(getuid());
    if (pw && pw->pw_name && *pw->pw_name)
        return xstrdup(pw->pw_name);
    return xfmt("uid%lu", (unsigned long)getuid());
}

char *launch_read_text(const char *path, size_t *len, char **why)
{
    shelf_buf b;
    shelf_error err = {0};
    shelf_buf_init(&b);
    int rc = shelf_read_file(path, &b, &err);
    if (rc == SHELF_ENOMEM)
        launch_oom();
    if (rc < 0) {
        if (why)
            *why = xstrdup(err.message ? err.message : "read error");
        shelf_error_clear(&err);
        shelf_buf_free(&b);
        return NULL;
    }
    if (len)
        *len = b.len;
    char *text = shelf_buf_take(&b);
    if (!text)
        text = xstrdup(""); /* an empty file */
    return text;
}

/* An override of a quantity: within max (NULL: not allowed). */
static int check_quantity(const launch_profile *p, const char *what, const char *value,
                          const char *max)
{
    double v, m;
    if (launch_quantity(value, &v) < 0 || v <= 0) {
        launch_error("--%s %s: not a Kubernetes quantity (\"2\", \"500m\", \"8Gi\")", what, value);
        return -1;
    }
    if (!max) {
        launch_error("profile \"%s\" does not let you choose the %s", p->name, what);
        return -1;
    }
    launch_quantity(max, &m);
    if (v > m) {
        launch_error("--%s %s is above what profile \"%s\" allows (%s)", what, value, p->name,
                     max);
        return -1;
    }
    return 0;
}

/* limit = value; request lowered to it when above. */
static void set_quantity(char **req, char **lim, const char *value)
{
    double r, v;
    free(*lim);
    *lim = xstrdup(value);
    if (*req && launch_quantity(*req, &r) == 0 && launch_quantity(value, &v) == 0 && r > v) {
        free(*req);
        *req = xstrdup(value);
    }
}

static int build_request(const opts *o, const launch_config *cfg, launch_request *r)
{
    memset(r, 0, sizeof *r);
    shelf_strv_init(&r->modules);
    const launch_profile *p = launch_config_find(cfg, o->profile);
    if (!p) {
        shelf_buf names;
        shelf_buf_init(&names);
        for (size_t i = 0; i < cfg->n; i++)
            shelf_buf_addf(&names, "%s%s", i ? ", " : "", cfg->profiles[i].name);
        if (shelf_buf_ok(&names) < 0)
            launch_oom();
        launch_error("no profile \"%s\" in %s (there are: %s)", o->profile, cfg->file,
                     names.data ? names.data : "none");
        shelf_buf_free(&names);
        return -1;
    }
    r->p = p;

    /* who */
    char *me = current_user();
    if (o->user && !o->kube && strcmp(o->user, me) != 0) {
        launch_error("the local backend runs servers as you (%s), not as \"%s\" "
                     "(--kube for a cluster)", me, o->user);
        free(me);
        return -1;
    }
    r->user = o->user ? xstrdup(o->user) : me;
    if (o->user)
        free(me);
    for (const char *c = r->user; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            launch_error("the user name holds control characters");
            return -1;
        }
    char *user_dns = launch_dns_label(r->user, 40);
    if (!user_dns) {
        launch_error("the user name \"%s\" has nothing usable in a Kubernetes name "
                     "(a-z, 0-9)", r->user);
        return -1;
    }
    r->user_label = launch_label_value(r->user);
    if (!*r->user_label) {
        free(r->user_label);
        r->user_label = xstrdup(user_dns);
    }

    /* the name */
    const char *want = o->name;
    char *dflt = o->kube ? xfmt("%s-%s", user_dns, p->name) : xstrdup(p->name);
    if (!want)
        want = dflt;
    r->name = launch_dns_label(want, 63);
    if (!r->name) {
        launch_error("the name \"%s\" has nothing DNS-safe in it (a-z, 0-9, '-')", want);
        free(dflt);
        free(user_dns);
        return -1;
    }
    if (o->name && strcmp(r->name, o->name) != 0)
        fprintf(stderr, "shelf launch: the name \"%s\" is not a DNS-1123 label: using \"%s\"\n",
                o->name, r->name);
    free(dflt);
    if (o->ko.namespace)
        r->namespace = xstrdup(o->ko.namespace);
    if (strcmp(p->kind, "notebook") == 0) {
        if (o->kube && !r->namespace) {
            launch_error("profile \"%s\" makes a Kubeflow Notebook, which is served under "
                         "/notebook/NAMESPACE/NAME/: give --namespace", p->name);
            free(user_dns);
            return -1;
        }
        r->base_url = xfmt("/notebook/%s/%s/", r->namespace ? r->namespace : "local", r->name);
    } else {
        r->base_url = xfmt("/user/%s/%s/", user_dns, o->name ? r->name : p->name);
    }
    free(user_dns);
    r->home = xstrdup(p->home.mount);

    /* what the user chose, within what the profile allows */
    r->image = xstrdup(p->image);
    if (o->image && strcmp(o->image, p->image) != 0) {
        if (shelf_strv_find(&p->images, o->image) < 0) {
            char *allowed = shelf_strv_join(&p->images, ", ");
            if (!allowed)
                launch_oom();
            launch_error("image \"%s\" is not allowed for profile \"%s\" (allowed: %s%s%s)",
                         o->image, p->name, p->image, *allowed ? ", " : "", allowed);
            free(allowed);
            return -1;
        }
        free(r->image);
        r->image = xstrdup(o->image);
    }
    r->cpu_request = p->cpu_request ? xstrdup(p->cpu_request) : NULL;
    r->cpu_limit = p->cpu_limit ? xstrdup(p->cpu_limit) : NULL;
    r->memory_request = p->memory_request ? xstrdup(p->memory_request) : NULL;
    r->memory_limit = p->memory_limit ? xstrdup(p->memory_limit) : NULL;
    r->gpus = p->gpus;
    if (o->cpu) {
        if (check_quantity(p, "cpu", o->cpu, p->cpu_max) < 0)
            return -1;
        set_quantity(&r->cpu_request, &r->cpu_limit, o->cpu);
    }
    if (o->memory) {
        if (check_quantity(p, "memory", o->memory, p->memory_max) < 0)
            return -1;
        set_quantity(&r->memory_request, &r->memory_limit, o->memory);
    }
    if (o->gpus) {
        char *end;
        errno = 0;
        long g = strtol(o->gpus, &end, 10);
        if (errno || *end || end == o->gpus || g < 0) {
            launch_error("--gpus %s: not a number of GPUs", o->gpus);
            return -1;
        }
        if (p->gpus_max < 0 || g > p->gpus_max) {
            launch_error("--gpus %ld: profile \"%s\" allows %s%ld", g, p->name,
                         p->gpus_max < 0 ? "no other number than " : "at most ",
                         p->gpus_max < 0 ? p->gpus : p->gpus_max);
            return -1;
        }
        r->gpus = g;
    }

    /* the collection */
    const char *coll = p->collection;
    if (o->collection && (!coll || strcmp(o->collection, coll) != 0)) {
        if (!p->allow_collection) {
            launch_error("profile \"%s\" does not let you choose the collection%s%s%s",
                         p->name, coll ? " (it restores \"" : "", coll ? coll : "",
                         coll ? "\")" : "");
            return -1;
        }
        coll = o->collection;
    }
    if (coll) {
        shelf_error err = {0};
        if (shelf_collection_name_check(coll, &err) < 0) {
            launch_error("%s", err.message ? err.message : "bad collection name");
            shelf_error_clear(&err);
            return -1;
        }
        r->collection = xstrdup(coll);
        shelf_collection c;
        int rc = shelf_collection_read_named(environ, coll, &c, &err);
        if (rc == 0) {
            r->collection_json = shelf_collection_to_json(&c);
            shelf_collection_free(&c);
            if (!r->collection_json)
                launch_oom();
        } else if (rc == SHELF_ENOTFOUND) {
            shelf_error_clear(&err);
            const shelf_strv *mods = launch_config_collection(cfg, coll);
            if (!mods) {
                char *dir = NULL;
                if (shelf_collection_dir(environ, &dir, &err) < 0)
                    shelf_error_clear(&err);
                launch_error("collection \"%s\" exists nowhere: you have no saved collection of "
                             "that name%s%s%s, and %s defines no site collection of that name",
                             coll, dir ? " (in " : "", dir ? dir : "", dir ? ")" : "", cfg->file);
                free(dir);
                return -1;
            }
            for (size_t i = 0; i < mods->n; i++)
                xpush(&r->modules, mods->v[i]);
        } else {
            launch_error("collection \"%s\": %s", coll, err.message ? err.message : "unreadable");
            shelf_error_clear(&err);
            return -1;
        }
    }
    r->token = shelf_random_hex(24);
    if (!r->token) {
        launch_error("cannot read random bytes for the token: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    opts o;
    memset(&o, 0, sizeof o);
    o.lo.sandbox = 1;
    o.lo.timeout = 60;
    const char *be = getenv("SHELF_LAUNCH_BACKEND");
    if (be && *be && set_backend(&o, be) < 0)
        return usage_error("SHELF_LAUNCH_BACKEND=%s: local or kubernetes", be);

    const shelf_opt table[] = {
        SHELF_OPTS_STRING("profile", 'p', &o.profile, 0),
        SHELF_OPTS_STRING("user", 'u', &o.user, 0),
        SHELF_OPTS_STRING("name", 'N', &o.name, 0),
        SHELF_OPTS_STRING("collection", 'c', &o.collection, 0),
        SHELF_OPTS_STRING("cpu", 0, &o.cpu, 0),
        SHELF_OPTS_STRING("memory", 0, &o.memory, 0),
        SHELF_OPTS_STRING("gpus", 0, &o.gpus, 0),
        SHELF_OPTS_STRING("image", 0, &o.image, 0),
        SHELF_OPTS_FLAG("kube", 'k', &o.kube, 1),
        SHELF_OPTS_CALLBACK("backend", 0, &o, backend_opt),
        SHELF_OPTS_FLAG("dry-run", 0, &o.dry_run, 1),
        SHELF_OPTS_STRING("output", 'o', &o.output, 0),
        SHELF_OPTS_STRING("context", 0, &o.ko.context, 0),
        SHELF_OPTS_STRING("namespace", 'n', &o.ko.namespace, 0),
        SHELF_OPTS_STRING("kubeconfig", 0, &o.ko.kubeconfig, 0),
        SHELF_OPTS_STRING("kubectl", 0, &o.ko.kubectl, 0),
        SHELF_OPTS_FLAG("no-sandbox", 0, &o.lo.sandbox, 0),
        SHELF_OPTS_CALLBACK("timeout", 0, &o.lo.timeout, timeout_opt),
        SHELF_OPTS_STRING("config", 0, &o.config, 0),
        SHELF_OPTS_FLAG("list", 0, &o.list, 1),
        SHELF_OPTS_FLAG("json", 0, &o.json, 1),
        SHELF_OPTS_STOP("help", 'h', 1),
        SHELF_OPTS_END,
    };
    int nargs = argc - 1;
    char **args = argv + 1;
    shelf_error err = {0};
    int prc = shelf_opts_parse(table, &nargs, args, 0, &err);
    if (prc > 0) {
        help(stdout);
        return 0;
    }
    if (prc < 0) {
        usage_error("%s", err.message ? err.message : shelf_strerror(prc));
        shelf_error_clear(&err);
        return 2;
    }
    o.lo.json = o.json;
    if (o.dry_run)
        o.kube = 1;
    if (o.output && strcmp(o.output, "yaml") != 0 && strcmp(o.output, "json") != 0)
        return usage_error("--output %s: yaml or json", o.output);
    if (o.output && !o.dry_run)
        return usage_error("--output goes with --dry-run");

    const char *cmd = nargs > 0 ? args[0] : NULL;
    const char *arg = nargs > 1 ? args[1] : NULL;
    if (cmd && strcmp(cmd, "start") != 0 && strcmp(cmd, "status") != 0 &&
        strcmp(cmd, "logs") != 0 && strcmp(cmd, "stop") != 0)
        return usage_error("unknown command \"%s\" (start, status, logs or stop)", cmd);
    int max_args = cmd ? (strcmp(cmd, "start") == 0 ? 1 : 2) : 0;
    if (nargs > max_args)
        return usage_error("too many arguments");
    if (cmd && (strcmp(cmd, "logs") == 0 || strcmp(cmd, "stop") == 0) && !arg)
        return usage_error("%s needs the NAME of a server (see `shelf launch status`)", cmd);

    if (cmd && strcmp(cmd, "start") != 0) {
        if (strcmp(cmd, "status") == 0)
            return o.kube ? kube_status(&o.ko, arg) : local_status(&o.lo, arg);
        if (strcmp(cmd, "logs") == 0)
            return o.kube ? kube_logs(&o.ko, arg) : local_logs(arg);
        return o.kube ? kube_stop(&o.ko, arg) : local_stop(&o.lo, arg);
    }

    if (!o.list && !o.profile)
        return usage_error("which profile? --profile NAME (see `shelf launch --list`)");

    const char *file = o.config;
    if (!file)
        file = getenv("SHELF_LAUNCH_CONFIG");
    if (!file || !*file)
        file = SHELF_SYSCONFDIR "/shelf/launch.lua";
    launch_config cfg;
    char *msg = NULL;
    if (launch_config_load(file, &cfg, &msg) < 0) {
        launch_error("%s", msg);
        free(msg);
        launch_config_free(&cfg);
        return 1;
    }
    int rc;
    if (o.list) {
        rc = list_profiles(&cfg, o.json);
        launch_config_free(&cfg);
        return rc;
    }
    launch_request r;
    if (build_request(&o, &cfg, &r) < 0) {
        launch_request_free(&r);
        launch_config_free(&cfg);
        return 1;
    }
    if (o.dry_run) {
        cJSON *list = launch_render(&r);
        char *text = NULL;
        if (o.output && strcmp(o.output, "json") == 0) {
            text = shelf_json_text(list, 1);
        } else {
            shelf_buf b;
            shelf_buf_init(&b);
            launch_yaml(list, &b);
            text = shelf_buf_take(&b);
        }
        cJSON_Delete(list);
        if (!text)
            launch_oom();
        fputs(text, stdout);
        if (*text && text[strlen(text) - 1] != '\n')
            fputc('\n', stdout);
        free(text);
        rc = 0;
    } else if (o.kube) {
        cJSON *list = launch_render(&r);
        rc = kube_apply(&o.ko, &r, list);
        cJSON_Delete(list);
    } else {
        rc = local_start(&o.lo, &r);
    }
    launch_request_free(&r);
    launch_config_free(&cfg);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        launch_error("cannot write the output: %s", strerror(errno));
        return 1;
    }
    return rc;
}
