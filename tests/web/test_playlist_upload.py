"""A playlist uploaded as a video through the console's public ``/tag`` API (issue 21): refused with the one
line, no transcript or spans of the file it names, that file never opened (tests/test_playlists.py's tripwire)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.reliability import case
from tests.test_playlists import REFUSED, secret_ts, trap, tree  # noqa: F401  (fixtures used by name)

pytestmark = pytest.mark.slow


def analyses(root: Path) -> set[Path]:
    """The analyses under the console's root; a visitor folder the console removes meanwhile (another
    test's visitor leaving) is passed over, not an error (os.walk skips what vanishes; rglob raised)."""
    return {Path(folder) / name for folder, _, names in os.walk(root) for name in names
            if name.endswith(".analysis.json")}


@case("Security", "a 400-byte text file named clip.mp4 holding a DASH playlist that names a file elsewhere on the "
      "server, uploaded to the console's public /tag API (gradio_client)",
      "an error reply with the one line `clip.mp4: is a playlist or reference file (dash), not media; refused: ...`; "
      "no transcript or spans; the named file is never opened; no analysis written; the console serves on")
def test_a_playlist_upload_is_refused(server, trap, tmp_path):  # noqa: F811
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    playlist, wire = trap("dash", tmp_path / "upload" / "clip.mp4")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    before, outside = analyses(server.root), tree(tmp_path, skip=downloads)
    visiting = Client(server.url, verbose=False, download_files=str(downloads))
    try:
        with pytest.raises(AppError) as refused:
            visiting.predict(handle_file(str(playlist)), "auto", api_name="/tag")
    finally:
        visiting.close()
    assert str(refused.value) == f"clip.mp4: {REFUSED.format(kind='dash')}"
    # no analysis of this upload (other tests' visitors share the server and may write theirs meanwhile)
    assert not wire.opened.is_set() and not [p for p in analyses(server.root) - before if p.name.startswith("clip.")]
    assert tree(tmp_path, skip=downloads) == outside and not any(downloads.iterdir())  # nothing came back
