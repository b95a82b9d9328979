/*
 * render.c -- a request (user + profile + what they chose) turned into
 * Kubernetes objects, as a cJSON `List`: Secret (the server's token) +
 * Pod + ClusterIP Service for kind "pod", or one Kubeflow Notebook
 * (kubeflow.org/v1, whose controller makes the StatefulSet and Service)
 * for kind "notebook". Also the pieces both backends share: the start
 * script, {placeholder} substitution and DNS-1123 names.
 *
 * Invariants of every rendered object: the tree is mounted read-only on
 * both sides (the volume source's readOnly where the source has one, and
 * the volumeMount's); GPUs appear only in limits; the pod runs as a
 * non-root uid with no privilege escalation, all capabilities dropped and
 * the RuntimeDefault seccomp profile; a Service selects exactly the
 * labels of its Pod. Nothing here talks to a cluster.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "launch.h"
#include "shelf.h"

/* The container's entry point: sh -c SCRIPT shelf-start SERVER-ARGV...
 * It relies on the environment the launcher sets: SHELF_INIT (shelf's
 * init directory), SHELF_CMD, MODULEPATH, SHELF_LAUNCH_COLLECTION and
 * either SHELF_LAUNCH_COLLECTION_JSON (the user's saved collection, put in
 * place when the user has none of that name there) or
 * SHELF_LAUNCH_MODULES (a site collection: loaded, then saved for the
 * user). No "$(" anywhere: Kubernetes expands $(NAME) in commands. */
static const char start_script[] =
    "set -u\n"
    ". \"$SHELF_INIT/sh\" || { echo \"shelf launch: cannot read $SHELF_INIT/sh\" >&2; exit 1; }\n"
    "c=${SHELF_LAUNCH_COLLECTION:-}\n"
    "if [ -n \"$c\" ]; then\n"
    "  d=${XDG_CONFIG_HOME:-$HOME/.config}/shelf/collections\n"
    "  if [ ! -e \"$d/$c.json\" ] && [ -n \"${SHELF_LAUNCH_COLLECTION_JSON:-}\" ]; then\n"
    "    mkdir -p \"$d\" && printf '%s\\n' \"$SHELF_LAUNCH_COLLECTION_JSON\" >\"$d/$c.json.tmp\" &&\n"
    "      mv -f \"$d/$c.json.tmp\" \"$d/$c.json\" ||\n"
    "      { echo \"shelf launch: cannot write $d/$c.json\" >&2; exit 1; }\n"
    "  fi\n"
    "  if [ -e \"$d/$c.json\" ]; then\n"
    "    module restore \"$c\" ||\n"
    "      { echo \"shelf launch: cannot restore the collection $c\" >&2; exit 1; }\n"
    "  else\n"
    "    module purge && module load ${SHELF_LAUNCH_MODULES:-} ||\n"
    "      { echo \"shelf launch: cannot load the modules of $c\" >&2; exit 1; }\n"
    "    module save \"$c\" || echo \"shelf launch: warning: could not save the collection $c\" >&2\n"
    "  fi\n"
    "fi\n"
    "unset SHELF_LAUNCH_COLLECTION_JSON SHELF_LAUNCH_MODULES c d\n"
    /* Terminals: Jupyter runs "$SHELL -l" for them, a login bash that
     * reads neither BASH_ENV nor ~/.bashrc and whose /etc/profile resets
     * PATH. SHELL becomes a bash that keeps the server's environment (the
     * collection's) and reads the usual rc files, then shelf's init. */
    "if command -v bash >/dev/null 2>&1; then\n"
    "  t=${TMPDIR:-/tmp}/shelf-terminal.$$\n"
    "  if mkdir -m 700 \"$t\" 2>/dev/null &&\n"
    "     printf '%s\\n' '[ -r /etc/bash.bashrc ] && . /etc/bash.bashrc'"
    " '[ -r ~/.bashrc ] && . ~/.bashrc' '. \"$SHELF_INIT/bash\"' >\"$t/bashrc\" &&\n"
    "     printf '#!/bin/sh\\n[ \"${1:-}\" = -l ] && shift\\nexec bash --rcfile \"%s/bashrc\" \"$@\"\\n'"
    " \"$t\" >\"$t/bash\" && chmod 755 \"$t/bash\"; then\n"
    "    SHELL=$t/bash; export SHELL\n"
    "  fi\n"
    "  unset t\n"
    "fi\n"
    "exec \"$@\"\n";

