/* trosyn-hubd start-up, signal handling, reload and shutdown. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "acceptor.h"
#include "blob.h"
#include "control.h"
#include "db.h"
#include "discovery.h"
#include "err.h"
#include "heartbeat.h"
#include "hub.h"
#include "hubd.h"
#include "hubdb.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "session.h"
#include "statedir.h"
#include "thr.h"
#include "tls.h"
#include "transfer.h"

#define PROG "trosyn-hubd"

/* Queue of the rejection path: a few sockets waiting for their BUSY. */
#define HUBD_REJECT_DEPTH 16
/* How often old tombstones are purged, and the retry while pulls run. */
#define HUBD_PURGE_INTERVAL_MS	60000
#define HUBD_PURGE_RETRY_MS	1000

/* Default configuration file path. */
const char *
hubd_default_config(void)
{
	return SYSCONFDIR "/trosyn/hubd.conf";
}

/* Load defaults, the file, the overrides; validate. */
int
hubd_load_conf(const struct hubd_opts *opts, struct conf *conf,
    int *defaults_only, int *usage, char *err, size_t errlen)
{
	const char *path = opts->config != NULL ? opts->config :
	    hubd_default_config();
	char why[CONF_ERR_LEN];
	struct conf c;
	int rc;

	*defaults_only = 0;
	*usage = 0;
	conf_defaults(&c, CONF_HUB);
	rc = conf_load(&c, path, why, sizeof(why));
	if (rc == TR_ENOTFOUND && opts->config == NULL) {
		*defaults_only = 1;
		rc = 0;
	}
	if (rc != 0) {
		snprintf(err, errlen, "configuration: %s", why);
		goto fail;
	}
	for (int i = 0; i < opts->noverrides; i++) {
		if ((rc = conf_set(&c, opts->keys[i], opts->values[i], why,
		    sizeof(why))) != 0) {
			snprintf(err, errlen, "%s: %s", opts->flags[i], why);
			*usage = 1;
			goto fail;
		}
	}
	if ((rc = conf_validate(&c, why, sizeof(why))) != 0) {
		snprintf(err, errlen, "configuration: %s", why);
		goto fail;
	}
	*conf = c;
	return 0;
fail:
	conf_free(&c);
	return rc;
}

/* Copy the current limits out of the config. */
void
hub_limits_get(struct hub *hub, struct hub_limits *lim)
{
	thr_rdlock(&hub->conf_lock);
	lim->max_message_size = hub->conf.max_message_size;
	lim->max_clock_skew = hub->conf.max_clock_skew;
	lim->session_lifetime = hub->conf.session_lifetime;
	lim->rotate_every = hub->conf.rotate_every;
	lim->heartbeat_interval = hub->conf.heartbeat_interval;
	lim->batch_size = hub->conf.batch_size;
	lim->max_batch = hub->conf.max_batch;
	lim->chunk_size = hub->conf.chunk_size;
	lim->max_file_size = hub->conf.max_file_size;
	lim->auth_timeout = hub->conf.auth_timeout;
	lim->idle_timeout = hub->conf.idle_timeout;
	thr_rwunlock(&hub->conf_lock);
}

/* Non-zero once shutdown has begun. */
int
hub_stopping(struct hub *hub)
{
	return __atomic_load_n(&hub->stopping, __ATOMIC_ACQUIRE);
}

/* Switch to USER (after binding). */
static int
hubd_drop_privileges(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;

	if (user == NULL || *user == '\0')
		return 0;
	if (geteuid() != 0) {
		snprintf(err, errlen, "cannot switch to user %s: not root",
		    user);
		return TR_EACCES;
	}
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "cannot switch to user %s: no such user",
		    user);
		return TR_ENOTFOUND;
	}
	if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		snprintf(err, errlen, "cannot switch to user %s: %s", user,
		    strerror(errno));
		return TR_ESYS;
	}
	if (setuid(0) == 0) {
		snprintf(err, errlen, "privileges of root could be regained "
		    "after switching to %s", user);
		return TR_EACCES;
	}
	return 0;
}

/*
 * Write end of the pipe the detached daemon reports its start-up on: the
 * launching process waits for it, so an init script sees a failure that
 * happens after detaching (exit 1 and the reason) instead of exit 0.
 */
