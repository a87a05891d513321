# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# bench/merge.bash - BENCH_MERGE=1: put the parts that ran into an earlier results file
#
# A full `make bench` takes over half an hour; a run of some workloads
# (WORKLOADS="1 6") can update only their parts of bench/results/latest.md.
# The parts are the workloads 1 to 6, "cost" and "milter". Each part owns
# some table rows and some sections of the results file:
#
#   ## Targets           rows "| workload N..." (N), "| rrelay CPU", "| peak RSS"
#                        (cost), "| milter..." (milter); "workload 4 ... (W4 a / W1 a)"
#                        needs 1 and 4, "no workload slower with the cache" 1 to 5
#   ## Relay throughput  rows "| N: ..." and "| N |", the "Workload 1 with a
#                        host_policy_file" line (1)
#   ## Workload 5, 6     the whole section (5, 6)
#   Every run            rows by their workload column; renumbered
#   ## Cost, ## Milter   the whole section
#   ### in Where the time goes: rrelay's CPU (cost), Workload 1 (1 and cost),
#                        Keeping whole TLS connections (5), Workload 4 (4),
#                        Workload 6 (6), Milter (milter)
#
# A unit whose parts all ran comes from the new file; any other unit comes
# from the old file if it has it, else from the new one (which then says
# "-" or "not run"); an old section the new file lacks is added at the
# end (the Where sections are last). Everything else (the title, the machine, the text
# between the tables) is the new file's. A "## Sources" table after the
# title says for each part which run (date, commit) it comes from; an old
# file without one counts as one run, named by its machine table.

