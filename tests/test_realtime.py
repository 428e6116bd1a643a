"""DESIGN.md §4: one door, audiences, render once, coalesce, revision and resync."""
import re
import time

import pytest

from aeh_workshop.extensions import db, socketio
from aeh_workshop.models import Workshop
from conftest import config_for, post_card, pushes


@pytest.fixture
def room(app, make_facilitator, make_workshop, join_as, login, socket_for):
    """A live workshop with a facilitator, a participant and a projector, all listening."""
    fac = make_facilitator()
    code = make_workshop(owner_id=fac)
    with app.app_context():
        workshop = db.session.scalar(db.select(Workshop).filter_by(join_code=code))
        key, wid = workshop.screen_token, workshop.id
    fac_client = login(app.test_client(), fac)
    participant = join_as(code)
    projector = app.test_client()
    assert projector.get(f"/w/{code}/screen?key={key}").status_code == 302
    sockets = {name: socket_for(c, code) for name, c in
               [("fac", fac_client), ("participant", participant), ("screen", projector)]}
    for s in sockets.values():
        s.get_received()
    return {"code": code, "id": wid, "fac": fac_client, "participant": participant,
            "projector": projector, "sockets": sockets}


def _targets(messages):
    """Which regions the pushes touched; card pushes count as "card" / "modcard"."""
    found = set()
    for m in messages:
        for target in re.findall(r'<hx-partial hx-target="#([\w-]+)"', m["html"]):
            if re.fullmatch(r"(card|n)-[\w-]+", target):
                found.add("card")
            elif re.fullmatch(r"mod-(card|n)-[\w-]+", target):
                found.add("modcard")
            else:
                found.add(target)
    return found


def test_each_audience_hears_only_its_regions(room):
    post_card(room["participant"], room["code"], text="Prêt de salle")
    got = {name: pushes(s) for name, s in room["sockets"].items()}
    assert _targets(got["participant"]) == {"card"}
    assert _targets(got["screen"]) == {"card"}
    assert _targets(got["fac"]) == {"card", "modcard"}
    for messages in got.values():
        assert any("Prêt de salle" in m["html"] for m in messages)
    # Pushes are ready-to-swap partials: the one new card, and the column counts.
    html = got["participant"][0]["html"]
    assert html.startswith('<hx-partial hx-target="#card-1" hx-swap="outerHTML" data-else-append="#stack-practice">')
    assert '<hx-partial hx-target="#n-practice" hx-swap="innerHTML">1</hx-partial>' in html
    assert html.count("<article") == 1


def test_another_workshop_hears_nothing(app, room, make_workshop, join_as, socket_for):
    other_code = make_workshop()
    other = socket_for(join_as(other_code, name="Karim"), other_code)
    other.get_received()
    post_card(room["participant"], room["code"], text="Secret de A")
    room["fac"].post(f"/workshops/{room['id']}/phase", data={"phase": "vote"}, htmx=True)
    assert pushes(other) == []


def test_phase_change_reaches_every_screen(room):
    resp = room["fac"].post(f"/workshops/{room['id']}/phase", data={"phase": "qualify"}, htmx=True)
    assert resp.status_code == 200 and 'aria-current="step"' in resp.get_data(as_text=True)
    for name, s in room["sockets"].items():
        messages = pushes(s)
        assert any('data-phase="qualify"' in m["html"] and "Qualification" in m["html"] for m in messages), name


def test_hidden_card_push_does_not_leak_to_participants(app, room):
    post_card(room["participant"], room["code"], text="À modérer")
    with app.app_context():
        from aeh_workshop.models import Card
        card_id = db.session.scalar(db.select(Card.id).filter_by(text="À modérer"))
    for s in room["sockets"].values():
        s.get_received()
    room["fac"].post(f"/w/{room['code']}/cards/{card_id}/hide", htmx=True)
    for name in ("participant", "screen"):
        assert all("À modérer" not in m["html"] for m in pushes(room["sockets"][name]))
    fac_msgs = pushes(room["sockets"]["fac"])
    assert any("À modérer" in m["html"] and "is-hidden" in m["html"] for m in fac_msgs)