static int hubd_ready_fd = -1;

/* Report the start-up outcome to the launching process (MSG NULL: ready). */
static void
hubd_report(const char *msg)
{
	ssize_t n;

	if (hubd_ready_fd < 0)
		return;
	if (msg == NULL)
		n = write(hubd_ready_fd, "R", 1);
	else
		n = write(hubd_ready_fd, msg, strlen(msg));
	(void)n;
	close(hubd_ready_fd);
	hubd_ready_fd = -1;
}

/* Log a start-up failure and report it to the launching process. */
static void
hubd_fail(const char *msg)
{
	log_err("%s", msg);
	hubd_report(msg);
}

/* In the launching process: wait for the daemon's report and exit with it. */
static void
hubd_await_ready(int fd)
{
	char buf[1024];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(buf) - 1 &&
	    (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (len == 1 && buf[0] == 'R')
		_exit(0);
	fprintf(stderr, PROG ": %s\n", len > 0 ? buf :
	    "the daemon exited during start-up (see the system log)");
	_exit(1);
}

/* Detach from the terminal: fork, setsid, fork, stdio to /dev/null. */
static int
hubd_daemonize(char *err, size_t errlen)
{
	int ready[2], fd;
	pid_t pid;

	if (pipe(ready) != 0)
		goto fail;
	if ((pid = fork()) < 0)
		goto fail;
	if (pid > 0) {
		close(ready[1]);
		hubd_await_ready(ready[0]);
	}
	close(ready[0]);
	hubd_ready_fd = ready[1];
	if (setsid() < 0 || (pid = fork()) < 0)
		goto fail;
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		goto fail;
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return 0;
fail:
	snprintf(err, errlen, "cannot daemonize: %s", strerror(errno));
	return TR_ESYS;
}

/* Write our pid to PATH through a temp file and rename. */
static int
hubd_write_pidfile(const char *path, char *err, size_t errlen)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (statedir_write_file(path, buf, (size_t)n, 0644) != 0) {
		snprintf(err, errlen, "cannot write pidfile %s: %s", path,
		    strerror(errno));
		return TR_ESYS;
	}
	return 0;
}

/* Re-read the configuration on SIGHUP; keep the old one on any error. */
static void
hubd_reload(struct hub *hub, const struct hubd_opts *opts)
{
	char err[CONF_ERR_LEN + 64];
	int defaults_only, usage;
	struct conf c, old;

	if (hubd_load_conf(opts, &c, &defaults_only, &usage, err,
	    sizeof(err)) != 0) {
		log_err("reload refused, keeping the running configuration: %s",
		    err);
		return;
	}
	if (c.port != hub->conf.port || c.file_port != hub->conf.file_port ||
	    c.discovery_port != hub->conf.discovery_port ||
	    strcmp(c.bind, hub->conf.bind) != 0 ||
	    strcmp(c.multicast_group, hub->conf.multicast_group) != 0 ||
	    strcmp(c.multicast_interface, hub->conf.multicast_interface) != 0 ||
	    c.workers != hub->conf.workers ||
	    c.transfer_workers != hub->conf.transfer_workers ||
	    c.queue_depth != hub->conf.queue_depth ||
	    strcmp(c.state_dir, hub->conf.state_dir) != 0 ||
	    strcmp(c.user, hub->conf.user) != 0 ||
	    strcmp(c.pidfile, hub->conf.pidfile) != 0 ||
	    c.metrics_port != hub->conf.metrics_port)
		log_warn("reload: bind, ports, multicast, workers, "
		    "queue_depth, state_dir, user, pidfile and metrics_port "
		    "change only on restart; the running values stay");
	thr_wrlock(&hub->conf_lock);
	old = hub->conf;
	hub->conf = c;
	thr_rwunlock(&hub->conf_lock);
	conf_free(&old);
	log_set_level(c.log_level);
	authfail_set_limit(hub->af, c.max_auth_failures);
	log_info("configuration reloaded (%zu collections, log level %s)",
	    c.ncollections, log_level_name(c.log_level));
}

