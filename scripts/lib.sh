# Sourced by the scripts: exports stack.env's variables that the environment does not set.
load_stack_env() {
  local file=$1 k v
  [ -f "$file" ] || return 0
  while IFS='=' read -r k v; do
    case $k in '' | '#'*) continue ;; esac
    if [ -z "${!k+x}" ]; then export "$k=$v"; fi
  done <"$file"
  return 0
}
