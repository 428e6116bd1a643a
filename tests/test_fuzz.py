"""Hypothesis fuzzing of every form and every socket event: no 500, no unhandled
exception, nothing half-written.

Forms: every endpoint of `app.url_map` that takes POST/PUT/PATCH/DELETE is sent
generated data by a viewer allowed to use it (its class in tests/test_authz_matrix.py:
pA, the participant of workshop A, or fA, its facilitator), on the rich workshop
the authorisation matrix builds (its `world` fixture: its own SQLite file per module).
Fields come from the view's WTForms form(s), found by introspection
(tests/fuzz_support.py), so a new form is fuzzed without editing this file. Values:
valid-looking ones (a choice, a real id, a date), empty, huge (around the 64 KB body
limit), unicode (NUL, RTL, emoji, random text), numbers out of range, wrong types,
bad dates and choices; fields missing, repeated, extra; URL ids sometimes replaced;
CSRF token usually valid (so the handler runs), sometimes absent; htmx or not.

Each request must answer < 500 with no exception (got_request_exception, app logger
errors). An error answer (4xx) must leave every table as it was; a success that
wrote must leave SQLite's foreign keys and integrity checks clean. The database is
restored from the pristine copy after any write.

Sockets: every registered handler (and unknown events) gets random payloads from
anonymous, pA, fA and a projector (the screen link's session): the server never
raises nor logs an error, an allowed socket stays connected, nothing is written.

FUZZ_EXAMPLES=<n> sets the examples per endpoint (25 by default: the file runs in about
35 s here); FUZZ_TRACE=<file> appends "endpoint status viewer" per request, to see how
deep the generated requests get. Under CI=true the generation is derandomised.
"""
import io
import logging
import os
from datetime import date

import pytest
from flask import got_request_exception
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aeh_workshop import IdConverter
from aeh_workshop.extensions import limiter, socketio
from fuzz_support import changed_tables, choice_values, constraint_problems, fields_of, snapshot, view_inputs
from test_authz_matrix import ACCESS, RULES, _client, _restore, _url, world  # noqa: F401  (world: fixture)

CI = os.environ.get("CI") == "true"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=CI,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.large_base_example])

WRITES = ("POST", "PUT", "PATCH", "DELETE")
WRITE_RULES = [(endpoint, method) for endpoint, method, _rule in RULES if method in WRITES]

# Who may use an endpoint of each access class (so the handler's logic is reached).
USERS = {
    "public": ("anonymous", "pA", "fA"), "join": ("anonymous", "pA"), "share": ("anonymous",),
    "setup": ("anonymous",), "member": ("pA", "fA"), "author": ("pA", "fA"), "participant": ("pA",),
    "fac_a": ("fA",), "screen": ("fA",), "any_fac": ("fA",), "not_author": ("fA",),
    "not_author_or_404": ("fA",), "map_into_a": ("fA",), "nobody": ("fA",), "self_only": ("pA",),
}
FALLBACK_USERS = ("anonymous", "pA", "fA")   # a class added to the matrix since: everybody tries

# Write endpoints that take no form at all (a button with only the CSRF token).
# Anything else without a form found by introspection fails test_every_write_has_its_inputs.
NO_FORM = {
    "accounts.logout", "board.hide", "board.restore", "actions.withdraw", "actions.validate",
    "actions.delete", "offers.unlink", "offers.delete", "votes.remove_priority", "outcomes.share",
    "partners.delete_entry",
}


# --------------------------------------------------------------------------- values

NEAR_LIMIT = 64 * 1024 - 600


class Big(str):
    """A huge value that a failure report shows by its size, not in full."""

    def __repr__(self):
        return f"Big({self[:1]!r} * {len(self)})"

    _repr_pretty_ = lambda self, p, cycle: p.text(repr(self))  # noqa: E731  (Hypothesis' printer)


