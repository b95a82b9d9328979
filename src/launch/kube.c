/*
 * kube.c -- the Kubernetes backend: everything goes through kubectl (run
 * by spawn.c), so the cluster, credentials and proxies are whatever the
 * person's kubeconfig says (KUBECONFIG, --kubeconfig, --context,
 * --namespace).
 *
 * Apply is all or nothing: first one `kubectl get` of every object's name
 * (a name that belongs to another user, or an earlier launch, stops here,
 * before anything is created); then the whole List in one `kubectl apply
 * -f -`; when that fails, the objects kubectl reports "created" are
 * deleted again, so no Service is left without its Pod. Objects are found
 * again (status, logs, stop) by their labels
 * app.kubernetes.io/managed-by=shelf and app.kubernetes.io/instance=NAME.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "launch.h"
#include "shelf.h"

static void base_argv(const kube_opts *ko, shelf_strv *av)
{
    xpush(av, ko->kubectl ? ko->kubectl : "kubectl");
    if (ko->kubeconfig) {
        xpush(av, "--kubeconfig");
        xpush(av, ko->kubeconfig);
    }
    if (ko->context) {
        xpush(av, "--context");
        xpush(av, ko->context);
    }
    if (ko->namespace) {
        xpush(av, "--namespace");
        xpush(av, ko->namespace);
    }
}

/* Trailing newlines off, for quoting kubectl in a message. */
static const char *trimmed(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
    return s;
}

/* Runs kubectl; on failure prints why (kubectl missing, or what it said)
 * with `doing` ("applying the objects"). 0 or -1. */
static int kubectl(const shelf_strv *av, const char *input, const char *doing, launch_run *run)
{
    int rc = launch_spawn(av->v, input, run);
    if (rc == 0)
        return 0;
    if (run->spawn_error)
        launch_error("%s: %s (is kubectl installed? Debian: apt-get install "
                     "kubernetes-client; or give --kubectl PATH)",
                     doing, run->spawn_error);
    else if (run->term_signal)
        launch_error("%s: kubectl was killed by signal %d", doing, run->term_signal);
    else
        launch_error("%s: kubectl failed (exit status %d): %s", doing, run->exit_status,
                     *run->err ? trimmed(run->err) : "(it said nothing)");
    return -1;
}

/* "secret", "pod", ... for kubectl of an item of the List. */
static const char *resource_of(const cJSON *item)
{
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "kind"));
    if (!kind)
        return NULL;
    if (strcmp(kind, "Notebook") == 0)
        return "notebooks.kubeflow.org";
    if (strcmp(kind, "Secret") == 0)
        return "secret";
    if (strcmp(kind, "Pod") == 0)
        return "pod";
    if (strcmp(kind, "Service") == 0)
        return "service";
    return NULL;
}

/* Who owns an existing object: its shelf.dev/user annotation, else its
 * label, else NULL (not ours). */
static const char *owner_of(const cJSON *obj)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const char *u = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(meta, "annotations"), "shelf.dev/user"));
    if (!u)
        u = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(meta, "labels"), "shelf.dev/user"));
    return u;
}

