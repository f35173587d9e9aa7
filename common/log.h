/* Logging: one line per event to stderr in the foreground or to syslog as a daemon. */
#ifndef TROSYN_LOG_H
#define TROSYN_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN = 1,
	LOG_LEVEL_INFO = 2,
	LOG_LEVEL_DEBUG = 3
};

/*
 * Start logging as PROGNAME at LEVEL.  With USE_SYSLOG non-zero lines go to
 * syslog(3) (facility daemon), otherwise to stderr with a UTC timestamp.
 * Safe to call again (for example after daemonizing or on reload).
 */
void log_init(const char *progname, int level, int use_syslog);

/* Change the level at run time (SIGHUP reload); thread-safe. */
void log_set_level(int level);

/* Current level. */
int log_get_level(void);

/* Parse "debug", "info", "warn" or "error"; returns the level or -1. */
int log_level_parse(const char *name);

/* Name of a level ("info", ...). */
const char *log_level_name(int level);

void log_msg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_vmsg(int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Log at error level and exit(1); for start-up failures only. */
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* As fatalx, with ": strerror(errno)" appended. */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#define log_err(...)	log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)	do { if (log_get_level() >= LOG_LEVEL_DEBUG) \
				log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__); } while (0)

#endif /* TROSYN_LOG_H */
