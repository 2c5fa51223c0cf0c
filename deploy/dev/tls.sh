# shellcheck shell=bash
# TLS material for deploy/dev/*: a throwaway certificate authority, a
# server certificate for 127.0.0.1/localhost (the dev Kafka's SASL_SSL and
# mTLS listeners, the dev ClickHouse's secure native port) and a client
# certificate (mTLS), made with openssl on the first start into
# $STATE_DIR/tls, never committed (.state is ignored by git). The keys are
# unencrypted PEM, readable by this user only, as ClickHouse and Go take
# them; Kafka gets the server's as a PKCS#12 keystore, since its PEM
# keystore insists on an encrypted key.

TLS_DIR=$STATE_DIR/tls
TLS_CA=$TLS_DIR/ca.pem
TLS_SERVER_CERT=$TLS_DIR/server.pem
TLS_SERVER_KEY=$TLS_DIR/server.key
TLS_CLIENT_CERT=$TLS_DIR/client.pem
TLS_CLIENT_KEY=$TLS_DIR/client.key
# The server certificate and its key for Kafka, and the keystore's password.
TLS_SERVER_KEYSTORE=$TLS_DIR/server.p12
TLS_KEYSTORE_PASSWORD_FILE=$TLS_DIR/server.p12.password
# The name the server certificate is for, besides 127.0.0.1: what a
# client's server_name may say.
TLS_SERVER_NAME=localhost

# tls_require_openssl: openssl is a Debian package; install it when root.
tls_require_openssl() {
	command -v openssl >/dev/null && return 0
	((EUID == 0)) || die "openssl not found: deploy/dev makes the dev TLS certificates with it (Debian: apt-get install openssl)"
	"$DEV_DIR/apt-install" openssl
}

# tls_make_certs: the CA, server and client certificates, once; later
# starts reuse them (a running client keeps trusting the same CA).
tls_make_certs() {
	[[ -s $TLS_SERVER_KEYSTORE && -s $TLS_CLIENT_KEY ]] && return 0
	tls_require_openssl
	mkdir -p "$TLS_DIR"
	chmod 700 "$TLS_DIR"
	local log=$TLS_DIR/openssl.log ext=$TLS_DIR/server.ext
	say "tls: making a throwaway CA and server and client certificates in $TLS_DIR"
	printf 'subjectAltName=IP:127.0.0.1,DNS:%s\nextendedKeyUsage=serverAuth\n' "$TLS_SERVER_NAME" >"$ext"
	printf 'extendedKeyUsage=clientAuth\n' >"$TLS_DIR/client.ext"
	(
		umask 077
		set -e
		openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=cohortline dev CA" \
			-keyout "$TLS_DIR/ca.key" -out "$TLS_CA"
		openssl req -newkey rsa:2048 -nodes -subj "/CN=$TLS_SERVER_NAME" \
			-keyout "$TLS_SERVER_KEY" -out "$TLS_DIR/server.csr"
		openssl x509 -req -in "$TLS_DIR/server.csr" -CA "$TLS_CA" -CAkey "$TLS_DIR/ca.key" \
			-CAcreateserial -days 3650 -extfile "$ext" -out "$TLS_SERVER_CERT"
		openssl req -newkey rsa:2048 -nodes -subj "/CN=cohortline-client" \
			-keyout "$TLS_CLIENT_KEY" -out "$TLS_DIR/client.csr"
		openssl x509 -req -in "$TLS_DIR/client.csr" -CA "$TLS_CA" -CAkey "$TLS_DIR/ca.key" \
			-CAcreateserial -days 3650 -extfile "$TLS_DIR/client.ext" -out "$TLS_CLIENT_CERT"
		head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$TLS_KEYSTORE_PASSWORD_FILE"
		openssl pkcs12 -export -in "$TLS_SERVER_CERT" -inkey "$TLS_SERVER_KEY" -name server \
			-passout "file:$TLS_KEYSTORE_PASSWORD_FILE" -out "$TLS_SERVER_KEYSTORE"
	) >"$log" 2>&1 || die_with_logs "making the dev TLS certificates failed; see $log" "$log"
}

# tls_secret FILE: prints the secret in FILE, made of 24 random bytes on
# first use. Secrets live in files, never on a command line.
tls_secret() {
	if [[ ! -s $1 ]]; then
		mkdir -p "$(dirname "$1")"
		(umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$1")
	fi
	cat "$1"
}

# tls_export SERVICE: the paths the tests read, for eval, named per
# service (COHORTLINE_KAFKA_TLS_CA, COHORTLINE_CLICKHOUSE_TLS_CA): a
# broker of another state folder (make test-kafka4) has a CA of its own.
tls_export() {
	echo "export COHORTLINE_$1_TLS_CA=$TLS_CA"
	echo "export COHORTLINE_$1_TLS_CLIENT_CERT=$TLS_CLIENT_CERT"
	echo "export COHORTLINE_$1_TLS_CLIENT_KEY=$TLS_CLIENT_KEY"
	echo "export COHORTLINE_$1_TLS_SERVER_NAME=$TLS_SERVER_NAME"
}
