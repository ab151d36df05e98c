"""Warden external policy module helper (protocol version 1, SPEC.md section 6).

One file, standard library only: copy it next to your module. A module subclasses
`Module`, says what it is, and turns each input into decisions; `run(module)` speaks
the protocol on stdin/stdout (JSON-RPC 2.0, one message per line):

    from warden_plugin import Module, run, open_case, change_state, book, parse_time

    class Cosmetics(Module):
        name, version, categories = "Cosmetics", "1.0", ["cosmetics"]
        parameters = [param("evidence_window", "duration", "48h", "time to send evidence")]

        def on_record(self, record, facts):
            ...return a list of decisions...

        def on_deadline(self, case_id, due_at, facts):
            ...

    if __name__ == "__main__":
        run(Cosmetics())

Rules the daemon holds a module to: decide from the input and its facts alone (no
clock, no I/O), act only on your own cases, answer every request by its id. Logging:
write lines to stderr (`log(...)`); a leading "<N>" (0-7) sets the journal priority.
"""

import datetime as _dt
import decimal as _decimal
import json as _json
import re as _re
import sys as _sys

PROTOCOL = 1

# ---- values ---------------------------------------------------------------------

_DURATION = _re.compile(r"(\d{1,9})(ms|d|h|m|s)")
_UNITS_MS = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000}


def parse_duration(text):
    """"48h", "1h30m", "250ms" -> datetime.timedelta."""
    pos, total = 0, 0
    text = text.strip()
    if not text:
        raise ValueError("empty duration")
    while pos < len(text):
        m = _DURATION.match(text, pos)
        if not m:
            raise ValueError("not a duration: %r" % text)
        total += int(m.group(1)) * _UNITS_MS[m.group(2)]
        pos = m.end()
    return _dt.timedelta(milliseconds=total)


def parse_time(text, zone=None):
    """RFC 3339 (or "YYYY-MM-DD HH:MM:SS", read in `zone`, a tzinfo) -> aware datetime."""
    t = text.strip().replace(" ", "T", 1)
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    value = _dt.datetime.fromisoformat(t)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone or _dt.timezone(_dt.timedelta(hours=8)))
    return value


def format_time(value):
    """An aware datetime as RFC 3339 with milliseconds when it has them."""
    if value.microsecond:
        return value.isoformat(timespec="milliseconds")
    return value.isoformat(timespec="seconds")


def money(text):
    """"1299.00" -> Decimal; money is always a decimal string in Warden."""
    return _decimal.Decimal(text)


def format_money(value):
    return str(_decimal.Decimal(value).quantize(_decimal.Decimal("0.01"), rounding=_decimal.ROUND_HALF_UP))


# ---- declarations and decisions ---------------------------------------------------

def param(name, kind, default=None, summary=""):
    """A parameter declaration; kind: string, integer, boolean, money, duration, time.
    Without a default the operator must set it in [policies.<id>]."""
    d = {"name": name, "kind": kind, "summary": summary}
    if default is not None:
        d["default"] = default
    return d


def record_type(type_, key, fields):
    """A record type the module owns: fields = {name: (kind, required)}; kind adds
    "id" and "enum:a|b|c"."""
    return {"type": type_, "key": list(key),
            "fields": {n: {"kind": k, "required": bool(r)} for n, (k, r) in fields.items()}}


def _t(value):
    return value if isinstance(value, str) else format_time(value)


def open_case(case_id, order_id, reason, state, opened_at, note, deadline=None):
    d = {"case_id": case_id, "order_id": order_id, "reason": reason, "state": state,
         "opened_at": _t(opened_at), "note": note}
    if deadline is not None:
        d["deadline"] = _t(deadline)
    return {"open_case": d}


def change_state(case_id, state, at, note):
    return {"change_state": {"case_id": case_id, "state": state, "at": _t(at), "note": note}}


def set_deadline(case_id, due_at):
    return {"set_deadline": {"case_id": case_id, "due_at": _t(due_at)}}


def clear_deadline(case_id):
    return {"clear_deadline": {"case_id": case_id}}


