# Makefile - builds dsm (the allocator), libsm (static and shared) and the
# tests; `make help` lists the targets. Sanitizer builds go to their own
# directories (build/asan, build/tsan) with the same rules.

PREFIX   ?= /usr/local
DESTDIR  ?=
VERSION  := 1.0.0
SOVERSION := 1

CC       ?= cc
B        ?= build
SAN      ?=
OPT      ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror $(OPT) $(SAN) -pthread
LDFLAGS  += $(SAN) -pthread
LIBBSD   := -lbsd

# common/: the wire protocol and socket helpers, linked into dsm and libsm alike
COMMON_SRC := common/message.c common/wire.c common/dispatch.c common/net.c
# allocator/launch/: hosts, starting nodes, their output, joining
LAUNCH_SRC := $(wildcard allocator/launch/*.c)
# allocator/pages/: the page table, the coherence engine, the proxies
PAGES_SRC  := $(wildcard allocator/pages/*.c)
# allocator/locks/: the lock table and the proxies' side of sm_lock, sm_cond_*
LOCKS_SRC  := $(wildcard allocator/locks/*.c)
# allocator/: the job, its event loop, control channel, services, options, log and statistics
JOB_SRC    := $(filter-out allocator/main.c,$(wildcard allocator/*.c))
ALLOC_SRC  := $(LAUNCH_SRC) $(PAGES_SRC) $(LOCKS_SRC) $(JOB_SRC)
CLIENT_SRC := client/args.c client/link.c client/region.c client/fault.c \
              client/node.c client/alloc.c client/sync.c client/report.c \
              client/sigchain.c client/caller.c client/statelock.c client/threads.c \
              client/wait.c client/hold.c client/collective.c client/locks.c \
              client/heldlocks.c client/parmacs.c client/parmacs_sync.c \
              client/txn.c client/txnlog.c client/txnsig.c
TEST_PROGS := $(patsubst tests/programs/%.c,%,$(wildcard tests/programs/*.c))
EXAMPLES   := $(patsubst examples/%.c,%,$(wildcard examples/*.c))
# PARMACS test programs (SPLASH-style .C files): m4 with the macro file makes
# $(B)/parmacs/NAME.c, built like the other test programs as parmacs-NAME
PARMACS_M4 := tools/parmacs/c.m4.dsm
PARMACS_PROGS := $(patsubst tests/parmacs/%.C,parmacs-%,$(wildcard tests/parmacs/*.C))
UNIT_SRC   := $(wildcard tests/unit/*.c)
MAN1       := $(wildcard man/*.1)
MAN3       := $(wildcard man/*.3)
MAN5       := $(wildcard man/*.5)
MAN7       := $(wildcard man/*.7)
MANDIR     := $(PREFIX)/share/man

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
pic = $(patsubst %.c,$(B)/pic/%.o,$(1))

.PHONY: all check demo install uninstall clean help unit asan tsan valgrind \
        integration deps fuzz fuzz-smoke remote slurm bench bench-build bench-smoke stress
all: $(B)/dsm $(B)/libsm.a $(B)/libsm.so $(B)/dsmcc $(B)/dsm-plot \
     $(addprefix $(B)/tests/,$(TEST_PROGS) $(PARMACS_PROGS)) \
     $(addprefix $(B)/examples/,$(EXAMPLES))

help:
	@echo "make            build dsm, libsm and the tests into $(B)/"
	@echo "make demo       install missing build dependencies, build, run an example"
	@echo "make check      unit tests, integration tests, and both again under ASan+UBSan"
	@echo "make check T=X  only the unit suite X (e.g. coherence) and/or the integration"
	@echo "                program X (e.g. matmul: its plain, ASan and prefetch runs)"
	@echo "make valgrind   integration tests with every node under valgrind memcheck"
	@echo "make tsan       integration tests built with ThreadSanitizer"
	@echo "make fuzz       fuzz the message decoder (FUZZ_TIME seconds, default 3600)"
	@echo "make bench      benchmarks: table, bench/results/latest.{json,csv,svg}, speedup.svg"
	@echo "make remote     integration and failure tests through a private sshd (root)"
	@echo "make slurm      the srun launcher under a private Slurm cluster (root)"
	@echo "make stress     failure and fault scenarios STRESS_RUNS times (default 20)"
	@echo "make install    install into PREFIX (default /usr/local), honouring DESTDIR"

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# libsm: position-independent, everything hidden but the sm_ API
$(B)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c $< -o $@

$(B)/dsm: $(call obj,$(COMMON_SRC) $(ALLOC_SRC) allocator/main.c)
	$(CC) $(LDFLAGS) $^ $(LIBBSD) -o $@

# dsm-plot: a dsm -l log as an SVG picture; libc only. tools/plot/: parsing
# the log (parse.c), the three drawings (draw_*.c), the command line (main.c)
PLOT_SRC   := $(wildcard tools/plot/*.c)
$(B)/dsm-plot: $(call obj,$(PLOT_SRC))
	$(CC) $(LDFLAGS) $^ -o $@

# One relocatable object with the internal symbols made local, so the static
# library exports exactly what the shared one does: the sm_ functions of sm.h
# and sm_parmacs.h, and sigaction and signal (client/sigchain.c).
$(B)/libsm.o: $(call pic,$(CLIENT_SRC) $(COMMON_SRC))
	ld -r -o $@.tmp $^
	objcopy --localize-hidden $@.tmp $@
	rm -f $@.tmp

$(B)/libsm.a: $(B)/libsm.o
	rm -f $@
	ar rcs $@ $<

$(B)/libsm.so.$(VERSION): $(call pic,$(CLIENT_SRC) $(COMMON_SRC))
	$(CC) -shared $(LDFLAGS) -Wl,-soname,libsm.so.$(SOVERSION) $^ -o $@

$(B)/libsm.so: $(B)/libsm.so.$(VERSION)
	ln -sf libsm.so.$(VERSION) $@
	ln -sf libsm.so.$(VERSION) $(B)/libsm.so.$(SOVERSION)

# dsmcc for the build tree: absolute paths, links $(B)/libsm.a directly
$(B)/dsmcc: tools/dsmcc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@INCDIR@|$(CURDIR)/client|g' -e 's|@LIBDIR@||g' \
	    -e 's|@LIBSM_A@|$(abspath $(B)/libsm.a)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@.tmp
	chmod 755 $@.tmp
	mv $@.tmp $@

# test programs and examples build as a user's program would: sm.h and libsm only
$(B)/tests/%: tests/programs/%.c tests/programs/check.h tests/programs/meet.h $(B)/libsm.a client/sm.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iclient $< $(B)/libsm.a $(LDFLAGS) -o $@

# an OpenMP program inside each node: libgomp (gcc) or libomp (clang)
$(B)/tests/openmp: tests/programs/openmp.c tests/programs/check.h $(B)/libsm.a client/sm.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fopenmp -Iclient $< $(B)/libsm.a $(LDFLAGS) -fopenmp -o $@

# m4 -s: #line directives, so the compiler names lines of the .C file (kept
# in $(B)/parmacs/ for reading)
.PRECIOUS: $(B)/parmacs/%.c
$(B)/parmacs/%.c: tests/parmacs/%.C $(PARMACS_M4)
	@mkdir -p $(dir $@)
	m4 -s $(PARMACS_M4) $< > $@.tmp
	mv $@.tmp $@

$(B)/tests/parmacs-%: $(B)/parmacs/%.c tests/parmacs/pmcheck.h $(B)/libsm.a client/sm.h client/sm_parmacs.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iclient -Itests/parmacs $< $(B)/libsm.a $(LDFLAGS) -lm -o $@

$(B)/examples/%: examples/%.c $(B)/libsm.a client/sm.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iclient $< $(B)/libsm.a $(LDFLAGS) -o $@

# the unit tests link everything but the files that fork proxies or run the job
UNIT_ALLOC := $(filter-out allocator/pages/proxy.c allocator/pages/proxystart.c \
                           allocator/job.c allocator/jobstart.c,$(ALLOC_SRC))
$(B)/unit: $(UNIT_SRC) $(call obj,$(COMMON_SRC) $(UNIT_ALLOC)) $(B)/obj/client/args.o \
        $(B)/obj/client/txnlog.o
	$(CC) $(CPPFLAGS) $(CFLAGS) -Iclient $^ $(LDFLAGS) -lcriterion $(LIBBSD) -o $@

unit: $(B)/unit

# ---- benchmarks ---------------------------------------------------------
BENCH := baseline faults sync kernels remote locks txn
$(B)/bench/baseline: bench/baseline.c bench/stats.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(LDFLAGS) -o $@

$(B)/bench/%: bench/%.c bench/stats.h $(B)/libsm.a client/sm.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iclient $< $(B)/libsm.a $(LDFLAGS) -o $@

# The kernels' inner loops are a few instructions long: on CPUs with the
# Jump Conditional Code erratum (Intel Skylake and later) a branch that
# crosses a 32-byte boundary runs up to ~1.7x slower, and where it falls
# depends on how much code the linker puts first (libsm's size). Both the
# dsm and the plain C kernels keep their branches inside 32-byte blocks, so
# the comparison is of the same code. (clang: a driver flag; gcc: GNU as's)
BRANCH_ALIGN := $(shell $(CC) -mbranches-within-32B-boundaries -x c -c /dev/null \
	-o /dev/null 2>/dev/null && echo -mbranches-within-32B-boundaries || \
	($(CC) -Wa,-mbranches-within-32B-boundaries -x c -c /dev/null -o /dev/null \
	2>/dev/null && echo -Wa,-mbranches-within-32B-boundaries))
$(B)/bench/kernels: bench/kernels.c bench/stats.h $(B)/libsm.a client/sm.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BRANCH_ALIGN) -Iclient $< $(B)/libsm.a $(LDFLAGS) -o $@

$(B)/bench/kernels_seq: bench/kernels.c bench/stats.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BRANCH_ALIGN) -DSEQUENTIAL $< $(LDFLAGS) -o $@

bench-build: all $(addprefix $(B)/bench/,$(BENCH) kernels_seq)

bench: deps bench-build
	bench/run.sh $(B)

bench-smoke: bench-build
	bench/run.sh $(B) --smoke

# ---- fuzzing (clang's libFuzzer) -----------------------------------------
FUZZ_TIME ?= 3600
FUZZ_CC   ?= clang
build/fuzz/fuzz_messages: tests/fuzz/fuzz_messages.c $(COMMON_SRC)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -std=gnu11 -Wall -Wextra -Werror -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $^ -o $@

# the committed seeds stay as they are; what the fuzzer learns goes to build/
fuzz: build/fuzz/fuzz_messages
	@mkdir -p build/fuzz/corpus
	build/fuzz/fuzz_messages -max_total_time=$(FUZZ_TIME) -max_len=270000 \
		build/fuzz/corpus tests/fuzz/corpus

fuzz-smoke: build/fuzz/fuzz_messages
	@mkdir -p build/fuzz/corpus
	build/fuzz/fuzz_messages -max_total_time=30 -max_len=270000 -print_final_stats=1 \
		build/fuzz/corpus tests/fuzz/corpus

# ---- set-up and tests --------------------------------------------------
deps:
	@tests/install-deps.sh

demo: deps
	$(MAKE) all
	$(B)/dsm -n 4 $(B)/examples/hello

asan:
	$(MAKE) B=build/asan SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" OPT="-O1 -g" all

# T=NAME: only the Criterion suite NAME and/or the integration program NAME
# (tests/check.sh reads DSM_TEST_ONLY); the fuzzer and benchmarks are not built
T ?=
check: all unit asan $(if $(T),,build/fuzz/fuzz_messages bench-build)
	DSM_TEST_ONLY='$(T)' tests/check.sh $(B) build/asan build/fuzz/fuzz_messages

integration: all
	DSM_TEST_ONLY='$(T)' tests/integration.sh $(B)/dsm $(B)/tests

remote: all
	tests/remote.sh $(B)/dsm $(B)/tests

slurm: all
	tests/slurm.sh $(B)/dsm $(B)/tests

# the failure and fault scenarios STRESS_RUNS times (default 20), to catch flaky ones
STRESS_RUNS ?= 20
stress: all unit
	STRESS_RUNS='$(STRESS_RUNS)' tests/stress.sh $(B)/dsm $(B)/tests $(B)/unit

# Its own build: -fno-builtin keeps gcc from inlining memcpy/memset as
# rep movs/stos, which valgrind resumes wrongly after the SIGSEGV handler
# fetched the page (part of the copy is lost). See docs/design.md.
valgrind:
	$(MAKE) B=build/vg OPT="-O2 -g -fno-builtin" all
	DSM_VALGRIND=1 DSM_TEST_NODES="1 2 4" DSM_TEST_TIMEOUT=600 \
		tests/integration.sh build/vg/dsm build/vg/tests valgrind

tsan:
	$(MAKE) B=build/tsan SAN="-fsanitize=thread" OPT="-O1 -g" all
	@# TSan runs a signal handler only when the thread leaves the runtime or
	@# an interceptor, not while it waits in read(), pthread_barrier_wait()
	@# or TSan's own lock around an atomic: pingpong, threads samepage and
	@# blocked (and OpenMP, whose libgomp TSan cannot see either) deadlock
	@# there. See docs/design.md, Known limits.
	@# TSan's lock-order detector follows at most 64 locks per thread, and
	@# coh_grant_chunk holds a chunk's stripes (up to 1024): it is turned
	@# off. A forked child dies in TSan's _exit (fork_child).
	@# txnbank's packed accounts at 8 nodes abort some 30 times per commit
	@# under TSan's slowdown: 200 transfers per node instead of 2,000.
	TSAN_OPTIONS="detect_deadlocks=0 $(TSAN_OPTIONS)" DSM_TEST_TRANSFERS=200 \
	DSM_TEST_SKIP="pingpong openmp threads:samepage threads:blocked fork_child" \
		tests/integration.sh build/tsan/dsm build/tsan/tests tsan

# ---- installation ------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include \
	           $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(MANDIR)/man1 \
	           $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man5 \
	           $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(PREFIX)/share/dsm
	install -m 755 $(B)/dsm $(DESTDIR)$(PREFIX)/bin/dsm
	install -m 755 $(B)/dsm-plot $(DESTDIR)$(PREFIX)/bin/dsm-plot
	install -m 644 client/sm.h $(DESTDIR)$(PREFIX)/include/sm.h
	install -m 644 client/sm_parmacs.h $(DESTDIR)$(PREFIX)/include/sm_parmacs.h
	install -m 644 $(PARMACS_M4) $(DESTDIR)$(PREFIX)/share/dsm/c.m4.dsm
	install -m 644 $(B)/libsm.a $(DESTDIR)$(PREFIX)/lib/libsm.a
	install -m 755 $(B)/libsm.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libsm.so.$(VERSION)
	ln -sf libsm.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libsm.so.$(SOVERSION)
	ln -sf libsm.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libsm.so
	# generated here, so it always names the PREFIX being installed to
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' sm.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/sm.pc
	# dsmcc too: PREFIX/include and -lsm from PREFIX/lib with an rpath
	sed -e 's|@INCDIR@|$(PREFIX)/include|g' -e 's|@LIBDIR@|$(PREFIX)/lib|g' \
	    -e 's|@LIBSM_A@||g' -e 's|@VERSION@|$(VERSION)|g' tools/dsmcc.in \
		> $(DESTDIR)$(PREFIX)/bin/dsmcc
	chmod 755 $(DESTDIR)$(PREFIX)/bin/dsmcc
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(MAN3) $(DESTDIR)$(MANDIR)/man3
	install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5
	install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/dsm $(DESTDIR)$(PREFIX)/include/sm.h \
	      $(DESTDIR)$(PREFIX)/include/sm_parmacs.h $(DESTDIR)$(PREFIX)/share/dsm/c.m4.dsm \
	      $(DESTDIR)$(PREFIX)/lib/libsm.a $(DESTDIR)$(PREFIX)/lib/libsm.so \
	      $(DESTDIR)$(PREFIX)/lib/libsm.so.$(SOVERSION) \
	      $(DESTDIR)$(PREFIX)/lib/libsm.so.$(VERSION) \
	      $(DESTDIR)$(PREFIX)/lib/pkgconfig/sm.pc $(DESTDIR)$(PREFIX)/bin/dsmcc \
	      $(DESTDIR)$(PREFIX)/bin/dsm-plot \
	      $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1))) \
	      $(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(MAN3))) \
	      $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5))) \
	      $(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(MAN7)))
	-rmdir $(DESTDIR)$(PREFIX)/share/dsm 2>/dev/null

clean:
	rm -rf build

-include $(shell find $(B) -name '*.d' 2>/dev/null)
