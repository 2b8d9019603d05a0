#!/usr/bin/env python3
"""Generate src/config/nginx/directives.rs from nginx's own source.

Usage: scripts/nginx_directives.py <nginx git checkout> > src/config/nginx/directives.rs

Reads every `ngx_command_t` array of the modules shipped with nginx (core,
events, http, stream, mail): the name, the contexts (NGX_HTTP_MAIN_CONF|...)
and the argument-count flags (NGX_CONF_TAKE1...) that ngx_conf_handler()
checks, and the value type from the `set` handler (ngx_conf_set_msec_slot →
Time, ..._enum_slot → Enum with the names of its ngx_conf_enum_t table).

For the http core, upstream and proxy modules (and the upstream_* balancer
modules) it also reads
- the release that first added the directive (`git log -S`);
- the default, from the module's merge/init function
  (`ngx_conf_merge_msec_value(conf->x, prev->x, 60000)` → "60s"), written as
  nginx would read it back; empty when the default is not a literal (one
  memory page, NGX_CONF_UNSET, computed at run time);
- earlier defaults: the same extraction at every release tag, so a default
  that changed (proxy_http_version 1.0 → 1.1 in 1.29.7) is data, not code.

A few defaults set by custom handlers are not in any merge function; they
are written by hand in MANUAL below, each with where in nginx's source it
comes from.
"""
import re
import subprocess
import sys

repo = sys.argv[1]


def git(*args):
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True).stdout


files = [f for f in git("ls-tree", "-r", "--name-only", "HEAD").split()
         if re.match(r"src/(core|event|http|stream|mail)/.*\.c$", f)]
head = git("rev-parse", "--short", "HEAD").strip()
version = re.search(r'NGINX_VERSION\s+"([^"]+)"', git("show", "HEAD:src/core/nginx.h")).group(1)

# Context bits by module family: the same bit value means different
# contexts in http, stream and mail (see ngx_http_config.h etc.).
FAMILY_CTX = {
    "http": {"NGX_HTTP_MAIN_CONF": "HTTP", "NGX_HTTP_SRV_CONF": "SERVER", "NGX_HTTP_LOC_CONF": "LOCATION",
             "NGX_HTTP_UPS_CONF": "UPSTREAM", "NGX_HTTP_SIF_CONF": "IF_SERVER",
             "NGX_HTTP_LIF_CONF": "IF_LOCATION", "NGX_HTTP_LMT_CONF": "LIMIT_EXCEPT"},
    "stream": {"NGX_STREAM_MAIN_CONF": "STREAM", "NGX_STREAM_SRV_CONF": "STREAM_SERVER",
               "NGX_STREAM_UPS_CONF": "STREAM_UPSTREAM"},
    "mail": {"NGX_MAIL_MAIN_CONF": "MAIL", "NGX_MAIL_SRV_CONF": "MAIL_SERVER"},
    "event": {"NGX_EVENT_CONF": "EVENTS"},
    "core": {},
}
ARGS = {"NGX_CONF_NOARGS": 0x1, "NGX_CONF_TAKE1": 0x2, "NGX_CONF_TAKE2": 0x4, "NGX_CONF_TAKE3": 0x8,
        "NGX_CONF_TAKE4": 0x10, "NGX_CONF_TAKE5": 0x20, "NGX_CONF_TAKE6": 0x40, "NGX_CONF_TAKE7": 0x80,
        "NGX_CONF_TAKE12": 0x6, "NGX_CONF_TAKE13": 0xA, "NGX_CONF_TAKE23": 0xC, "NGX_CONF_TAKE123": 0xE,
        "NGX_CONF_TAKE1234": 0x1E, "NGX_CONF_BLOCK": 0x100, "NGX_CONF_FLAG": 0x200, "NGX_CONF_ANY": 0x400,
        "NGX_CONF_1MORE": 0x800, "NGX_CONF_2MORE": 0x1000}
