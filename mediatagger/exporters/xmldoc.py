"""Writing the XML marker formats (FCPXML, xmeml): element building and the document header."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction


def child(parent: ET.Element, tag: str, text: str | int | None = None, **attrib: str) -> ET.Element:
    """A sub-element, with text when given (ElementTree escapes ``& < >`` and quotes)."""
    element = ET.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = str(text)
    return element


def document(root: ET.Element, doctype: str) -> str:
    ET.indent(root, "  ")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE {doctype}>\n'
            + ET.tostring(root, encoding="unicode") + "\n")


def rational_seconds(frames: int, fps: Fraction) -> str:
    """``frames`` as FCPXML time on the frame grid: 120 frames at 30000/1001 -> ``120120/30000s``."""
    return "0s" if frames == 0 else f"{frames * fps.denominator}/{fps.numerator}s"
