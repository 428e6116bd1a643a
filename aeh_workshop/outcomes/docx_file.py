"""DOCX: the outcome as an editable Word report (headings, label–value lines, tables).

A4 landscape, for the cards' many columns. Tables are written as one piece of
WordprocessingML each and parsed once: python-docx's `add_row` and `cell.text`
take seconds for a thousand cards, this takes a fraction of one.
"""
from io import BytesIO
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt

from .tables import Fields, Heading, Paragraph, Table, as_text, colon, column_widths, xml_safe

LANG_TAGS = {"fr": "fr-FR", "en": "en-GB"}
MARGIN = Mm(15)
TWIPS_PER_EMU = 1 / 635


def render(blocks: list, title: str, lang: str) -> bytes:
    """The report, block by block."""
    doc = Document()
    _setup(doc, title, lang)
    width = doc.sections[0].page_width - 2 * MARGIN
    for block in blocks:
        if isinstance(block, Heading):
            doc.add_heading(xml_safe(block.text), block.level)
        elif isinstance(block, Paragraph):
            doc.add_paragraph(xml_safe(block.text))
        elif isinstance(block, Fields):
            for label, value in block.pairs:
                line = doc.add_paragraph()
                line.add_run(colon(label)).bold = True
                line.add_run(" " + xml_safe(as_text(value)))
        elif isinstance(block, Table):
            _add_table(doc, block, int(width * TWIPS_PER_EMU))
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


def _setup(doc, title: str, lang: str) -> None:
    """Landscape A4, the document's language (for spelling), small type in tables."""
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = MARGIN
    doc.core_properties.title, doc.core_properties.author = xml_safe(title), "AEH Atelier"
    doc.core_properties.language = LANG_TAGS.get(lang, lang)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10)
    tag = OxmlElement("w:lang")
    tag.set(qn("w:val"), LANG_TAGS.get(lang, lang))
    normal.element.get_or_add_rPr().append(tag)
    doc.styles["Table Grid"].font.size = Pt(9)


def _add_table(doc, table: Table, width_twips: int) -> None:
    """The table with a repeated bold header row, or the sentence saying it is empty."""
    if not table.rows:
        doc.add_paragraph(table.empty)
        return
    chars = column_widths(table)
    grid = "".join(f'<w:gridCol w:w="{width_twips * n // sum(chars)}"/>' for n in chars)
    header = "".join(_cell(name, bold=True) for name in table.columns)
    body = "".join(f"<w:tr>{''.join(_cell(as_text(v)) for v in row)}</w:tr>" for row in table.rows)
    doc.element.body._insert_tbl(parse_xml(
        f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="5000" w:type="pct"/>'
        f'</w:tblPr><w:tblGrid>{grid}</w:tblGrid>'
        f"<w:tr><w:trPr><w:tblHeader/></w:trPr>{header}</w:tr>{body}</w:tbl>"))
    doc.add_paragraph()


def _cell(text: str, bold: bool = False) -> str:
    """One cell's WordprocessingML; line breaks kept."""
    style = "<w:rPr><w:b/></w:rPr>" if bold else ""
    lines = '</w:t><w:br/><w:t xml:space="preserve">'.join(escape(xml_safe(line)) for line in text.split("\n"))
    return f'<w:tc><w:p><w:r>{style}<w:t xml:space="preserve">{lines}</w:t></w:r></w:p></w:tc>'
