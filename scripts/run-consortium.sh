#!/usr/bin/env bash
# Starts the four-validator development consortium (notary office, forensic lab, court, justice
# bureau) as four `cinnabar node` processes on loopback: created with demo data on first run,
# stopped together on Ctrl-C. Usage: scripts/run-consortium.sh BINARY DIR
set -euo pipefail
bin=$1
dir=$2
names=(notary lab court bureau)
if [ ! -f "$dir/notary/genesis.json" ]; then
  "$bin" dev init --validators 4 --dir "$dir" --listen 127.0.0.1:8080
  fresh=1
fi
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
for name in "${names[@]}"; do
  "$bin" node --dir "$dir/$name" >>"$dir/$name.log" 2>&1 &
  pids+=($!)
done
for port in 8081 8082 8083 8084; do
  for _ in $(seq 1 100); do
    (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
    sleep 0.1
  done
done
if [ -n "${fresh:-}" ]; then
  "$bin" dev demo --dir "$dir/notary" --node http://127.0.0.1:8081
fi
for i in "${!names[@]}"; do
  echo "cinnabar: ${names[$i]}: verification page http://127.0.0.1:$((8081 + i))/  (log $dir/${names[$i]}.log)"
done
echo "cinnabar: four validators running; Ctrl-C stops them"
wait
