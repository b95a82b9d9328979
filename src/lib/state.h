#ifndef SHELF_STATE_H
#define SHELF_STATE_H
#endif
