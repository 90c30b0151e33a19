#!/usr/bin/env bash
# The FHIR reference validation (HAPI FHIR 8.8.0's FhirInstanceValidator) for the export tests:
# a build, not a server. Fetches the jars from Maven Central and compiles
# scripts/fhir-validator/ once, cached under .services/fhir-validator/.
#
#   scripts/services/fhir-validator.sh start    build if needed (what up.sh calls)
#   scripts/services/fhir-validator.sh status   exit 0 when built
#   scripts/services/fhir-validator.sh env      VITALSTREAM_TEST_FHIR_VALIDATOR=<classpath>
#   scripts/services/fhir-validator.sh stop     nothing to stop
#   scripts/services/fhir-validator.sh reset    delete the build
#
# Run it by hand:  java -cp "$(scripts/services/fhir-validator.sh classpath)" \
#     io.vitalstream.fhirvalidator.Validate [--support CodeSystem.json] out/*.ndjson
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROJECT="$REPO_ROOT/scripts/fhir-validator"
HOME_DIR="$SERVICES_DIR/fhir-validator"
# A change to the pom or the Java source makes a new build directory: no stale class runs.
STAMP=$(cat "$PROJECT/pom.xml" "$PROJECT"/src/main/java/io/vitalstream/fhirvalidator/*.java | sha256sum | cut -c1-12)
BUILD="$HOME_DIR/build-$STAMP"
CLASSPATH_VALUE="$BUILD/classes:$BUILD/jars/*"

build() {
    if [[ -f "$BUILD/.complete" ]]; then return 0; fi
    command -v java >/dev/null || die "java not found (the FHIR validator needs Java 17+)"
    command -v mvn >/dev/null || die "mvn not found (apt-get install -y maven)"
    local t0; t0=$(now)
    log "fhir-validator: fetching HAPI FHIR jars and compiling into $BUILD"
    rm -rf "$BUILD.tmp" && mkdir -p "$BUILD.tmp"
    # The local Maven repository is shared with the other services under .services/m2.
    mvn -q -B -Dstyle.color=never -f "$PROJECT/pom.xml" -Dmaven.repo.local="$SERVICES_DIR/m2" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$BUILD.tmp/jars" >&2 \
        || die "fhir-validator: mvn dependency:copy-dependencies failed"
    mkdir -p "$BUILD.tmp/classes"
    javac -nowarn --release 17 -encoding UTF-8 -cp "$BUILD.tmp/jars/*" -d "$BUILD.tmp/classes" \
        "$PROJECT"/src/main/java/io/vitalstream/fhirvalidator/*.java >&2 \
        || die "fhir-validator: javac failed"
    touch "$BUILD.tmp/.complete"
    rm -rf "$BUILD" && mv "$BUILD.tmp" "$BUILD"
    # older builds are dead weight (145 MB each)
    find "$HOME_DIR" -maxdepth 1 -name 'build-*' ! -name "build-$STAMP" -exec rm -rf {} + 2>/dev/null || true
    log "fhir-validator: built in $(elapsed "$t0")"
}

case "${1:-start}" in
    install | start) build; echo "VITALSTREAM_TEST_FHIR_VALIDATOR=$CLASSPATH_VALUE" ;;
    stop) : ;;
    status) [[ -f "$BUILD/.complete" ]] ;;
    env) echo "VITALSTREAM_TEST_FHIR_VALIDATOR=$CLASSPATH_VALUE" ;;
    classpath) build; echo "$CLASSPATH_VALUE" ;;
    reset) rm -rf "$HOME_DIR"; log "fhir-validator: build deleted" ;;
    *) die "usage: $0 {start|status|env|classpath|stop|reset}" ;;
esac
