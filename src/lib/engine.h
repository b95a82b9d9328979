#ifndef SHELF_ENGINE_H
#define SHELF_ENGINE_H
#endif
