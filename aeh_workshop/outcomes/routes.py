"""Outcomes: the versions a facilitator downloads, and the page shared by a secret link."""
from flask import Blueprint, render_template

from .. import access, realtime
from . import service

bp = Blueprint("outcomes", __name__)


@bp.record_once
def _regions(state):
    realtime.register_region(state.app, "outcomectl", access.FAC, _render_outcomectl)


def _render_outcomectl(workshop):
    return render_template("outcomes/_outcomectl.html", workshop=workshop, versions=service.versions(workshop))
