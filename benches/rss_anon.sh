#!/usr/bin/env bash
# Peak anonymous memory (heap, stacks; not the mapped log file's page-cache
# pages) of one command, sampled from /proc/PID/status every 10 ms.
#   benches/rss_anon.sh target/release/gatecheck analyze big.log --format json
# Prints: peak RssAnon and peak VmRSS in MB, and the wall time.
set -u
[ $# -ge 1 ] || { sed -n '2,5p' "$0"; exit 2; }
start=$(date +%s.%N)
"$@" > /dev/null &
pid=$!
peak_anon=0 peak_rss=0
while kill -0 "$pid" 2>/dev/null; do
    if [ -r "/proc/$pid/status" ]; then
        read -r anon rss < <(awk '/^RssAnon/{a=$2} /^VmRSS/{r=$2} END{print a+0, r+0}' "/proc/$pid/status" 2>/dev/null)
        [ "${anon:-0}" -gt "$peak_anon" ] && peak_anon=$anon
        [ "${rss:-0}" -gt "$peak_rss" ] && peak_rss=$rss
    fi
    sleep 0.01
done
wait "$pid"
rc=$?
end=$(date +%s.%N)
printf 'peak RssAnon %.1f MB, peak VmRSS %.1f MB, wall %.2f s, exit %d\n' \
    "$(echo "$peak_anon/1024" | bc -l)" "$(echo "$peak_rss/1024" | bc -l)" "$(echo "$end-$start" | bc -l)" "$rc"
