/*
 * lambda_int.h — internals shared by the engine's own files (not for other modules).
 */
#ifndef HAAR_CLOUD_LAMBDA_INT_H
#define HAAR_CLOUD_LAMBDA_INT_H

#include <stdbool.h>
#include <stddef.h>

struct lambda_inv;

/* Unpacks a zip into dir (created, with parents), keeping exec bits; refuses absolute
 * paths and "..". Returns 0, or -1 with an AWS-style message. (code.c) */
int lambda__unzip(const void *zip, size_t len, const char *dir, char *msg, size_t msglen);

/* Ends an admitted invocation with the function's answer (engine.c). */
void lambda__finish(struct lambda_inv *inv, bool function_error, const char *body, size_t len);

#endif
