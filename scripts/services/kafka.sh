#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft) on loopback for tests and CI, from Maven Central jars.
#
#   scripts/services/kafka.sh install   fetch the broker and tools jars (cached; needs java + mvn)
#   scripts/services/kafka.sh start     install, format storage once, start, wait until ready
#   scripts/services/kafka.sh start --fresh   the same on empty storage (what up.sh does)
#   scripts/services/kafka.sh stop      SIGTERM, wait, then SIGKILL
#   scripts/services/kafka.sh status    exit 0 when running
#   scripts/services/kafka.sh reset     stop and delete the broker's data
#
# Prints VITALSTREAM_TEST_KAFKA=127.0.0.1:<port> on start. Settings (environment):
#   VITALSTREAM_SERVICES_KAFKA_PORT (59092), VITALSTREAM_SERVICES_KAFKA_CONTROLLER_PORT (port+1),
#   VITALSTREAM_SERVICES_KAFKA_VERSION (pom default), VITALSTREAM_SERVICES_KAFKA_HEAP (512m).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${VITALSTREAM_SERVICES_KAFKA_PORT:-59092}"
CONTROLLER_PORT="${VITALSTREAM_SERVICES_KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
HEAP="${VITALSTREAM_SERVICES_KAFKA_HEAP:-512m}"
POM="$SCRIPTS_DIR/kafka/pom.xml"
VERSION="${VITALSTREAM_SERVICES_KAFKA_VERSION:-$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")}"
HOME_DIR="$SERVICES_DIR/kafka"
JARS="$HOME_DIR/jars-$VERSION"
DATA="$HOME_DIR/data"
CONF="$HOME_DIR/server.properties"
PIDFILE="$HOME_DIR/kafka.pid"
LOGFILE="$HOME_DIR/kafka.log"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
JAVA_OPTS=(-Xms128m -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$HOME_DIR/log4j2.properties")
ENV_LINE="VITALSTREAM_TEST_KAFKA=127.0.0.1:$PORT"

install() {
    # The marker holds the pom's checksum: a dependency added to the pom (kafka-tools for the
    # Java console producer) fetches again; an unchanged pom costs nothing.
    local want; want=$(sha256sum "$POM" | cut -d' ' -f1)
    if [[ -f "$JARS/.complete" && "$(cat "$JARS/.complete")" == "$want" ]]; then return 0; fi
    command -v "$JAVA" >/dev/null || die "java not found (Kafka $VERSION needs Java 17+)"
    command -v mvn >/dev/null || die "mvn not found (apt-get install -y maven)"
    local t0; t0=$(now)
    log "kafka: fetching Apache Kafka $VERSION jars from Maven Central into $JARS"
    rm -rf "$JARS.tmp"
    # The local Maven repository lives under .services too, so one directory caches it all.
    mvn -q -B -Dstyle.color=never -f "$POM" -Dmaven.repo.local="$SERVICES_DIR/m2" -Dkafka.version="$VERSION" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$JARS.tmp" >&2 \
        || die "kafka: mvn dependency:copy-dependencies failed"
    echo "$want" >"$JARS.tmp/.complete"
    rm -rf "$JARS" && mv "$JARS.tmp" "$JARS"
    log "kafka: installed in $(elapsed "$t0")"
}

write_config() {
    mkdir -p "$DATA"
    cat >"$CONF" <<PROPS
# Written by scripts/services/kafka.sh; regenerated on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA
num.partitions=6
auto.create.topics.enable=false
delete.topic.enable=true
# One broker: every internal topic has a single replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests start and stop many short-lived groups: no join delay, short sessions allowed.
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=500
# Retention runs on Kafka's default 5-minute schedule: it deletes by record timestamp, so a
# frequent check would delete test records that carry old event times while a test reads them.
log.segment.bytes=16777216
log.retention.check.interval.ms=300000
num.network.threads=2
num.io.threads=4
PROPS
    cat >"$HOME_DIR/log4j2.properties" <<'PROPS'
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = info
logger.state.name = state.change.logger
logger.state.level = warn
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = warn
PROPS
}

format_storage() {
    [[ -f "$DATA/meta.properties" ]] && return 0
    local cluster_id
    cluster_id=$("$PYTHON" -c 'import base64, uuid; print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))')
    log "kafka: formatting storage (cluster id $cluster_id)"
    "$JAVA" "${JAVA_OPTS[@]}" -cp "$JARS/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$CONF" >>"$LOGFILE" 2>&1 \
        || die "kafka: storage format failed; see $LOGFILE"
}

start() {
    install
    if pid_alive "$PIDFILE"; then
        log "kafka: already running (pid $(cat "$PIDFILE"))"
        echo "$ENV_LINE"
        return 0
    fi
    # Tests leave a topic each behind; a broker loading thousands of them starts slowly
    # (30s and growing), so up.sh starts from empty storage. A plain restart keeps the data.
    if [[ "${1:-}" == --fresh ]]; then rm -rf "$DATA"; fi
    port_open "$PORT" && die "kafka: port $PORT is taken by another process (set VITALSTREAM_SERVICES_KAFKA_PORT)"
    port_open "$CONTROLLER_PORT" && die "kafka: controller port $CONTROLLER_PORT is taken (set VITALSTREAM_SERVICES_KAFKA_CONTROLLER_PORT)"
    local t0; t0=$(now)
    write_config
    : >"$LOGFILE"
    format_storage
    # setsid: the broker outlives this script and its terminal; we stop it through the pid file.
    setsid "$JAVA" "${JAVA_OPTS[@]}" -cp "$JARS/*" kafka.Kafka "$CONF" >>"$LOGFILE" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    if ! "$PYTHON" "$SCRIPTS_DIR/ready.py" kafka "127.0.0.1:$PORT" --timeout 90 --pidfile "$PIDFILE"; then
        tail -n 30 "$LOGFILE" >&2 || true
        stop_pid "$PIDFILE" kafka 10
        die "kafka: broker did not become ready; full log: $LOGFILE"
    fi
    log "kafka: Apache Kafka $VERSION ready on 127.0.0.1:$PORT in $(elapsed "$t0") (log: $LOGFILE)"
    echo "$ENV_LINE"
}

case "${1:-start}" in
    install) install ;;
    start) start "${2:-}" ;;
    stop) stop_pid "$PIDFILE" kafka 30 ;;
    status) pid_alive "$PIDFILE" && port_open "$PORT" ;;
    reset) stop_pid "$PIDFILE" kafka 30; rm -rf "$DATA"; log "kafka: data deleted" ;;
    env) echo "$ENV_LINE" ;;
    *) die "usage: $0 {install|start|stop|status|reset|env}" ;;
esac
