"""Downloads without stalling the room.

A PDF of a big workshop takes seconds of CPU. Under gevent, one process serves
every socket of the workshop: rendering on the event loop would freeze the
projector and every vote meanwhile. So rendering runs in gevent's thread pool
(the loop keeps its turn at the interpreter), and a frozen version, which never
changes, is rendered once per format and language and then served from
EXPORT_CACHE_DIR (instance/exports/<join code>/ by default).
"""
import hashlib
import json
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app

from . import exports


def export(snapshot: dict, fmt: str, lang: str, share_url: str | None) -> exports.Export:
    """The snapshot as a file, from the cache when it is a frozen version."""
    app = current_app._get_current_object()
    if fmt == "pdf":
        # Loading WeasyPrint finds Pango with a subprocess (ldconfig), which gevent
        # can only watch from its main loop: load it here, before the thread pool.
        import weasyprint  # noqa: F401

    def render() -> exports.Export:
        with app.app_context():
            return exports.render(snapshot, fmt, lang=lang, share_url=share_url)

    if snapshot.get("provisional") or not snapshot.get("version"):
        return _off_loop(render)
    folder = cache_folder(snapshot["workshop"]["code"])
    # The share link's path, not its host: without PUBLIC_URL the host comes from the
    # request, and anyone could otherwise fill the disk and the CPU by varying it.
    # The snapshot's content too: one anonymised since (privacy.py) never meets its old files,
    # even one a download still rendering wrote after the folder was cleared.
    content = hashlib.sha256(json.dumps(snapshot, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    key = hashlib.sha256("\x00".join(
        (snapshot["workshop"]["code"], str(snapshot["version"]), snapshot["frozen_at"], fmt, lang,
         urlsplit(share_url or "").path, content)).encode()).hexdigest()[:32]
    data, name = folder / f"{key}.bin", folder / f"{key}.name"
    if data.exists() and name.exists():
        return exports.Export(name.read_text(encoding="utf-8"), exports.FORMATS[fmt][1], data.read_bytes())
    result = _off_loop(render)
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomically(data, result.data)
    _write_atomically(name, result.filename.encode())
    return result


def cache_folder(code: str) -> Path:
    """One folder per workshop, so that anonymising a workshop can delete its cached files."""
    return Path(current_app.config["EXPORT_CACHE_DIR"]) / "".join(ch for ch in code if ch.isalnum())


def _write_atomically(path: Path, content: bytes) -> None:
    """Two processes may render the same file at once: each renames a whole file into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as out:
        out.write(content)
    os.replace(tmp, path)


def _off_loop(job):
    """Run a CPU-heavy job in a real thread when gevent serves, else right here."""
    try:
        from gevent import get_hub, monkey
    except ImportError:   # pragma: no cover - gevent is a requirement
        return job()
    if not monkey.is_module_patched("threading"):
        return job()
    return get_hub().threadpool.apply(job)
