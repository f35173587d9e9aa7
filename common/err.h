/* Error codes shared by every module: 0 is success, a negative TR_E* is a failure. */
#ifndef TROSYN_ERR_H
#define TROSYN_ERR_H

enum tr_err {
	TR_OK = 0,
	TR_ENOMEM = -1,		/* out of memory */
	TR_EINVAL = -2,		/* malformed input (maps to INVALID_REQUEST) */
	TR_EIO = -3,		/* I/O error on a socket or file */
	TR_ETIMEDOUT = -4,	/* a blocking call ran into its timeout */
	TR_ECLOSED = -5,	/* the peer closed the connection cleanly */
	TR_ETRUNC = -6,		/* the peer closed in the middle of a frame */
	TR_ETOOBIG = -7,	/* a frame or value is over its limit (TOO_LARGE) */
	TR_EFRAMETYPE = -8,	/* unknown frame type, or one not allowed here */
	TR_EJSON = -9,		/* JSON text is not valid (syntax, UTF-8, depth) */
	TR_EDUPKEY = -10,	/* duplicate member in a JSON object */
	TR_ERANGE = -11,	/* integer outside +-(2^53-1), or number not finite */
	TR_EVERSION = -12,	/* unsupported protocol major version */
	TR_ESIG = -13,		/* signature does not verify */
	TR_ECRYPTO = -14,	/* an OpenSSL primitive failed */
	TR_EAUTHTAG = -15,	/* AES-GCM tag does not verify */
	TR_ETLS = -16,		/* TLS handshake or record layer failure */
	TR_ECONF = -17,		/* configuration error */
	TR_EDB = -18,		/* SQLite error */
	TR_ENOTFOUND = -19,	/* no such object */
	TR_EEXIST = -20,	/* object already exists */
	TR_EACCES = -21,	/* permission denied */
	TR_ESKEW = -22,		/* timestamp outside the allowed clock skew */
	TR_ETOKEN = -23,	/* session token unknown or expired */
	TR_EBUSY = -24,		/* the peer or a resource is saturated */
	TR_EPROTO = -25,	/* the peer broke the protocol (unexpected message) */
	TR_ENOSYS = -26,	/* not implemented */
	TR_EPIN = -27,		/* certificate does not match the pinned fingerprint */
	TR_ESYS = -28,		/* a system call failed (see errno) */
	TR_ELAST = -29
};

/* Return a static, human-readable string for a TR_E* code (or TR_OK). */
const char *tr_strerror(int err);

/* Return the PROTOCOL.md section 10 code name that best answers a TR_E* code. */
const char *tr_err_code(int err);

#endif /* TROSYN_ERR_H */