def test_pushes_follow_each_listeners_language(app, room):
    en_client = room["participant"]
    en_client.get(f"/w/{room['code']}?lang=en")
    from conftest import pushes as received
    en_socket = socketio.test_client(app, flask_test_client=en_client, auth={"workshop": room["code"]})
    en_socket.get_received()
    room["fac"].post(f"/workshops/{room['id']}/phase", data={"phase": "collect"}, htmx=True)
    fr = [m for m in received(room["sockets"]["screen"]) if "#phase" in m["html"]]
    en = [m for m in received(en_socket) if "#phase" in m["html"]]
    assert fr[0]["channel"].endswith("/fr") and en[0]["channel"].endswith("/en")
    assert fr[0]["rev"] == en[0]["rev"]


def test_revision_is_bumped_by_every_write_and_carried_by_pushes(app, room):
    before = _revision(app, room["id"])
    post_card(room["participant"], room["code"], text="Un")
    post_card(room["participant"], room["code"], text="Deux")
    after = _revision(app, room["id"])
    assert after == before + 2
    messages = pushes(room["sockets"]["participant"])
    assert [m["rev"] for m in messages] == [before + 1, before + 2]
    # "since" chains the pushes of one channel, so a client can spot a gap.
    assert messages[1]["since"] == messages[0]["rev"]


def _revision(app, workshop_id):
    with app.app_context():
        return db.session.get(Workshop, workshop_id).revision


def test_hello_gives_the_revision_and_the_server_clock_on_connect(app, room, socket_for):
    import time
    before = int(time.time() * 1000)
    s = socket_for(room["participant"], room["code"])
    hello = [m["args"][0] for m in s.get_received() if m["name"] == "hello"]
    assert [m["rev"] for m in hello] == [_revision(app, room["id"])]
    # Phase timers on every screen count down from the server's clock.
    assert before <= hello[0]["now"] <= int(time.time() * 1000)


@pytest.mark.parametrize("who", ["stranger", "other_participant", "bad_code"])
def test_socket_without_a_right_to_the_workshop_is_refused(app, room, make_workshop, join_as, who):
    client = app.test_client()
    code = room["code"]
    if who == "other_participant":
        client = join_as(make_workshop(), client=client)
    if who == "bad_code":
        code = "NOPE234"
    s = socketio.test_client(app, flask_test_client=client, auth={"workshop": code})
    assert not s.is_connected()


def test_rooms_come_from_the_session_not_the_client(app, room):
    """A participant asking for the facilitators' channel still only hears participants' pushes."""
    s = socketio.test_client(app, flask_test_client=room["participant"],
                             auth={"workshop": room["code"], "rooms": ["fac", "screen"], "audience": "fac"})
    s.get_received()
    post_card(room["participant"], room["code"], text="Encore")
    assert _targets(pushes(s)) == {"card"}


@pytest.mark.parametrize("region", ["board", "phase", "count", "modboard", "phasectl", "roster"])
def test_pushed_fragments_are_the_same_for_every_viewer(app, room, join_as, make_facilitator, region):
    """Render once: the resync GET gives two different viewers the very same bytes."""
    second_fac = make_facilitator("co@example.org")
    with app.app_context():
        from aeh_workshop.models import Facilitator
        w = db.session.get(Workshop, room["id"])
        w.co_facilitators.append(db.session.get(Facilitator, second_fac))
        db.session.commit()
    post_card(room["participant"], room["code"], text="Carte commune")
    from conftest import PASSWORD
    other_fac = app.test_client()
    other_fac.post("/login", data={"email": "co@example.org", "password": PASSWORD})
    if region in ("modboard", "phasectl", "roster"):
        viewers = [room["fac"], other_fac]
    else:   # a participant, another one, a facilitator, a projector: one rendering for all
        viewers = [room["participant"], join_as(room["code"], name="Autre personne", kind="company"),
                   room["fac"], room["projector"]]
    pages = [v.get(f"/w/{room['code']}/r/{region}") for v in viewers]
    assert all(p.status_code == 200 for p in pages)
    assert all(p.get_data() == pages[0].get_data() for p in pages)
    assert f'id="{region}"' in pages[0].get_data(as_text=True)


