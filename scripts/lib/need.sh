# Sourced by the load and soak scripts: `need BINARY PACKAGE` installs the Debian package that
# provides a missing binary when run as root with apt-get, and otherwise stops with what to install.
need() {
    if ! command -v "$1" >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "== installing $2"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -q >/dev/null || true
            apt-get install -y -q --no-install-recommends "$2" >/dev/null
        else
            echo "$1 is missing: apt-get install $2" >&2
            exit 1
        fi
    fi
}
