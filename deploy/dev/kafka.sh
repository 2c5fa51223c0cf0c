# shellcheck shell=bash
# Kafka for deploy/dev/*: the Apache Kafka broker jars from Maven Central
# (deploy/kafka/pom.xml), of KAFKA_VERSION (default 3.9.1; 4.x works too),
# run as one KRaft node that is both broker and controller, as a plain java
# process under $STATE_DIR/kafka.

KAFKA_VERSION=${KAFKA_VERSION:-3.9.1}
KAFKA_LINE=${KAFKA_VERSION%%.*}
KAFKA_DIR=$STATE_DIR/kafka
# Jars and data per version: switching KAFKA_VERSION fetches that
# version's jars once and keeps the other's, and never starts one
# version on the other's KRaft metadata.
KAFKA_LIBS=$KAFKA_DIR/libs/$KAFKA_VERSION
KAFKA_DATA=$KAFKA_DIR/data/$KAFKA_VERSION
KAFKA_POM=$(cd "$DEV_DIR/../kafka" && pwd)/pom.xml
# A Maven repository of our own: nothing goes to ~/.m2, and a rerun after a
# purge of the jars resolves from here without the network.
KAFKA_M2=$STATE_DIR/m2
# Kafka 3 logs through log4j 1 (reload4j), Kafka 4 through log4j 2.
# The flags name the files kafka_write_log4j writes (kafka_log4j.sh).
if [[ $KAFKA_LINE == 4 ]]; then
	KAFKA_LOG_FLAG=-Dlog4j2.configurationFile=file:$KAFKA_DIR/log4j2.properties
	KAFKA_TOOLS_LOG_FLAG=-Dlog4j2.configurationFile=file:$KAFKA_DIR/tools-log4j2.properties
else
	KAFKA_LOG_FLAG=-Dlog4j.configuration=file:$KAFKA_DIR/log4j.properties
	KAFKA_TOOLS_LOG_FLAG=-Dlog4j.configuration=file:$KAFKA_DIR/tools-log4j.properties
fi

# Quick checks, before the download, of what the user must fix.
# shellcheck disable=SC2153 # KAFKA_PORT is set in lib.sh
kafka_preflight() {
	kafka_check_version
	require_java
	require_free_port "$KAFKA_PORT" COHORTLINE_KAFKA_PORT
	require_free_port "$KAFKA_CONTROLLER_PORT" COHORTLINE_KAFKA_CONTROLLER_PORT
	require_free_port "$KAFKA_SASL_SSL_PORT" COHORTLINE_KAFKA_SASL_SSL_PORT
	require_free_port "$KAFKA_MTLS_PORT" COHORTLINE_KAFKA_MTLS_PORT
}

kafka_check_version() {
	[[ $KAFKA_VERSION =~ ^[34]\.[0-9]+\.[0-9]+$ ]] ||
		die "KAFKA_VERSION=$KAFKA_VERSION: want a Kafka 3.x or 4.x release, such as 3.9.1 or 4.1.1"
}

kafka_prepare() {
	kafka_fetch_libs
	tls_make_certs
}

# The SCRAM user of the SASL_SSL listener, and the file of its password
# (made once, tls_secret): tests read the password from the file, as a
# deployment reads a mounted secret.
KAFKA_SASL_USER=cohortline
KAFKA_SASL_PASSWORD_FILE=$KAFKA_DIR/sasl/$KAFKA_SASL_USER.password

require_java() {
	command -v java >/dev/null ||
		die "java not found: Kafka needs Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless)"
	local version major
	version=$(java -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -n 1)
	major=${version%%.*}
	[[ $major == 1 ]] && major=$(echo "$version" | cut -d. -f2) # 1.8.0 is Java 8
	if ! [[ $major =~ ^[0-9]+$ ]] || ((major < 17)); then
		die "java is version ${version:-unknown}, Kafka here needs Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless)"
	fi
}

