"""Stored XSS (issue 7): the payloads of tests/xss_corpus.py, typed into every text
field through the real forms, render inert on every screen and in every export.

One workshop is filled once (module fixture) and moved through its phases; the
pages, regions and socket pushes seen on the way are kept and each is checked:
parsed with html5lib, no element or attribute may come from a payload, and the
payloads' markers must be there as text (so a screen cannot pass by hiding them).
Fields that take many records (cards, participants, clusters, actions, map
entries, imported rows) get the whole corpus; single fields get one payload each.
"""
import csv
import io
import json
import re
import shutil
import zipfile

import html5lib
import pytest
from wtforms import HiddenField, StringField

from aeh_workshop import create_app
from aeh_workshop.extensions import db, socketio
from aeh_workshop.models import Card, JointOffer, Participant, Structure, Vote, Workshop
from browser_kit import chromium, server  # noqa: F401  (fixtures of the browser test)
from conftest import PASSWORD, Client, config_for
from xss_corpus import HOOK, LONG, MARKER, PAYLOADS, fitting, marker, value

# ------------------------------------------------------------------ fields

# Form field -> the tag its markers carry. Every StringField/TextAreaField a user
# types into must be here or in NOT_STORED (test_every_text_field_is_covered).
FIELDS = {
    "FacilitatorForm.name": "fn",
    "WorkshopForm.title": "wt", "WorkshopForm.purpose": "wp",
    "JoinForm.display_name": "pn", "JoinForm.organisation": "po",
    "CardForm.text": "ct", "CardForm.partner": "cp", "CardForm.subtype": "cs",
    "ClusterForm.name": "cl",
    "VoteForm.title": "vt",
    "NewOfferForm.title": "ot", "SectionForm.text": "os",
    "ActionForm.title": "at", "ActionForm.owner_name": "an", "ActionForm.owner_org": "ao",
    "StructureForm.name": "sn",
    "EntryForm.partner": "ep", "EntryForm.description": "ed", "EntryForm.subtype": "es",
    "EntryForm.holder": "eh", "EntryForm.next_action": "ex", "EntryForm.notes": "en",
    "FilterForm.q": "fq",
    "DiagnosticForm.territory": "dt",
    **{f"DiagnosticForm.{side}_{cat}": f"d{side[0]}{cat[:2]}"
       for side in ("does", "wants") for cat in ("mecenat", "practices", "economic", "innovation")},
}
# Reviewed: typed but never shown back as stored text.
NOT_STORED = {
    "LoginForm.email", "LoginForm.password", "FacilitatorForm.email", "FacilitatorForm.password",
    "FacilitatorForm.confirm", "CoFacilitatorForm.email",   # e-mails are validated addresses; passwords hashed
    "CodeForm.code", "RejoinForm.display_name", "RejoinForm.pin",   # looked up, never stored
}
IMPORT_TAG = "im"           # cells of an imported CSV file
SECTION_KEYS = ("title", "need", "territory", "targets", "contact", "ask:mecenat", "ask:economic")