/* 0: no object of ours is in the way; -1: one is (said), or kubectl failed. */
static int check_names(const kube_opts *ko, const launch_request *r, const cJSON *list)
{
    shelf_strv av;
    shelf_strv_init(&av);
    base_argv(ko, &av);
    xpush(&av, "get");
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(list, "items"))
    {
        char *ref = xfmt("%s/%s", resource_of(item), r->name);
        xpush(&av, ref);
        free(ref);
    }
    xpush(&av, "--ignore-not-found");
    xpush(&av, "-o");
    xpush(&av, "json");
    launch_run run;
    int rc = kubectl(&av, NULL, "checking whether the name is free", &run);
    shelf_strv_free(&av);
    if (rc < 0) {
        launch_run_free(&run);
        return -1;
    }
    cJSON *got = *run.out ? shelf_json_parse(run.out, strlen(run.out), NULL) : NULL;
    if (*run.out && !got) {
        launch_error("checking whether the name is free: kubectl printed something that "
                     "is not JSON");
        launch_run_free(&run);
        return -1;
    }
    launch_run_free(&run);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(got, "items");
    const cJSON *one = got && !items ? got : NULL;
    rc = 0;
    for (const cJSON *o = one ? one : (items ? items->child : NULL); o && rc == 0;
         o = one ? NULL : o->next) {
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "kind"));
        const char *owner = owner_of(o);
        if (owner && strcmp(owner, r->user) != 0)
            launch_error("the name \"%s\" is taken: %s/%s belongs to user \"%s\" (user \"%s\" "
                         "maps to the same name; choose another with --name)",
                         r->name, kind ? kind : "object", r->name, owner, r->user);
        else if (owner)
            launch_error("%s/%s exists already (an earlier launch): see `shelf launch --kube "
                         "status %s`, or `shelf launch --kube stop %s` first",
                         kind ? kind : "object", r->name, r->name, r->name);
        else
            launch_error("%s/%s exists already and was not made by shelf launch; choose "
                         "another name with --name",
                         kind ? kind : "object", r->name);
        rc = -1;
    }
    cJSON_Delete(got);
    return rc;
}

/* Deletes what kubectl's output says it created ("pod/x created"). */
static void undo_created(const kube_opts *ko, const char *out)
{
    shelf_strv av, refs;
    shelf_strv_init(&av);
    shelf_strv_init(&refs);
    shelf_strv lines;
    shelf_strv_init(&lines);
    if (shelf_strv_split(&lines, out, "\n", 0) < 0)
        launch_oom();
    for (size_t i = 0; i < lines.n; i++) {
        char *sp = strchr(lines.v[i], ' ');
        if (sp && strcmp(sp, " created") == 0) {
            *sp = '\0';
            xpush(&refs, lines.v[i]);
        }
    }
    shelf_strv_free(&lines);
    if (refs.n) {
        base_argv(ko, &av);
        xpush(&av, "delete");
        for (size_t i = 0; i < refs.n; i++)
            xpush(&av, refs.v[i]);
        xpush(&av, "--ignore-not-found");
        xpush(&av, "--wait=false");
        launch_run run;
        char *joined = shelf_strv_join(&refs, " ");
        if (!joined)
            launch_oom();
        if (kubectl(&av, NULL, "deleting what was created", &run) == 0)
            fprintf(stderr, "shelf launch: deleted what this launch had created: %s\n", joined);
        else
            launch_error("these objects were created and could not be deleted: %s", joined);
        free(joined);
        launch_run_free(&run);
    }
    shelf_strv_free(&refs);
    shelf_strv_free(&av);
}

int kube_apply(const kube_opts *ko, const launch_request *r, const cJSON *list)
{
    if (check_names(ko, r, list) < 0)
        return 1;
    char *json = shelf_json_text(list, 0);
    if (!json)
        launch_oom();
    shelf_strv av;
    shelf_strv_init(&av);
    base_argv(ko, &av);
    xpush(&av, "apply");
    xpush(&av, "-f");
    xpush(&av, "-");
    launch_run run;
    int rc = kubectl(&av, json, "applying the objects", &run);
    free(json);
    shelf_strv_free(&av);
    if (rc < 0) {
        if (run.out && *run.out)
            undo_created(ko, run.out);
        launch_run_free(&run);
        return 1;
    }
    fputs(run.out, stderr);
    launch_run_free(&run);
    if (strcmp(r->p->kind, "notebook") == 0) {
        printf("%s: Kubeflow Notebook applied; it is served by the cluster's gateway under "
               "%s\n", r->name, r->base_url);
    } else {
        printf("%s: applied. Reach it with\n"
               "  kubectl%s%s%s%s port-forward service/%s 8888:80\n"
               "  http://127.0.0.1:8888%s?token=%s\n",
               r->name, ko->context ? " --context " : "", ko->context ? ko->context : "",
               ko->namespace ? " -n " : "", ko->namespace ? ko->namespace : "", r->name,
               r->base_url, r->token);
    }
    return 0;
}