# kafka_fetch_libs: downloads the broker jars of KAFKA_VERSION once. The
# stamp holds the pom's checksum, so editing the pom fetches again; the copy
# lands in a side folder first so an interrupted download never looks
# complete.
kafka_fetch_libs() {
	local stamp
	stamp=$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)
	[[ -f $KAFKA_LIBS/.pom-sha256 && $(<"$KAFKA_LIBS/.pom-sha256") == "$stamp" ]] && return 0
	command -v mvn >/dev/null ||
		die "mvn not found: Maven downloads the Kafka jars once (Debian: apt-get install maven)"
	mkdir -p "$KAFKA_DIR/logs" "$KAFKA_DIR/libs"
	# The jars of a checkout from before libs/<version>/: flat in libs/.
	find "$KAFKA_DIR/libs" -maxdepth 1 -type f -delete
	local log=$KAFKA_DIR/logs/maven.log partial=$KAFKA_LIBS.partial
	local cmd=(mvn -B -ntp -f "$KAFKA_POM" -Dmaven.repo.local="$KAFKA_M2"
		-Dkafka.version="$KAFKA_VERSION" -Dkafka.line="$KAFKA_LINE"
		dependency:copy-dependencies -DoutputDirectory="$partial")
	rm -rf "$partial"
	say "kafka: fetching the Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS (once; log: $log)"
	"${cmd[@]}" </dev/null >"$log" 2>&1 ||
		die_with_logs "downloading the Kafka $KAFKA_VERSION jars failed: ${cmd[*]} (log: $log)" "$log"
	[[ -n $(compgen -G "$partial/kafka_2.13-$KAFKA_VERSION.jar") ]] ||
		die_with_logs "Maven gave no kafka_2.13-$KAFKA_VERSION.jar; see $log" "$log"
	echo "$stamp" >"$partial/.pom-sha256"
	rm -rf "$KAFKA_LIBS"
	mv "$partial" "$KAFKA_LIBS"
}

# The java command line for a Kafka tool (StorageTool, TopicCommand) from the
# downloaded jars; the tools log warnings to stderr only.
KAFKA_TOOL=(java -Xmx256m "$KAFKA_TOOLS_LOG_FLAG" -cp "$KAFKA_LIBS/*")

kafka_start() {
	kafka_adopt_old_data
	mkdir -p "$KAFKA_DATA" "$KAFKA_DIR/logs"
	kafka_write_config
	kafka_format
	kafka_ports >"$KAFKA_DIR/ports"
	echo "$KAFKA_VERSION" >"$KAFKA_DIR/version"
	say "kafka: starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT, SASL_SSL on $KAFKA_SASL_SSL_PORT, mTLS on $KAFKA_MTLS_PORT (log: $KAFKA_DIR/logs/)"
	# The flags kafka-server-start.sh would use, minus JMX (it opens a port).
	launch kafka "$KAFKA_DIR/logs/stdout.log" java \
		-Xms256m -Xmx1g -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
		-XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
		-XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
		-Djava.net.preferIPv4Stack=true \
		-Dkafka.logs.dir="$KAFKA_DIR/logs" \
		"$KAFKA_LOG_FLAG" \
		-cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties"
}

# kafka_format: KRaft needs its storage formatted once with a cluster id;
# the id is kept beside the data so a restart reuses it.
kafka_format() {
	[[ -f $KAFKA_DATA/meta.properties ]] && return 0
	local id=$KAFKA_DATA.cluster-id
	if [[ ! -s $id ]]; then
		"${KAFKA_TOOL[@]}" kafka.tools.StorageTool random-uuid >"$id" 2>>"$KAFKA_DIR/logs/format.log" ||
			die_with_logs "could not create a Kafka cluster id" "$KAFKA_DIR/logs/format.log"
	fi
	"${KAFKA_TOOL[@]}" kafka.tools.StorageTool format -t "$(<"$id")" \
		-c "$KAFKA_DIR/server.properties" >>"$KAFKA_DIR/logs/format.log" 2>&1 ||
		die_with_logs "formatting Kafka storage in $KAFKA_DATA failed" "$KAFKA_DIR/logs/format.log"
}

# kafka_adopt_old_data: a checkout from before data/<version>/ kept one
# Kafka 3.9 broker's data in data/ itself; it becomes data/3.9.1.
kafka_adopt_old_data() {
	[[ -f $KAFKA_DIR/data/meta.properties ]] || return 0
	local old=$KAFKA_DIR/data.adopt
	mv "$KAFKA_DIR/data" "$old"
	mkdir -p "$KAFKA_DIR/data"
	mv "$old" "$KAFKA_DIR/data/3.9.1"
	[[ -f $KAFKA_DIR/cluster-id ]] && mv "$KAFKA_DIR/cluster-id" "$KAFKA_DIR/data/3.9.1.cluster-id"
	say "kafka: moved the data of an earlier Kafka 3.9 broker to $KAFKA_DIR/data/3.9.1"
}

