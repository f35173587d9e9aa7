/* The hub's state directory: layout, permission checks, creation and loading. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "err.h"
#include "hex.h"
#include "hubdb.h"
#include "kdf.h"
#include "statedir.h"
#include "tls.h"

/* Files that hold secrets and must be 0600. */
static const char *const statedir_secrets[] = {
	STATEDIR_SITE_KEY, STATEDIR_CA_KEY, STATEDIR_HUB_KEY, STATEDIR_DB,
};

/* Write DIR/NAME into BUF. */
int
statedir_path(const char *dir, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? TR_ETOOBIG : 0;
}

/* Check DIR and the modes of its secret files. */
int
statedir_check(const char *dir, char *err, size_t errlen)
{
	char path[4096];
	struct stat st;

	if (stat(dir, &st) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return errno == ENOENT ? TR_ENOTFOUND : TR_EACCES;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return TR_EACCES;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s: directory is writable by group or "
		    "others (mode %04o); chmod 700 it", dir,
		    (unsigned)(st.st_mode & 07777));
		return TR_EACCES;
	}
	for (size_t i = 0; i < sizeof(statedir_secrets) /
	    sizeof(statedir_secrets[0]); i++) {
		if (statedir_path(dir, statedir_secrets[i], path,
		    sizeof(path)) != 0) {
			snprintf(err, errlen, "%s: path too long", dir);
			return TR_EACCES;
		}
		if (lstat(path, &st) != 0) {
			snprintf(err, errlen, "%s: %s (run trosyn-admin init?)",
			    path, strerror(errno));
			return errno == ENOENT ? TR_ENOTFOUND : TR_EACCES;
		}
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s: not a regular file", path);
			return TR_EACCES;
		}
		if (st.st_mode & 077) {
			snprintf(err, errlen, "%s: readable or writable by "
			    "group or others (mode %04o); it must be 0600",
			    path, (unsigned)(st.st_mode & 07777));
			return TR_EACCES;
		}
	}
	return 0;
}

/* Read a whole small file into a NUL-terminated buffer. */
int
statedir_read_file(const char *path, size_t max, char **out, size_t *len)
{
	char *buf = NULL;
	size_t used = 0;
	ssize_t n;
	int fd, rc = 0;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? TR_ENOTFOUND : TR_ESYS;
	if ((buf = malloc(max + 1)) == NULL) {
		rc = TR_ENOMEM;
		goto out;
	}
	while ((n = read(fd, buf + used, max + 1 - used)) > 0) {
		used += (size_t)n;
		if (used > max) {
			rc = TR_ETOOBIG;
			goto out;
		}
	}
	if (n < 0) {
		rc = TR_ESYS;
		goto out;
	}
	buf[used] = '\0';
	*out = buf;
	buf = NULL;
	if (len != NULL)
		*len = used;
out:
	if (buf != NULL) {
		kdf_cleanse(buf, max + 1);
		free(buf);
	}
	close(fd);
	return rc;
}

/* Write a file atomically with MODE. */
int
statedir_write_file(const char *path, const void *data, size_t len, int mode)
{
	char tmp[4200], dir[4096], *slash;
	const char *p = data;
	int fd, dfd, rc = TR_ESYS;

	snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0)
		return TR_ESYS;
	if (fchmod(fd, (mode_t)mode) != 0)
		goto fail;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	rc = TR_ESYS;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

/* Remove what a failed init made in DIR. */
static void
statedir_unmake(const char *dir)
{
	static const char *const names[] = {
		STATEDIR_SITE_KEY, STATEDIR_CA_CERT, STATEDIR_CA_KEY,
		STATEDIR_HUB_CERT, STATEDIR_HUB_KEY, STATEDIR_DB,
		STATEDIR_DB "-wal", STATEDIR_DB "-shm",
	};
	char path[4096];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (statedir_path(dir, names[i], path, sizeof(path)) == 0)
			unlink(path);
	if (statedir_path(dir, STATEDIR_BLOBS, path, sizeof(path)) == 0)
		rmdir(path);
}