def _form_classes():
    """Every FlaskForm of the app: the forms modules, and any other the app imported."""
    import importlib
    from pathlib import Path

    import aeh_workshop
    from flask_wtf import FlaskForm
    for forms in Path(aeh_workshop.__file__).parent.glob("*/forms.py"):
        importlib.import_module(f"aeh_workshop.{forms.parent.name}.forms")
    seen, todo = [], list(FlaskForm.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("aeh_workshop.") and cls not in seen:
            seen.append(cls)
        todo += cls.__subclasses__()
    return seen


def _text_fields(app):
    """Form.field for every text input of the app's forms (subclasses report under their parent)."""
    found = set()
    with app.test_request_context():
        for cls in _form_classes():
            form = cls(formdata=None, meta={"csrf": False})
            for name, field in form._fields.items():
                if isinstance(field, StringField) and not isinstance(field, HiddenField) \
                        and field.widget.__class__.__name__ != "HiddenInput":
                    found.add(f"{_declaring(cls, name)}.{name}")
    return found


def _declaring(cls, name):
    """The class among cls's bases that first declares field `name` (FacilitatorActionForm -> ActionForm)."""
    for base in reversed(cls.__mro__):
        if name in vars(base):
            return base.__name__
    return cls.__name__


# ------------------------------------------------------------------ inertness

# Elements a payload could bring; links and forms are judged by their attributes (a search
# link may carry the query, URL-encoded).
DANGEROUS = {"script", "svg", "iframe", "meta", "style", "math", "hx-partial", "object", "embed", "base",
             "link", "img", "frame", "mglyph", "mtext"}
URL_ATTRS = {"href", "src", "action", "formaction", "srcdoc", "data", "xlink:href", "poster", "background"}
HX_HARMLESS = {"hx-confirm"}   # a confirmation sentence may quote a card; it is shown as text
TEMPLATE = next(i for i, p in enumerate(PAYLOADS) if p.startswith("{{7*7}}"))
CRLF = next(i for i, p in enumerate(PAYLOADS) if "\r\n" in p)


def _local(name):
    return name.rsplit("}", 1)[-1].lower()


def problems(html: str, push: bool = False) -> tuple[list[str], str]:
    """What in this HTML came from a payload (elements, attributes), and the document's text.
    Only a push may hold <hx-partial>s, and only at its top level."""
    tree = html5lib.parse(html, namespaceHTMLElements=False)
    found = []
    parent = {child: el for el in tree.iter() for child in el}
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        tag = _local(el.tag)
        attrs = {_local(k): v for k, v in el.attrib.items()}
        if MARKER.search(tag) or any(MARKER.search(k) for k in attrs):
            found.append(f"element/attribute named from a payload: <{tag} {attrs}>")
        if tag == "script" and "nonce" not in attrs:
            found.append(f"script without the page's nonce: {''.join(el.itertext())[:80]!r}")
        own = (el.text or "") + " ".join(attrs.values())
        # The app's own <hx-partial> wrappers hold user text in their children: judge them by their own text.
        whole = own if tag in ("hx-partial", "img") else "".join(el.itertext()) + own
        if tag in DANGEROUS and MARKER.search(whole):
            found.append(f"<{tag}> carrying a marker: {attrs} {whole[:80]!r}")
        if tag == "hx-partial" and (not push or _local(parent[el].tag) != "body"):
            found.append(f"<hx-partial> inside a {'page' if not push else 'push'}: {attrs}")
        for name, val in attrs.items():
            if name.startswith("on"):
                found.append(f"event handler attribute {name}={val[:60]!r} on <{tag}>")
            hx = name[5:] if name.startswith("data-hx-") else name
            if hx.startswith("hx-") and hx not in HX_HARMLESS and MARKER.search(val):
                found.append(f"htmx attribute {name}={val[:60]!r} on <{tag}>")
            if name in URL_ATTRS and re.sub(r"[\s\x00-\x1f]", "", val).lower().startswith(("javascript:", "data:text")):
                found.append(f"{name}={val[:60]!r} on <{tag}>")
            if name in URL_ATTRS and (val.startswith(HOOK) or name in ("src", "srcdoc") and HOOK in val):
                found.append(f"{name}={val[:60]!r} on <{tag}> requests a payload's URL")
            if name == "http-equiv":
                found.append(f"<meta http-equiv> from the page body: {attrs}")
    # What a reader sees: text nodes, and the values in form inputs.
    text = "".join(t for el in tree.iter() if isinstance(el.tag, str) and _local(el.tag) not in ("script",)
                   for t in [el.text or "", el.attrib.get("value", "") if _local(el.tag) == "input" else "",
                             el.tail or ""])
    return found, text


def assert_inert(html: str, where: str, tags=(), push: bool = False) -> set[str]:
    """No payload turned into markup; each tag's markers shown as text. Returns the tags seen."""
    found, text = problems(html, push)
    assert not found, f"{where}:\n" + "\n".join(found)
    seen = {re.match(r"zq([a-z]+)\d+x", m).group(1) for m in MARKER.findall(text)}
    missing = set(tags) - seen
    assert not missing, f"{where}: no marker of {sorted(missing)} shown as text (saw {sorted(seen)})"
    for m in MARKER.findall(text):
        if re.fullmatch(rf"zq[a-z]+{TEMPLATE}x", m):
            assert f"{{{{7*7}}}} {m}" in text, f"{where}: a template expression was evaluated ({m})"
    return seen


# ------------------------------------------------------------------ the filled workshop

class World:
    pages: dict          # name -> HTML
    pushes: list         # (audience, html)

    def url(self, path=""):
        return f"/w/{self.code}{path}"


def _ok(resp, what):
    assert resp.status_code < 400, f"{what}: {resp.status_code} {resp.get_data(as_text=True)[:600]}"
    return resp


def _db(app, fn):
    with app.app_context():
        return fn()


@pytest.fixture(scope="module")
def world(migrated_db, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("xss")
    path = tmp / "atelier.sqlite3"
    shutil.copy(migrated_db, path)
    app = create_app(config_for(f"sqlite:///{path}", EXPORT_CACHE_DIR=str(tmp / "exports")))
    app.test_client_class = Client
    w = World()
    w.app, w.pages, w.pushes = app, {}, []
    card_max = app.config["CARD_TEXT_MAX"]

    # The facilitator's account, the structure and the workshop, through their forms.
    fac = w.fac = app.test_client()
    _ok(fac.post("/setup", data={"name": value(0, "fn"), "email": "anim@example.org", "password": PASSWORD,
                                 "confirm": PASSWORD, "locale": "fr"}), "setup")
    resp = _ok(fac.post("/structures/", data={"name": value(5, "sn")}), "structure")
    w.sid = _db(app, lambda: db.session.scalar(db.select(Structure.id)))
    resp = _ok(fac.post("/workshops/new", data={"title": value(CRLF, "wt"), "purpose": value(1, "wp"),
                                                "template": "practice_exchange", "structure": str(w.sid)}),
               "workshop")
    w.id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    ws = _db(app, lambda: db.session.get(Workshop, w.id))
    w.code, key = ws.join_code, ws.screen_token
    _ok(fac.post(f"/workshops/{w.id}/status", data={"status": "live"}, htmx=True), "open")

    w.screen = app.test_client()
    _ok(w.screen.get(w.url(f"/screen?key={key}")), "screen key")

    # Participants: the whole corpus in names and organisations.
    names, orgs = fitting(80, "pn"), fitting(160, "po")
    people = []
    for n, (i, name) in enumerate(names):
        org = orgs[n % len(orgs)][1]
        client = app.test_client()
        _ok(client.post(w.url("/join"), data={"display_name": name, "organisation": org,
                                             "kind": "association" if n % 2 else "company"}), f"join {i}")
        people.append(client)
    w.nadia, w.julien = people[1], people[0]

    sockets = {"fac": socketio.test_client(app, flask_test_client=fac, auth={"workshop": w.code}),
               "screen": socketio.test_client(app, flask_test_client=w.screen, auth={"workshop": w.code}),
               "participant": socketio.test_client(app, flask_test_client=w.nadia, auth={"workshop": w.code})}

    def collect_pushes():
        for audience, sock in sockets.items():
            for m in sock.get_received():
                if m["name"] == "push":
                    w.pushes.append((audience, m["args"][0]["html"]))

    def capture(phase):
        w.pages[f"participant@{phase}"] = w.nadia.get(w.url()).get_data(as_text=True)
        w.pages[f"projector@{phase}"] = w.screen.get(w.url("/screen")).get_data(as_text=True)
        w.pages[f"control@{phase}"] = fac.get(f"/workshops/{w.id}").get_data(as_text=True)
        collect_pushes()

    def phase(name):
        _ok(fac.post(f"/workshops/{w.id}/phase", data={"phase": name}, htmx=True), f"phase {name}")

    phase("collect")
    # Cards: every payload in the text, partners and sub-types.
    partners, subtypes = fitting(160, "cp"), fitting(80, "cs")
    for n, (i, text) in enumerate(fitting(card_max, "ct")):
        author = people[n % len(people)]
        _ok(author.post(w.url("/cards"), htmx=True, data={
            "kind": "link", "text": text, "partner": partners[n % len(partners)][1],
            "category": "mecenat", "subtype": subtypes[n % len(subtypes)][1],
            "direction": "company_to_association", "link_status": "active"}), f"card {i}")
    cards = _db(app, lambda: list(db.session.scalars(db.select(Card.id).filter_by(workshop_id=w.id)
                                                     .order_by(Card.id))))
    w.card_id = cards[0]
    w.pages["card edit"] = people[0].get(w.url(f"/cards/{cards[0]}/edit"), htmx=True).get_data(as_text=True)
    w.pages["composer"] = w.nadia.get(w.url("/composer"), htmx=True).get_data(as_text=True)
    capture("collect")

    phase("qualify")
    for i, name in fitting(80, "cl"):
        _ok(fac.post(w.url("/clusters"), data={"name": name}, htmx=True), f"cluster {i}")
    from aeh_workshop.models import Cluster
    clusters = _db(app, lambda: list(db.session.scalars(db.select(Cluster.id).filter_by(workshop_id=w.id))))
    for card, cluster in zip(cards, clusters):
        _ok(fac.post(w.url(f"/cards/{card}/cluster"), data={"cluster": str(cluster)}, htmx=True), "assign")
    capture("qualify")

    phase("vote")
    _ok(fac.post(w.url("/vote"), htmx=True, data={
        "title": value(2, "vt"), "budget": 5, "cap": 3, "scope": "all", "results": "live", "screen": "tally"}),
        "vote")
    w.vote_id = vote_id = _db(app, lambda: db.session.scalar(db.select(Vote.id).filter_by(workshop_id=w.id)))
    _ok(fac.post(w.url(f"/votes/{vote_id}/status"), data={"status": "open"}, htmx=True), "vote open")
    for n, card in enumerate(cards[:4]):
        _ok(w.nadia.post(w.url(f"/votes/{vote_id}/cards/{card}"), data={"dots": 1}, htmx=True), "dots")
    w.pages["ballot"] = w.nadia.get(w.url("/ballot"), htmx=True).get_data(as_text=True)
    capture("vote")
    _ok(fac.post(w.url(f"/votes/{vote_id}/status"), data={"status": "closed"}, htmx=True), "vote closed")
    _ok(fac.post(w.url(f"/votes/{vote_id}/display"), data={"revealed": "1"}, htmx=True), "reveal")
    _ok(fac.post(w.url(f"/votes/{vote_id}/priorities"), data={"top": 3}, htmx=True), "promote")
    capture("results")

    phase("build")
    _ok(w.nadia.post(w.url("/offers"), data={"title": value(3, "ot")}, htmx=True), "offer")
    offer_id = _db(app, lambda: db.session.scalar(db.select(JointOffer.id).filter_by(workshop_id=w.id)))
    org_id = _db(app, lambda: db.session.scalars(db.select(Participant.organisation_id)
                                                 .filter_by(workshop_id=w.id).order_by(Participant.id)).all()[1])
    for n, key in enumerate(SECTION_KEYS + (f"brings:{org_id}",)):
        form = w.nadia.get(w.url(f"/offers/{offer_id}/sections/{key}"), htmx=True).get_data(as_text=True)
        version = re.search(r'name="version"[^>]*value="(\d+)"', form).group(1)
        text = value(LONG, "os") if key == "need" else value(n + 4, "os") if key != "title" else value(n + 6, "ot")
        _ok(w.nadia.post(w.url(f"/offers/{offer_id}/sections/{key}"), htmx=True,
                         data={"text": text, "version": version}), f"section {key}")
    w.pages["section edit"] = w.nadia.get(w.url(f"/offers/{offer_id}/sections/need"), htmx=True).get_data(as_text=True)
    # Actions: proposed by a participant, added by the facilitator; the whole corpus in titles and owners.
    owner_names, owner_orgs = fitting(80, "an"), fitting(160, "ao")
    for n, (i, title) in enumerate(fitting(200, "at")):
        data = {"title": title, "owner": "other", "owner_name": owner_names[n % len(owner_names)][1],
                "owner_org": owner_orgs[n % len(owner_orgs)][1], "due_on": "2027-01-15", "step": "",
                "card": str(cards[(n + CRLF) % len(cards)]), "priority": "", "offer": ""}
        if n % 2:
            _ok(w.nadia.post(w.url("/actions"), data=data, htmx=True), f"action {i}")
        else:
            _ok(fac.post(f"/workshops/{w.id}/actions", data={**data, "status": "todo"}, htmx=True), f"fac action {i}")
    from aeh_workshop.models import Action
    actions = _db(app, lambda: list(db.session.scalars(db.select(Action).filter_by(workshop_id=w.id))))
    for action in actions:
        if not action.validated:
            _ok(fac.post(f"/workshops/{w.id}/actions/{action.id}/validate", htmx=True), "validate")
    w.pages["action edit"] = fac.get(f"/workshops/{w.id}/actions/{actions[0].id}/edit",
                                     htmx=True).get_data(as_text=True)
    capture("build")

    phase("closing")
    capture("closing")

    # The partnership map: the link cards promoted, entries typed in, a file imported.
    _ok(fac.post(f"/workshops/{w.id}/map", data={"all": "1"}), "promote to the map")
    base = f"/structures/{w.sid}"
    fields = {f: fitting(m, t) for f, m, t in [("partner", 160, "ep"), ("description", 2000, "ed"),
                                                 ("subtype", 80, "es"), ("holder", 120, "eh"),
                                                 ("next_action", 200, "ex"), ("notes", 2000, "en")]}
    for n in range(len(PAYLOADS)):
        data = {f: vals[n % len(vals)][1] for f, vals in fields.items()}
        data.update(partner_kind="company", category="mecenat", direction="", status="active",
                    last_contact="2026-05-01", involvement="", priority="high")
        _ok(fac.post(f"{base}/entries/new", data=data), f"entry {n}")
    rows = [["reporte_par", "partenaire", "type_partenaire", "description", "sous_type", "statut"]]
    for i, cell in fitting(2000, IMPORT_TAG):
        rows.append([value(i, IMPORT_TAG + "h")[:120], cell[:160], "entreprise", cell, "", "actif"])
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    resp = _ok(fac.post(f"{base}/import", data={"file": (io.BytesIO(out.getvalue().encode()), "liens.csv")},
                        content_type="multipart/form-data"), "upload")
    preview = resp.headers["Location"]
    w.pages["import preview"] = fac.get(preview).get_data(as_text=True)
    _ok(fac.post(preview, data={}), "import confirm")
    _ok(fac.post(f"/workshops/{w.id}/status", data={"status": "closed"}, htmx=True), "close")
    collect_pushes()

    # A company diagnostic, in its own workshop.
    resp = _ok(fac.post("/workshops/new", data={"title": value(TEMPLATE, "wt"), "purpose": "",
                                                "template": "company_diagnostic", "structure": ""}), "diag ws")
    w.diag_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    w.diag_code = _db(app, lambda: db.session.get(Workshop, w.diag_id).join_code)
    _ok(fac.post(f"/workshops/{w.diag_id}/status", data={"status": "live"}, htmx=True), "diag open")
    _ok(fac.post(f"/workshops/{w.diag_id}/phase", data={"phase": "collect"}, htmx=True), "diag collect")
    company = app.test_client()
    _ok(company.post(f"/w/{w.diag_code}/join", data={"display_name": value(4, "pn"), "organisation": value(8, "po"),
                                                     "kind": "company"}), "diag join")
    answers = {"territory": value(1, "dt"), "version": 0, "involve_employees": ""}
    for n, (name, tag) in enumerate((f, t) for f, t in FIELDS.items()
                                    if f.startswith("DiagnosticForm.") and f != "DiagnosticForm.territory"):
        answers[name.split(".")[1]] = value(LONG if n == 0 else n * 3 + 2, tag)
    _ok(company.post(f"/w/{w.diag_code}/diagnostic", data=answers, htmx=True), "diagnostic")
    w.company = company
    # Ask:* sections of the offer match the company's wishes on the matching page.
    yield w
    for sock in sockets.values():
        if sock.is_connected():
            sock.disconnect()
    with app.app_context():
        db.engine.dispose()


def test_every_text_field_is_covered(world):
    """Each text field of the app's forms is filled by the fixture and checked on some screen."""
    shown = set().union(*PHASE_PAGES.values(), *(tags for _, tags in LATER.values()), {"ed", "en"})
    assert set(FIELDS.values()) <= shown, set(FIELDS.values()) - shown
    found = _text_fields(world.app)
    new = found - set(FIELDS) - NOT_STORED
    assert not new, f"text fields with no XSS coverage: add them to FIELDS (and fill them) or NOT_STORED: {new}"
    gone = (set(FIELDS) | NOT_STORED) - found
    assert not gone, f"fields listed here no longer exist: {gone}"


# ------------------------------------------------------------------ screens

# Page -> the field tags whose markers must show on it as text.
PHASE_PAGES = {
    "participant@collect": {"wt", "ct", "cp", "cs"},
    "projector@collect": {"wt", "ct", "pn", "po"},
    "control@collect": {"fn", "wt", "wp", "ct", "cp", "pn", "po"},
    "participant@qualify": {"ct"},
    "projector@qualify": {"ct", "cl"},
    "control@qualify": {"ct", "cl"},
    "participant@vote": {"vt", "ct"},
    "projector@vote": {"vt", "ct"},
    "control@vote": {"vt", "ct"},
    "participant@results": {"ct"},
    "projector@results": {"ct"},
    "control@results": {"ct"},
    "participant@build": {"ot", "os", "at", "an", "ao"},
    "projector@build": {"ot", "at"},
    "control@build": {"ot", "at", "an", "ao"},
    "participant@closing": {"at"},
    "projector@closing": {"at"},
    "control@closing": {"at"},
    "card edit": {"ct", "cs"},   # "cp": see test_the_card_form_shows_the_partner_typed
    "composer": set(),
    "ballot": {"ct"},
    "section edit": {"os"},
    "action edit": {"at"},
    "import preview": {IMPORT_TAG},
}


@pytest.mark.parametrize("name", sorted(PHASE_PAGES))
def test_pages_seen_during_the_workshop_are_inert(world, name):
    assert_inert(world.pages[name], name, PHASE_PAGES[name])


def test_every_payload_of_the_board_shows_as_typed(world):
    """The whole corpus, on the projector and in the control room: each card's text, partner and sub-type."""
    card_max = world.app.config["CARD_TEXT_MAX"]
    for page in ("projector@collect", "control@collect"):
        text = problems(world.pages[page])[1]
        flat = " ".join(text.split())
        for tag, limit in (("ct", card_max), ("cp", 160), ("cs", 80), ("pn", 80)):
            for i, typed in fitting(limit, tag):
                assert marker(i, tag) in text, (page, tag, i)
        for i, typed in fitting(card_max, "ct"):
            assert " ".join(typed.split()) in flat, (page, typed)


def _get(client, url, **kw):
    resp = client.get(url, **kw)
    assert resp.status_code == 200, f"{url}: {resp.status_code}"
    return resp.get_data(as_text=True)


DIAG_TAGS = {t for f, t in FIELDS.items() if f.startswith("DiagnosticForm.")}
LATER = {
    "workshops list": (lambda w: (w.fac, "/workshops/"), {"wt"}),
    "join page": (lambda w: (w.app.test_client(), f"/w/{w.diag_code}"), {"wt"}),
    "workshop edit": (lambda w: (w.fac, f"/workshops/{w.id}/edit"), {"wt", "wp"}),
    "outcome": (lambda w: (w.fac, f"/workshops/{w.id}/outcome"), {"wt", "ct", "vt", "ot", "os", "at", "an", "ao"}),
    "map": (lambda w: (w.fac, f"/structures/{w.sid}"), {"sn", "ep", "es", "eh", "ex", IMPORT_TAG}),
    "map search": (lambda w: (w.fac, f"/structures/{w.sid}?q={value(6, 'fq')}"), {"fq"}),
    "map list": (lambda w: (w.fac, "/structures/"), {"sn"}),
    "matrix": (lambda w: (w.fac, f"/structures/{w.sid}/matrix"), {"ep", "eh", "cp", IMPORT_TAG}),
    "duplicates": (lambda w: (w.fac, f"/structures/{w.sid}/duplicates"), {"ep", IMPORT_TAG}),
    "entry new": (lambda w: (w.fac, f"/structures/{w.sid}/entries/new"), set()),
    "diagnostic form": (lambda w: (w.company, f"/w/{w.diag_code}/diagnostic"), {"dt", "ddme", "dwin"}),
    "diagnostic page": (lambda w: (w.company, f"/w/{w.diag_code}"), {"dt"}),
    "diag control": (lambda w: (w.fac, f"/workshops/{w.diag_id}"), {"pn", "po"} | DIAG_TAGS),
    "diag list region": (lambda w: (w.fac, f"/w/{w.diag_code}/r/diaglist"), DIAG_TAGS),
    "diag history": (lambda w: (w.fac, re.search(r"/organisations/\d+/diagnostics",
                                                _get(w.fac, f"/workshops/{w.diag_id}")).group()), DIAG_TAGS),
    "matching": (lambda w: (w.fac, "/matching"), {"po", "ot", "os", "dt"}),
}


@pytest.mark.parametrize("name", sorted(LATER))
def test_pages_after_the_workshop_are_inert(world, name):
    client, url = LATER[name][0](world)
    assert_inert(_get(client, url), name, LATER[name][1])


def test_map_entry_and_partner_pages_are_inert(world):
    """Every entry's edit form and every partner's page: the fields typed in and the imported cells."""
    from aeh_workshop.models import MapEntry
    entries = _db(world.app, lambda: [(e.id, e.partner_id) for e in
                                      db.session.scalars(db.select(MapEntry).filter_by(structure_id=world.sid))])
    assert len(entries) >= 2 * len(PAYLOADS)
    seen = set()
    urls = [f"/structures/{world.sid}/entries/{entry_id}" for entry_id, _ in entries]
    urls += [f"/structures/{world.sid}/partners/{partner_id}" for partner_id in sorted({p for _, p in entries})]
    for url in urls:
        html = _get(world.fac, url)
        assert_inert(html, url)
        seen |= set(MARKER.findall(problems(html)[1]))
    for tag, limit in (("ep", 160), ("ed", 2000), ("es", 80), ("eh", 120), ("ex", 200), ("en", 2000),
                       ("cp", 160), (IMPORT_TAG, 160)):
        expected = {marker(i, tag) for i, v in fitting(limit, tag)}
        assert expected <= seen, (tag, sorted(expected - seen))


def test_regions_and_their_pushes_are_inert(world):
    regions = world.app.extensions["realtime"].regions
    for name, region in regions.items():
        if region.keyed:
            continue
        assert_inert(_get(world.fac, world.url(f"/r/{name}")), f"region {name}")
        assert_inert(_get(world.fac, f"/w/{world.diag_code}/r/{name}"), f"diag region {name}")
    assert len(world.pushes) > 20
    for n, html in enumerate(dict.fromkeys(html for _, html in world.pushes)):   # each distinct push once
        assert_inert(html, f"push {n}", push=True)
    pushed = {re.match(r"zq([a-z]+)\d+x", m).group(1) for _, html in world.pushes for m in MARKER.findall(html)}
    assert {"ct", "cl", "vt", "ot", "os", "at"} <= pushed


def test_shared_pages_and_frozen_versions_are_inert(world):
    _ok(world.fac.post(f"/workshops/{world.id}/outcome/share", htmx=True), "share")
    token = _db(world.app, lambda: db.session.get(Workshop, world.id).share_token)
    anyone = world.app.test_client()
    tags = {"wt", "ct", "vt", "ot", "os", "at", "an", "ao"}
    assert_inert(_get(anyone, f"/o/{token}"), "shared outcome", tags)
    assert_inert(_get(anyone, f"/o/{token}/v1"), "shared version 1", tags)
    assert_inert(_get(world.fac, f"/workshops/{world.id}/outcome/v1"), "outcome version 1", tags)
    assert_inert(_get(world.fac, f"/workshops/{world.id}/outcome/share"), "share box")
    md = anyone.get(f"/o/{token}/v1/download/md")
    assert md.status_code == 200 and marker(0, "ct").encode() in md.data


def test_the_checks_catch_payloads_left_raw():
    """The detector is not blind: each markup payload, unescaped in text or in an attribute, is caught."""
    for i, payload in enumerate(PAYLOADS):
        raw = value(i, "zz")
        if re.search(r"<(script|img|svg|a |div|hx-partial|iframe|math|style|meta|details)", payload):
            assert problems(f"<p>{raw}</p>")[0], raw
        if payload.startswith('"><'):
            assert problems(f'<input value="{raw}">')[0], raw
        if payload.startswith("' on"):
            assert problems(f"<input value='{raw}'>")[0], raw
    assert problems('<a href=" JaVaScRiPt:alert(1)">x</a>')[0]
    with pytest.raises(AssertionError, match="evaluated"):
        assert_inert(f"<p>49 {marker(TEMPLATE, 'zz')}</p>", "evaluated")
    with pytest.raises(AssertionError, match="shown as text"):
        assert_inert("<p>rien</p>", "hidden", {"zz"})


# ------------------------------------------------------------------ exports

def _download(world, fmt):
    resp = world.fac.get(f"/workshops/{world.id}/outcome/current/download/{fmt}")
    assert resp.status_code == 200, (fmt, resp.status_code)
    return resp.data


def test_pdf_shows_the_payloads_as_text(world):
    from pypdf import PdfReader
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(_download(world, "pdf"))).pages)
    flat = re.sub(r"[\s\x00]+", "", text)   # pypdf reads some runs as UTF-16 (NUL bytes between letters)
    for i in (0, 1, 6, 8, 11):
        assert re.sub(r"\s+", "", value(i, "ct")) in flat, value(i, "ct")