# bn_merge OLD NEW PARTS: print NEW merged into OLD; PARTS: the parts that ran in NEW
bn_merge() {
    awk -v ran="$3" -v oldf="$1" '
        BEGIN { n = split(ran, r, " "); for (i = 1; i <= n; i++) did[r[i]] = 1
                nparts = split("1 2 3 4 5 6 cost milter", parts, " ")
                # the parts each section needs
                sec_own["w5"] = "5"; sec_own["w6"] = "6"; sec_own["cost"] = "cost"; sec_own["milter"] = "milter"
                sec_own["where-cost"] = "cost"; sec_own["where-1"] = "1 cost"; sec_own["where-tls"] = "5"
                sec_own["where-4"] = "4"; sec_own["where-6"] = "6"; sec_own["where-milter"] = "milter" }
        # owner(line): the parts a table row needs, "" for a line no part owns
        function owner(l,   m) {
            if (l ~ /^\| workload 4: \(a\) keeps/) return "1 4"
            if (l ~ /^\| no workload slower with the cache/) return "1 2 3 4 5"
            if (match(l, /^\| workload [1-6][ :]/)) return substr(l, 12, 1)
            if (l ~ /^\| (rrelay CPU|peak RSS)/) return "cost"
            if (l ~ /^\| milter:/) return "milter"
            if (match(l, /^\| [1-6](: | \|)/)) return substr(l, 3, 1)
            if (l ~ /^Workload 1 with a host_policy_file/) return "1"
            return ""
        }
        # sec_id(l): the name of the section a heading starts, "" if no part owns it
        function sec_id(l) {
            if (l ~ /^## Workload 5:/) return "w5"
            if (l ~ /^## Workload 6:/) return "w6"
            if (l ~ /^## Cost of one delivery/) return "cost"
            if (l ~ /^## Milter/) return "milter"
            if (l ~ /^### rrelay.s CPU per message/) return "where-cost"
            if (l ~ /^### Workload 1:/) return "where-1"
            if (l ~ /^### Keeping whole TLS/) return "where-tls"
            if (l ~ /^### Workload 4:/) return "where-4"
            if (l ~ /^### Workload 6:/) return "where-6"
            if (l ~ /^### Milter/) return "where-milter"
            return ""
        }
        # key(l): a row'"'"'s identity: its section and first cell ("| N:" for a workload row)
        function key(l,   k) {
            k = l
            if (l ~ /^\| [1-6]: /) k = substr(l, 1, 4); else sub(/ \|.*/, "", k)
            return sub_section "#" k
        }
        function level(l) { return (l ~ /^### /) ? 3 : (l ~ /^## /) ? 2 : (l ~ /^<details>/) ? 2 : 0 }
        function all_ran(o,   m, i, p) { m = split(o, p, " "); for (i = 1; i <= m; i++) if (!(p[i] in did)) return 0; return 1 }
        function run_row(l) { return l ~ /^\| [0-9]+ \| [1-6] \|/ }
        function run_w(l,   f) { split(l, f, "|"); return f[3] + 0 }
        # source_of(date, commit): a row of the sources table
        function source_of(date, commit) { return date " | " commit }
        FNR == 1 { file++; sub_section = ""; cur = ""; curlev = 0 }
        # --- the old file: its owned units, its runs, its sources
        file == 1 {
            lev = level($0)
            if (lev && lev <= curlev) { cur = ""; curlev = 0 }
            if (lev == 2) sub_section = $0
            if ($0 ~ /^## Sources/) insrc = 1; else if (lev) insrc = 0
            if (insrc && $0 ~ /^\| (1|2|3|4|5|6|cost|milter) \|/) {
                p = $2; osrc[p] = substr($0, length("| " p " | ") + 1); sub(/ \|$/, "", osrc[p]) }
            if ($0 ~ /^\| date \|/) { odate = $0; sub(/^\| date \| /, "", odate); sub(/ \|$/, "", odate) }
            if ($0 ~ /^\| rrelay \| commit /) { ocommit = $0; sub(/^\| rrelay \| commit /, "", ocommit); sub(/ \(.*/, "", ocommit) }
            o = sec_id($0)
            if (o != "") { cur = o; curlev = lev; osec[o] = $0 "\n"; have_part(sec_own[o]); next }
            if (cur != "") { osec[cur] = osec[cur] $0 "\n"; next }
            if (run_row($0)) { oruns[++noruns] = $0; present[run_w($0)] = 1; next }
            o = owner($0)
            if (o != "") { orow[key($0)] = $0; have_part(o) }
            next
        }
        # --- the new file, merged
        {
            lev = level($0)
            if (lev && lev <= curlev) { cur = ""; curlev = 0; skip = 0 }
            if (lev == 2) sub_section = $0
            if ($0 ~ /^\| date \|/) { ndate = $0; sub(/^\| date \| /, "", ndate); sub(/ \|$/, "", ndate) }
            if ($0 ~ /^\| rrelay \| commit /) { ncommit = $0; sub(/^\| rrelay \| commit /, "", ncommit); sub(/ \(.*/, "", ncommit) }
            if (inruns && !run_row($0)) { flush_runs(); inruns = 0 }
            if (skip) next
            o = sec_id($0)
            if (o != "") {
                cur = o; curlev = lev
                done_sec[o] = 1
                if (!all_ran(sec_own[o]) && (o in osec)) { out = out osec[o]; skip = 1; next }
            }
            if (run_row($0)) { inruns = 1; nruns[++nnruns] = $0; next }
            o = owner($0)
            if (o != "" && !all_ran(o) && (key($0) in orow)) { out = out orow[key($0)] "\n"; next }
            out = out $0 "\n"
            if ($0 ~ /^# rrelay benchmark results/) out = out "@@SOURCES@@\n"
        }
        function have_part(o,   m, i, p) { m = split(o, p, " "); for (i = 1; i <= m; i++) present[p[i]] = 1 }
        # flush_runs: the old runs of the parts that did not run, then the new ones, by workload, renumbered
        function flush_runs(   w, i, k, l) {
            k = 0
            for (w = 1; w <= 6; w++) {
                if (w in did) { for (i = 1; i <= nnruns; i++) if (run_w(nruns[i]) == w) emit_run(nruns[i], ++k) }
                else { for (i = 1; i <= noruns; i++) if (run_w(oruns[i]) == w) emit_run(oruns[i], ++k) }
            }
        }
        function emit_run(l, k) { sub(/^\| [0-9]+ \|/, "| " k " |", l); out = out l "\n" }
        END {
            if (inruns) flush_runs()
            # old sections the new file has no heading for (the milter'"'"'s analysis when it did not run)
            for (o in osec) if (!(o in done_sec) && !all_ran(sec_own[o])) out = out "\n" osec[o]
            s = "\n## Sources\n\nBENCH_MERGE=1: the parts that ran last replaced theirs; the others come from earlier runs.\n\n"
            s = s "| part | run of | rrelay commit |\n|---|---|---|\n"
            for (i = 1; i <= nparts; i++) {
                p = parts[i]
                if (p in did) v = source_of(ndate, ncommit)
                else if (p in osrc) v = osrc[p]
                else if (p in present && odate != "") v = source_of(odate, ocommit)
                else v = "not run | -"
                s = s "| " p " | " v " |\n"
            }
            sub(/@@SOURCES@@\n/, s, out)
            printf "%s", out
        }' "$1" "$2"
}