VERSIONED = ("src/http/ngx_http_core_module.c", "src/http/ngx_http_upstream.c",
             "src/http/modules/ngx_http_proxy_module.c", "src/http/modules/ngx_http_upstream_")

# The `set` handlers of src/core/ngx_conf_file.c → the value type
# (grammar::Type). Any other handler is the module's own code: Custom.
SLOTS = {"ngx_conf_set_msec_slot": "Time", "ngx_conf_set_sec_slot": "Seconds",
         "ngx_conf_set_size_slot": "Size", "ngx_conf_set_off_slot": "Offset",
         "ngx_conf_set_flag_slot": "Flag", "ngx_conf_set_num_slot": "Number",
         "ngx_conf_set_bufs_slot": "Bufs", "ngx_conf_set_str_slot": "Text",
         "ngx_conf_set_enum_slot": "Enum", "ngx_conf_set_bitmask_slot": "Bitmask"}

# Defaults that no merge/init function holds as a literal, by (directive,
# module): (default, [(until version, earlier default)]).
MANUAL = {
    # ngx_http_upstream_keepalive_init_main_conf(): an upstream without
    # `keepalive` gets max_cached = 32 (and `local`) since 1.29.7 (commit
    # 4fbe4b627 "Upstream: enabled keepalive by default for explicit
    # upstreams"); before, no default: no connections are kept.
    ("keepalive", "ngx_http_upstream_keepalive_module"): ("32", [("1.29.7", "")]),
}

COMMAND = re.compile(
    r'\{\s*ngx_string\("([^"]+)"\),\s*([A-Z0-9_|\s]+?),\s*(\w+),\s*(\w+|0),\s*'
    r'(offsetof\(\s*\w+,\s*([\w.\[\]]+)\s*\)|[^,{}]+),\s*([^{}]*?)\s*\}')
TABLE = re.compile(r'(?:static\s+)?ngx_conf_(?:enum|bitmask)_t\s+(\w+)\[\]\s*=\s*\{(.*?)\n\};', re.S)
ENTRY = re.compile(r'\{\s*ngx_string\("([^"]*)"\),\s*([\w|() ]+?)\s*\}')
MERGE = re.compile(
    r'ngx_conf_(?:merge|init)_(?:(\w+?)_)?value\(\s*\w+->([\w.\[\]]+),\s*(?:prev->[\w.\[\]]+,\s*)?([^;]*?)\);')


# ngx_conf_merge_<kind>_value → the type its default is written in.
MERGE_KIND = {"msec": "Time", "sec": "Seconds", "size": "Size", "off": "Offset"}


def tables(text):
    """name → [(value name, constant)] of each ngx_conf_enum_t / bitmask_t."""
    out = {}
    for m in TABLE.finditer(text):
        out[m.group(1)] = [(e.group(1), e.group(2).strip()) for e in ENTRY.finditer(m.group(2))
                           if e.group(1)]
    return out


def integer(expr):
    """A literal integer expression (`60000`, `1 * 1024 * 1024`, `(size_t) 8192`)."""
    expr = re.sub(r'\((?:size_t|off_t|ngx_msec_t|time_t|ngx_uint_t|ngx_int_t)\)', '', expr).strip()
    if not re.fullmatch(r'[0-9\s*()]+', expr):
        return None
    n = 1
    for part in expr.replace('(', ' ').replace(')', ' ').split('*'):
        part = part.strip()
        if not part.isdigit():
            return None
        n *= int(part)
    return n


def fmt_size(n):
    if n and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)}m"
    if n and n % 1024 == 0:
        return f"{n // 1024}k"
    return str(n)


def fmt_msec(n):
    return f"{n // 1000}s" if n % 1000 == 0 else f"{n}ms"


