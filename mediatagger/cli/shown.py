"""What the command line shows as it works: progress bars, the files written, a batch's steps."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from mediatagger import batch

# how the command line spells the options that error hints name
from mediatagger.files import Written
from mediatagger.progress import Progress


class Bars:
    """The progress callback of the CLI: a tqdm bar with ETA per stage on stderr, only on a terminal and
    never with --quiet."""

    def __init__(self, quiet: bool):
        self.quiet = quiet or not sys.stderr.isatty()
        self.bar: Any = None
        self.stage = ""

    def __call__(self, event: Progress) -> None:
        if self.quiet or event.total <= 0:  # an empty stage (no gaps to scan) shows no bar
            return
        if event.stage != self.stage:
            self.close()
            self.open(event)
        self.bar.n = event.done
        self.bar.refresh()

    def open(self, event: Progress) -> None:
        from tqdm import tqdm

        self.stage = event.stage
        self.bar = tqdm(total=event.total, desc=event.stage, unit=event.unit, file=sys.stderr, dynamic_ncols=True,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f}{unit} "
                                   "[{elapsed}<{remaining}]")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar, self.stage = None, ""


def report(written: list[Written], quiet: bool) -> None:
    """Paths written on stdout; on stderr, outputs left as they were (they would come out the same),
    files written over that an earlier, different job made, and that job's files deleted."""
    for item in written:
        if item.note:
            click.echo(f"mediatagger: warning: {item.path}: {item.note}", err=True)
    if quiet:
        return
    for item in written:
        if item.kept or item.removed:
            click.echo(f"{'unchanged' if item.kept else 'removed'}: {item.path}", err=True)
            continue
        if item.replaced:
            click.echo(f"replaced: {item.path}", err=True)
        click.echo(str(item.path))


def warn(text: str) -> None:
    click.echo(f"mediatagger: warning: {text}", err=True)


class BatchShown(batch.Listener):
    """What ``tag`` shows of a batch (``batch.Listener``): one bar over the whole batch by media duration,
    with ETA and the file and stage at work as its text (one file alone: a bar per stage); the files
    passed over, a line each (those that are not media counted in one line); each input's turn; the
    files written, once no bar is drawn."""

    def __init__(self, quiet: bool):
        self.quiet, self.bars = quiet, Bars(quiet)
        self.not_media: dict[str, int] = {}
        self.total_s, self.done_s, self.name, self.batch = 0.0, 0.0, "", False

    def warn(self, text: str) -> None:
        warn(text)

    def passed(self, path: Path, why: str) -> None:
        if why == "not media":
            suffix = path.suffix.lower() or "(no extension)"
            self.not_media[suffix] = self.not_media.get(suffix, 0) + 1
        elif not self.quiet:
            click.echo(f"mediatagger: skipped {path}: {why}", err=True)

    def found(self, items: list[Any]) -> None:
        if self.not_media and not self.quiet:
            counts = ", ".join(f"{n} {suffix}" for suffix, n in sorted(self.not_media.items()))
            click.echo(f"mediatagger: skipped {sum(self.not_media.values())} files that are not media ({counts})",
                       err=True)

    def told(self, line: str, news: bool = False) -> None:
        if not (news and self.quiet):
            click.echo(f"mediatagger: {line}", err=True)

    def start(self, total_s: float) -> None:
        self.batch, self.total_s, self.done_s = True, total_s, 0.0

    def begin(self, name: str) -> None:
        self.name = name
        if not self.bars.quiet and self.bars.bar is None:
            self.bars.open(Progress("batch", 0, self.total_s, "s"))
        self.describe("")

    def stage(self, event: Progress) -> None:
        if self.batch:
            self.describe(event.stage)
        else:
            self.bars(event)

    def describe(self, stage: str) -> None:
        if self.bars.bar is not None:
            self.bars.bar.set_description_str(f"batch ({self.name}{': ' + stage if stage else ''})", refresh=True)

    def end(self, media_s: float) -> None:
        self.done_s += media_s
        if self.bars.bar is not None:
            self.bars.bar.n = self.done_s
            self.bars.bar.refresh()

    def stop(self) -> None:
        self.bars.close()
        self.batch = False

    def wrote(self, written: list[Written]) -> None:
        report(written, self.quiet or self.batch and not self.bars.quiet)


class FollowShown:
    """What ``tag --follow`` shows: each span as it is found, a line on stderr, and (on a terminal) a
    status line with the time heard so far."""

    def __init__(self, quiet: bool, name: str):
        self.quiet, self.name = quiet, name
        self.status = not quiet and sys.stderr.isatty()
        self.heard_s = -1.0

    def span(self, span: Any) -> None:
        if self.quiet:
            return
        from mediatagger.tags import label_name
        from mediatagger.timecode import clock

        self._clear()
        score = f" {span.score:.2f}" if span.score is not None else ""
        click.echo(f"{clock(span.start_ms)}-{clock(span.end_ms)} {label_name(span.label)}{score}"
                   f" (track {span.track})", err=True)

    def progress(self, seconds: float) -> None:
        if self.status and int(seconds) != int(self.heard_s):
            from mediatagger.timecode import clock

            self.heard_s = seconds
            click.echo(f"\rfollowing {self.name}: {clock(int(seconds * 1000))} heard", err=True, nl=False)

    def _clear(self) -> None:
        if self.status and self.heard_s >= 0:
            click.echo("\r\033[K", err=True, nl=False)

    def close(self) -> None:
        self._clear()