/*
 * Purge the tombstones older than journal_retain and raise the journal
 * floor, unless a pull is running (it must not lose a tombstone it has not
 * sent yet).  Returns 0 when it ran, 1 when it has to wait for the pulls.
 */
static int
hubd_purge(struct hub *hub)
{
	int64_t retain, floor = 0;
	int purged = 0, rc;

	thr_rdlock(&hub->conf_lock);
	retain = hub->conf.journal_retain;
	thr_rwunlock(&hub->conf_lock);
	if (pthread_rwlock_trywrlock(&hub->journal_lock) != 0)
		return 1;
	if ((rc = db_begin(hub->maint_db)) == 0 &&
	    (rc = journal_purge(hub->maint_db, msg_now_ms(), retain,
	    &purged)) == 0 &&
	    (rc = journal_floor(hub->maint_db, &floor)) == 0)
		rc = db_commit(hub->maint_db);
	if (rc != 0)
		db_rollback(hub->maint_db);
	thr_rwunlock(&hub->journal_lock);
	if (rc != 0)
		log_err("journal: purging tombstones failed: %s",
		    tr_strerror(rc));
	else if (purged > 0)
		log_info("journal: purged %d tombstone(s) older than %" PRId64
		    " s; floor now %" PRId64, purged, retain, floor);
	return 0;
}

/*
 * Wait for signals: stop on SIGTERM/SIGINT, reload on SIGHUP; purge
 * tombstones every HUBD_PURGE_INTERVAL_MS and after each SIGHUP.
 */
static void
hubd_wait(struct hub *hub, const struct hubd_opts *opts)
{
	struct timespec tick = { 1, 0 };
	long long next_purge = thr_mono_ms() + HUBD_PURGE_INTERVAL_MS;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (;;) {
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("signal %s: shutting down", sig == SIGTERM ?
			    "SIGTERM" : "SIGINT");
			return;
		}
		if (sig == SIGHUP) {
			hubd_reload(hub, opts);
			next_purge = 0;
		}
		registry_expire(hub->reg, msg_now_ms());
		pool_expire(hub->main_pool, thr_mono_ms());
		pool_expire(hub->reject_pool, thr_mono_ms());
		pool_expire(hub->file_pool, thr_mono_ms());
		if (thr_mono_ms() >= next_purge)
			next_purge = thr_mono_ms() + (hubd_purge(hub) == 0 ?
			    HUBD_PURGE_INTERVAL_MS : HUBD_PURGE_RETRY_MS);
	}
}

/* Free everything the hub holds (threads already stopped). */
static void
hubd_free(struct hub *hub)
{
	discovery_free(hub->disc);
	pool_free(hub->main_pool);
	pool_free(hub->reject_pool);
	pool_free(hub->file_pool);
	if (hub->file_dbs != NULL)
		for (int i = 0; i < hub->nfile_dbs; i++)
			db_close(hub->file_dbs[i]);
	free(hub->file_dbs);
	transfer_free(hub->xfer);
	blob_store_close(hub->blobs);
	if (hub->main_dbs != NULL)
		for (int i = 0; i < hub->nmain_dbs; i++)
			db_close(hub->main_dbs[i]);
	free(hub->main_dbs);
	db_close(hub->maint_db);
	registry_free(hub->reg);
	authfail_free(hub->af);
	SSL_CTX_free(hub->tls_main);
	SSL_CTX_free(hub->tls_file);
	statedir_free(&hub->keys);
	conf_free(&hub->conf);
	pthread_rwlock_destroy(&hub->conf_lock);
	pthread_rwlock_destroy(&hub->journal_lock);
}

