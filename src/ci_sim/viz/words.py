"""Words shown to people: scenario descriptions without the project's source codes.

Cheap to import (no model, no plotting), so the report, the dashboard and the command line
can share it.
"""

from __future__ import annotations

import re


def plain_description(text: str) -> str:
    """A scenario description without its source notes: "(strive: '...'; SF1 baseline)" is dropped."""
    # a source note names a code (SF1) or quotes a source ("strive: '...'")
    kept = re.sub(r"\s*\((?:[^()]*\b[A-Z]{1,4}\d+|\s*[a-z_]+:\s*')[^()]*\)", "", text or "").strip()
    return kept if not kept or kept.endswith(".") else kept + "."