const char *launch_start_script(void)
{
    return start_script;
}

void launch_request_free(launch_request *r)
{
    free(r->user);
    free(r->user_label);
    free(r->name);
    free(r->namespace);
    free(r->image);
    free(r->cpu_request);
    free(r->cpu_limit);
    free(r->memory_request);
    free(r->memory_limit);
    free(r->collection);
    shelf_strv_free(&r->modules);
    free(r->collection_json);
    free(r->token);
    free(r->base_url);
    free(r->home);
    memset(r, 0, sizeof *r);
}

char *launch_subst(const launch_request *r, const char *s, const char *port, const char *token)
{
    shelf_buf b;
    shelf_buf_init(&b);
    while (*s) {
        const char *close = *s == '{' ? strchr(s, '}') : NULL;
        const char *val = NULL;
        if (close) {
            size_t n = (size_t)(close - s - 1);
#define IS(word) (n == sizeof word - 1 && strncmp(s + 1, word, n) == 0)
            if (IS("user"))
                val = r->user;
            else if (IS("name"))
                val = r->name;
            else if (IS("profile"))
                val = r->p->name;
            else if (IS("port"))
                val = port;
            else if (IS("token"))
                val = token;
            else if (IS("base_url"))
                val = r->base_url;
            else if (IS("home"))
                val = r->home;
            else if (IS("namespace"))
                val = r->namespace ? r->namespace : "";
#undef IS
        }
        if (val) {
            shelf_buf_adds(&b, val);
            s = close + 1;
        } else {
            shelf_buf_addc(&b, *s++);
        }
    }
    char *out = shelf_buf_take(&b);
    if (!out)
        launch_oom();
    return out;
}

char *launch_dns_label(const char *s, size_t max)
{
    shelf_buf b;
    shelf_buf_init(&b);
    int dash = 0;
    for (const char *c = s; *c; c++) {
        char ch = *c;
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
            if (dash && b.len)
                shelf_buf_addc(&b, '-');
            dash = 0;
            shelf_buf_addc(&b, ch);
        } else {
            dash = 1;
        }
    }
    char *name = shelf_buf_take(&b);
    if (!name)
        launch_oom();
    if (!*name) {
        free(name);
        return NULL;
    }
    if (name[0] >= '0' && name[0] <= '9') {
        char *u = xfmt("u-%s", name);
        free(name);
        name = u;
    }
    if (strlen(name) > max) {
        /* NAME...-xxxxxxxx: the FNV-1a 32 of the whole input keeps
         * shortened names apart */
        char suffix[16];
        snprintf(suffix, sizeof suffix, "-%08lx", (unsigned long)shelf_fnv1a32(s));
        size_t keep = max - strlen(suffix);
        while (keep > 0 && name[keep - 1] == '-')
            keep--;
        memcpy(name + keep, suffix, strlen(suffix) + 1);
    }
    return name;
}

char *launch_label_value(const char *s)
{
    shelf_buf b;
    shelf_buf_init(&b);
    for (const char *c = s; *c && b.len < 63; c++) {
        char ch = *c;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        shelf_buf_addc(&b, ok ? ch : '_');
    }
    char *v = shelf_buf_take(&b);
    if (!v)
        launch_oom();
    size_t n = strlen(v);
    while (n && (v[n - 1] == '.' || v[n - 1] == '_' || v[n - 1] == '-'))
        v[--n] = '\0';
    size_t start = 0;
    while (v[start] == '.' || v[start] == '_' || v[start] == '-')
        start++;
    memmove(v, v + start, n - start + 1);
    return v;
}

/* ---- objects ------------------------------------------------------------ */

static void add_str(cJSON *o, const char *k, const char *v)
{
    xjson(cJSON_AddStringToObject(o, k, v));
}

