#ifndef SHELF_ENVMODEL_H
#define SHELF_ENVMODEL_H
#endif
