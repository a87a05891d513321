# rrelay: a round-robin relay transport and an SPF milter for Postfix.
# SPDX-License-Identifier: MIT
#
#   make            build build/rrelay, build/rrelay-cache (and
#                   build/rrelay-milter)
#   make check      install what is missing, build, run every test
#   make check-stress  the integration tests while stress-ng keeps every
#                   core busy (tests/stress; TESTS="a.bats ..." limits
#                   the files); not part of check
#   make check-daemon  only the daemon pass of make check: every transport
#                   test again through rrelay-cache's delivery workers
#                   (tests/run)
#   make demo       install what is missing, build, show rrelay at work
#   make install    install under $(DESTDIR)$(PREFIX)
#   make deb        build the Debian package ../rrelay_*.deb (debian/)
#   make bench      run the benchmarks in bench/
#   make fuzz       run each libFuzzer harness in tests/fuzz/ for FUZZ_TIME
#                   seconds (default 60), built with clang into build/fuzz/;
#                   FUZZ_JOBS=2 runs two at a time, FUZZ_TARGETS="wire"
#                   only the targets named
#
# CC=clang builds with clang; SANITIZE=1 builds with AddressSanitizer and
# UBSan into build/san/ and runs the tests against that build. "make
# check" also replays each fuzz harness's committed corpus
# (tests/fuzz/corpus/), built with the normal compiler; "make fuzz" is
# not part of it.

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN      = -Wall -Wextra -Werror
# Every text buffer is filled with snprintf and cutting a long diagnostic
# short is intended, so gcc's guesses about possible truncation are noise.
# (clang has no such warning and rejects the flag.)
ifeq ($(findstring clang,$(shell $(CC) --version 2>/dev/null)),)
WARN     += -Wno-format-truncation
endif
CPPFLAGS += -D_GNU_SOURCE -Icommon
# rrelay links only libc (and libdl, in libc since glibc 2.34): it loads
# libssl and libresolv itself when a delivery first needs them (ossl.c,
# resolve.c), because linking them cost every process start more than
# the rest of a plaintext delivery. The milter is a daemon: it links them.
LDLIBS    = -ldl
MILTER_LDLIBS = -lresolv -ldl
PREFIX   ?= /usr/local
LIBEXEC   = $(PREFIX)/libexec/rrelay
SBINDIR   = $(PREFIX)/sbin
MANDIR    = $(PREFIX)/share/man
MAN8      = man/rrelay.8 man/rrelay-milter.8 man/rrelay-setup.8 man/rrelay-cache.8
MAN5      = man/rrelay.conf.5 man/rrelay-milter.conf.5

MILTER_CFLAGS := $(shell pkg-config --cflags milter 2>/dev/null)
MILTER_LIBS   := $(shell pkg-config --libs milter 2>/dev/null || echo -lmilter)
CHECK_LIBS    := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

ifeq ($(FUZZ),1)
BUILD    ?= build/fuzz
SANFLAGS  = -fsanitize=fuzzer-no-link,address,undefined \
	    -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SANITIZE),1)
BUILD    ?= build/san
SANFLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=undefined
else
BUILD    ?= build
SANFLAGS  =
endif

ALL_CFLAGS = $(CFLAGS) $(WARN) $(SANFLAGS) -pthread
OBJ        = $(BUILD)/obj

COMMON_SRC    = $(wildcard common/*.c)
TRANSPORT_SRC = $(filter-out transport/main.c transport/daemon/cache_main.c,\
		  $(wildcard transport/*.c transport/*/*.c))