def note(case_id, at, text):
    return {"note": {"case_id": case_id, "at": _t(at), "note": text}}


def book(rule, amount, at, dedupe_key, note, points=0, case_id=None, order_id=None, shop=None):
    d = {"rule": rule, "amount": amount if isinstance(amount, str) else format_money(amount),
         "points": int(points), "at": _t(at), "dedupe_key": dedupe_key, "note": note, "shop": shop}
    if case_id is not None:
        d["case_id"] = case_id
    if order_id is not None:
        d["order_id"] = order_id
    return {"book": d}


def finding(rule, subject, severity, message, at, dedupe_key):
    return {"finding": {"rule": rule, "subject": subject, "severity": severity,
                        "message": message, "at": _t(at), "dedupe_key": dedupe_key}}


def log(message, priority=6):
    """One journal entry (stderr line with an sd-daemon priority prefix)."""
    _sys.stderr.write("<%d>%s\n" % (priority, str(message).replace("\n", " ")))
    _sys.stderr.flush()


# ---- the module -------------------------------------------------------------------

class Module:
    """Subclass and set name, version, categories; optionally parameters and
    record_types; implement on_record and on_deadline (each returns decisions)."""

    name = "unnamed"
    version = "0"
    categories = []
    parameters = []
    record_types = []

    def initialize(self, params, timezone):
        """Called once with the [policies.<id>] values (strings, integers, booleans)
        and the daemon's time zone name. Raise ValueError to refuse the parameters."""
        self.params = params
        self.timezone = timezone

    def on_record(self, record, facts):
        return []

    def on_deadline(self, case_id, due_at, facts):
        return []

    def evaluate(self, item):
        if item.get("kind") == "record":
            return self.on_record(item["record"], item["facts"])
        if item.get("kind") == "deadline":
            return self.on_deadline(item["case_id"], item["due_at"], item["facts"])
        raise ValueError("unknown input kind %r" % item.get("kind"))

    def declaration(self):
        return {"protocol": PROTOCOL, "name": self.name, "version": self.version,
                "categories": list(self.categories), "record_types": list(self.record_types),
                "parameters": list(self.parameters)}


def _answer(out, id_, result=None, error=None):
    message = {"jsonrpc": "2.0", "id": id_}
    if error is not None:
        message["error"] = error
    else:
        message["result"] = result
    out.write(_json.dumps(message, separators=(",", ":"), ensure_ascii=False))
    out.write("\n")
    out.flush()


def serve(module, stdin=None, stdout=None):
    """Reads requests until `shutdown` or end of input; answers each by id."""
    stdin = stdin or _sys.stdin
    stdout = stdout or _sys.stdout
    for line in stdin:
        line = line.strip()
        if not line:
            continue
        try:
            request = _json.loads(line)
        except ValueError as e:
            _answer(stdout, None, error={"code": -32700, "message": "parse error: %s" % e})
            continue
        method, id_ = request.get("method"), request.get("id")
        params = request.get("params") or {}
        if method == "shutdown":
            return
        try:
            if method == "initialize":
                if params.get("protocol") != PROTOCOL:
                    raise ValueError("this module speaks protocol %d" % PROTOCOL)
                module.initialize(params.get("parameters") or {}, params.get("timezone"))
                result = module.declaration()
            elif method == "evaluate":
                result = {"results": [{"decisions": module.evaluate(i) or []} for i in params["inputs"]]}
            else:
                _answer(stdout, id_, error={"code": -32601, "message": "no method %r" % method})
                continue
        except Exception as e:  # the daemon retries once, then holds the input
            log("%s failed: %s: %s" % (method, type(e).__name__, e), 3)
            _answer(stdout, id_, error={"code": -32603, "message": "%s: %s" % (type(e).__name__, e)})
            continue
        if id_ is not None:
            _answer(stdout, id_, result)


def run(module):
    """The module's main: serve on stdin/stdout, exit 0 at shutdown."""
    try:
        serve(module)
    except KeyboardInterrupt:
        pass
    _sys.exit(0)