def test_resync_route_matches_the_push(app, room):
    """A pushed card is the very same HTML as that card in the board a resync fetches."""
    post_card(room["participant"], room["code"], text="Même rendu", partner="Mairie", category="innovation")
    pushed = pushes(room["sockets"]["participant"])[-1]["html"]
    card = re.search(r"<article.*?</article>", pushed, re.S).group(0)
    fetched = room["participant"].get(f"/w/{room['code']}/r/board")
    assert card in fetched.get_data(as_text=True)
    assert fetched.headers["X-Revision"] == str(_revision(app, room["id"]))


def test_card_changes_push_one_card_and_structure_changes_the_board(app, room):
    post_card(room["participant"], room["code"], text="Avant")
    card_id = 1
    for s in room["sockets"].values():
        s.get_received()
    room["participant"].post(f"/w/{room['code']}/cards/{card_id}", data={"kind": "practice", "text": "Après"}, htmx=True)
    assert _targets(pushes(room["sockets"]["participant"])) == {"card"}
    # A new column home (another kind) redraws the board, in order.
    room["participant"].post(f"/w/{room['code']}/cards/{card_id}", data={"kind": "wish", "text": "Après"}, htmx=True)
    assert _targets(pushes(room["sockets"]["participant"])) == {"board"}
    room["participant"].post(f"/w/{room['code']}/cards/{card_id}/delete", htmx=True)
    html = pushes(room["sockets"]["participant"])[-1]["html"]
    assert f'<hx-partial hx-target="#card-{card_id}" hx-swap="delete"></hx-partial>' in html
    assert '<hx-partial hx-target="#n-wish" hx-swap="innerHTML">0</hx-partial>' in html


@pytest.mark.parametrize("region,viewer", [("modboard", "participant"), ("roster", "participant"),
                                           ("phasectl", "projector")])
def test_resync_route_respects_audiences(room, region, viewer):
    assert room[viewer].get(f"/w/{room['code']}/r/{region}").status_code == 403


def test_unknown_region_is_404(room):
    assert room["participant"].get(f"/w/{room['code']}/r/nothing").status_code == 404


def test_bursts_are_coalesced(migrated_db, tmp_path, make_facilitator):
    """Fifty writes in a burst reach a listener as a handful of pushes, the last one complete."""
    import shutil
    from aeh_workshop import create_app
    from conftest import Client
    path = tmp_path / "c.sqlite3"
    shutil.copy(migrated_db, path)
    app = create_app(config_for(f"sqlite:///{path}", REALTIME_COALESCE_MS=100))
    app.test_client_class = Client
    from aeh_workshop.workshops import service
    from aeh_workshop.accounts.service import create_facilitator
    with app.app_context():
        owner = create_facilitator("burst@example.org", "motdepasse-solide")
        w = service.create(owner, "Rafale", "", "practice_exchange")
        w.status = "live"
        db.session.commit()
        code = w.join_code
    participant = app.test_client()
    participant.post(f"/w/{code}/join", data={"display_name": "Léa", "organisation": "Asso", "kind": "association"})
    listener = socketio.test_client(app, flask_test_client=participant, auth={"workshop": code})
    time.sleep(0.3)
    listener.get_received()
    started = time.monotonic()
    for i in range(50):
        post_card(participant, code, text=f"Carte {i}")
    elapsed = time.monotonic() - started
    time.sleep(0.4)
    board = [m for m in pushes(listener) if "#card-" in m["html"]]
    assert 1 <= len(board) <= elapsed / 0.1 + 2
    assert "Carte 49" in board[-1]["html"]
    # Nothing is lost by coalescing: every card arrived in some push.
    assert all(any(f"Carte {i}<" in m["html"] for m in board) for i in range(50))
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("family", ["card", "modcard"])
def test_card_pushes_do_not_depend_on_who_triggers_them(app, room, make_facilitator, family):
    """The keyed card pushes are rendered without the viewer: same bytes whoever is in the request."""
    from flask_login import login_user
    from aeh_workshop.models import Facilitator
    post_card(room["participant"], room["code"], text="Rendue une fois", partner="Mairie")
    region = app.extensions["realtime"].regions[family]
    htmls = []
    for viewer in ("participant", "facilitator"):
        with app.test_request_context("/"):
            from flask import session
            w = db.session.get(Workshop, room["id"])
            if viewer == "participant":
                session["participants"] = {str(w.id): 1}
            else:
                login_user(db.session.get(Facilitator, w.owner_id))
            htmls.append(region.push_html(w, "1"))
    assert htmls[0] == htmls[1] and "Rendue une fois" in htmls[0]


