"""Joint offers under fire: many people save one section at the same moment,
all from the same version, against the real server (`python app.py`, gevent),
on SQLite and on PostgreSQL (CI sets DATABASE_URL; under CI it runs, not skips).

Exactly one save wins; every other editor is told, gets the winner's text back,
and keeps their own; the database holds the winner's text at version 1.
"""
import html
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from live_server import Browser, first_facilitator, live_workshop, server_on

pytestmark = pytest.mark.server

EDITORS = 12


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, tmp_path):
    """The app on either database, and a way to read that database directly."""
    with server_on(request.param, tmp_path, "aeh_offers") as running:
        yield running


def test_simultaneous_saves_of_one_section_one_wins_and_nobody_loses_text(server):
    base, query = server
    fac = first_facilitator(base)
    code = live_workshop(fac, "Offre commune à plusieurs mains")["code"]
    assert fac.post(f"/w/{code}/offers", {"title": "Offre « Cœur de Dombes »"}, htmx=True).status_code == 200
    offer_id = query("SELECT id FROM joint_offer")[0][0]
    editors = []
    for n in range(EDITORS):
        person = Browser(base)
        person.get(f"/w/{code}/join")
        resp = person.post(f"/w/{code}/join", {"display_name": f"Rédactrice {n}", "organisation": f"Asso {n}",
                                               "kind": "association"})
        assert resp.status_code == 302, resp.text
        form = person.get(f"/w/{code}/offers/{offer_id}/sections/need").text
        assert 'name="version"' in form
        editors.append(person)

    start = threading.Barrier(EDITORS)

    def save(n):
        start.wait()
        return editors[n].post(f"/w/{code}/offers/{offer_id}/sections/need",
                               {"text": f"Le besoin selon la rédactrice {n}", "version": 0}, htmx=True)

    with ThreadPoolExecutor(EDITORS) as pool:
        replies = list(pool.map(save, range(EDITORS)))

    statuses = sorted(r.status_code for r in replies)
    assert statuses == [200] + [409] * (EDITORS - 1), statuses
    winner = next(n for n, r in enumerate(replies) if r.status_code == 200)
    assert query("SELECT text, version FROM offer_section WHERE key = 'need'") == [
        (f"Le besoin selon la rédactrice {winner}", 1)]
    for n, reply in enumerate(replies):
        if n == winner:
            continue
        text = html.unescape(reply.text)
        assert f"Le besoin selon la rédactrice {winner}" in text       # what is there now
        assert f"Le besoin selon la rédactrice {n}" in text            # what they wrote, kept
        assert re.search(r'name="version"[^>]*value="1"', reply.text)  # saving again is deliberate
