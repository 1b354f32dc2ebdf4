# shellcheck shell=bash
# failures.d/collective.sh - failure scenarios of tests/failures.sh (sourced by
# it, with its helpers) for sm_malloc_collective and sm_bcast_buf called
# wrongly (tests/programs/collfail.c): nodes that disagree, a buffer in
# shared memory, and a node that sends broadcast data nobody allowed.
# shellcheck disable=SC2154 # err, dir, hostargs: failures.sh's

# collfail_case WHAT TITLE REGEX: `collfail WHAT` on 4 nodes must exit 1 with
# a line matching REGEX on stderr, and no node may return from the call
collfail_case() {
	launch "collfail-$1" -- "${hostargs[@]}" -n 4 ./collfail "$1"
	finish
	expect_status 1
	expect_stderr "$3"
	if grep -Eq 'collfail: node [0-9]+ returned' "$out" "$err"; then
		fail_because "a node returned from the call: $(grep -Eh -m 1 'returned' "$out" "$err")"
	fi
	expect_gone
	report "$2"
}

# ---- n. nodes that disagree ---------------------------------------------
# each node is told what it gave and what another node gave (node 3 gave
# 116 bytes, the others 100): some node says so before the job ends
said='^dsm: node [0-9]+: sm_malloc_collective: nodes disagree on the size '
said+='\(this node gave (100 bytes, node 3 gave 116|116 bytes, node [012] gave 100) bytes\); '
said+='every node must call sm_malloc_collective with the same size, in the same order$'
collfail_case size "sm_malloc_collective: sizes disagree" "$said"

said='^dsm: node [0-9]+: sm_bcast_buf: nodes disagree on the length '
said+='\(this node gave (64 bytes, node 3 gave 65|65 bytes, node [012] gave 64) bytes\)'
collfail_case length "sm_bcast_buf: lengths disagree" "$said"

collfail_case root "sm_bcast_buf: roots disagree" \
	'^dsm: node [0-9]+: sm_bcast_buf: nodes disagree on the root \(this node gave [01]\)$'

# ---- o. a buffer in shared memory -----------------------------------------
collfail_case shared "sm_bcast_buf: a buffer in shared memory" \
	'^dsm: node [0-9]+: sm_bcast_buf: buf is in shared memory, which every node already sees: share a pointer to it with sm_bcast instead \(buf 0x566[0-9a-f]+, len 16\)$'

# ---- p. broadcast data that no BCAST_BUF_GO allowed ------------------------
# node 0 writes a raw BCAST_DATA; its proxy closes its link (the job ends),
# and none of it reaches the others, who wait in a barrier
msg='dsm: node 0 sent BCAST_DATA (in the job): a broadcast piece no BCAST_BUF_GO allowed; closing its link'
launch collfail-hostile -- "${hostargs[@]}" -n 4 ./collfail hostile
finish
expect_status 1
grep -Fxq -- "$msg" "$err" || fail_because "no '$msg' on dsm's stderr"
if grep -q 'unexpected message from dsm' "$err"; then
	fail_because "a node got the data: $(grep -m 1 'unexpected message' "$err")"
fi
if grep -Eq 'collfail: node [0-9]+ returned' "$out" "$err"; then
	fail_because "a node left the barrier early"
fi
expect_gone
report "BCAST_DATA without BCAST_BUF_GO closes the link, reaches nobody"
