/*
 * api-respond.c -- how shelfd's endpoints read a request and answer: JSON
 * answers and errors (each libshelf error with its HTTP status and code
 * word from the one error map), query parameters, bodies, method checks,
 * and the name checks made before anything touches the file system.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api-internal.h"
#include "shelf.h"

/* What a response says when even the error could not be allocated. */
static char oom_body[] =
    "{\"error\":{\"code\":\"out_of_memory\",\"message\":\"out of memory\","
    "\"module\":null,\"file\":null,\"line\":null}}";

/* ---- responses -------------------------------------------------------------- */

void api_respond_oom(api_response *r)
{
    free(r->body != oom_body ? r->body : NULL);
    r->status = 500;
    r->body = oom_body;
    r->len = sizeof oom_body - 1;
}

void api_respond(api_response *r, int status, cJSON *doc)
{
    char *text = shelf_json_text(doc, 0);
    cJSON_Delete(doc);
    if (!text) {
        api_respond_oom(r);
        return;
    }
    r->status = status;
    r->body = text;
    r->len = strlen(text);
}

void api_respond_error(api_response *r, int status, const char *code, const char *module,
                          const char *file, int line, const char *message)
{
    cJSON *doc = shelf_json_error(code, message, module, file, line);
    if (!doc) {
        api_respond_oom(r);
        return;
    }
    api_respond(r, status, doc);
}

void api_respond_errorf(api_response *r, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *message = shelf_vfmt(fmt, ap);
    va_end(ap);
    if (!message)
        api_respond_oom(r);
    else
        api_respond_error(r, status, code, NULL, NULL, 0, message);
    free(message);
}

/* A libshelf error as HTTP: its status and code word (SHELF_ERRNO_MAP). */
void api_respond_shelf(api_response *r, const shelf_error *err)
{
    if (err->code == SHELF_ENOMEM) {
        api_respond_oom(r);
        return;
    }
    api_respond_error(r, shelf_err_http_status(err->code), shelf_err_name(err->code), err->module,
                  err->file, err->line, err->message ? err->message : shelf_strerror(err->code));
}

void api_respond_result(api_response *r, int rc, const shelf_error *err, int status,
                        cJSON *doc)
{
    if (rc == 0 && doc) {
        api_respond(r, status, doc);
        return;
    }
    cJSON_Delete(doc);
    if (rc == 0 || rc == SHELF_ENOMEM)
        api_respond_oom(r);
    else
        api_respond_shelf(r, err);
}

void api_response_free(api_response *resp)
{
    if (resp->body != oom_body)
        free(resp->body);
    resp->body = NULL;
    resp->len = 0;
}

/* ---- small helpers ------------------------------------------------------------ */

const char *api_query(const api_request *req, const char *key)
{
    for (size_t i = 0; i < req->nquery; i++)
        if (req->qkeys[i] && strcmp(req->qkeys[i], key) == 0)
            return req->qvals[i] ? req->qvals[i] : "";
    return NULL;
}

/* ?all, ?all=1, ?all=true: 1; absent, 0, false, no: 0. */
int api_query_flag(const api_request *req, const char *key)
{
    const char *v = api_query(req, key);
    return v && strcmp(v, "0") != 0 && strcasecmp(v, "false") != 0 && strcasecmp(v, "no") != 0;
}

/* A module name from a request: 1-1024 bytes, no leading "/", no empty,
 * "." or ".." component, no backslash, no control character. Checked
 * before the name reaches anything that reads the file system. */
static int api_name_ok(const char *name, const char **why)
{
    size_t n = strlen(name);
    *why = NULL;
    if (n == 0)
        *why = "is empty";
    else if (n > MAX_NAME_LEN)
        *why = "is too long";
    else if (name[0] == '/')
        *why = "starts with \"/\"";
    else if (strchr(name, '\\'))
        *why = "contains a backslash";
    for (const unsigned char *p = (const unsigned char *)name; !*why && *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *why = "contains a control character";
    for (const char *p = name; !*why && p;) {
        const char *q = strchr(p, '/');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        if (len == 0)
            *why = "has an empty component";
        else if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            *why = "has a \".\" or \"..\" component";
        p = q ? q + 1 : NULL;
    }
    return *why == NULL;
}

int api_check_name(api_response *r, const char *name)
{
    const char *why;
    if (api_name_ok(name, &why))
        return 1;
    api_respond_errorf(r, 400, "bad_name", "bad module name \"%s\": it %s", name, why);
    return 0;
}

int api_check_collection_name(api_response *r, const char *name)
{
    shelf_error err = {0};
    if (shelf_collection_name_check(name, &err) == 0)
        return 1;
    api_respond_shelf(r, &err); /* SHELF_EUSAGE */
    shelf_error_clear(&err);
    return 0;
}

/* Parses the body as a JSON object: an empty body is {} unless required.
 * NULL with the 400 answered. */
cJSON *api_parse_body(const api_request *req, api_response *r, int required)
{
    size_t len = req->body ? req->body_len : 0;
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", req->body[i]))
        i++;
    if (i == len) {
        if (!required)
            return cJSON_CreateObject();
        api_respond_error(r, 400, "bad_request", NULL, NULL, 0, "a JSON object body is required");
        return NULL;
    }
    shelf_json_where at;
    cJSON *doc = shelf_json_parse(req->body, len, &at);
    if (!doc && at.code == SHELF_ENOMEM) {
        api_respond_oom(r);
        return NULL;
    }
    if (!doc && at.code == SHELF_EUSAGE) {
        api_respond_error(r, 400, "bad_json", NULL, NULL, 0,
                      "a NUL character (\\u0000) in the body");
        return NULL;
    }
    if (!doc) {
        api_respond_errorf(r, 400, "bad_json", "malformed JSON body (at byte %zu)", at.offset);
        return NULL;
    }
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        api_respond_error(r, 400, "bad_request", NULL, NULL, 0, "the body must be a JSON object");
        return NULL;
    }
    return doc;
}

int api_method_is(const api_request *req, const char *m)
{
    return req->method && strcmp(req->method, m) == 0;
}

/* 1 when req's method is one of `allow` ("GET, POST"), else answers 405. */
int api_method_ok(const api_request *req, api_response *r, const char *allow)
{
    size_t n = req->method ? strlen(req->method) : 0;
    for (const char *p = allow; n && p;) {
        if (strncmp(p, req->method, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return 1;
        p = strchr(p, ',');
        p = p ? p + 2 : NULL;
    }
    r->allow = allow;
    api_respond_errorf(r, 405, "method_not_allowed", "%s is not allowed here (allowed: %s)",
                   req->method ? req->method : "(none)", allow);
    return 0;
}
