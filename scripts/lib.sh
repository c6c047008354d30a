# Shared helpers of scripts/run-demo and scripts/test (sourced, never run on its own).
#
# They find a Python recent enough for Django 6.1, keep the project's virtual environment in
# .venv up to date, and start the local services the tests talk to.

CARBET_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$CARBET_ROOT/.venv"

step() { printf '\n==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
is_ci() { [ -n "${CI:-}" ] && [ "${CI:-}" != "false" ] && [ "${CI:-}" != "0" ]; }

# True if "$1" runs and is Python 3.12 or newer (pyenv shims may exist yet refuse to run).
python_ok() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

# Print the path of a Python >= 3.12: $CARBET_PYTHON, then python3.13/python3.12/python3 on
# PATH, then pyenv's installed versions.
find_python() {
    local candidate path
    for candidate in "${CARBET_PYTHON:-}" python3.13 python3.12 python3; do
        [ -n "$candidate" ] || continue
        path="$(command -v "$candidate" 2>/dev/null)" || continue
        if python_ok "$path"; then
            echo "$path"
            return 0
        fi
    done
    for path in "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3 \
                /root/.pyenv/versions/3.1[2-9]*/bin/python3; do
        if [ -x "$path" ] && python_ok "$path"; then
            echo "$path"
            return 0
        fi
    done
    die "Carbet needs Python 3.12 or newer (Django 6.1) and none was found.
       Install one (e.g. 'pyenv install 3.12') or point CARBET_PYTHON at its python3."
}

# Create .venv with a suitable Python unless a usable one is already there.
ensure_venv() {
    if [ -x "$VENV/bin/python" ] && python_ok "$VENV/bin/python"; then
        return 0
    fi
    local python
    python="$(find_python)"
    if [ -e "$VENV" ]; then
        warn "$VENV does not run Python >= 3.12: creating it again"
        rm -rf "$VENV"
    fi
    step "Creating the virtual environment .venv with $("$python" --version 2>&1)"
    "$python" -m venv "$VENV"
}

# pip install -e "$1" (".", or ".[test]"), skipped when pyproject.toml has not changed since.
install_project() {
    local target="$1" stamp digest
    stamp="$VENV/.carbet-install-$(printf '%s' "$target" | tr -c 'a-z' '_')"
    digest="$(sha256sum "$CARBET_ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ] \
        && "$VENV/bin/python" -c 'import carbet' >/dev/null 2>&1; then
        return 0
    fi
    step "Installing Carbet and its Python packages (pip install -e \"$target\")"
    (cd "$CARBET_ROOT" && "$VENV/bin/python" -m pip install -qq -e "$target")
    echo "$digest" >"$stamp"
}

# True if something accepts TCP connections on 127.0.0.1:$1.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1
}

# Wait up to $2 seconds for port $1.
wait_port() {
    local port="$1" seconds="$2" i
    for ((i = 0; i < seconds * 4; i++)); do
        port_open "$port" && return 0
        sleep 0.25
    done
    return 1
}