# Rewritten on every start so a change of port applies after down + up.
# It holds the keystore's and the PLAIN user's passwords: this user only.
kafka_write_config() {
	local KAFKA_EXTRA_LISTENERS=",SASL_SSL://127.0.0.1:$KAFKA_SASL_SSL_PORT,SSL://127.0.0.1:$KAFKA_MTLS_PORT"
	(umask 077 && : >"$KAFKA_DIR/server.properties")
	kafka_properties kafka.sh "One KRaft node, broker and controller, on loopback only." \
		1 "1@127.0.0.1:$KAFKA_CONTROLLER_PORT" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_DATA" 4 4 "default.replication.factor=1
# A single node can only hold one replica of the internal topics.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1" >"$KAFKA_DIR/server.properties"
	kafka_security_properties >>"$KAFKA_DIR/server.properties"
	kafka_write_log4j
}

# kafka_security_properties: the secured listeners' settings. Brokers talk
# to each other and to the controller in plaintext (one node); clients
# get SASL_SSL (SCRAM-SHA-512 and -256 users made by kafka_add_scram_user,
# PLAIN from the JAAS line) or SSL with a client certificate required.
kafka_security_properties() {
	local pw
	pw=$(tls_secret "$KAFKA_SASL_PASSWORD_FILE")
	cat <<EOF

# TLS (deploy/dev/tls.sh's throwaway CA) and SASL for clients.
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLS_SERVER_KEYSTORE
ssl.keystore.password=$(<"$TLS_KEYSTORE_PASSWORD_FILE")
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_CA
listener.name.ssl.ssl.client.auth=required
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_SASL_USER="$pw";
EOF
}

# kafka_add_scram_user PORT: the SCRAM credentials of KAFKA_SASL_USER, set
# with the broker's own ConfigCommand over the plaintext listener at PORT
# (in KRaft they live in the metadata log; setting them again is
# harmless). The throwaway password is on the tool's command line for a
# moment (its --add-config-file renames the SCRAM keys and fails), on a
# loopback-only dev broker; a failure names the log rather than print it,
# since the tool's errors echo the password.
kafka_add_scram_user() {
	local port=$1 pw cls=kafka.admin.ConfigCommand # in the broker's jar, 3.x and 4.x alike
	pw=$(tls_secret "$KAFKA_SASL_PASSWORD_FILE")
	local mech
	: >"$KAFKA_DIR/logs/scram.log"
	for mech in SCRAM-SHA-512 SCRAM-SHA-256; do # one credential per request, says the broker
		"${KAFKA_TOOL[@]}" "$cls" --bootstrap-server "127.0.0.1:$port" --alter \
			--entity-type users --entity-name "$KAFKA_SASL_USER" \
			--add-config "$mech=[iterations=4096,password=$pw]" >>"$KAFKA_DIR/logs/scram.log" 2>&1 ||
			die "kafka: could not create the $mech user $KAFKA_SASL_USER; see $KAFKA_DIR/logs/scram.log"
	done
}

# kafka_properties SCRIPT WHAT NODE_ID VOTERS PORT CONTROLLER_PORT DATA
# PARTITIONS IO_THREADS REPLICATION: the server.properties of a dev KRaft
# node (broker and controller, loopback only, every message kept), with
# REPLICATION the node's replication settings; cluster.sh's nodes use it
# too. SCRIPT is named as the file to edit. KAFKA_EXTRA_LISTENERS, when
# set, adds listeners (kafka.sh's SASL_SSL and SSL ones).
kafka_properties() {
	cat <<EOF
# Generated by deploy/dev/up at each start: edit deploy/dev/$1 instead.
# $2
process.roles=broker,controller
node.id=$3
controller.quorum.voters=$4
listeners=PLAINTEXT://127.0.0.1:$5,CONTROLLER://127.0.0.1:$6${KAFKA_EXTRA_LISTENERS:-}
advertised.listeners=PLAINTEXT://127.0.0.1:$5${KAFKA_EXTRA_LISTENERS:-}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$7

# Topics appear on first use (kafka-go writers, tests), with room for
# several partition workers.
auto.create.topics.enable=true
num.partitions=$8
${10}
# Consumer groups start at once instead of waiting 3 s for more members.
group.initial.rebalance.delay.ms=0

num.network.threads=2
num.io.threads=$9
# Keep every message: generated data sets (gen, tests, demo --kafka) carry
# event times weeks in the past as their timestamps, which time-based
# retention would delete at once. Tests delete their topics.
log.retention.ms=-1
log.segment.bytes=268435456
EOF
}

