"""The command line: parses flags, calls the API (``mediatagger.api``, ``mediatagger.batch``), and is the
only place errors become one-line messages and exit codes (``common.reports_errors``). Its commands:
``tagging`` (tag, export), ``editing`` (timeline, burn, reel), ``serving`` (presets, serve); ``shown``
draws what they report.

Exit codes: 0 ok, 1 processing error, 2 usage error, 70 internal error (a bug), 75 a batch left inputs
busy (another run was writing their outputs; run it again later), 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP
(temp files are removed on all three). ``--debug`` shows tracebacks.
"""


from __future__ import annotations

import click

from mediatagger import __version__
from mediatagger.cli.common import FLAGS, bad_parameter, reports_errors
from mediatagger.cli.editing import burn, reel, timeline_command
from mediatagger.cli.serving import presets_command, serve
from mediatagger.cli.tagging import export_command, tag

__all__ = ["FLAGS", "bad_parameter", "cli", "main", "reports_errors"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mediatagger")
def cli() -> None:
    """Find laughter, applause, music and emotions in media; export subtitles, markers and clips."""


for command in (tag, export_command, timeline_command, burn, reel, presets_command, serve):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="mediatagger")