def default_text(vtype, expr, table):
    """The default `expr` of a merge call as nginx would read it back ("" when not a literal)."""
    expr = " ".join(expr.split())
    if vtype in ("Enum", "Bitmask"):
        consts = [c.strip() for c in expr.strip("()").split("|")]
        consts = [c for c in consts if c != "NGX_CONF_BITMASK_SET"]
        names = []
        for c in consts:
            hit = [n for n, v in table if v == c]
            if len(hit) != 1:
                return ""
            names.append(hit[0])
        return " ".join(names)
    if vtype == "Text":
        m = re.fullmatch(r'"([^"]*)"', expr)
        return m.group(1) if m else ""
    if vtype == "Bufs":
        parts = [integer(p) for p in expr.split(",")]
        if len(parts) == 2 and None not in parts:
            return f"{parts[0]} {fmt_size(parts[1])}"
        return ""
    n = integer(expr)
    if n is None:
        return ""
    return {"Time": fmt_msec(n), "Seconds": f"{n}s", "Size": fmt_size(n), "Offset": fmt_size(n),
            "Flag": "on" if n == 1 else "off" if n == 0 else "", "Number": str(n)}.get(vtype, "")


def commands(path, text):
    """Every directive of one source file:
    (name, contexts, args, handler type, enum values, field, default)."""
    family = path.split("/")[1]
    # A module may use another file's table (proxy_ignore_headers uses
    # ngx_http_upstream_ignore_headers_masks from ngx_http_upstream.c).
    tabs = {**ALL_TABLES, **tables(text)}
    out = []
    for m in COMMAND.finditer(text):
        name, flags = m.group(1), [x.strip() for x in m.group(2).split("|") if x.strip()]
        ctx, args, bad = set(), 0, False
        for fl in flags:
            if fl in ARGS:
                args |= ARGS[fl]
            elif fl in ("NGX_MAIN_CONF", "NGX_DIRECT_CONF"):
                ctx.add("MAIN")
            elif fl == "NGX_ANY_CONF":
                ctx.add("ANY")
            elif fl in FAMILY_CTX[family]:
                ctx.add(FAMILY_CTX[family][fl])
            else:
                bad = True  # not a command (another ngx_string table)
        if bad or not ctx:
            continue  # not a directive table (e.g. an ngx_conf_enum_t)
        vtype = SLOTS.get(m.group(3), "Custom")
        table = tabs.get(m.group(7).strip().lstrip("&"), []) if vtype in ("Enum", "Bitmask") else []
        if vtype in ("Enum", "Bitmask") and not table:
            vtype = "Custom"  # names not found: nothing to check against
        out.append((name, sorted(ctx), args, vtype, table, m.group(6)))
    return out


def defaults(text, cmds):
    """name → default text, from the merge/init calls on each command's field.
    A field merged twice with different defaults (two structs) gets none."""
    merged, kinds = {}, {}
    for m in MERGE.finditer(text):
        merged.setdefault(m.group(2), set()).add(m.group(3))
        kinds[m.group(2)] = m.group(1) or ""
    out = {}
    for name, _, _, vtype, table, field in cmds:
        if vtype == "Custom" and not field:
            # A module's own handler (no offset) whose field has the
            # directive's name (http core `keepalive_timeout`): the merge
            # macro says the type of the default.
            field = name
            vtype = MERGE_KIND.get(kinds.get(name), "Custom")
        exprs = merged.get(field or "", set())
        if len(exprs) == 1:
            d = default_text(vtype, next(iter(exprs)), table)
            if d:
                out[name] = d
    return out


def vkey(tag):
    return tuple(int(x) for x in tag[len("release-"):].split("."))


ALL_TABLES = {}
for f in files:
    ALL_TABLES.update(tables(git("show", f"HEAD:{f}")))