# kafka_answers: the port accepts connections (cheap, checked first), then a
# real client request: listing topics only works once the broker has joined
# its controller and serves metadata.
kafka_answers() {
	local port
	read -r port _ <<<"$(recorded_ports kafka)"
	port=${port:-$KAFKA_PORT}
	port_open "$port" || return 1
	timeout 20 "${KAFKA_TOOL[@]}" org.apache.kafka.tools.TopicCommand \
		--bootstrap-server "127.0.0.1:$port" --list >/dev/null 2>&1
}

kafka_ready() {
	local rc=0
	wait_ready kafka 90 kafka_answers || rc=$?
	if ((rc == 0)); then
		local port sasl
		read -r port _ sasl _ <<<"$(recorded_ports kafka)"
		[[ -z $sasl ]] || kafka_add_scram_user "${port:-$KAFKA_PORT}"
		return 0
	fi
	local why="did not answer within 90s"
	((rc == 2)) && why="exited"
	stop_service kafka >/dev/null 2>&1 || true
	die_with_logs "the Kafka broker $why; logs in $KAFKA_DIR/logs/" \
		"$KAFKA_DIR/logs/server.log" "$KAFKA_DIR/logs/stdout.log"
}

kafka_stop_timeout() { echo 30; }

# The ports asked for now, in the order of $KAFKA_DIR/ports.
kafka_ports() { echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT $KAFKA_SASL_SSL_PORT $KAFKA_MTLS_PORT"; }

kafka_describe() {
	local port controller sasl mtls version
	read -r port controller sasl mtls <<<"$(recorded_ports kafka)"
	version=$(cat "$KAFKA_DIR/version" 2>/dev/null || echo "?")
	echo "Kafka $version, broker 127.0.0.1:${port:-?}, SASL_SSL 127.0.0.1:${sasl:-none}, mTLS 127.0.0.1:${mtls:-none}, controller 127.0.0.1:${controller:-?}, logs $KAFKA_DIR/logs/"
}

# A broker started before the secured listeners existed exports none of
# them (their tests then skip, or fail under CI): down + up adds them.
kafka_export() {
	local port sasl mtls
	read -r port _ sasl mtls <<<"$(recorded_ports kafka)"
	echo "export COHORTLINE_KAFKA=127.0.0.1:${port:-$KAFKA_PORT}"
	[[ -n $sasl ]] || return 0
	echo "export COHORTLINE_KAFKA_SASL_SSL=127.0.0.1:$sasl"
	echo "export COHORTLINE_KAFKA_MTLS=127.0.0.1:$mtls"
	echo "export COHORTLINE_KAFKA_SASL_USER=$KAFKA_SASL_USER"
	echo "export COHORTLINE_KAFKA_SASL_PASSWORD_FILE=$KAFKA_SASL_PASSWORD_FILE"
	tls_export KAFKA
}

# Nothing of a running broker changes without a restart; another
# KAFKA_VERSION applies after deploy/dev/down kafka.
kafka_refresh() {
	local running
	running=$(cat "$KAFKA_DIR/version" 2>/dev/null || echo "3.9.1")
	[[ $running == "$KAFKA_VERSION" ]] ||
		say "kafka: keeps running Kafka $running; KAFKA_VERSION=$KAFKA_VERSION applies after deploy/dev/down kafka"
	local sasl
	read -r _ _ sasl _ <<<"$(recorded_ports kafka)"
	[[ -n $sasl ]] ||
		say "kafka: started by an older checkout, without the SASL_SSL and mTLS listeners (their tests skip, or fail in CI); they come with deploy/dev/down kafka and up"
	# A broker started by a checkout from before libs/<version>/ runs on
	# flat jars; the readiness check needs this version's tools (seen:
	# without them it judged a healthy broker dead and stopped it).
	[[ -n $(compgen -G "$KAFKA_LIBS/*.jar") ]] || kafka_fetch_libs
}

# Keeps the downloaded jars (libs/) and the Maven repository.
kafka_purge() {
	[[ -d $KAFKA_DIR ]] || return 0
	find "$KAFKA_DIR" -mindepth 1 -maxdepth 1 ! -name libs -exec rm -rf {} +
}