FILTER_SRC    = $(filter-out filter/main.c,$(wildcard filter/*.c))
UNIT_SRC      = $(wildcard tests/unit/check_*.c)
TOOL_SRC      = $(wildcard tests/tools/*.c)
FUZZ_SRC      = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_TIME    ?= 60

LIB_COMMON    = $(BUILD)/librrcommon.a
LIB_TRANSPORT = $(BUILD)/librrtransport.a
LIB_FILTER    = $(BUILD)/librrfilter.a

PROGS = $(BUILD)/rrelay $(BUILD)/rrelay-cache
ifneq ($(wildcard filter/main.c),)
PROGS += $(BUILD)/rrelay-milter
endif
UNIT_TESTS = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOLS      = $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))
REPLAYS    = $(patsubst tests/fuzz/%.c,$(BUILD)/tests/%,$(FUZZ_SRC))
FUZZERS    = $(patsubst tests/fuzz/%.c,$(BUILD)/fuzzers/%,$(FUZZ_SRC))

.PHONY: all check check-daemon check-stress demo install uninstall bench deps tests fuzz fuzzers clean deb
.DELETE_ON_ERROR:

all: $(PROGS)

# transport/ is in folders by layer (README.md, "Layout"); its files
# include each other as "net/netio.h", from the top of transport/.
$(OBJ)/transport/%.o: CPPFLAGS += -Itransport

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(MILTER_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB_COMMON): $(COMMON_SRC:%.c=$(OBJ)/%.o)
	rm -f $@ && ar rcs $@ $^

$(LIB_TRANSPORT): $(TRANSPORT_SRC:%.c=$(OBJ)/%.o)
	rm -f $@ && ar rcs $@ $^

$(LIB_FILTER): $(FILTER_SRC:%.c=$(OBJ)/%.o)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/rrelay: $(OBJ)/transport/main.o $(LIB_TRANSPORT) $(LIB_COMMON)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/rrelay-cache: $(OBJ)/transport/daemon/cache_main.o $(LIB_TRANSPORT) $(LIB_COMMON)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/rrelay-milter: $(OBJ)/filter/main.o $(LIB_FILTER) $(LIB_COMMON)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -lspf2 $(MILTER_LIBS) $(MILTER_LDLIBS)

# Unit tests: tests/unit/check_filter_*.c test the filter, the others the
# transport; each links only its own program's code, so one can't break
# the other's build.
$(OBJ)/tests/unit/check_filter_%.o: CPPFLAGS += -Ifilter
$(OBJ)/tests/unit/check_%.o: CPPFLAGS += -Itransport

$(BUILD)/tests/check_filter_%: $(OBJ)/tests/unit/check_filter_%.o $(LIB_FILTER) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(CHECK_LIBS) -lspf2 $(MILTER_LIBS) $(MILTER_LDLIBS)

$(BUILD)/tests/check_%: $(OBJ)/tests/unit/check_%.o $(LIB_TRANSPORT) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

# cache_take and fake_cache speak rrelay-cache's protocol with the transport's code.
$(BUILD)/tools/cache_take $(BUILD)/tools/fake_cache: $(BUILD)/tools/%: tests/tools/%.c tests/tools/listen.h $(LIB_TRANSPORT) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itransport $(ALL_CFLAGS) -o $@ $< $(LIB_TRANSPORT) $(LIB_COMMON) $(LDLIBS)

# fault_server speaks TLS after STARTTLS when given a certificate.
$(BUILD)/tools/fault_server: tests/tools/fault_server.c tests/tools/listen.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< -lssl -lcrypto

$(BUILD)/tools/%: tests/tools/%.c tests/tools/listen.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $<

# Fuzz harnesses (tests/fuzz/fuzz_*.c), linked like the unit tests: each
# with replay.c into $(BUILD)/tests/ for "make check", and, in the
# FUZZ=1 build that "make fuzz" makes, with libFuzzer into fuzzers/.
$(OBJ)/tests/fuzz/%.o: CPPFLAGS += -Itests/fuzz
$(OBJ)/tests/fuzz/fuzz_filter_%.o: CPPFLAGS += -Ifilter
$(OBJ)/tests/fuzz/fuzz_%.o: CPPFLAGS += -Itransport

$(BUILD)/tests/fuzz_filter_%: $(OBJ)/tests/fuzz/fuzz_filter_%.o $(OBJ)/tests/fuzz/replay.o $(LIB_FILTER) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lspf2 $(MILTER_LIBS) $(MILTER_LDLIBS)

$(BUILD)/tests/fuzz_%: $(OBJ)/tests/fuzz/fuzz_%.o $(OBJ)/tests/fuzz/replay.o $(LIB_TRANSPORT) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzzers/fuzz_filter_%: $(OBJ)/tests/fuzz/fuzz_filter_%.o $(LIB_FILTER) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ -lspf2 $(MILTER_LIBS) $(MILTER_LDLIBS)

$(BUILD)/fuzzers/fuzz_%: $(OBJ)/tests/fuzz/fuzz_%.o $(LIB_TRANSPORT) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# fuzz_resolve parses each answer again itself, with libresolv.
$(BUILD)/tests/fuzz_resolve $(BUILD)/fuzzers/fuzz_resolve: LDLIBS += -lresolv

tests: $(PROGS) $(UNIT_TESTS) $(TOOLS) $(REPLAYS)

fuzzers: $(FUZZERS)

deps:
	scripts/install-deps

# check also installs what the package test (tests/integration/package.bats)
# needs to build the Debian package.
check: deps
	scripts/install-deps deb
	$(MAKE) tests
	BUILD=$(BUILD) SANITIZE=$(SANITIZE) tests/run

check-daemon: deps
	$(MAKE) tests
	BUILD=$(BUILD) SANITIZE=$(SANITIZE) INTEGRATION_ONLY=1 DAEMON_ONLY=1 tests/run

# check-stress runs tests/stress, which stops stress-ng by its pid at the end.
check-stress: deps
	scripts/install-deps stress
	$(MAKE) tests
	BUILD=$(BUILD) SANITIZE=$(SANITIZE) TESTS="$(TESTS)" tests/stress

demo: deps
	$(MAKE) all
	BUILD=$(BUILD) tests/demo.sh

fuzz:
	scripts/install-deps fuzz
	$(MAKE) FUZZ=1 CC=clang BUILD=build/fuzz fuzzers
	BUILD=build/fuzz FUZZ_TIME=$(FUZZ_TIME) tests/fuzz/run

bench:
	scripts/install-deps bench
	$(MAKE) all $(TOOLS)
	BUILD=$(BUILD) bench/run

# rrelay-setup is installed with the transport's path written into it.
# The configuration files are installed only where none exist yet.
install: all
	install -d $(DESTDIR)$(LIBEXEC) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BUILD)/rrelay $(DESTDIR)$(LIBEXEC)/rrelay
	install -m 0755 $(BUILD)/rrelay-cache $(DESTDIR)$(SBINDIR)/rrelay-cache
	install -d $(DESTDIR)$(PREFIX)/share/rrelay
	install -m 0644 postfix-config/rrelay-cache.service $(DESTDIR)$(PREFIX)/share/rrelay/
	if [ -f $(BUILD)/rrelay-milter ]; then \
	    install -m 0755 $(BUILD)/rrelay-milter $(DESTDIR)$(SBINDIR)/rrelay-milter; fi
	sed 's,^binary=.*,binary=$(LIBEXEC)/rrelay,' postfix-config/rrelay-setup \
	    >$(DESTDIR)$(SBINDIR)/rrelay-setup
	chmod 0755 $(DESTDIR)$(SBINDIR)/rrelay-setup
	sed 's,^transport=.*,transport=$(LIBEXEC)/rrelay,' postfix-config/rrelay.sh \
	    >$(DESTDIR)$(SBINDIR)/rrelay
	chmod 0755 $(DESTDIR)$(SBINDIR)/rrelay
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)/etc/rrelay
	[ -e $(DESTDIR)/etc/rrelay/rrelay.conf ] || \
	    install -m 0644 postfix-config/rrelay.conf $(DESTDIR)/etc/rrelay/rrelay.conf
	[ -e $(DESTDIR)/etc/rrelay/rrelay-milter.conf ] || \
	    install -m 0644 postfix-config/rrelay-milter.conf $(DESTDIR)/etc/rrelay/rrelay-milter.conf

uninstall:
	rm -f $(DESTDIR)$(LIBEXEC)/rrelay $(DESTDIR)$(SBINDIR)/rrelay-milter \
	    $(DESTDIR)$(SBINDIR)/rrelay-setup $(DESTDIR)$(SBINDIR)/rrelay-cache \
	    $(DESTDIR)$(SBINDIR)/rrelay \
	    $(DESTDIR)$(PREFIX)/share/rrelay/rrelay-cache.service
	for m in $(MAN5); do rm -f $(DESTDIR)$(MANDIR)/man5/$${m#man/}; done
	for m in $(MAN8); do rm -f $(DESTDIR)$(MANDIR)/man8/$${m#man/}; done

# The package is built from debian/ with the Debian tools, into build/deb;
# dpkg-buildpackage writes ../rrelay_VERSION_ARCH.deb, and lintian must
# find no error in it (tests/integration/package.bats asks for more).
deb:
	scripts/install-deps deb
	dpkg-buildpackage -us -uc -b
	lintian --fail-on error ../rrelay_$$(dpkg-parsechangelog -S Version)_$$(dpkg --print-architecture).deb

clean:
	rm -rf build

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
