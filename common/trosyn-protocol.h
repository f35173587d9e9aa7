/* Trosyn LAN protocol 1.0: version, frame and message types, error codes, defaults. */
#ifndef TROSYN_PROTOCOL_H
#define TROSYN_PROTOCOL_H

#define TR_PROTO_VERSION	"1.0"
#define TR_PROTO_MAJOR		1

/* Frame types (PROTOCOL.md section 4). */
#define TR_FRAME_JSON		0x4A	/* 'J' */
#define TR_FRAME_CHUNK		0x43	/* 'C' */
#define TR_FRAME_HDR_LEN	5

/* Sizes of binary values. */
#define TR_KEY_LEN		32
#define TR_NONCE_LEN		32
#define TR_HASH_LEN		32
#define TR_MAC_LEN		32
#define TR_TOKEN_LEN		32
#define TR_UUID_LEN		36
#define TR_ID_MAX		64	/* node_id, hub_id, site_id, collection */
#define TR_NAME_MAX		64	/* node_name, bytes of UTF-8 */
#define TR_RECORD_ID_MAX	256
#define TR_UDP_MAX		512
#define TR_GCM_TAG_LEN		16
#define TR_CHUNK_HDR_LEN	8	/* uint64 index before the ciphertext */
#define TR_CHUNK_OVERHEAD	64	/* allowance over chunk_size for a 'C' body */
#define TR_JSON_INT_MAX		9007199254740991LL	/* 2^53 - 1 */

/* Defaults (PROTOCOL.md section 1, CLI.md). */
#define TR_DEF_DISCOVERY_PORT	5000
#define TR_DEF_PORT		5001
#define TR_DEF_FILE_PORT	5002
#define TR_DEF_MCAST_GROUP	"239.255.77.77"
#define TR_DEF_MCAST_TTL	1
#define TR_DEF_MAX_MESSAGE	1048576
#define TR_DEF_CLOCK_SKEW	300
#define TR_DEF_HEARTBEAT	10
#define TR_DEF_SESSION_LIFE	3600
#define TR_DEF_ROTATE_EVERY	1000
#define TR_DEF_BATCH_SIZE	500
#define TR_DEF_MAX_BATCH	1000
#define TR_DEF_CHUNK_SIZE	1048576
#define TR_MIN_CHUNK_SIZE	65536
#define TR_MAX_CHUNK_SIZE	8388608
#define TR_DEF_MAX_FILE		17179869184LL
#define TR_DEF_AUTH_TIMEOUT	10
#define TR_DEF_IDLE_TIMEOUT	120
#define TR_DEF_AUTH_FAILURES	10
#define TR_DEF_WORKERS		8
#define TR_DEF_TRANSFER_WORKERS	4
#define TR_DEF_QUEUE_DEPTH	64
#define TR_DEF_WINDOW		4
#define TR_MAX_WINDOW		16
#define TR_DEF_JOURNAL_RETAIN	(30 * 86400)
#define TR_DEF_DISCOVERY_TIMEOUT 1

/* Message types. */
#define TR_MSG_DISCOVERY_BROADCAST	"DISCOVERY_BROADCAST"
#define TR_MSG_DISCOVERY_RESPONSE	"DISCOVERY_RESPONSE"
#define TR_MSG_AUTH_CHALLENGE		"AUTH_CHALLENGE"
#define TR_MSG_AUTH_REQUEST		"AUTH_REQUEST"
#define TR_MSG_AUTH_RESPONSE		"AUTH_RESPONSE"
#define TR_MSG_SYNC_REQUEST		"SYNC_REQUEST"
#define TR_MSG_SYNC_DATA		"SYNC_DATA"
#define TR_MSG_SYNC_ACK			"SYNC_ACK"
#define TR_MSG_SYNC_COMPLETE		"SYNC_COMPLETE"
#define TR_MSG_HEARTBEAT		"HEARTBEAT"
#define TR_MSG_TRANSFER_REQUEST		"TRANSFER_REQUEST"
#define TR_MSG_TRANSFER_READY		"TRANSFER_READY"
#define TR_MSG_TRANSFER_COMPLETE	"TRANSFER_COMPLETE"
#define TR_MSG_ERROR			"ERROR"

/* Protocol error codes (PROTOCOL.md section 10). */
#define TR_CODE_AUTH_REQUIRED		"AUTH_REQUIRED"
#define TR_CODE_INVALID_TOKEN		"INVALID_TOKEN"
#define TR_CODE_ACCESS_DENIED		"ACCESS_DENIED"
#define TR_CODE_INVALID_REQUEST		"INVALID_REQUEST"
#define TR_CODE_INTERNAL_ERROR		"INTERNAL_ERROR"
#define TR_CODE_UNSUPPORTED_VERSION	"UNSUPPORTED_VERSION"
#define TR_CODE_CLOCK_SKEW		"CLOCK_SKEW"
#define TR_CODE_TOO_LARGE		"TOO_LARGE"
#define TR_CODE_NOT_FOUND		"NOT_FOUND"
#define TR_CODE_BUSY			"BUSY"

/* Key schedule labels (PROTOCOL.md section 6 and 9). */
#define TR_LABEL_EXPORTER	"EXPORTER-trosyn-v1"
#define TR_LABEL_CLIENT_PROOF	"trosyn/1 client-proof"
#define TR_LABEL_HUB_PROOF	"trosyn/1 hub-proof"
#define TR_LABEL_TOKEN_PROOF	"trosyn/1 token-proof"
#define TR_LABEL_SESSION_ROOT	"trosyn/1 session-root"
#define TR_LABEL_CONN		"trosyn/1 conn"
#define TR_LABEL_MSG		"trosyn/1 msg "
#define TR_LABEL_HEARTBEAT	"trosyn/1 heartbeat"
#define TR_LABEL_FILE		"trosyn/1 file "

/* Direction of a message key or a file chunk. */
enum tr_dir {
	TR_DIR_H2C = 1,		/* hub to node */
	TR_DIR_C2H = 2		/* node to hub */
};

#endif /* TROSYN_PROTOCOL_H */