static char *selector(const char *name)
{
    return name ? xfmt("app.kubernetes.io/managed-by=shelf,app.kubernetes.io/instance=%s", name)
                : xstrdup("app.kubernetes.io/managed-by=shelf");
}

/* kubectl VERB TYPES -l SELECTOR EXTRA...; TYPES with notebooks first,
 * again without them when the cluster has no Kubeflow. */
static int by_label(const kube_opts *ko, const char *verb, const char *name,
                    const char *const extra[], const char *doing, launch_run *run)
{
    static const char *const types[] = {"pods,services,secrets,notebooks.kubeflow.org",
                                        "pods,services,secrets"};
    char *sel = selector(name);
    int rc = -1;
    for (int t = 0; t < 2; t++) {
        shelf_strv av;
        shelf_strv_init(&av);
        base_argv(ko, &av);
        xpush(&av, verb);
        xpush(&av, types[t]);
        xpush(&av, "-l");
        xpush(&av, sel);
        for (int i = 0; extra[i]; i++)
            xpush(&av, extra[i]);
        rc = launch_spawn(av.v, NULL, run);
        int no_kubeflow = rc < 0 && !run->spawn_error && t == 0 &&
                          strstr(run->err, "notebooks") &&
                          (strstr(run->err, "doesn't have a resource type") ||
                           strstr(run->err, "the server could not find"));
        if (!no_kubeflow) {
            if (rc < 0) {
                launch_run_free(run);
                rc = kubectl(&av, NULL, doing, run);
            }
            shelf_strv_free(&av);
            break;
        }
        launch_run_free(run);
        shelf_strv_free(&av);
    }
    free(sel);
    return rc;
}

/* kubectl says "No resources found" (on stdout or stderr) when a selector
 * matches nothing. */
static int nothing_found(const launch_run *run)
{
    return !*run->out || strncmp(run->out, "No resources found", 18) == 0;
}

int kube_status(const kube_opts *ko, const char *name)
{
    static const char *const extra[] = {"-o", "wide", NULL};
    launch_run run;
    int rc = by_label(ko, "get", name, extra, "asking the cluster", &run);
    if (rc == 0) {
        if (nothing_found(&run) && name) {
            launch_error("no launch named \"%s\"", name);
            rc = -1;
        } else if (nothing_found(&run)) {
            fprintf(stderr, "shelf launch: nothing launched\n");
        } else {
            fputs(run.out, stdout);
        }
    }
    launch_run_free(&run);
    return rc == 0 ? 0 : 1;
}

int kube_stop(const kube_opts *ko, const char *name)
{
    static const char *const extra[] = {"--ignore-not-found", "--wait=false", NULL};
    launch_run run;
    int rc = by_label(ko, "delete", name, extra, "deleting", &run);
    if (rc == 0 && nothing_found(&run)) {
        launch_error("no launch named \"%s\"", name);
        rc = -1;
    } else if (rc == 0) {
        fputs(run.out, stderr);
    }
    launch_run_free(&run);
    return rc == 0 ? 0 : 1;
}

int kube_logs(const kube_opts *ko, const char *name)
{
    shelf_strv av;
    shelf_strv_init(&av);
    base_argv(ko, &av);
    xpush(&av, "logs");
    xpush(&av, "-l");
    char *sel = selector(name);
    xpush(&av, sel);
    free(sel);
    xpush(&av, "--tail=-1");
    launch_run run;
    int rc = kubectl(&av, NULL, "reading the logs", &run);
    if (rc == 0) {
        if (!*run.out)
            fprintf(stderr, "shelf launch: no logs (no pod of \"%s\" runs?)\n", name);
        fputs(run.out, stdout);
    }
    launch_run_free(&run);
    shelf_strv_free(&av);
    return rc == 0 ? 0 : 1;
}