@pytest.mark.parametrize("auth", ["ABCDEFG", 42, ["x"], {"workshop": ["x"]}])
def test_odd_socket_auth_is_refused_cleanly(app, room, auth):
    s = socketio.test_client(app, flask_test_client=room["participant"], auth=auth)
    assert not s.is_connected()


def test_flushes_of_one_workshop_leave_in_revision_order(app, room):
    """Concurrent writers: whatever the interleaving, a channel's pushes never go back in time."""
    import threading
    token = room["participant"].csrf_token()
    errors = []

    def write(n):
        for i in range(5):
            resp = room["participant"].post(f"/w/{room['code']}/cards", data={"kind": "idea", "text": f"{n}-{i}"},
                                            headers={"X-CSRFToken": token, "HX-Request": "true"})
            if resp.status_code != 200:
                errors.append(resp.status_code)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    revs = [m["rev"] for m in pushes(room["sockets"]["screen"])]
    assert len(revs) >= 1 and revs == sorted(revs)


def test_cluster_and_status_changes_reach_the_right_audiences(app, room, make_workshop, join_as, socket_for):
    other_code = make_workshop()
    other = socket_for(join_as(other_code, name="Ailleurs"), other_code)
    other.get_received()
    post_card(room["participant"], room["code"], text="À regrouper")
    for s in room["sockets"].values():
        s.get_received()
    room["fac"].post(f"/w/{room['code']}/clusters", data={"name": "Insertion"}, htmx=True)
    got = {name: pushes(s) for name, s in room["sockets"].items()}
    assert _targets(got["participant"]) == {"board"} and "Insertion" in got["participant"][0]["html"]
    assert _targets(got["fac"]) == {"board", "modboard"}
    room["fac"].post(f"/workshops/{room['id']}/status", data={"status": "closed"}, htmx=True)
    got = {name: pushes(s) for name, s in room["sockets"].items()}
    assert "Atelier clos" in got["participant"][0]["html"] and "Atelier clos" in got["screen"][0]["html"]
    # Closing freezes the outcome: the "Restitution" panel and the outcome link follow.
    assert _targets(got["fac"]) == {"phase", "phasectl", "outcomectl", "outcomelink"}
    assert pushes(other) == []


def test_a_socket_joining_while_a_push_is_flushed_learns_it_missed_it(app, make_workshop, join_as, socket_for,
                                                                      monkeypatch):
    """The flush skips channels nobody listens to. A socket that reads the workshop, then
    joins just after the flush skipped its channel, must not hear a hello with the old
    revision (its page would never resync): the hello's revision is read after joining."""
    import re
    import threading

    from aeh_workshop import access, realtime
    from conftest import post_card
    code = make_workshop()
    person, author = join_as(code), join_as(code, name="Karim Benali")
    page_rev = int(re.search(r'data-rev="(\d+)"', person.get(f"/w/{code}").get_data(as_text=True)).group(1))
    read, go, connected = threading.Event(), threading.Event(), threading.Event()
    audiences = access.audiences

    def slow_audiences(workshop):      # the socket has read the workshop, not joined yet
        read.set()
        assert go.wait(5)
        return audiences(workshop)

    heard_before = realtime.Realtime._heard

    def heard(self):
        check = heard_before(self)

        def in_room(ch):
            answer = check(ch)
            if not answer and not go.is_set():    # the flush skips the everyone channel...
                go.set()                          # ...and the socket joins right then
                assert connected.wait(5)
            return answer
        return in_room

    monkeypatch.setattr(access, "audiences", slow_audiences)
    monkeypatch.setattr(realtime.Realtime, "_heard", heard)
    box = {}
    joining = threading.Thread(target=lambda: box.setdefault("socket", socket_for(person, code)))
    joining.start()
    assert read.wait(5)
    threading.Thread(target=lambda: (joining.join(5), connected.set())).start()
    assert post_card(author, code, text="Arrive pendant la connexion").status_code == 200
    joining.join(5)
    received = box["socket"].get_received()
    hello = [m["args"][0]["rev"] for m in received if m["name"] == "hello"]
    pushed = [m["args"][0]["rev"] for m in received if m["name"] == "push"]
    assert pushed or hello[0] > page_rev, (hello, pushed, page_rev)
