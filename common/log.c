/* Logging to stderr or syslog with a run-time level. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <pthread.h>

#include "log.h"

/* Quiet by default: a program that embeds libtrosyn sees warnings only. */
static int log_level = LOG_LEVEL_WARN;
static int log_syslog;
static char log_name[64] = "trosyn";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* Start logging as PROGNAME at LEVEL, to syslog or stderr. */
void
log_init(const char *progname, int level, int use_syslog)
{
	pthread_mutex_lock(&log_lock);
	if (progname != NULL)
		snprintf(log_name, sizeof(log_name), "%s", progname);
	if (log_syslog && !use_syslog)
		closelog();
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(log_name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&log_lock);
}

/* Change the level at run time. */
void
log_set_level(int level)
{
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

/* Current level. */
int
log_get_level(void)
{
	return __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

/* Parse a level name; -1 when unknown. */
int
log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

/* Name of a level. */
const char *
log_level_name(int level)
{
	if (level < 0 || level > LOG_LEVEL_DEBUG)
		return "unknown";
	return level_names[level];
}

/* Write one line at LEVEL. */
void
log_vmsg(int level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[1024], stamp[32];
	struct timespec ts;
	struct tm tm;

	if (level > log_get_level())
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	/* Never let a peer's bytes forge extra log lines. */
	for (char *p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20)
			*p = '?';
	if (log_syslog) {
		syslog(prio[level], "%s", line);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s.%03ldZ %s[%s]: %s\n", stamp, ts.tv_nsec / 1000000,
	    log_name, level_names[level], line);
	pthread_mutex_unlock(&log_lock);
}

/* Write one line at LEVEL. */
void
log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/* Log at error level and exit(1). */
void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Log with strerror(errno) appended and exit(1). */
void
fatal(const char *fmt, ...)
{
	char buf[900];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_err("%s: %s", buf, strerror(saved));
	exit(1);
}