entries = []
versioned_files = [f for f in files if f.startswith(VERSIONED)]
for f in files:
    text = git("show", f"HEAD:{f}")
    module = f.rsplit("/", 1)[1][:-2]
    cmds = commands(f, text)
    dflt = defaults(text, cmds) if f in versioned_files else {}
    for name, ctx, args, vtype, table, _ in cmds:
        since = ""
        if f.startswith(VERSIONED):
            first = git("log", "--reverse", f'-Sngx_string("{name}")', "--format=%H", "--", f).split()
            if first:
                tag = git("describe", "--contains", first[0]).strip()
                mm = re.match(r"release-(\d+\.\d+\.\d+)", tag)
                # 0.x history predates the repository's first import: unknown
                if mm and not mm.group(1).startswith("0."):
                    since = mm.group(1)
        values = [n for n, _ in table]
        default, earlier = dflt.get(name, ""), []
        if (name, module) in MANUAL:
            default, earlier = MANUAL[(name, module)]
        entries.append([name, ctx, args, module, since, vtype, values, default, earlier, f])

# Earlier defaults: the same extraction at every 1.x release tag; a change
# between two non-empty defaults becomes (release that changed it, old).
tags = sorted((t for t in git("tag").split() if re.fullmatch(r"release-1\.\d+\.\d+", t)), key=vkey)
history = {}  # (file, name) → [(tag, default)]
for tag in tags:
    for f in versioned_files:
        text = git("show", f"{tag}:{f}")
        if not text:
            continue
        cmds = commands(f, text)
        for name, d in defaults(text, cmds).items():
            history.setdefault((f, name), []).append((tag, d))
for e in entries:
    name, default, f = e[0], e[7], e[9]
    if not default or (name, e[3]) in MANUAL:
        continue
    seen = history.get((f, name), [])
    earlier = []
    for (_, old), (tag, new) in zip(seen, seen[1:]):
        if old != new:
            earlier.append((tag[len("release-"):], old))
    if seen and seen[-1][1] != default:
        earlier.append((version, seen[-1][1]))
    e[8] = earlier

entries.sort(key=lambda e: (e[0], e[3]))


def rust_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


print(f"""//! nginx's directive table: name, allowed contexts, argument counts, value
//! type and default of every directive of the modules shipped with nginx
//! {version} (commit {head}).
//!
//! GENERATED by `scripts/nginx_directives.py` from nginx's source (src/core,
//! src/event, src/http, src/stream, src/mail); do not edit by hand.
//! - contexts and argument counts: the flags of each `ngx_command_t`;
//! - `value`: from its `set` handler (`ngx_conf_set_msec_slot` → `Time`,
//!   `ngx_conf_set_enum_slot` → `Enum` with the names of its table, a
//!   module's own handler → `Custom`);
//! - `since`, `default`, `earlier` (http core, upstream and proxy modules
//!   only): the first release whose source has the directive (empty when
//!   unknown or older than the public history); the default from the
//!   module's merge/init function as nginx would read it back (empty when
//!   it is not a literal: one memory page, computed at run time); and the
//!   defaults of older releases, `(release that changed it, old default)`
//!   (an empty old default: the directive had none, its feature was off).

use super::grammar::ctx::*;
use super::grammar::Spec;
use super::grammar::Type::*;

/// Every directive, sorted by name (a name may appear once per module that
/// defines it, e.g. `server` in http core, upstream, stream and mail).
#[rustfmt::skip]
pub static DIRECTIVES: &[Spec] = &[""")
for name, ctx, args, module, since, vtype, values, default, earlier, _ in entries:
    c = " | ".join(ctx)
    v = vtype
    if vtype in ("Enum", "Bitmask"):
        v = f"{vtype}(&[{', '.join(rust_str(x) for x in values)}])"
    er = ", ".join(f"({rust_str(a)}, {rust_str(b)})" for a, b in earlier)
    print(f'    Spec {{ name: "{name}", contexts: {c}, args: {args:#x}, module: "{module}", since: "{since}", '
          f'value: {v}, default: {rust_str(default)}, earlier: &[{er}] }},')
print("];")