/* Run the hub until SIGTERM or SIGINT. */
int
hubd_run(const struct hubd_opts *opts, struct conf *conf)
{
	char err[CONF_ERR_LEN + 4096], path[4096], pidfile[4096] = "";
	struct tls_creds creds;
	struct hub hub;
	sigset_t all;
	int lfd = -1, ffd = -1, mfd = -1, status = 1;
	int use_syslog = !opts->foreground;
	uint16_t metrics_port = 0;

	memset(&hub, 0, sizeof(hub));
	pthread_rwlock_init(&hub.conf_lock, NULL);
	pthread_rwlock_init(&hub.journal_lock, NULL);
	hub.conf = *conf;
	memset(conf, 0, sizeof(*conf));
	snprintf(hub.state_dir, sizeof(hub.state_dir), "%s",
	    hub.conf.state_dir[0] != '\0' ? hub.conf.state_dir :
	    LOCALSTATEDIR "/lib/trosyn");
	log_init(PROG, hub.conf.log_level, 0);

	/* Signals are taken by this thread alone, with sigtimedwait. */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGABRT);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (statedir_check(hub.state_dir, err, sizeof(err)) != 0 ||
	    statedir_load(hub.state_dir, &hub.keys, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": state directory: %s\n", err);
		goto out;
	}
	creds.cert_pem = hub.keys.hub_cert_pem;
	creds.key_pem = hub.keys.hub_key_pem;
	creds.ca_pem = hub.keys.ca_pem;
	if ((hub.tls_main = tls_server_ctx_new(&creds, 1, err,
	    sizeof(err))) == NULL ||
	    (hub.tls_file = tls_server_ctx_new(&creds, 0, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, PROG ": TLS: %s\n", err);
		goto out;
	}
	if (acceptor_listen(hub.conf.bind, hub.conf.port, &lfd, &hub.port, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	if (acceptor_listen(hub.conf.bind, hub.conf.file_port, &ffd,
	    &hub.file_port, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": file channel: %s\n", err);
		goto out;
	}
	if ((hub.disc = discovery_open(&hub.conf, &hub.discovery_port, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	if (hub.conf.metrics_port != 0 && acceptor_listen(hub.conf.metrics_bind,
	    hub.conf.metrics_port, &mfd, &metrics_port, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, PROG ": metrics: %s\n", err);
		goto out;
	}
	if (hubd_drop_privileges(hub.conf.user, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	if (!opts->foreground && hubd_daemonize(err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	log_init(PROG, hub.conf.log_level, use_syslog);
	if (hub.conf.pidfile[0] != '\0')
		snprintf(pidfile, sizeof(pidfile), "%s", hub.conf.pidfile);
	else if (!opts->foreground) {
		/* The default directory may not exist yet: make it. */
		mkdir(LOCALSTATEDIR "/run", 0755);
		mkdir(LOCALSTATEDIR "/run/trosyn", 0755);
		snprintf(pidfile, sizeof(pidfile), "%s/run/trosyn/%s.pid",
		    LOCALSTATEDIR, PROG);
	}
	if (pidfile[0] != '\0' && hubd_write_pidfile(pidfile, err,
	    sizeof(err)) != 0) {
		hubd_fail(err);
		pidfile[0] = '\0';
		goto out;
	}

	hub.started_ms = msg_now_ms();
	hub.reg = registry_new();
	hub.af = authfail_new(hub.conf.max_auth_failures, 60000, 60000);
	hub.nmain_dbs = hub.conf.workers;
	hub.main_dbs = calloc((size_t)hub.nmain_dbs, sizeof(*hub.main_dbs));
	hub.nfile_dbs = hub.conf.transfer_workers;
	hub.file_dbs = calloc((size_t)hub.nfile_dbs, sizeof(*hub.file_dbs));
	hub.xfer = transfer_new(hub.conf.transfer_workers);
	if (hub.reg == NULL || hub.af == NULL || hub.main_dbs == NULL ||
	    hub.file_dbs == NULL || hub.xfer == NULL) {
		hubd_fail("out of memory");
		goto out;
	}
	if ((hub.blobs = blob_store_open(hub.state_dir, err,
	    sizeof(err))) == NULL) {
		hubd_fail(err);
		goto out;
	}
	for (int i = 0; i < hub.nfile_dbs; i++) {
		if (hubdb_open(hub.state_dir, 0, &hub.file_dbs[i]) != 0) {
			snprintf(err, sizeof(err), "cannot open the database in "
			    "%s", hub.state_dir);
			hubd_fail(err);
			goto out;
		}
	}
	for (int i = 0; i < hub.nmain_dbs; i++) {
		if (hubdb_open(hub.state_dir, 0, &hub.main_dbs[i]) != 0) {
			snprintf(err, sizeof(err), "cannot open the database in "
			    "%s", hub.state_dir);
			hubd_fail(err);
			goto out;
		}
	}
	if (hubdb_open(hub.state_dir, 0, &hub.maint_db) != 0) {
		snprintf(err, sizeof(err), "cannot open the database in %s",
		    hub.state_dir);
		hubd_fail(err);
		goto out;
	}
	hubd_purge(&hub);
	hub.main_pool = pool_new("hub-worker", hub.conf.workers,
	    hub.conf.queue_depth, session_serve_main, &hub);
	hub.reject_pool = pool_new("hub-reject", 1, HUBD_REJECT_DEPTH,
	    session_serve_busy, &hub);
	hub.file_pool = pool_new("hub-transfer", hub.conf.transfer_workers,
	    hub.conf.queue_depth, transfer_serve, &hub);
	if (hub.main_pool == NULL || hub.reject_pool == NULL ||
	    hub.file_pool == NULL || pool_start(hub.main_pool) != 0 ||
	    pool_start(hub.reject_pool) != 0 || pool_start(hub.file_pool) != 0) {
		hubd_fail("cannot start the worker pools");
		goto stop;
	}
	hub.metrics = metrics_start(&hub, hub.state_dir, mfd, err, sizeof(err));
	mfd = -1;
	if (hub.metrics == NULL) {
		hubd_fail(err);
		goto stop;
	}
	if (statedir_path(hub.state_dir, STATEDIR_SOCK, path,
	    sizeof(path)) != 0 ||
	    (hub.control = control_start(&hub, path, err, sizeof(err))) == NULL) {
		hubd_fail(err);
		goto stop;
	}
	if (discovery_start(hub.disc, &hub) != 0 ||
	    (hub.hb = heartbeat_start(&hub, hub.disc)) == NULL) {
		hubd_fail("cannot start the discovery and heartbeat threads");
		goto stop;
	}
	hub.main_acc = acceptor_start("hub-accept", lfd, hub.main_pool,
	    hub.reject_pool, hub.af);
	lfd = -1;
	hub.file_acc = acceptor_start("hub-accept-file", ffd, hub.file_pool,
	    hub.reject_pool, hub.af);
	ffd = -1;
	if (hub.main_acc == NULL || hub.file_acc == NULL) {
		hubd_fail("cannot start the acceptors");
		goto stop;
	}
	log_info("started: hub %s site %s, listening on %s port %u, %d "
	    "workers, queue %d, state %s", hub.keys.hub_id, hub.keys.site_id,
	    hub.conf.bind, (unsigned)hub.port, hub.conf.workers,
	    hub.conf.queue_depth, hub.state_dir);
	log_info("file channel on port %u, %d transfer workers",
	    (unsigned)hub.file_port, hub.conf.transfer_workers);
	log_info("discovery on UDP port %u, multicast group %s on %s; "
	    "heartbeat every %d s", (unsigned)hub.discovery_port,
	    hub.conf.multicast_group, hub.conf.multicast_interface,
	    hub.conf.heartbeat_interval);
	if (metrics_port != 0)
		log_info("metrics on http://%s:%u/metrics", hub.conf.metrics_bind,
		    (unsigned)metrics_port);
	hubd_report(NULL);

	hubd_wait(&hub, opts);
	status = 0;
stop:
	acceptor_stop(hub.main_acc);
	hub.main_acc = NULL;
	acceptor_stop(hub.file_acc);
	hub.file_acc = NULL;
	heartbeat_stop(hub.hb);
	hub.hb = NULL;
	discovery_stop(hub.disc);
	__atomic_store_n(&hub.stopping, 1, __ATOMIC_RELEASE);
	control_stop(hub.control);
	hub.control = NULL;
	metrics_stop(hub.metrics);
	hub.metrics = NULL;
	pool_stop(hub.reject_pool);
	pool_stop(hub.main_pool);
	pool_stop(hub.file_pool);
	log_info("stopped");
out:
	hubd_report("start-up failed (see the system log)");
	if (lfd >= 0)
		close(lfd);
	if (mfd >= 0)
		close(mfd);
	if (ffd >= 0)
		close(ffd);
	if (pidfile[0] != '\0')
		unlink(pidfile);
	hubd_free(&hub);
	return status;
}
