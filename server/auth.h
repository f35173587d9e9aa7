/* Hub side of the login exchange (PROTOCOL.md section 6). */
#ifndef TROSYN_AUTH_H
#define TROSYN_AUTH_H

#include "hub.h"

/* Value of hub_conn.method for a token login. */
#define AUTH_METHOD_TOKEN 3

/*
 * Run the login on HC (TLS is up, HC->c initialized, HC->exporter set):
 * AUTH_CHALLENGE, AUTH_REQUEST checked in the order of section 6 step 3,
 * AUTH_RESPONSE.  On success HC->session, HC->method and HC->authed are set,
 * HC->c uses the connection's rotating keys, and 0 is returned.  On failure
 * the ERROR has been sent (signed with the site key), the failure counted
 * against the peer's address and logged, and a negative code is returned:
 * the caller closes.  A peer that goes silent or away gets no ERROR.
 */
int auth_login(struct hub_conn *hc);

#endif /* TROSYN_AUTH_H */
