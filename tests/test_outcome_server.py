"""Downloads from the real server (`python app.py`, gevent): rendering runs in
gevent's thread pool, with its own app context, and a frozen version's file is
then served from the export cache."""
import io

import pytest
from pypdf import PdfReader

from live_server import first_facilitator, live_workshop, running_server

pytestmark = pytest.mark.server


def test_a_closed_workshops_pdf_and_xlsx_download_from_the_real_server(tmp_path):
    with running_server(tmp_path, EXPORT_CACHE_DIR=str(tmp_path / "exports")) as base:
        fac = first_facilitator(base)
        workshop = live_workshop(fac, "Coopérations « Cœur de Dombes »")
        code, wid = workshop["code"], workshop["id"]
        resp = fac.post(f"/w/{code}/cards", {"kind": "practice", "text": "Mécénat de compétences des salariés"},
                        htmx=True)
        assert resp.status_code == 200, resp.text
        assert fac.post(f"/workshops/{wid}/status", {"status": "closed"}, htmx=True).status_code == 200

        pdf = fac.get(f"/workshops/{wid}/outcome/v1/download/pdf")
        assert pdf.status_code == 200, pdf.text[:500]
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "Cœur de Dombes" in text and "Mécénat de compétences des salariés" in text

        again = fac.get(f"/workshops/{wid}/outcome/v1/download/pdf")
        assert again.content == pdf.content
        assert len(list((tmp_path / "exports" / code).glob("*.bin"))) == 1   # one folder per workshop

        xlsx = fac.get(f"/workshops/{wid}/outcome/current/download/xlsx")
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