static cJSON *add_obj(cJSON *o, const char *k)
{
    return xjson(cJSON_AddObjectToObject(o, k));
}

static cJSON *add_arr(cJSON *o, const char *k)
{
    return xjson(cJSON_AddArrayToObject(o, k));
}

static void add_bool(cJSON *o, const char *k, int v)
{
    xjson(cJSON_AddBoolToObject(o, k, v));
}

static void add_num(cJSON *o, const char *k, double v)
{
    xjson(cJSON_AddNumberToObject(o, k, v));
}

static void push_str(cJSON *a, const char *v)
{
    cJSON_AddItemToArray(a, xjson(cJSON_CreateString(v)));
}

static cJSON *push_obj(cJSON *a)
{
    cJSON *o = xjson(cJSON_CreateObject());
    cJSON_AddItemToArray(a, o);
    return o;
}

static void labels(const launch_request *r, cJSON *meta)
{
    cJSON *l = add_obj(meta, "labels");
    add_str(l, "app.kubernetes.io/name", "shelf-notebook");
    add_str(l, "app.kubernetes.io/instance", r->name);
    add_str(l, "app.kubernetes.io/component", "notebook");
    add_str(l, "app.kubernetes.io/managed-by", "shelf");
    add_str(l, "shelf.dev/user", r->user_label);
    add_str(l, "shelf.dev/profile", r->p->name);
}

static cJSON *metadata(const launch_request *r, cJSON *obj)
{
    cJSON *meta = add_obj(obj, "metadata");
    add_str(meta, "name", r->name);
    if (r->namespace)
        add_str(meta, "namespace", r->namespace);
    labels(r, meta);
    cJSON *a = add_obj(meta, "annotations");
    add_str(a, "shelf.dev/user", r->user);
    add_str(a, "shelf.dev/base-url", r->base_url);
    if (r->collection)
        add_str(a, "shelf.dev/collection", r->collection);
    return meta;
}

static void env(cJSON *a, const char *name, const char *value)
{
    cJSON *e = push_obj(a);
    add_str(e, "name", name);
    add_str(e, "value", value);
}

static void volume_source(const launch_request *r, cJSON *v, const launch_volume *vol,
                          int read_only)
{
    char *s;
    switch (vol->kind) {
    case LAUNCH_VOL_PVC: {
        cJSON *pvc = add_obj(v, "persistentVolumeClaim");
        s = launch_subst(r, vol->claim, "", "");
        add_str(pvc, "claimName", s);
        free(s);
        if (read_only)
            add_bool(pvc, "readOnly", 1);
        break;
    }
    case LAUNCH_VOL_NFS: {
        cJSON *nfs = add_obj(v, "nfs");
        add_str(nfs, "server", vol->server);
        s = launch_subst(r, vol->path, "", "");
        add_str(nfs, "path", s);
        free(s);
        if (read_only)
            add_bool(nfs, "readOnly", 1);
        break;
    }
    case LAUNCH_VOL_HOSTPATH: {
        cJSON *hp = add_obj(v, "hostPath");
        s = launch_subst(r, vol->path, "", "");
        add_str(hp, "path", s);
        free(s);
        add_str(hp, "type", read_only ? "Directory" : "DirectoryOrCreate");
        break;
    }
    case LAUNCH_VOL_EMPTYDIR:
    case LAUNCH_VOL_NONE:
        add_obj(v, "emptyDir");
        break;
    }
}

