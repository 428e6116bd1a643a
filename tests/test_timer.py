"""The phase timer: start, pause, resume, add, stop; what every screen shows; who may drive it."""
import re
from datetime import datetime, timedelta

import pytest

from aeh_workshop.extensions import db
from aeh_workshop.models import Workshop, utcnow
from aeh_workshop.workshops.service import Timer, timer
from conftest import pushes

EPOCH = datetime(1970, 1, 1)
SLACK = timedelta(seconds=2)


@pytest.fixture
def room(app, make_facilitator, make_workshop, workshop_of, login, join_as):
    """A live workshop, its facilitator (logged in) and one participant."""
    fac_id = make_facilitator()
    code = make_workshop(owner_id=fac_id)
    return {"code": code, "id": workshop_of(code).id, "fac_id": fac_id,
            "fac": login(app.test_client(), fac_id), "participant": join_as(code)}


def drive(room, action, minutes=None, client=None):
    data = {"action": action} if minutes is None else {"action": action, "minutes": minutes}
    return (client or room["fac"]).post(f"/workshops/{room['id']}/timer", data=data, htmx=True)


def stored(app, code):
    """The timer's columns, as the database holds them."""
    with app.app_context():
        w = db.session.scalar(db.select(Workshop).filter_by(join_code=code))
        return {"phase": w.timer_phase, "ends_at": w.timer_ends_at, "left": w.timer_left}


def set_ends_at(app, code, ends_at):
    """Move a running timer's end time straight in the database (no push)."""
    with app.app_context():
        w = db.session.scalar(db.select(Workshop).filter_by(join_code=code))
        w.timer_ends_at = ends_at
        db.session.commit()