/* Non-zero when DIR has any entry besides . and .. */
static int
statedir_nonempty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int found = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			found = 1;
	closedir(d);
	return found;
}

/* Write PEM text to DIR/NAME with MODE. */
static int
statedir_put(const char *dir, const char *name, const char *text, int mode)
{
	char path[4096];
	int rc;

	if ((rc = statedir_path(dir, name, path, sizeof(path))) != 0)
		return rc;
	return statedir_write_file(path, text, strlen(text), mode);
}

/* Create a new state directory. */
int
statedir_init(const char *dir, const char *site_id, const char *hub_id,
    const char *hub_name, char *err, size_t errlen)
{
	char *ca_cert = NULL, *ca_key = NULL, *hub_cert = NULL, *hub_key = NULL;
	char keyhex[2 * TR_KEY_LEN + 2], path[4096], cn[128];
	uint8_t site_key[TR_KEY_LEN];
	sqlite3 *db = NULL;
	int rc, made = 0, created_dir = 0;

	if (mkdir(dir, 0700) == 0)
		created_dir = 1;
	else {
		if (errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return TR_ESYS;
		}
		if (statedir_nonempty(dir)) {
			snprintf(err, errlen, "%s: already exists and is not "
			    "empty; refusing to overwrite a state directory",
			    dir);
			return TR_EEXIST;
		}
		if (chmod(dir, 0700) != 0) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return TR_ESYS;
		}
	}
	made = 1;
	if ((rc = kdf_random(site_key, sizeof(site_key))) != 0) {
		snprintf(err, errlen, "cannot generate the site key");
		goto out;
	}
	hex_encode(site_key, sizeof(site_key), keyhex);
	strcat(keyhex, "\n");
	if ((rc = statedir_put(dir, STATEDIR_SITE_KEY, keyhex, 0600)) != 0) {
		snprintf(err, errlen, "%s/%s: %s", dir, STATEDIR_SITE_KEY,
		    strerror(errno));
		goto out;
	}
	/* Certificate names follow the node id rules. */
	if (strlen(site_id) + 3 <= TR_ID_MAX)
		snprintf(cn, sizeof(cn), "%s.ca", site_id);
	else
		snprintf(cn, sizeof(cn), "trosyn-site-ca");
	if ((rc = tls_make_ca(cn, &ca_cert, &ca_key)) != 0 ||
	    (rc = tls_make_cert(ca_cert, ca_key, hub_id, 1, &hub_cert,
	    &hub_key)) != 0) {
		snprintf(err, errlen, "cannot make the site certificates: %s",
		    tr_strerror(rc));
		goto out;
	}
	if ((rc = statedir_put(dir, STATEDIR_CA_CERT, ca_cert, 0644)) != 0 ||
	    (rc = statedir_put(dir, STATEDIR_CA_KEY, ca_key, 0600)) != 0 ||
	    (rc = statedir_put(dir, STATEDIR_HUB_CERT, hub_cert, 0644)) != 0 ||
	    (rc = statedir_put(dir, STATEDIR_HUB_KEY, hub_key, 0600)) != 0) {
		snprintf(err, errlen, "%s: cannot write certificates: %s", dir,
		    strerror(errno));
		goto out;
	}
	if ((rc = statedir_path(dir, STATEDIR_BLOBS, path, sizeof(path))) != 0 ||
	    mkdir(path, 0700) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = TR_ESYS;
		goto out;
	}
	if ((rc = hubdb_open(dir, 1, &db)) != 0 ||
	    (rc = hubdb_meta_set(db, "site_id", site_id)) != 0 ||
	    (rc = hubdb_meta_set(db, "hub_id", hub_id)) != 0 ||
	    (rc = hubdb_meta_set(db, "hub_name",
	    hub_name != NULL ? hub_name : hub_id)) != 0) {
		snprintf(err, errlen, "%s/%s: cannot create the database",
		    dir, STATEDIR_DB);
		goto out;
	}
	rc = 0;