def test_xlsx_cells_hold_the_text_and_run_no_formula(world):
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(_download(world, "xlsx")))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [c.value for c in cells if c.data_type == "f" or c.value.startswith(("=", "+", "@"))]
    values = {c.value for c in cells}
    assert value(0, "ct") in values and value(1, "ct") in values
    assert "'" + value(16, "ct") in values      # =HYPERLINK(...) kept, with the quote that disarms it


def test_csv_files_hold_the_text_and_run_no_formula(world):
    archive = zipfile.ZipFile(io.BytesIO(_download(world, "csv")))
    cells = [cell for name in archive.namelist()
             for row in csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@") and MARKER.search(c)]
    assert value(0, "ct") in cells and "'" + value(16, "ct") in cells
    single = _download(world, "cards.csv").decode("utf-8-sig")
    assert value(1, "ct") in [c for row in csv.reader(io.StringIO(single)) for c in row]


def test_docx_is_well_formed_with_payloads_in_text_runs(world):
    from xml.dom.minidom import parseString
    archive = zipfile.ZipFile(io.BytesIO(_download(world, "docx")))
    for name in archive.namelist():
        if name.endswith((".xml", ".rels")):
            parseString(archive.read(name))          # every part well-formed (the title is in docProps/core.xml)
    assert marker(CRLF, "wt").encode() in archive.read("docProps/core.xml")
    xml = archive.read("word/document.xml").decode()
    dom = parseString(xml)
    runs = "".join(node.firstChild.data for node in dom.getElementsByTagName("w:t") if node.firstChild)
    for i in (0, 1, 6, 9):
        assert value(i, "ct") in runs
    assert "<script>" not in xml


def test_markdown_renders_no_markup_from_a_payload(world):
    from markdown_it import MarkdownIt
    source = _download(world, "md").decode()
    html = MarkdownIt("commonmark").enable("table").render(source)
    found, text = problems(html)
    assert not found, "\n".join(found)
    assert "javascript:" not in "".join(re.findall(r'href="([^"]*)"', html)).lower()
    for i in (0, 1, 5, 9, 18):
        assert marker(i, "ct") in text, i
    assert "{{7*7}}" in text
    assert value(0, "ct") in text and value(22, "ct") in text, "a payload does not show as typed"


def test_json_is_valid_against_the_schema_and_holds_the_text(world):
    import jsonschema
    from pathlib import Path
    doc = json.loads(_download(world, "json"))
    schema = json.loads((Path(__file__).resolve().parent.parent / "docs" / "outcome.schema.json").read_text())
    jsonschema.validate(doc, schema)
    flat = json.dumps(doc, ensure_ascii=False)
    assert json.dumps(value(0, "ct"), ensure_ascii=False)[1:-1] in flat


def test_ics_parses_and_no_payload_adds_a_property(world):
    import icalendar
    data = _download(world, "ics")
    cal = icalendar.Calendar.from_ical(data)
    events = [c for c in cal.walk("VEVENT")]
    titles = [value(i, "at") for i, _ in fitting(200, "at")]
    assert len(events) == len(titles), "a payload's line ends made or removed an event"
    summaries = {str(e["SUMMARY"]) for e in events}
    assert {" ".join(t.split()) for t in titles} <= summaries
    assert marker(CRLF, "wt") in str(cal["X-WR-CALNAME"])      # the whole title, line ends escaped, in one value
    assert all(marker(CRLF, "wt") in str(e["DESCRIPTION"]) for e in events), "the workshop's title, in each event"
    for line in data.decode().replace("\r\n ", "").split("\r\n")[:-1]:   # unfolded content lines
        assert not MARKER.search(line.split(":", 1)[0]), f"a payload made a property: {line}"
        assert line.split(":")[0].split(";")[0] in {
            "BEGIN", "END", "VERSION", "PRODID", "CALSCALE", "METHOD", "X-WR-CALNAME", "UID", "DTSTAMP",
            "SEQUENCE", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "STATUS", "TRANSP", "URL"}, line


def test_map_exports_hold_the_text(world):
    from openpyxl import load_workbook
    from pypdf import PdfReader
    resp = world.fac.get(f"/structures/{world.sid}/download/xlsx")
    assert resp.status_code == 200
    book = load_workbook(io.BytesIO(resp.data))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [c.value for c in cells if c.data_type == "f" or c.value.startswith(("=", "+", "@"))]
    assert any(marker(0, "ed") in c.value for c in cells)
    resp = world.fac.get(f"/structures/{world.sid}/download/pdf")
    assert resp.status_code == 200
    text = re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages))
    assert re.sub(r"\s+", "", value(1, "ep")) in text