HUGE = [Big("x" * NEAR_LIMIT), Big("é" * (NEAR_LIMIT // 2)), Big("x" * (64 * 1024 + 1)), Big("🎉" * 17000)]
ODD_TEXT = ["", " ", "\x00", "a\x00b", "\u202eédoc.exe", "مرحبا بالعالم", "שלום", "👩🏽‍💻🚀", "e\u0301",
            "\ufeff", "\r\n\r\n", "<script>alert(1)</script>", "{{ 7*7 }}", "%s%n", "' OR 1=1 --",
            "null", "None", "[]", "{}", "true", "NaN", "-0", "   padded   ", "\t"]
NUMBERS = ["0", "-1", "1", "2", "3", "-2147483649", "2147483647", "2147483648", "9223372036854775808",
           "18446744073709551616", "1" + "0" * 40, "1e999", "-1e999", "nan", "inf", "3.5", "0x10", "٣",
           " 4 ", "+5", "1_000"]
DATES = ["2026-06-15", "15/06/2026", "2026-02-30", "31/02/2026", "0000-00-00", "0001-01-01", "9999-12-31",
         "99999-01-01", "2026-13-01", "2026/06/15", "demain", "1970-01-01T00:00:00", "15/06/26"]
BOOLS = ["y", "on", "1", "0", "false", "off", "oui"]
safe_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


def _kind(unbound) -> str:
    name = unbound.field_class.__name__
    coerce = unbound.kwargs.get("coerce")
    if name in ("IntegerField", "DecimalField", "FloatField") or (coerce is not None and coerce is not str):
        return "number"
    if "Date" in name:
        return "date"
    if name == "BooleanField":
        return "bool"
    if name == "FileField":
        return "file"
    return "text"


WORDS = st.sampled_from(["Clinique du Val", "mécénat de compétences", "Tremplin Emploi Ain", "atelier",
                         "Nous accueillons des stagiaires", "Bourg-en-Bresse", "anim@example.org", "x"])
sane_text = WORDS | st.text(st.characters(whitelist_categories=("L", "N", "Zs")), min_size=1, max_size=40)
CSV = [b"partenaire;categorie\nClinique;mecenat\n", b"\xff\xfe\x00", b"PK\x03\x04junk", b""]
FILENAMES = ["liens.csv", "liens.xlsx", "a.exe", "", "../../etc/passwd"]


def _valid(kind: str, choices: list[str], ids: list[str]):
    """A value a browser would send for this field."""
    if choices:
        return st.sampled_from(choices)
    return {
        "number": st.sampled_from(ids) | st.integers(0, 6).map(str) | st.just(""),
        "date": st.dates(date(2020, 1, 1), date(2040, 12, 31)).map(lambda d: d.isoformat())
                | st.dates(date(2020, 1, 1), date(2040, 12, 31)).map(lambda d: d.strftime("%d/%m/%Y")),
        "bool": st.sampled_from(BOOLS),
        "file": st.tuples(st.sampled_from(CSV) | st.binary(max_size=200), st.sampled_from(FILENAMES))
                  .map(lambda t: ("__file__",) + t),
        "text": sane_text | st.just(""),
    }[kind]


def _weird(kind: str, ids: list[str]):
    """Anything else: odd text, numbers out of range, bad dates, other ids."""
    return st.one_of(st.sampled_from(ODD_TEXT), safe_text, st.sampled_from(NUMBERS), st.sampled_from(DATES),
                     st.sampled_from(ids), st.integers(-2**70, 2**70).map(str))


MISSING = object()


# Values that go together (a confirmation, an e-mail that has an account), so that the
# "valid" mode gets past cross-field checks too: {endpoint: {field: value}}.
HINTS = {
    "accounts.create_facilitator": {"password": "Une phrase de passe solide 42", "confirm": "Une phrase de passe solide 42",
                                    "email": "nouvelle.animation@example.org"},
    "workshops.add_facilitator": {"email": "x@example.org"},
    "workshops.timer": {"action": "start", "minutes": "5"},
}


# Keys a view builds at run time (not literal in its source): {endpoint: {field: (kind, choices)}}.
def _import_columns():
    from aeh_workshop.partners.importer import FIELDS
    return {f"col-{n}": ("text", sorted(FIELDS) + [""]) for n in range(5)}


EXTRA_INPUTS = {"partners.confirm": _import_columns()}


def weighted(*pairs):
    """One of the strategies, chosen with these weights."""
    picks = [i for i, (weight, _s) in enumerate(pairs) for _ in range(weight)]
    return st.sampled_from(picks).flatmap(lambda i: pairs[i][1])


def _form_data(fields: dict, ids: list[str], hints=None):
    """A list of (key, value) pairs. Three modes, so that the handler's logic is reached
    as well as its validation: every field valid-looking; one field mutated; chaos (each
    field valid, odd, missing or repeated, extra keys). Sometimes one value is huge."""
    names = sorted(fields)
    valid, chaos = {}, {}
    for name, (kind, choices) in fields.items():
        good, bad = _valid(kind, choices, ids), _weird(kind, ids)
        valid[name] = weighted((2, st.just(hints[name])), (1, good)) if name in (hints or {}) else good
        one = weighted((3, good), (2, bad))
        chaos[name] = weighted((3, one.map(lambda v: [v])), (1, st.just(MISSING)),
                               (1, st.lists(one, min_size=2, max_size=3)))
    extra = st.lists(st.tuples(st.sampled_from(["id", "workshop_id", "owner_id", "validated", "status",
                                                "hidden", "revision", "role", "is_admin", "csrf_token"])
                               | safe_text, _weird("text", ids)), max_size=2)
    big = weighted((6, st.none()), (1, st.tuples(st.sampled_from(names or ["text"]), st.sampled_from(HUGE))))
    mode = st.sampled_from(["valid", "valid", "one", "one", "chaos", "chaos"])
    target = st.sampled_from(names) if names else st.none()

    def build(args):
        mode, good, messy, target, extras, big = args
        if mode == "valid":
            pairs, extras = [(k, v) for k, v in good.items()], []
        elif mode == "one":
            pairs, extras = [(k, v) for k, v in good.items() if k != target], []
            values = messy.get(target, MISSING)
            pairs += [] if values is MISSING else [(target, v) for v in values]
        else:
            pairs = [(k, v) for k, values in messy.items() if values is not MISSING for v in values]
        if big:
            pairs = [(k, v) for k, v in pairs if k != big[0]] + [big]
        return pairs + extras
    return st.tuples(mode, st.fixed_dictionaries(valid), st.fixed_dictionaries(chaos), target, extra, big).map(build)


# --------------------------------------------------------------------------- the app's inputs

def _inputs(app, endpoint):
    """{field: (kind, choices)} for an endpoint, from its forms and request.form reads."""
    forms, form_keys, _args = view_inputs(app.view_functions[endpoint])
    fields = {}
    with app.test_request_context():
        for form in forms:
            for name, unbound in fields_of(form).items():
                kind, values = fields.get(name, ("text", []))
                new_kind = _kind(unbound)
                fields[name] = (new_kind if new_kind != "text" else kind,
                                sorted(set(values) | set(choice_values(unbound))))
    for key in form_keys:
        fields.setdefault(key, ("text", []))
    fields.update(EXTRA_INPUTS.get(endpoint, {}))
    return forms, fields


def test_every_write_has_its_inputs(world):
    """A write endpoint without a form found by introspection must be listed in NO_FORM
    (so a new form-taking route that hides its form is noticed, not fuzzed blind)."""
    app = world["app"]
    blind = sorted(endpoint for endpoint, _m in WRITE_RULES
                   if not any(_inputs(app, endpoint)) and endpoint not in NO_FORM)
    assert not blind, f"no form found for these write endpoints: add them to NO_FORM or fix discovery: {blind}"
    stale = sorted(NO_FORM - {endpoint for endpoint, _m in WRITE_RULES})
    assert not stale, f"NO_FORM names endpoints that no longer exist: {stale}"
    with_form = sorted(endpoint for endpoint, _m in WRITE_RULES if endpoint in NO_FORM and any(_inputs(app, endpoint)))
    assert not with_form, f"these endpoints now take a form: remove them from NO_FORM: {with_form}"


def test_discovery_finds_the_fields_a_user_fills():
    """Self-check of the introspection, on forms whose fields we know."""
    from aeh_workshop import create_app
    from conftest import config_for
    app = create_app(config_for("sqlite://"))
    _forms, card = _inputs(app, "board.create")
    assert {"kind", "text", "partner", "category", "direction", "link_status"} <= set(card)
    assert "idea" in card["kind"][1]
    _forms, action = _inputs(app, "actions.fac_create")          # through _save -> _new_form
    assert {"title", "owner", "due_on", "status"} <= set(action) and action["due_on"][0] == "date"
    _forms, dots = _inputs(app, "votes.set_dots")
    assert dots["dots"][0] == "number"
    _forms, diagnostic = _inputs(app, "diagnostics.save")        # fields added with setattr
    assert {"involve_employees", "territory", "version"} <= set(diagnostic)
    assert len([f for f in diagnostic if f.startswith(("does_", "wants_"))]) >= 2


# --------------------------------------------------------------------------- watching the app

class Errors(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture(scope="module")
def watch(world):
    """Exceptions Flask saw and errors logged, by the app or the socket servers."""
    app = world["app"]
    seen = {"exceptions": [], "log": Errors()}

    def on_exception(_sender, exception, **_extra):
        seen["exceptions"].append(exception)
    got_request_exception.connect(on_exception, app)
    loggers = [app.logger, logging.getLogger("socketio"), logging.getLogger("engineio"),
               logging.getLogger("socketio.server"), logging.getLogger("engineio.server")]
    for logger in loggers:
        logger.addHandler(seen["log"])
    yield seen
    got_request_exception.disconnect(on_exception, app)
    for logger in loggers:
        logger.removeHandler(seen["log"])


@pytest.fixture(scope="module")
def pristine(world):
    return snapshot(world["app"])


def test_the_watch_sees_errors_and_the_snapshot_sees_writes(world, watch, pristine):
    """Self-check of the two tools every fuzzing test relies on."""
    app = world["app"]
    _reset(watch)
    with app.app_context():
        app.logger.error("une erreur témoin")
    assert _problems(watch) == ["une erreur témoin"]
    _reset(watch)
    client = _client(world, "pA")
    resp = client.post(f"/w/{world['ids']['code']}/cards", data={"kind": "idea", "text": "Témoin"}, htmx=True,
                       headers={"X-CSRFToken": world["viewers"]["pA"]["csrf"]}, csrf=False)
    assert resp.status_code == 200
    assert "card" in changed_tables(pristine, snapshot(app))
    _restore(world)
    assert snapshot(app) == pristine


def _reset(watch):
    watch["exceptions"].clear()
    watch["log"].records.clear()
    limiter.reset()


def _problems(watch) -> list[str]:
    return [repr(e) for e in watch["exceptions"]] + [r.getMessage() for r in watch["log"].records]


# --------------------------------------------------------------------------- forms

def _id_args(app, endpoint) -> list[str]:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    return sorted(arg for arg, conv in rule._converters.items() if isinstance(conv, IdConverter))


def _request_strategy(world, endpoint):
    app, ids = world["app"], world["ids"]
    _forms, fields = _inputs(app, endpoint)
    real_ids = sorted({str(v) for k, v in ids.items() if isinstance(v, int) and not isinstance(v, bool)})
    url_ids = {arg: weighted((8, st.none()), (1, st.integers(1, 2**31 - 1)),
                             (1, st.sampled_from(sorted(int(i) for i in real_ids))))
               for arg in _id_args(app, endpoint)}
    return st.fixed_dictionaries({
        "viewer": st.sampled_from(USERS.get(ACCESS.get(endpoint), FALLBACK_USERS)),
        "data": _form_data(fields, real_ids, HINTS.get(endpoint)),
        "csrf": st.sampled_from([True] * 7 + [False]),
        "htmx": st.booleans(),
        "url_ids": st.fixed_dictionaries(url_ids),
        "real_token": st.sampled_from([True] * 5 + [False]),   # a pending import (partners.confirm)
        # sometimes not a form at all: a raw body under a content type
        "raw": weighted((9, st.none()), (1, st.tuples(st.sampled_from(RAW_TYPES), st.sampled_from(RAW_BODIES)
                                                      | st.binary(max_size=200)))),
    })


IMPORT_CSV = ("Partenaire;Catégorie;Sens;Statut;Notes\nClinique du Val de Saône;mecenat;;actif;\n"
              "Boulangerie Martin;;;;Un lien ancien\n;;;;\n").encode()


@pytest.fixture(scope="module")
def pending_import(world):
    """A CSV uploaded to the map of workshop A's structure and waiting for its confirmation,
    put back before each request (a successful confirmation consumes it). The app keeps
    uploads in instance/imports: the files this module leaves there are removed."""
    from pathlib import Path
    app, ids = world["app"], world["ids"]
    folder = Path(app.config["IMPORT_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    client = _client(world, "fA")
    resp = client.post(f"/structures/{ids['structure_id']}/import",
                       data={"file": (io.BytesIO(IMPORT_CSV), "liens.csv")}, content_type="multipart/form-data",
                       headers={"X-CSRFToken": world["viewers"]["fA"]["csrf"]}, csrf=False)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    token = resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1].split("?")[0]
    files = {path: path.read_bytes() for path in folder.glob(f"{token}.*")}
    assert len(files) == 2, files
    yield {"token": token, "files": files, "folder": folder}
    for path in folder.glob(f"{token}.*"):
        path.unlink(missing_ok=True)


def _forget_upload(pending, resp):
    """A successful upload (redirect to its preview) leaves its files: remove them, and
    only them (other tests may be using the same folder)."""
    location = resp.headers.get("Location", "")
    if pending and resp.status_code in (301, 302, 303) and "/import/" in location:
        token = location.rstrip("/").rsplit("/", 1)[-1].split("?")[0]
        if token != pending["token"]:
            for path in pending["folder"].glob(f"{token}.*"):
                path.unlink(missing_ok=True)


def _put_back(pending):
    for path in pending["files"]:
        for other in path.parent.glob(f"{pending['token']}.*"):
            other.unlink()
    for path, data in pending["files"].items():
        path.write_bytes(data)


RAW_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
             "multipart/form-data; boundary=b", "application/octet-stream", ""]
RAW_BODIES = [b'{"text": "x", "kind": ["idea"]}', b"null", b"[]", b"text=%ZZ&kind=%", b"a=1&a=2&&=&==",
              b"--b\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nx", b"\x00\xff" * 50,
              b"text=" + b"%C3%A9" * 20000]


def _send(world, endpoint, method, case, pending=None):
    app = world["app"]
    overrides = {arg: value for arg, value in case["url_ids"].items() if value is not None}
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    if pending and "token" in rule.arguments and endpoint.startswith("partners.") and case.get("real_token", True):
        _put_back(pending)
        overrides["token"] = pending["token"]
    url = _url(world, endpoint, overrides, "")
    pairs, files = [], False
    for key, value in case["data"]:
        if isinstance(value, tuple) and value[:1] == ("__file__",):
            value, files = (io.BytesIO(value[1]), value[2]), True
        pairs.append((key, value))
    from werkzeug.datastructures import MultiDict
    headers = {"X-CSRFToken": world["viewers"][case["viewer"]]["csrf"]} if case["csrf"] else {}
    client = _client(world, case["viewer"])
    if case.get("raw"):
        content_type, body = case["raw"]
        resp = client.open(url, method=method, data=body, headers=headers, htmx=case["htmx"], csrf=False,
                           content_type=content_type or None)
        return url, resp
    resp = client.open(url, method=method, data=MultiDict(pairs), headers=headers, htmx=case["htmx"],
                       csrf=False, content_type="multipart/form-data" if files else None)
    return url, resp


def check_form_request(world, watch, pristine, endpoint, method, case, pending=None):
    """Send one request; assert no 5xx, no exception, nothing half-written; restore."""
    app = world["app"]
    _reset(watch)
    url, resp = _send(world, endpoint, method, case, pending)
    _forget_upload(pending, resp)
    where = f"{method} {url} as {case['viewer']}: {resp.status_code}"
    if os.environ.get("FUZZ_TRACE"):
        with open(os.environ["FUZZ_TRACE"], "a") as trace:
            trace.write(f"{endpoint} {resp.status_code} {case['viewer']} csrf={case['csrf']}\n")
    moved = changed_tables(pristine, snapshot(app))
    try:
        assert resp.status_code < 500, f"{where}\n{resp.get_data(as_text=True)[:500]}"
        assert not _problems(watch), f"{where}: {_problems(watch)}"
        if resp.status_code >= 400:
            assert not moved, f"{where}: an error answer wrote to {moved}"
        elif moved:
            problems = constraint_problems(app)
            assert not problems, f"{where}: wrote {moved} and broke constraints: {problems}"
    finally:
        if moved:
            _restore(world)
    return resp


@pytest.mark.parametrize("endpoint,method", WRITE_RULES, ids=[f"{e}-{m}" for e, m in WRITE_RULES])
def test_form_fuzz(world, watch, pristine, pending_import, endpoint, method):
    @FUZZ
    @given(case=_request_strategy(world, endpoint))
    def run(case):
        check_form_request(world, watch, pristine, endpoint, method, case, pending_import)
    run()


# --------------------------------------------------------------------------- sockets

def _handlers() -> list[str]:
    names = set(socketio.server.handlers.get("/", {})) if socketio.server else set()
    names |= {name for name, _h, ns in socketio.handlers if ns in ("/", None)}
    return sorted(names - {"connect", "disconnect"})


@pytest.fixture(scope="module")
def socket_viewers(world):
    """The matrix's viewers plus a projector: a browser that opened the secret screen link."""
    app, ids = world["app"], world["ids"]
    projector = app.test_client()
    resp = projector.get(f"/w/{ids['code']}/screen?key={ids['screen_token']}")
    assert resp.status_code == 302, resp.status_code
    cookie = projector.get_cookie("session").value
    sessions = {name: v["session"] for name, v in world["viewers"].items()}
    sessions["projector"] = cookie
    return sessions


def _socket_client(world, sessions, viewer, auth):
    client = world["app"].test_client()
    if sessions[viewer]:
        client.set_cookie("session", sessions[viewer])
    return socketio.test_client(world["app"], flask_test_client=client, auth=auth)


json_leaf = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | safe_text
             | st.sampled_from(ODD_TEXT + NUMBERS))
payloads = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(safe_text | st.just("workshop"), inner, max_size=4), max_leaves=12) \
    | st.sampled_from([Big("x" * 70_000), {"workshop": Big("x" * 70_000)}])
RESERVED = ("connect", "disconnect", "connect_error", "disconnecting", "")
SOCKET_VIEWERS = ("anonymous", "pA", "fA", "projector")
ALLOWED = {"anonymous": False, "pA": True, "fA": True, "projector": True}


def _auth(ids):
    code = ids["code"]
    return st.one_of(st.just({"workshop": code}), st.just({"workshop": code}), st.just({"workshop": code.lower()}),
                     st.just({"workshop": ids["other_code"]}), st.fixed_dictionaries({"workshop": payloads}),
                     # not a bare number: the test client's CONNECT packet "0" + "0.0" reads as an
                     # id (python-socketio's encoding), a library limit, not the app's
                     payloads.filter(lambda p: isinstance(p, (dict, list, str)) or p is None))


def check_socket(world, watch, pristine, sessions, viewer, auth, events):
    ids = world["ids"]
    _reset(watch)
    sock = _socket_client(world, sessions, viewer, auth)
    try:
        asked = auth.get("workshop") if isinstance(auth, dict) else None
        valid = str(asked or "").upper() == ids["code"]
        if valid:
            assert sock.is_connected() == ALLOWED[viewer], f"{viewer} connecting with {auth!r}"
        elif sock.is_connected():   # only a code the viewer may watch opens a socket
            assert str(asked).upper() in (ids["code"], ids["other_code"]), auth
        connected = sock.is_connected()
        for name, payload, ack in events:
            if not sock.is_connected():
                break
            answer = sock.emit(name, payload, callback=ack) if payload is not None else sock.emit(name, callback=ack)
            if ack and name == "resync":
                assert set(answer) == {"rev", "now"}, (viewer, payload, answer)
        if connected:
            assert sock.is_connected(), f"{viewer} was cut off by {events!r}"
        assert not _problems(watch), f"{viewer} {auth!r} {events!r}: {_problems(watch)}"
        moved = changed_tables(pristine, snapshot(world["app"]))
        assert not moved, f"socket events by {viewer} wrote to {moved}: {events!r}"
    finally:
        if sock.is_connected():
            sock.disconnect()


@pytest.mark.parametrize("viewer", SOCKET_VIEWERS)
def test_socket_fuzz(world, watch, pristine, socket_viewers, viewer):
    # Reserved names ("connect", "disconnect"...) are sent too: the server drops them.
    events = st.lists(st.tuples(st.sampled_from(_handlers()) | safe_text.filter(bool) | st.sampled_from(RESERVED[:-1])
                                | st.just("message"), payloads, st.booleans()), min_size=1, max_size=4)

    @FUZZ
    @given(auth=_auth(world["ids"]), events=events)
    def run(auth, events):
        check_socket(world, watch, pristine, socket_viewers, viewer, auth, events)
    run()


def test_socket_handlers_are_fuzzed():
    """The handlers the fuzzing sends to are the registered ones (resync today)."""
    assert "resync" in _handlers()


# --------------------------------------------------------------------------- regressions

NAMELESS_PART = (b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n"
                 b"--b\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nUne carte\r\n--b--\r\n")


def test_a_nameless_multipart_part_is_a_400(world, watch, pristine):
    """Found by the fuzzing (a file upload with a field named "\r"): a hand-made body whose
    part has no name must be refused cleanly, not crash the CSRF check."""
    ids = world["ids"]
    _reset(watch)
    client = _client(world, "pA")
    resp = client.post(f"/w/{ids['code']}/cards", data=NAMELESS_PART, content_type="multipart/form-data; boundary=b",
                       headers={"X-CSRFToken": world["viewers"]["pA"]["csrf"]}, csrf=False)
    assert resp.status_code < 500
    assert not _problems(watch)
    assert not changed_tables(pristine, snapshot(world["app"]))


def test_reserved_event_names_sent_by_a_client_are_ignored(world, socket_viewers):
    """Found by the fuzzing: a client may send `42["disconnect"]` while staying connected;
    the server must not treat it as a disconnection (it reset the rate limit and made
    every later resync answer {"error": "unknown"})."""
    ids = world["ids"]
    sock = _socket_client(world, socket_viewers, "pA", {"workshop": ids["code"]})
    try:
        assert sock.is_connected()
        sock.emit("disconnect", "x")
        assert sock.is_connected()
        answer = sock.emit("resync", {}, callback=True)
        assert set(answer) == {"rev", "now"}, answer
    finally:
        if sock.is_connected():
            sock.disconnect()
