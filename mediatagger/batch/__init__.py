"""Batches: a season of footage tagged in one run (``tag_folder``, in ``run``): folders searched for
media (``discovery``), outputs mirroring the input's folders, and a journal that lets a rerun skip what
is done (``journal``); several inputs at once in worker processes (``workers``) or on Ray (``on_ray``).

``discover`` turns the command line's inputs (files and folders) into ``Item``s: a source and the
folder its outputs go to, ``OUT/<the source's folder relative to the input folder>``, so two
``talk.mp4`` from different folders never meet; our own outputs (the clips and reels a plan file
beside them lists) are never inputs, and every file passed over is told with its reason. ``Journal``
is an append-only JSON-lines file in ``OUT`` (``mediatagger.journal.jsonl``): each input's state
(started, done, failed, busy), its size and time, the content key of its analysis, the settings it was
run with, the files it wrote, its one-line error and its seconds, flushed and synced line by line, so
a crash, Ctrl-C or power loss loses at most the line being written; a damaged line is reported and
skipped. A done input counts as done only while its bytes, its settings and every file it wrote are
as they were. Several inputs run in worker processes (``pooled``, which die with the batch) or on a
Ray cluster (``on_ray``), each worker loading the model once.
"""

from mediatagger.batch.discovery import JOURNAL, MEDIA_SUFFIXES, Item, discover, is_media
from mediatagger.batch.journal import STATES, Journal, analysis_key, lock_free, settings_key, stamp
from mediatagger.batch.on_ray import on_ray
from mediatagger.batch.run import BatchResult, Listener, Outcome, tag_folder, write_summary
from mediatagger.batch.workers import pooled

__all__ = ["JOURNAL", "MEDIA_SUFFIXES", "STATES", "BatchResult", "Item", "Journal", "Listener", "Outcome",
           "analysis_key", "discover", "is_media", "lock_free", "on_ray", "pooled", "settings_key", "stamp",
           "tag_folder", "write_summary"]
