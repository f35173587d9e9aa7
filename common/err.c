/* Error code strings and their mapping to protocol error codes. */
#include "config.h"

#include <stddef.h>

#include "err.h"
#include "trosyn-protocol.h"

static const char *const err_strings[] = {
	[0] = "success",
	[-TR_ENOMEM] = "out of memory",
	[-TR_EINVAL] = "malformed input",
	[-TR_EIO] = "input/output error",
	[-TR_ETIMEDOUT] = "timed out",
	[-TR_ECLOSED] = "connection closed by peer",
	[-TR_ETRUNC] = "connection closed in the middle of a frame",
	[-TR_ETOOBIG] = "too large",
	[-TR_EFRAMETYPE] = "unknown or misplaced frame type",
	[-TR_EJSON] = "invalid JSON",
	[-TR_EDUPKEY] = "duplicate key in JSON object",
	[-TR_ERANGE] = "number out of range",
	[-TR_EVERSION] = "unsupported protocol version",
	[-TR_ESIG] = "bad signature",
	[-TR_ECRYPTO] = "cryptographic operation failed",
	[-TR_EAUTHTAG] = "authentication tag mismatch",
	[-TR_ETLS] = "TLS failure",
	[-TR_ECONF] = "configuration error",
	[-TR_EDB] = "database error",
	[-TR_ENOTFOUND] = "not found",
	[-TR_EEXIST] = "already exists",
	[-TR_EACCES] = "access denied",
	[-TR_ESKEW] = "clock skew too large",
	[-TR_ETOKEN] = "invalid or expired session token",
	[-TR_EBUSY] = "busy",
	[-TR_EPROTO] = "protocol violation",
	[-TR_ENOSYS] = "not implemented",
	[-TR_EPIN] = "certificate fingerprint mismatch",
	[-TR_ESYS] = "system call failed",
};

/* Return a static, human-readable string for a TR_E* code. */
const char *
tr_strerror(int err)
{
	if (err > 0 || err <= TR_ELAST)
		return "unknown error";
	return err_strings[-err];
}

/* Return the protocol error code that best answers a TR_E* code. */
const char *
tr_err_code(int err)
{
	switch (err) {
	case TR_EINVAL:
	case TR_EJSON:
	case TR_EDUPKEY:
	case TR_ERANGE:
	case TR_EFRAMETYPE:
	case TR_EPROTO:
	case TR_EAUTHTAG:
		return TR_CODE_INVALID_REQUEST;
	case TR_ETOOBIG:
		return TR_CODE_TOO_LARGE;
	case TR_EVERSION:
		return TR_CODE_UNSUPPORTED_VERSION;
	case TR_ESIG:
	case TR_EACCES:
		return TR_CODE_ACCESS_DENIED;
	case TR_ESKEW:
		return TR_CODE_CLOCK_SKEW;
	case TR_ETOKEN:
		return TR_CODE_INVALID_TOKEN;
	case TR_ENOTFOUND:
		return TR_CODE_NOT_FOUND;
	case TR_EBUSY:
		return TR_CODE_BUSY;
	default:
		return TR_CODE_INTERNAL_ERROR;
	}
}
