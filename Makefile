# hpcloop build.  `make` builds ./hpcloop; `make check` runs every test;
# `make check-asan` runs them again under ASan+UBSan; `make docs`
# regenerates the committed docs; `make demo` runs the demo loop.

# Only the libraries the code calls are linked: libssh2, libcurl and
# libmicrohttpd come back with the modules that use them.
PKGS := sqlite3 jansson yaml-0.1 libpcre2-8 libcrypto
CC ?= gcc
PREFIX ?= /usr/local
O ?= build

# The libraries no other shared library here depends on are linked
# statically (their Debian .a archives): it halves the start-up time of
# every call, which agents pay hundreds of times a loop (bench/).
# libcrypto is not linked at all: crypto.c loads it on first use, as the
# SSH and HTTP modules load libssh2 and libcurl, so that the calls that
# never hash start in half the time.  STATIC=0 links the others
# dynamically.
STATIC ?= 1
STATIC_PKGS := sqlite3 jansson yaml-0.1 libpcre2-8
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
ifeq ($(STATIC),1)
PKG_LIBS := -Wl,-Bstatic $(shell pkg-config --libs $(STATIC_PKGS)) \
	-Wl,-Bdynamic -ldl -lpthread
else
PKG_LIBS := $(shell pkg-config --libs $(STATIC_PKGS)) -ldl -lpthread
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) \
	-iquote src -iquote src/core -iquote $(O) $(PKG_CFLAGS)
ALL_LDFLAGS := $(LDFLAGS) $(EXTRA_LDFLAGS)
LIBS := $(PKG_LIBS) -lm

CORE_SRC := $(sort $(wildcard src/core/*.c))
PRIM_SRC := $(sort $(wildcard src/primitives/*.c))
SERVER_SRC := $(sort $(wildcard src/server/*.c))
SCHEMAS := $(sort $(wildcard schemas/*.json schemas/meta/*.json))
TEMPLATES := $(sort $(wildcard templates/*))
COMMANDS := $(sort $(wildcard slash_commands/*.md))

CORE_OBJ := $(patsubst %.c,$(O)/%.o,$(CORE_SRC))
PRIM_OBJ := $(patsubst %.c,$(O)/%.o,$(PRIM_SRC))
SERVER_OBJ := $(patsubst %.c,$(O)/%.o,$(SERVER_SRC))
EMBED_OBJ := $(O)/embedded.o
LIB := $(O)/libhpcloop.a
BIN := $(O)/hpcloop

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRC))
HELPER := $(O)/test-tool

.PHONY: all check check-unit check-jobscript check-e2e check-asan docs docs-check demo \
	install clean bench FORCE

all: $(BIN) $(HELPER) $(if $(filter build,$(O)),hpcloop)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# Schemas, templates and slash commands are embedded in the binary so
# that `hpcloop schema NAME` and `hpcloop setup` work from any directory.
$(O)/embedded.c: scripts/embed-files.sh $(SCHEMAS) $(TEMPLATES) $(COMMANDS)
	@mkdir -p $(O)
	sh scripts/embed-files.sh $(SCHEMAS) $(TEMPLATES) $(COMMANDS) > $@.tmp && mv $@.tmp $@

$(O)/embedded.o: $(O)/embedded.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(CORE_OBJ) $(PRIM_OBJ) $(SERVER_OBJ) $(EMBED_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(O)/src/main.o $(LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# The default build also leaves ./hpcloop at the top of the tree.
hpcloop: $(BIN)
	cp $(BIN) $@

$(HELPER): $(O)/tests/helper/test-tool.o $(LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS) -lcmocka

check: all docs-check check-unit check-jobscript check-e2e

# The job script with the stand-in agent and no scheduler, rendered by
# the product (test-tool render-job), so it needs the binaries.
check-jobscript: $(BIN) $(HELPER)
	HPCLOOP_BIN=$(CURDIR)/$(BIN) HPCLOOP_TEST_TOOL=$(CURDIR)/$(HELPER) \
		bash tests/jobscript/run-jobscript.sh

check-unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "# $$t"; \
		HPCLOOP_SRC=$(CURDIR) $$t; done

# t0-t8 run in parallel; t9 checks what they produced, so it runs last.
check-e2e: all
	rm -rf $(O)/envelopes
	HPCLOOP_BIN=$(CURDIR)/$(BIN) HPCLOOP_TEST_TOOL=$(CURDIR)/$(HELPER) \
	HPCLOOP_ENVELOPE_DIR=$(CURDIR)/$(O)/envelopes HPCLOOP_SANITIZE=$(SANITIZE) \
		prove -j8 --timer $(sort $(wildcard tests/e2e/t[0-8]*.sh))
	HPCLOOP_BIN=$(CURDIR)/$(BIN) HPCLOOP_TEST_TOOL=$(CURDIR)/$(HELPER) \
	HPCLOOP_ENVELOPE_DIR=$(CURDIR)/$(O)/envelopes HPCLOOP_SANITIZE=$(SANITIZE) \
		prove --timer $(sort $(wildcard tests/e2e/t9*.sh))

check-asan:
	$(MAKE) O=build-asan SANITIZE=asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" check

docs: $(BIN)
	$(BIN) __gen-docs docs

docs-check: $(BIN)
	@HPCLOOP_BIN=$(BIN) sh scripts/docs-check.sh

demo: all
	sh scripts/demo.sh

bench: all
	@for b in bench/*.sh; do echo "== $$b"; sh $$b; done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/hpcloop
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/hpcloop
	cp -R schemas templates slash_commands docs $(DESTDIR)$(PREFIX)/share/hpcloop/

clean:
	rm -rf build build-asan hpcloop

-include $(shell find $(O) -name '*.d' 2>/dev/null)