out:
	db_close(db);
	kdf_cleanse(site_key, sizeof(site_key));
	kdf_cleanse(keyhex, sizeof(keyhex));
	if (ca_key != NULL) {
		kdf_cleanse(ca_key, strlen(ca_key));
		free(ca_key);
	}
	if (hub_key != NULL) {
		kdf_cleanse(hub_key, strlen(hub_key));
		free(hub_key);
	}
	free(ca_cert);
	free(hub_cert);
	if (rc != 0 && made)
		statedir_unmake(dir);
	if (rc != 0 && created_dir)
		rmdir(dir);
	return rc;
}

/* Read DIR/NAME (a PEM or key file) into *OUT. */
static int
statedir_get(const char *dir, const char *name, char **out, char *err,
    size_t errlen)
{
	char path[4096];
	int rc;

	if ((rc = statedir_path(dir, name, path, sizeof(path))) == 0)
		rc = statedir_read_file(path, 65536, out, NULL);
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, rc == TR_ENOTFOUND ?
		    "missing" : tr_strerror(rc));
	return rc;
}

/* Load keys, certificates and ids from DIR. */
int
statedir_load(const char *dir, struct hub_keys *keys, char *err, size_t errlen)
{
	char *site = NULL;
	sqlite3 *db = NULL;
	size_t len;
	int rc;

	memset(keys, 0, sizeof(*keys));
	if ((rc = statedir_get(dir, STATEDIR_SITE_KEY, &site, err, errlen)) != 0)
		goto out;
	len = strcspn(site, "\r\n");
	if (hex_decode(site, len, keys->site_key, TR_KEY_LEN) != 0) {
		snprintf(err, errlen, "%s/%s: not 64 lowercase hex digits", dir,
		    STATEDIR_SITE_KEY);
		rc = TR_EINVAL;
		goto out;
	}
	if ((rc = statedir_get(dir, STATEDIR_CA_CERT, &keys->ca_pem, err,
	    errlen)) != 0 ||
	    (rc = statedir_get(dir, STATEDIR_CA_KEY, &keys->ca_key_pem, err,
	    errlen)) != 0 ||
	    (rc = statedir_get(dir, STATEDIR_HUB_CERT, &keys->hub_cert_pem, err,
	    errlen)) != 0 ||
	    (rc = statedir_get(dir, STATEDIR_HUB_KEY, &keys->hub_key_pem, err,
	    errlen)) != 0)
		goto out;
	if ((rc = tls_pem_sha256(keys->hub_cert_pem,
	    keys->hub_cert_sha256)) != 0) {
		snprintf(err, errlen, "%s/%s: not a PEM certificate", dir,
		    STATEDIR_HUB_CERT);
		goto out;
	}
	if ((rc = hubdb_open(dir, 0, &db)) != 0 ||
	    (rc = hubdb_meta_get(db, "site_id", keys->site_id,
	    sizeof(keys->site_id))) != 0 ||
	    (rc = hubdb_meta_get(db, "hub_id", keys->hub_id,
	    sizeof(keys->hub_id))) != 0) {
		snprintf(err, errlen, "%s/%s: cannot read the hub identity: %s",
		    dir, STATEDIR_DB, tr_strerror(rc));
		goto out;
	}
	if (hubdb_meta_get(db, "hub_name", keys->hub_name,
	    sizeof(keys->hub_name)) != 0)
		snprintf(keys->hub_name, sizeof(keys->hub_name), "%s",
		    keys->hub_id);
out:
	db_close(db);
	if (site != NULL) {
		kdf_cleanse(site, strlen(site));
		free(site);
	}
	if (rc != 0)
		statedir_free(keys);
	return rc;
}

/* Zeroize and free one PEM text. */
static void
statedir_free_pem(char **p)
{
	if (*p != NULL) {
		kdf_cleanse(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

/* Zeroize and free KEYS. */
void
statedir_free(struct hub_keys *keys)
{
	statedir_free_pem(&keys->ca_pem);
	statedir_free_pem(&keys->ca_key_pem);
	statedir_free_pem(&keys->hub_cert_pem);
	statedir_free_pem(&keys->hub_key_pem);
	kdf_cleanse(keys->site_key, sizeof(keys->site_key));
}
