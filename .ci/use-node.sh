# Sourced by .ci/run (and usable by hand: `source .ci/use-node.sh`): makes `node` Node.js 24, the
# current LTS, when the machine's node is older. It installs the npm registry's
# node-linux-<arch> package (a plain Node.js build; the `node` package itself only fetches that one
# from an install script, which npm no longer runs unasked) once into a cache directory and puts
# its bin/ first on PATH. npm stays the machine's own and runs on that node.
#   LINEAL_NODE_VERSION  the exact 24.x to install (default below; bump it to take a newer 24.x)
#   LINEAL_NODE_CACHE    where installed versions are kept (default /opt/lineal-node, or
#                        ~/.cache/lineal-node when /opt is not writable)

lineal_use_node() {
  local wanted_major=24
  local version=${LINEAL_NODE_VERSION:-24.22.3}
  local have
  have=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$have" -ge "$wanted_major" ]; then
    return 0
  fi

  local arch
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "use-node: no Node.js package for $(uname -m); install Node.js $wanted_major by hand" >&2; return 1 ;;
  esac

  local cache=${LINEAL_NODE_CACHE:-/opt/lineal-node}
  if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
    cache=${XDG_CACHE_HOME:-$HOME/.cache}/lineal-node
    mkdir -p "$cache"
  fi
  local dir="$cache/$version-$arch"
  local bin="$dir/node_modules/node-linux-$arch/bin"
  if [ ! -x "$bin/node" ]; then
    echo "use-node: machine has node $(node --version 2>/dev/null || echo none); installing node-linux-$arch@$version into $dir" >&2
    local tmp
    tmp=$(mktemp -d "$cache/.install.XXXXXX")
    chmod 755 "$tmp"
    if ! npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      "node-linux-$arch@$version" >&2; then
      rm -rf "$tmp"
      return 1
    fi
    # Another run may have finished the same install meanwhile: keep whichever came first.
    mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
  fi
  "$bin/node" --version >/dev/null || { echo "use-node: $bin/node does not run here" >&2; return 1; }
  export PATH="$bin:$PATH"
  hash -r
}

lineal_use_node
