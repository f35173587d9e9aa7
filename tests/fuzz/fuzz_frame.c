/* Fuzz target: a byte stream read as frames through a socket pair. */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "err.h"
#include "frame.h"

/* Inputs larger than this are ignored so one write always fits the socket buffer. */
#define FUZZ_FRAME_MAX	16384

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read frames from FD until the first error, checking what comes back. */
static void
fuzz_read_frames(int fd)
{
	static const struct frame_limits lim = { 4096, 1024 };
	struct frame_conn c = { .fd = fd, .ssl = NULL };
	uint8_t chunk[1024], type, first;
	uint32_t len, max;
	char *body;
	size_t blen;
	int rc;

	for (;;) {
		if (recv(fd, &first, 1, MSG_PEEK) != 1)
			return;
		if (first == TR_FRAME_CHUNK) {
			rc = frame_read_header(&c, &lim, &type, &len, &max);
			if (rc == TR_ETOOBIG && max != lim.max_chunk)
				abort();
			if (rc != 0)
				return;
			if (type != TR_FRAME_CHUNK || len > sizeof(chunk))
				abort();
			if (frame_read_full(&c, chunk, len) != 0)
				return;
			continue;
		}
		rc = frame_read_json(&c, &lim, &body, &blen, &max);
		if (rc != 0) {
			if (body != NULL)
				abort();
			if (rc == TR_ETOOBIG && max != lim.max_json)
				abort();
			return;
		}
		if (blen > lim.max_json || body[blen] != '\0')
			abort();
		free(body);
	}
}

/* Feed DATA through one end of a socket pair and read it back as frames. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct timeval tv = { 1, 0 };
	int sv[2];

	if (size > FUZZ_FRAME_MAX)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 0;
	setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (size > 0 && send(sv[0], data, size, MSG_NOSIGNAL) != (ssize_t)size)
		goto out;
	shutdown(sv[0], SHUT_WR);
	fuzz_read_frames(sv[1]);
out:
	close(sv[0]);
	close(sv[1]);
	return 0;
}
