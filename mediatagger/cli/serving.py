"""``presets`` (the shipped presets, one in full) and ``serve`` (the web console)."""

from __future__ import annotations

from pathlib import Path

import click

from mediatagger import api, presets

# how the command line spells the options that error hints name
from mediatagger.cli.common import preset_option, reports_errors
from mediatagger.errors import UsageError


@click.group("presets", invoke_without_command=True)
@click.pass_context
def presets_command(ctx: click.Context) -> None:
    """List the shipped presets (one line each); `presets show NAME|FILE` prints one in full."""
    if ctx.invoked_subcommand is None:
        shipped = presets.shipped()
        width = max(map(len, shipped))
        for name, description in shipped.items():
            click.echo(f"{name:<{width}}  {description}")


@presets_command.command("show")
@click.argument("name", default="default")
@click.option("--debug", is_flag=True, help="Show full tracebacks.")
@reports_errors
def presets_show(name: str, debug: bool) -> int:
    """Print a preset with every setting and what it does: a start for a preset of your own."""
    click.echo(presets.to_yaml(presets.load(name)), nl=False)
    return 0


def parse_auth(text: str | None) -> tuple[str, str] | None:
    if not text:
        return None
    user, colon, password = text.partition(":")
    if not colon or not user or not password:
        raise UsageError(f"--auth {text!r}: give USER:PASS")
    return user, password


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 serves the network (use --auth then).")
@click.option("--port", type=click.IntRange(1, 65535), default=6006, show_default=True)
@preset_option()
@click.option("--model", envvar="MEDIATAGGER_MODEL", help="Hub id (iic/SenseVoiceSmall) or a local "
              "SenseVoiceSmall folder [env MEDIATAGGER_MODEL; default: the preset's]")
@click.option("--vad", help="fsmn, silero, none, or a local fsmn-vad folder [default: the preset's]")
@click.option("--device", help="cpu, cuda or cuda:N [default: cpu]")
@click.option("--precision", type=click.Choice(presets.choices("model", "precision")),
              help="fp32, int8 or auto [default: auto]")
@click.option("--threads", type=click.IntRange(0, 1024), help="CPU threads for inference [default: every core]")
@click.option("--detector", type=click.Choice(presets.choices("events", "detector")), envvar="MEDIATAGGER_DETECTOR",
              help="The detector visitors start with [env MEDIATAGGER_DETECTOR; default: the preset's]")
@click.option("--auth", metavar="USER:PASS", envvar="MEDIATAGGER_AUTH",
              help="Ask visitors for this user and password [env MEDIATAGGER_AUTH].")
@click.option("--max-upload", default="4GB", show_default=True, help="Largest upload, e.g. 500MB or 4GB.")
@click.option("--ui-lang", type=click.Choice(["en", "zh"]), help="The page's language [default: the browser's].")
@click.option("--recordings", type=click.Path(path_type=Path, file_okay=False, exists=True), metavar="DIR",
              help="A folder (OBS's recording folder) whose recordings visitors may follow as they are written.")
@click.option("--debug", is_flag=True, help="Show funasr's logs and full tracebacks.")
@reports_errors
def serve(host: str, port: int, preset: str, model: str | None, vad: str | None, device: str | None,
          precision: str | None, threads: int | None, detector: str | None, auth: str | None, max_upload: str,
          ui_lang: str | None, recordings: Path | None, debug: bool) -> int:
    """The web console: upload footage, see where the laughs are, take the markers and the reel home."""
    from mediatagger import web

    options = web.ServeOptions(host, port, parse_auth(auth), max_upload.lower(), ui_lang, debug_hint="--debug",
                               recordings=recordings)
    web.gradio()
    tagger = api.Tagger(preset, model=model, vad=vad, device=device, precision=precision, threads=threads,
                        detector=detector, verbose=debug)
    if host not in ("127.0.0.1", "localhost", "::1") and options.auth is None:
        click.echo(f"mediatagger: warning: serving {host} without --auth: anyone who can reach port {port} "
                   "can use this console and this machine's CPU", err=True)
    click.echo(f"mediatagger: console on http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port} "
               "(the model loads in the background; Ctrl-C stops)", err=True)
    web.start(tagger, options)
    return 0