static cJSON *pod_spec(const launch_request *r, const char *container_name, int with_secret)
{
    const launch_profile *p = r->p;
    cJSON *spec = xjson(cJSON_CreateObject());
    add_bool(spec, "automountServiceAccountToken", 0);
    add_bool(spec, "enableServiceLinks", 0);
    cJSON *psc = add_obj(spec, "securityContext");
    add_bool(psc, "runAsNonRoot", 1);
    add_num(psc, "runAsUser", (double)p->uid);
    add_num(psc, "runAsGroup", (double)p->gid);
    add_num(psc, "fsGroup", (double)p->gid);
    add_str(add_obj(psc, "seccompProfile"), "type", "RuntimeDefault");
    if (p->node_selector.keys.n) {
        cJSON *ns = add_obj(spec, "nodeSelector");
        for (size_t i = 0; i < p->node_selector.keys.n; i++)
            add_str(ns, p->node_selector.keys.v[i], p->node_selector.values.v[i]);
    }
    if (cJSON_GetArraySize(p->tolerations) > 0)
        cJSON_AddItemToObject(spec, "tolerations",
                              xjson(cJSON_Duplicate(p->tolerations, 1)));

    cJSON *c = push_obj(add_arr(spec, "containers"));
    add_str(c, "name", container_name);
    add_str(c, "image", r->image);
    add_str(c, "imagePullPolicy", "IfNotPresent");
    cJSON *cmd = add_arr(c, "command");
    push_str(cmd, "/bin/sh");
    push_str(cmd, "-c");
    push_str(cmd, start_script);
    push_str(cmd, "shelf-start");
    cJSON *args = add_arr(c, "args");
    char port[16];
    snprintf(port, sizeof port, "%d", p->port);
    for (size_t i = 0; i < p->command.n; i++) {
        /* Kubernetes expands $(JUPYTER_TOKEN) from the container's env */
        char *a = launch_subst(r, p->command.v[i], port, with_secret ? "$(JUPYTER_TOKEN)" : "");
        push_str(args, a);
        free(a);
    }
    add_str(c, "workingDir", r->home);
    cJSON *ports = push_obj(add_arr(c, "ports"));
    add_str(ports, "name", "http");
    add_num(ports, "containerPort", p->port);
    add_str(ports, "protocol", "TCP");

    cJSON *e = add_arr(c, "env");
    if (with_secret) {
        cJSON *t = push_obj(e);
        add_str(t, "name", "JUPYTER_TOKEN");
        cJSON *ref = add_obj(add_obj(t, "valueFrom"), "secretKeyRef");
        add_str(ref, "name", r->name);
        add_str(ref, "key", "token");
    }
    char *mp = shelf_strv_join(&p->modulepath, ":");
    char *init = xfmt("%s/share/shelf/init", p->prefix);
    char *shelf_cmd = xfmt("%s/bin/shelf", p->prefix);
    char *bash_env = xfmt("%s/bash", init);
    char *sh_env = xfmt("%s/sh", init);
    char *py = xfmt("%s/share/shelf/python", p->prefix);
    if (!mp)
        launch_oom();
    env(e, "HOME", r->home);
    env(e, "MODULEPATH", mp);
    env(e, "SHELF_CMD", shelf_cmd);
    env(e, "SHELF_INIT", init);
    env(e, "BASH_ENV", bash_env);
    env(e, "ENV", sh_env);
    env(e, "PYTHONPATH", py);
    env(e, "NB_PREFIX", r->base_url);
    if (r->collection) {
        env(e, "SHELF_LAUNCH_COLLECTION", r->collection);
        if (r->collection_json) {
            env(e, "SHELF_LAUNCH_COLLECTION_JSON", r->collection_json);
        } else {
            char *mods = shelf_strv_join(&r->modules, " ");
            if (!mods)
                launch_oom();
            env(e, "SHELF_LAUNCH_MODULES", mods);
            free(mods);
        }
    }
    for (size_t i = 0; i < p->env.keys.n; i++) {
        char *v = launch_subst(r, p->env.values.v[i], port, "");
        env(e, p->env.keys.v[i], v);
        free(v);
    }
    free(mp);
    free(init);
    free(shelf_cmd);
    free(bash_env);
    free(sh_env);
    free(py);

    cJSON *res = add_obj(c, "resources");
    if (r->cpu_request || r->memory_request) {
        cJSON *req = add_obj(res, "requests");
        if (r->cpu_request)
            add_str(req, "cpu", r->cpu_request);
        if (r->memory_request)
            add_str(req, "memory", r->memory_request);
    }
    if (r->cpu_limit || r->memory_limit || r->gpus > 0) {
        cJSON *lim = add_obj(res, "limits");
        if (r->cpu_limit)
            add_str(lim, "cpu", r->cpu_limit);
        if (r->memory_limit)
            add_str(lim, "memory", r->memory_limit);
        if (r->gpus > 0) {
            char g[24];
            snprintf(g, sizeof g, "%ld", r->gpus);
            add_str(lim, "nvidia.com/gpu", g);
        }
    }

    cJSON *mounts = add_arr(c, "volumeMounts");
    cJSON *m = push_obj(mounts);
    add_str(m, "name", "shelf-tree");
    add_str(m, "mountPath", p->tree.mount);
    add_bool(m, "readOnly", 1);
    m = push_obj(mounts);
    add_str(m, "name", "home");
    add_str(m, "mountPath", r->home);

    cJSON *csc = add_obj(c, "securityContext");
    add_bool(csc, "allowPrivilegeEscalation", 0);
    add_bool(csc, "privileged", 0);
    add_bool(csc, "runAsNonRoot", 1);
    push_str(add_arr(add_obj(csc, "capabilities"), "drop"), "ALL");
    add_str(add_obj(csc, "seccompProfile"), "type", "RuntimeDefault");

    cJSON *probe = add_obj(c, "readinessProbe");
    cJSON *get = add_obj(probe, "httpGet");
    char *path = xfmt("%sapi", r->base_url);
    add_str(get, "path", path);
    free(path);
    add_str(get, "port", "http");
    add_num(probe, "initialDelaySeconds", 2);
    add_num(probe, "periodSeconds", 5);
    add_num(probe, "failureThreshold", 60);

    cJSON *vols = add_arr(spec, "volumes");
    cJSON *v = push_obj(vols);
    add_str(v, "name", "shelf-tree");
    volume_source(r, v, &p->tree, 1);
    v = push_obj(vols);
    add_str(v, "name", "home");
    volume_source(r, v, &p->home, 0);
    return spec;
}