def test_matching_exports_run_no_formula(world):
    resp = world.fac.get("/matching.csv")
    assert resp.status_code == 200
    cells = [c for row in csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@")]
    assert {"zqpo", "zqot", "zqdt"} <= set(re.findall(r"zq[a-z]+", "".join(cells)))
    from openpyxl import load_workbook
    resp = world.fac.get("/matching.xlsx")
    assert resp.status_code == 200
    book = load_workbook(io.BytesIO(resp.data))
    texts = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [c.value for c in texts if c.data_type == "f" or c.value.startswith(("=", "+", "@"))]
    assert any("zqpo" in c.value for c in texts)


def test_the_card_form_shows_the_partner_typed(world):
    found, text = problems(world.pages["card edit"])
    assert marker(0, "cp") in text


# ------------------------------------------------------------------ a real browser

@pytest.mark.browser
def test_no_payload_runs_in_a_browser_even_after_a_push(chromium, server):
    """The projector, a participant and the control room open on a board full of payloads; more
    arrive by push while they are open (htmx swaps them in). Nothing runs: no window.__pwned, no
    dialog, no request to /__xss__/, no CSP refusal (a refused inline script would be one)."""
    from playwright.sync_api import expect
    from browser_kit import DESK, LIVE, PHONE, PROJECTOR, _context, _join, _post, _wait_live
    errors, requests, dialogs = [], [], []

    def watch(ctx, page):
        ctx.on("request", lambda r: requests.append(r.url) if HOOK in r.url or "evil.example" in r.url else None)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        return page

    fac_ctx, fac = _context(chromium, server, errors, **DESK)
    watch(fac_ctx, fac)
    fac.goto("/setup")
    fac.fill("#name", value(1, "fn"))
    fac.fill("#email", "camille@example.org")
    fac.fill("#password", PASSWORD)
    fac.fill("#confirm", PASSWORD)
    fac.get_by_role("button", name="Créer le compte").click()
    expect(fac).to_have_url(re.compile(r"/workshops/$"))
    fac.goto("/workshops/new")
    fac.fill("#title", value(8, "wt"))
    fac.fill("#purpose", value(13, "wp"))
    fac.select_option("#template", "practice_exchange")
    fac.get_by_role("button", name="Enregistrer").click()
    expect(fac).to_have_url(re.compile(r"/workshops/\d+$"))
    code = fac.locator(".code-big").inner_text().strip()
    fac.get_by_role("button", name="Ouvrir l'atelier").click()
    expect(fac.locator("#phasectl .badge")).to_have_text("En cours")
    screen_link = fac.locator("input.copy").input_value()

    nadia_ctx, nadia = _context(chromium, server, errors, **PHONE)
    watch(nadia_ctx, nadia)
    nadia.goto(f"/w/{code}")
    _join(nadia, value(1, "pn"), value(9, "po"), "association")
    token = re.search(r'"X-CSRFToken": "([^"]+)"', nadia_ctx.request.get(f"/w/{code}").text()).group(1)

    def post_all(tag):
        for i, text in fitting(500, tag):
            resp = nadia_ctx.request.post(f"/w/{code}/cards", headers={"X-CSRFToken": token, "HX-Request": "true"},
                                          form={"kind": "idea", "text": text, "partner": value(i, tag + "p")[:160],
                                                "category": "", "subtype": value(i + 1, tag + "s")[:80],
                                                "direction": "", "link_status": ""})
            assert resp.status < 400, (i, resp.status, resp.text()[:300])

    post_all("br")                                   # on the board before the screens open
    screen_ctx, screen = _context(chromium, server, errors, **PROJECTOR)
    watch(screen_ctx, screen)
    screen.goto(screen_link)
    fac.reload()
    nadia.reload()
    pages = (fac, screen, nadia)
    for page in pages:
        _wait_live(page)
    expect(screen.locator("#board")).to_contain_text(marker(0, "br"))

    post_all("bp")                                   # pushed to the open screens, swapped in by htmx
    last = fitting(500, "bp")[-1][0]
    expect(screen.locator("#board")).to_contain_text(marker(last, "bp"), timeout=LIVE)
    expect(fac.locator("#modboard")).to_contain_text(marker(last, "bp"), timeout=LIVE)
    expect(nadia.locator("#board")).to_contain_text(marker(last, "bp"), timeout=LIVE)
    # Typed into the composer: the poster's page swaps in the HTTP answer, the others the push.
    for i in (9, 10, 8):
        _post(nadia, "idea", value(i, "bu"))
        expect(screen.locator("#board")).to_contain_text(marker(i, "bu"), timeout=LIVE)
    # Hiding a card from the control room pushes the boards again.
    fac.locator("#modboard .card", has_text=marker(8, "bp")).get_by_role("button", name="Masquer").click()
    expect(screen.locator("#board")).not_to_contain_text(marker(8, "bp"), timeout=LIVE)

    for page in pages:
        assert page.evaluate("typeof window.__pwned") == "undefined", page.url
        assert page.locator("[hx-trigger='load'], [data-hx-trigger='load'], iframe, svg script, "
                            "body hx-partial, img[onerror]").count() == 0, page.url
    assert requests == [] and dialogs == [], (requests, dialogs)
    assert errors == [], "JavaScript errors or CSP refusals:\n" + "\n".join(errors)
    for ctx in (fac_ctx, nadia_ctx, screen_ctx):
        ctx.close()


def test_refused_forms_give_the_payloads_back_inert(world):
    """A refused form is shown again with what was typed: as text and values, never markup."""
    long = "x" * 2001
    cases = [
        (world.app.test_client(), f"/w/{world.diag_code}/join",
         {"display_name": "y" * 81, "organisation": value(6, "po"), "kind": "company"}, {"po"}),
        (world.fac, f"/structures/{world.sid}/entries/new",
         {"partner": value(7, "ep"), "description": value(8, "ed"), "subtype": "z" * 81, "holder": value(6, "eh"),
          "next_action": value(1, "ex"), "notes": long, "partner_kind": "company"}, {"ep", "ed", "eh", "ex"}),
        (world.fac, "/workshops/new", {"title": "t" * 161, "purpose": value(6, "wp"), "template": "meetup"}, {"wp"}),
        (world.company, f"/w/{world.diag_code}/diagnostic",
         {"territory": value(7, "dt"), "does_mecenat": long, "wants_mecenat": value(6, "dwme"), "version": 0},
         {"dt", "dwme"}),
    ]
    for client, url, data, tags in cases:
        resp = client.post(url, data=data)
        assert resp.status_code in (409, 422), (url, resp.status_code)
        assert_inert(resp.get_data(as_text=True), f"refused {url}", tags)
    # A file whose cells are refused: the error messages quote them.
    bad = "partenaire,categorie_rameau,statut\r\n" + "".join(
        f'"{value(i, "ib").replace(chr(34), chr(39))}","{value(i + 1, "ic").replace(chr(34), chr(39))}",actif\r\n'
        for i in (0, 1, 6, 8))
    resp = world.fac.post(f"/structures/{world.sid}/import", content_type="multipart/form-data",
                          data={"file": (io.BytesIO(bad.encode()), "liens.csv")})
    assert resp.status_code == 302, resp.status_code
    assert_inert(_get(world.fac, resp.headers["Location"]), "refused import", {"ib", "ic"})
