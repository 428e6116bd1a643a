"""What tests/test_fuzz.py reads from the app: the forms a view uses, their fields,
and the database content (every table) to compare before and after a request.

Forms are found by introspection, so a new form (or a new field) is fuzzed without
editing the tests: from the view function, every name it uses is looked up in its
module (and in the modules it imports, `forms.X`), following the module's own helper
functions a few calls deep; FlaskForm subclasses met on the way are the view's forms.
Keys a view reads straight from `request.form` / `request.args` are found in its
source the same way.
"""
import inspect
import re
import sys
import types

from flask_wtf import FlaskForm
from wtforms.fields.core import UnboundField

from aeh_workshop.extensions import db

_READS = re.compile(r"request\.(form|args)(?:\.get|\.getlist)?[\(\[]\s*[\"']([\w-]+)[\"']")


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:          # comprehensions, lambdas, nested functions
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def view_inputs(view, depth: int = 4):
    """(form classes, keys read from request.form, keys read from request.args) of a view."""
    forms, form_keys, arg_keys, seen = set(), set(), set(), set()
    view = inspect.unwrap(view)
    module = sys.modules[view.__module__]
    modules = [module] + [m for m in vars(module).values() if isinstance(m, types.ModuleType)]

    def walk(fn, level):
        if fn in seen or level > depth:
            return
        seen.add(fn)
        try:
            for kind, key in _READS.findall(inspect.getsource(fn)):
                (form_keys if kind == "form" else arg_keys).add(key)
        except (OSError, TypeError):
            pass
        for name in _names(fn.__code__):
            for mod in modules:
                obj = vars(mod).get(name)
                if isinstance(obj, type) and issubclass(obj, FlaskForm) and obj is not FlaskForm:
                    forms.add(obj)
                elif inspect.isfunction(obj) and obj.__module__ == module.__name__:
                    walk(inspect.unwrap(obj), level + 1)
    walk(view, 0)
    return forms, form_keys, arg_keys


def fields_of(form_class) -> dict[str, UnboundField]:
    """name -> unbound field, including fields a module adds with setattr after the class."""
    found = {}
    for klass in reversed(form_class.__mro__):
        for name, attr in vars(klass).items():
            if isinstance(attr, UnboundField):
                found[name] = attr
    return found


def choice_values(unbound: UnboundField) -> list[str]:
    """The values a choice field offers (call inside a request context: lazy labels)."""
    choices = unbound.kwargs.get("choices")
    if callable(choices):
        try:
            choices = choices()
        except Exception:   # needs a form instance (dynamic choices): none known statically
            return []
    if isinstance(choices, dict):
        choices = [c for group in choices.values() for c in group]
    values = []
    for choice in choices or ():
        value = choice[0] if isinstance(choice, (tuple, list)) else getattr(choice, "value", choice)
        values.append(str(value))
    for validator in unbound.kwargs.get("validators") or ():
        values.extend(str(v) for v in getattr(validator, "values", ()) or ())   # AnyOf
    return values


def snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table (the test database is small)."""
    with app.app_context():
        dump = {}
        for table in db.metadata.sorted_tables:
            rows = db.session.execute(db.select(table).order_by(*table.primary_key.columns)).all()
            dump[table.name] = [tuple(row) for row in rows]
        db.session.remove()
    return dump


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def constraint_problems(app) -> list:
    """SQLite's own checks: rows pointing nowhere, a damaged file."""
    with app.app_context():
        with db.engine.connect() as conn:
            orphans = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
            integrity = [row[0] for row in conn.exec_driver_sql("PRAGMA integrity_check").all()]
        db.session.remove()
    problems = [("orphan", tuple(row)) for row in orphans]
    if integrity != ["ok"]:
        problems.append(("integrity", integrity))
    return problems
