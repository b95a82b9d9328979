#ifndef SHELF_CLI_H
#define SHELF_CLI_H
#endif
