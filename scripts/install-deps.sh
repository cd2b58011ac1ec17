#!/usr/bin/env bash
# Install the Debian 12 packages Flowent needs to build, run and test.
# Idempotent: when every package is already installed it returns at once without touching apt.
set -euo pipefail

PKGS=(
	build-essential pkg-config
	postgresql-15 postgresql-server-dev-15 postgresql-15-cron postgresql-15-pgtap
	libcurl4-openssl-dev libjansson-dev libtap-parser-sourcehandler-pgtap-perl
	clang libclang-rt-14-dev libmicrohttpd-dev libwslay-dev libssl-dev curl wrk valgrind python3
	python3-aiosmtpd
	chromium
)
# The dashboard (web/) builds with the machine's Node.js and npm (npm ci from web/package-lock.json,
# in test/scripts/web.sh and make web); only where they are missing does Debian's nodejs/npm come in
# (older: Vite 8 wants Node.js >= 20.19).
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || PKGS+=(nodejs npm)

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "install-deps: dpkg-query not found: this script supports Debian 12 only." >&2
	echo "install-deps: install by hand: ${PKGS[*]}" >&2
	exit 1
fi

# Packages whose status is not "install ok installed" (unknown packages are missing too).
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${PKGS[@]}" 2>/dev/null | awk '$NF == "installed" {print $1}' || true)
missing=()
for p in "${PKGS[@]}"; do
	grep -qxF "$p" <<<"$installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PKGS[@]} packages already installed"
	exit 0
fi

echo "install-deps: missing: ${missing[*]}"

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo)
	else
		echo "install-deps: not root and no sudo: install these packages as root: ${missing[*]}" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive
# apt-get update fails when another apt holds the lists lock: wait and retry once.
if ! "${SUDO[@]}" apt-get update -o DPkg::Lock::Timeout=300; then
	echo "install-deps: apt-get update failed; retrying once in 15 s" >&2
	sleep 15
	"${SUDO[@]}" apt-get update -o DPkg::Lock::Timeout=300
fi

# Installing all of them (not only the missing ones) also upgrades a preinstalled postgresql-15;
# scripts/cluster.sh start notices the new server binary and restarts a running cluster.
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -o DPkg::Lock::Timeout=300 "${PKGS[@]}"

echo "install-deps: done"