cJSON *launch_render(const launch_request *r)
{
    cJSON *list = xjson(cJSON_CreateObject());
    add_str(list, "apiVersion", "v1");
    add_str(list, "kind", "List");
    add_obj(list, "metadata");
    cJSON *items = add_arr(list, "items");

    if (strcmp(r->p->kind, "notebook") == 0) {
        cJSON *nb = push_obj(items);
        add_str(nb, "apiVersion", "kubeflow.org/v1");
        add_str(nb, "kind", "Notebook");
        metadata(r, nb);
        cJSON *tmpl = add_obj(add_obj(nb, "spec"), "template");
        labels(r, add_obj(tmpl, "metadata"));
        cJSON_AddItemToObject(tmpl, "spec", pod_spec(r, r->name, 0));
        return list;
    }

    cJSON *secret = push_obj(items);
    add_str(secret, "apiVersion", "v1");
    add_str(secret, "kind", "Secret");
    metadata(r, secret);
    add_str(secret, "type", "Opaque");
    add_str(add_obj(secret, "stringData"), "token", r->token);

    cJSON *pod = push_obj(items);
    add_str(pod, "apiVersion", "v1");
    add_str(pod, "kind", "Pod");
    metadata(r, pod);
    cJSON *spec = pod_spec(r, "notebook", 1);
    add_str(spec, "restartPolicy", "Always");
    cJSON_AddItemToObject(pod, "spec", spec);

    cJSON *svc = push_obj(items);
    add_str(svc, "apiVersion", "v1");
    add_str(svc, "kind", "Service");
    metadata(r, svc);
    cJSON *sspec = add_obj(svc, "spec");
    add_str(sspec, "type", "ClusterIP");
    cJSON *sel = add_obj(sspec, "selector");
    add_str(sel, "app.kubernetes.io/instance", r->name);
    add_str(sel, "shelf.dev/user", r->user_label);
    cJSON *sp = push_obj(add_arr(sspec, "ports"));
    add_str(sp, "name", "http");
    add_num(sp, "port", 80);
    add_str(sp, "targetPort", "http");
    add_str(sp, "protocol", "TCP");
    return list;
}