def epoch_ms(moment: datetime) -> int:
    """Exact integer arithmetic, independent of the code under test."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


def timer_in(html):
    """The role="timer" element of a page or fragment: its attributes, clock and note; None if absent."""
    tags = re.findall(r'<p [^>]*role="timer"[^>]*>.*?</p>', html, re.S)
    if not tags:
        return None
    assert len(tags) == 1, tags
    tag = tags[0]
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', tag.split(">", 1)[0]))
    attrs["clock"] = re.search(r'<span class="clock">([^<]*)</span>', tag).group(1)
    attrs["note"] = re.search(r'<span class="timer-note"[^>]*>([^<]*)</span>', tag).group(1).strip()
    return attrs


def phase_region(room):
    """The phase region as participants (and their resyncs) get it."""
    resp = room["participant"].get(f"/w/{room['code']}/r/phase")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def screens(room):
    """The phase region on the participant's resync and on the facilitator's projector page."""
    projector = room["fac"].get(f"/w/{room['code']}/screen")
    assert projector.status_code == 200
    page = projector.get_data(as_text=True)
    phase = page[page.index('id="phase"'):]
    return {"participant": phase_region(room), "projector": phase[:phase.index("</section>")]}


# ------------------------------------------------------------------ start

def test_start_shows_a_running_countdown_everywhere(app, room):
    before = utcnow()
    resp = drive(room, "start", 10)
    after = utcnow()
    assert resp.status_code == 200
    assert timer_in(resp.get_data(as_text=True))["data-state"] == "running"   # the control panel too
    db_timer = stored(app, room["code"])
    assert db_timer["phase"] == "welcome" and db_timer["left"] is None
    assert before + timedelta(minutes=10) <= db_timer["ends_at"] <= after + timedelta(minutes=10)
    for name, html in screens(room).items():
        el = timer_in(html)
        assert el is not None, name
        assert el["data-state"] == "running" and "is-running" in el["class"], name
        assert el["data-ends"] == str(epoch_ms(db_timer["ends_at"])), name
        assert el["clock"] in ("10:00", "09:59"), name
        assert el["note"] == "", name


def test_timer_carries_the_server_clock(app, room):
    drive(room, "start", 3)
    before = epoch_ms(utcnow())
    el = timer_in(phase_region(room))
    assert before <= int(el["data-now"]) <= epoch_ms(utcnow())


def test_no_timer_before_one_is_started(room):
    assert timer_in(phase_region(room)) is None
    assert 'role="timer"' not in room["fac"].get(f"/workshops/{room['id']}").get_data(as_text=True)


def test_start_again_restarts_from_now(app, room):
    drive(room, "start", 10)
    drive(room, "pause")
    before = utcnow()
    assert drive(room, "start", 3).status_code == 200
    db_timer = stored(app, room["code"])
    assert db_timer["left"] is None
    assert before + timedelta(minutes=3) <= db_timer["ends_at"] <= utcnow() + timedelta(minutes=3)


# ------------------------------------------------------------ pause, resume

def test_pause_keeps_the_time_left_and_resume_counts_down_from_it(app, room):
    drive(room, "start", 10)
    # 7 min 30.5 s to go: whatever the test's own speed (under half a second), 451 s once rounded up.
    set_ends_at(app, room["code"], utcnow() + timedelta(minutes=7, seconds=30, milliseconds=500))
    assert drive(room, "pause").status_code == 200
    db_timer = stored(app, room["code"])
    assert db_timer["ends_at"] is None and db_timer["left"] == 451
    for name, html in screens(room).items():
        el = timer_in(html)
        assert el["data-state"] == "paused" and "is-paused" in el["class"], name
        assert "data-ends" not in el and el["data-left"] == "451", name
        assert el["clock"] == "07:31" and el["note"] == "en pause", name
    before = utcnow()
    assert drive(room, "resume").status_code == 200
    db_timer = stored(app, room["code"])
    assert db_timer["left"] is None
    assert before + timedelta(seconds=451) <= db_timer["ends_at"] <= utcnow() + timedelta(seconds=451)
    assert timer_in(phase_region(room))["data-state"] == "running"


# -------------------------------------------------------------------- add

def test_add_while_running_moves_the_end_by_exactly_that(app, room):
    drive(room, "start", 10)
    ends = stored(app, room["code"])["ends_at"]
    assert drive(room, "add", 5).status_code == 200
    assert stored(app, room["code"])["ends_at"] - ends == timedelta(minutes=5)
    assert timer_in(phase_region(room))["clock"] in ("15:00", "14:59")


def test_add_while_paused_grows_the_time_left(app, room):
    drive(room, "start", 10)
    drive(room, "pause")
    left = stored(app, room["code"])["left"]
    assert drive(room, "add", 1).status_code == 200
    db_timer = stored(app, room["code"])
    assert db_timer["left"] == left + 60 and db_timer["ends_at"] is None
    assert timer_in(phase_region(room))["data-state"] == "paused"


def test_add_after_zero_restarts_from_now(app, room):
    drive(room, "start", 10)
    set_ends_at(app, room["code"], utcnow() - timedelta(minutes=3))
    before = utcnow()
    assert drive(room, "add", 5).status_code == 200
    ends = stored(app, room["code"])["ends_at"]
    assert before + timedelta(minutes=5) <= ends <= utcnow() + timedelta(minutes=5)
    assert timer_in(phase_region(room))["data-state"] == "running"


# ----------------------------------------------------------------- bounds

@pytest.mark.parametrize("running", [False, True], ids=["idle", "running"])
@pytest.mark.parametrize("action, minutes", [("start", 0), ("start", 121), ("start", -5), ("start", ""),
                                             ("start", None), ("add", 0), ("add", 121), ("add", None)])
def test_out_of_range_minutes_are_refused(app, room, running, action, minutes):
    if running:
        drive(room, "start", 10)
    before = stored(app, room["code"])
    resp = drive(room, action, minutes)
    assert resp.status_code == 422
    assert "Indiquez une durée entre 1 et 120 minutes." in resp.get_data(as_text=True)
    assert stored(app, room["code"]) == before


def test_adding_beyond_120_minutes_is_refused(app, room):
    drive(room, "start", 118)
    before = stored(app, room["code"])
    resp = drive(room, "add", 5)
    assert resp.status_code == 422
    assert "Le minuteur ne peut pas dépasser 120 minutes." in resp.get_data(as_text=True)
    assert stored(app, room["code"]) == before
    drive(room, "pause")
    before = stored(app, room["code"])
    assert drive(room, "add", 5).status_code == 422
    assert stored(app, room["code"]) == before


def test_120_minutes_is_allowed(app, room):
    assert drive(room, "start", 120).status_code == 200
    assert timer_in(phase_region(room))["clock"] in ("120:00", "119:59")


@pytest.mark.parametrize("setup, action", [([], "pause"), ([], "resume"), ([], "add"),
                                           (["pause"], "pause"), ([], "rewind")],
                         ids=["pause-idle", "resume-idle", "add-idle", "pause-paused", "unknown"])
def test_actions_that_do_not_fit_the_state_are_refused(app, room, setup, action):
    if setup:
        drive(room, "start", 10)
    for step in setup:
        drive(room, step)
    before = stored(app, room["code"])
    resp = drive(room, action, 1 if action == "add" else None)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'role="alert"' in html
    assert ("Action inconnue." if action == "rewind" else "Le minuteur ne peut pas faire cela maintenant.") in html
    assert stored(app, room["code"]) == before


def test_resume_while_running_is_refused(app, room):
    drive(room, "start", 10)
    before = stored(app, room["code"])
    assert drive(room, "resume").status_code == 422
    assert stored(app, room["code"]) == before


# ------------------------------------------------------------ zero, stop

def test_a_timer_past_its_end_shows_time_is_up(app, room):
    drive(room, "start", 1)
    set_ends_at(app, room["code"], utcnow() - timedelta(seconds=5))
    for name, html in screens(room).items():
        el = timer_in(html)
        assert el["data-state"] == "over" and "is-over" in el["class"], name
        assert el["clock"] == "00:00" and el["note"] == "Temps écoulé !", name
    assert timer_in(room["fac"].get(f"/workshops/{room['id']}").get_data(as_text=True))["data-state"] == "over"


def test_pause_after_zero_is_refused(app, room):
    drive(room, "start", 1)
    set_ends_at(app, room["code"], utcnow() - timedelta(seconds=5))
    assert drive(room, "pause").status_code == 422
    assert stored(app, room["code"])["left"] is None


def test_stop_removes_the_timer(app, room):
    drive(room, "start", 10)
    assert drive(room, "stop").status_code == 200
    assert stored(app, room["code"]) == {"phase": None, "ends_at": None, "left": None}
    assert timer_in(phase_region(room)) is None


# ---------------------------------------------------------------- phases

@pytest.mark.parametrize("paused", [False, True], ids=["running", "paused"])
def test_changing_phase_resets_the_timer(app, room, paused):
    drive(room, "start", 10)
    if paused:
        drive(room, "pause")
    resp = room["fac"].post(f"/workshops/{room['id']}/phase", data={"phase": "vote"}, htmx=True)
    assert resp.status_code == 200 and timer_in(resp.get_data(as_text=True)) is None
    assert stored(app, room["code"]) == {"phase": None, "ends_at": None, "left": None}
    html = phase_region(room)
    assert 'data-phase="vote"' in html and timer_in(html) is None


def test_timer_is_only_shown_while_the_workshop_is_live(app, room):
    drive(room, "start", 10)
    assert room["fac"].post(f"/workshops/{room['id']}/status", data={"status": "closed"}, htmx=True).status_code == 200
    assert timer_in(phase_region(room)) is None


# ---------------------------------------------------------------- access

@pytest.mark.parametrize("who", ["stranger", "participant", "other_facilitator"])
def test_only_facilitators_drive_the_timer(app, room, make_facilitator, login, who):
    client = {"stranger": app.test_client(), "participant": room["participant"]}.get(who)
    if who == "other_facilitator":
        client = login(app.test_client(), make_facilitator("autre@example.org", name="Autre"))
    resp = drive(room, "start", 10, client=client)
    if who == "stranger":
        # An htmx write sends the whole page to the login form (accounts.routes.unauthorized).
        assert resp.status_code == 401 and "/login?next=" in resp.headers["HX-Redirect"]
    else:
        assert resp.status_code == 403
    assert stored(app, room["code"]) == {"phase": None, "ends_at": None, "left": None}


def test_co_facilitator_drives_the_timer(app, room, make_facilitator, login):
    colleague = login(app.test_client(), make_facilitator("colleague@example.org", name="Hélène"))
    assert drive(room, "start", 10, client=colleague).status_code == 403
    room["fac"].post(f"/workshops/{room['id']}/facilitators", data={"email": "colleague@example.org"}, htmx=True)
    assert drive(room, "start", 10, client=colleague).status_code == 200
    assert stored(app, room["code"])["ends_at"] is not None


# -------------------------------------------------------------- real time

def test_timer_actions_reach_every_screen_and_no_other_workshop(app, room, make_workshop, join_as, socket_for):
    fac_socket = socket_for(room["fac"], room["code"])
    participant_socket = socket_for(room["participant"], room["code"])
    other_code = make_workshop()
    other_socket = socket_for(join_as(other_code, name="Karim"), other_code)
    for s in (fac_socket, participant_socket, other_socket):
        s.get_received()
    drive(room, "start", 10)
    ends = str(epoch_ms(stored(app, room["code"])["ends_at"]))
    got = [timer_in(m["html"]) for m in pushes(participant_socket) if 'hx-target="#phase"' in m["html"]]
    assert got and got[-1]["data-state"] == "running" and got[-1]["data-ends"] == ends
    fac_msgs = pushes(fac_socket)
    assert any('hx-target="#phasectl"' in m["html"] and 'role="timer"' in m["html"] for m in fac_msgs)
    drive(room, "pause")
    got = [timer_in(m["html"]) for m in pushes(participant_socket) if 'hx-target="#phase"' in m["html"]]
    assert got and got[-1]["data-state"] == "paused" and got[-1]["note"] == "en pause"
    assert pushes(other_socket) == []


def test_participants_never_get_the_control_panel(room, socket_for):
    participant_socket = socket_for(room["participant"], room["code"])
    participant_socket.get_received()
    drive(room, "start", 10)
    messages = pushes(participant_socket)
    assert messages and all("phasectl" not in m["html"] and "/timer" not in m["html"] for m in messages)


# ---------------------------------------------------------------- service

@pytest.mark.parametrize("left, clock", [(0, "00:00"), (1, "00:01"), (59, "00:59"), (60, "01:00"),
                                         (599, "09:59"), (600, "10:00"), (7200, "120:00")])
def test_clock_is_minutes_and_seconds(left, clock):
    assert Timer("running", None, left, datetime(2026, 11, 28)).clock == clock


NOW = datetime(2026, 11, 28, 14, 0, 0)


@pytest.mark.parametrize("columns, state, left", [
    ({}, "idle", 0),
    ({"timer_phase": "collect", "timer_ends_at": NOW + timedelta(minutes=5)}, "idle", 0),   # another phase's
    ({"timer_phase": "vote", "timer_left": 90}, "paused", 90),
    ({"timer_phase": "vote", "timer_ends_at": NOW + timedelta(seconds=600)}, "running", 600),
    ({"timer_phase": "vote", "timer_ends_at": NOW + timedelta(seconds=90, milliseconds=200)}, "running", 91),
    ({"timer_phase": "vote", "timer_ends_at": NOW + timedelta(microseconds=1)}, "running", 1),
    ({"timer_phase": "vote", "timer_ends_at": NOW}, "over", 0),
    ({"timer_phase": "vote", "timer_ends_at": NOW - timedelta(hours=1)}, "over", 0),
    ({"timer_phase": "vote"}, "idle", 0),
], ids=["idle", "other-phase", "paused", "running", "rounds-up", "last-microsecond", "at-zero", "long-over",
        "phase-only"])
def test_timer_state_is_derived_from_the_columns(columns, state, left):
    workshop = Workshop(phase="vote", **columns)
    t = timer(workshop, NOW)
    assert (t.state, t.left, t.now) == (state, left, NOW)
    running = state in ("running", "over")
    assert t.ends_at == (columns["timer_ends_at"] if running else None)
    assert t.ends_ms == (epoch_ms(columns["timer_ends_at"]) if running else None)
    assert t.now_ms == epoch_ms(NOW)
