/*
 * status.h — HTTP status codes' reason phrases (RFC 9110), for the status lines haar writes.
 * Pure; any thread.
 */
#ifndef HAAR_CORE_STATUS_H
#define HAAR_CORE_STATUS_H

/* The reason phrase of status ("Not Found"); for a code without a registered phrase, the
 * class's ("Client Error"). A static string. */
const char *status_reason(int status);

#endif
