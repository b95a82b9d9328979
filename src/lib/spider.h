/*
 * spider.h -- the spider record (spider.c): what evaluating one modulefile
 * in spider mode tells.
 */
#ifndef SHELF_SPIDER_H
#define SHELF_SPIDER_H

#include "modulefile.h"
#include "shelf.h"

typedef struct shelf_spider_rec {
    char *description; /* whatis("Description: ...") */
    char *category;    /* whatis("Category: ...") */
    char *keywords;    /* whatis("Keywords: ...") */
    char *url;         /* whatis("URL: ...") */
    char *help;        /* help() texts joined */
    char *family;      /* family("compiler") */
    shelf_strv whatis; /* every whatis() text, in order */
    shelf_strv props;  /* add_property(): "name=value" */
    shelf_strv opens;  /* directories it adds to MODULEPATH, normalized */
    shelf_strv deps;   /* names given to depends_on/load/prereq and friends */
} shelf_spider_rec;

void shelf_spider_rec_init(shelf_spider_rec *r);
void shelf_spider_rec_free(shelf_spider_rec *r); /* then r is empty again */

/* Adds what the modulefile call c tells to r; calls that tell nothing
 * (setenv, prepend_path of other variables...) are ignored.
 * 0 or SHELF_ENOMEM (r keeps what it held). */
int shelf_spider_collect(shelf_spider_rec *r, const shelf_mf_call *c);

#endif
